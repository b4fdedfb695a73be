"""Redis with ACL users and TLS (overlay e2e-acl-tls): the default scenario over it, and a clear failure
when KEDA's user lacks `+@scripting`.

The Redis of this overlay listens only for TLS and nobody can log in as `default` (it keeps
its permissions only for the AOF replay: see the overlay), so a scaling run proves by itself
that KEDA read the list as `keda-scaler` over verified TLS
(username, password and CA from its TriggerAuthentication), and that the workers and the
suite connect as `celery`. The second test takes `+@scripting` away from `keda-scaler`:
KEDA's scaler reads the list with EVAL, so KEDA must report Redis's refusal verbatim (a
Warning event on the ScaledObject; the HPA's condition only says "encountered error") and
the diagnostics bundle must name it.
"""

from __future__ import annotations

import time

import pytest
import redis

from fixtures.report import diagnostics
from fixtures.scaling.observe import scaledobject_warnings, take
from fixtures.scaling.scenario import ScaleOutAndIn, wait_idle_at_min
from fixtures.sut.deploy import SCALER_USER, WORKER_USER
from fixtures.sut.pods import REDIS_LABEL, pods, wait_replaced
from fixtures.sut.redis_access import wait_redis_answers
from fixtures.waits import wait_until

pytestmark = pytest.mark.slow

OVERLAY = "e2e-acl-tls"
TASKS = 500
REDIS_RECOVERY = 120.0  # new pod + TLS + AOF load + readiness


def _refused(connect) -> str:
    try:
        connect().ping()
    except (redis.ConnectionError, redis.AuthenticationError, redis.ResponseError) as e:
        return f"{type(e).__name__}: {e}"
    return ""


def test_default_scenario_over_acl_and_tls(deployed_app, redis_forward, celery_app, redis_client, record_timeline,
                                           scenario_record):
    app = deployed_app
    assert app.access.tls is not None and app.access.username == WORKER_USER
    # The hardening is real: this Redis refuses plain TCP and the default user.
    plain = _refused(lambda: redis.Redis(host="127.0.0.1", port=redis_forward.port, password=app.access.password,
                                         socket_timeout=5, socket_connect_timeout=5))
    default_user = _refused(lambda: redis.Redis(host="127.0.0.1", port=redis_forward.port, username="default",
                                                password=app.access.password, ssl=True,
                                                ssl_ca_certs=str(app.access.tls.ca), socket_timeout=5))
    assert plain and default_user, f"Redis accepted plain TCP ({plain or 'yes'}) or `default` ({default_user or 'yes'})"
    scenario_record.note("refused", f"plain TCP: {plain[:80]}; default user: {default_user[:80]}")
    with record_timeline() as tl:
        wait_idle_at_min(app, redis_client)
        scenario = ScaleOutAndIn(app, celery_app, redis_client, tl, TASKS, "high_priority")
        result = scenario_record.attach(scenario.result)
        scenario.run()
    assert result.peak_ready == app.bounds.max


def test_scaler_user_without_scripting_fails_clearly(deployed_app, redis_client, tmp_path, scenario_record):
    """Runs after the scenario (it breaks this module's Redis ACL for good; the namespace goes with the module)."""
    app, b = deployed_app, deployed_app.bounds
    spec = app.kube.apps.read_namespaced_deployment("redis", app.namespace).spec.template.spec
    args = list(spec.containers[0].args)
    start = args.index(SCALER_USER)
    end = next((i for i in range(start, len(args)) if args[i].startswith("--")), len(args))
    assert "+@scripting" in args[start:end], f"{SCALER_USER}'s rules have no +@scripting to take away: {args}"
    args[start:end] = [a for a in args[start:end] if a != "+@scripting"]
    old = {p.metadata.uid for p in pods(app.kube, app.namespace, REDIS_LABEL)}
    app.kube.apps.patch_namespaced_deployment("redis", app.namespace, [
        {"op": "replace", "path": "/spec/template/spec/containers/0/args", "value": args}])
    wait_replaced(app.kube, app.namespace, REDIS_LABEL, old, REDIS_RECOVERY)
    wait_redis_answers(redis_client, timeout=60)
    t0 = time.monotonic()
    # KEDA polls whatever the queue holds: the next EVAL is refused, and KEDA records Redis's words in a
    # Warning event on the ScaledObject (the HPA's condition only says "encountered error").
    bound = 2 * b.polling_interval + 2 * b.hpa_sync_period + 10
    said = wait_until("KEDA to report Redis refusing the scaler's EVAL",
                      lambda: scaledobject_warnings(app.kube, app.target),
                      lambda ws: any("NOPERM" in w and "'eval'" in w for w in ws), timeout=bound,
                      describe=lambda ws: "; ".join(ws) or "no warning yet")
    scenario_record.measure("refusal_reported_after", time.monotonic() - t0, f"bound {bound} s")
    scenario_record.note("keda_says", next(w for w in said if "NOPERM" in w))
    hpa = take(app.kube, app.target, redis_client)
    scenario_record.note("hpa_says", hpa.hpa_problem or "nothing")
    bundle = diagnostics.collect(app.kube, app.namespace, tmp_path / "diagnostics", redis_client)
    summary = (bundle / "summary.txt").read_text()
    assert "NOPERM" in summary and "'eval'" in summary, f"the bundle's summary does not name the refusal:\n{summary}"
    scenario_record.note("bundle_summary", summary.splitlines()[1][:200] if len(summary.splitlines()) > 1 else summary)
