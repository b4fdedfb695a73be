"""Redis unreachable while tasks are queued: KEDA falls back to `fallback.replicas`, then scaling resumes.

Redis is scaled to 0 (its queue stays on its volume, AOF), so every read KEDA's scaler makes
fails. After `fallback.failureThreshold` failed reads KEDA should serve the metric that makes the
HPA ask for `fallback.replicas` and set the ScaledObject's `Fallback` condition. Redis is then
brought back: the backlog, still there, must scale the workers to max and drain with no task lost.

KNOWN KEDA DEFECT (seen here with 2.21.0, 2026-11-26): the fallback never engages for an
unreachable Redis. The first failed poll counts one failure and drops the scaler from KEDA's
cache; every later poll fails while *building* the scaler (the Redis scaler pings in its
constructor: "error getting scalers cache ... connection refused"), a path that never reaches
the fallback counter, so `status.health` stays at or below the threshold (0, 1 and 2 seen) for the whole outage
(kedacore/keda#5525, #8056, both open). The test then ends as an xfail naming that evidence,
but only after the rest (scaling resumes, no task lost) passed, and only when the counter is
seen flat at or below the threshold over several reads a polling interval apart while that log
line keeps coming, and only for the KEDA releases known to carry it (KNOWN_DEFECT_RANGE); anything
else fails. Once KEDA fixes it, the fallback assertions run and the xfail disappears by itself.
"""

from __future__ import annotations

import itertools
import time

import pytest

from fixtures.infra import keda
from fixtures.scaling.observe import take
from fixtures.scaling.scenario import POD_START_ALLOWANCE, ScaleOutAndIn, wait_idle_at_min
from fixtures.sut.pods import REDIS_LABEL, pods, wait_none_left, wait_replaced
from fixtures.sut.redis_access import wait_redis_answers
from fixtures.waits import WaitTimeout, holds_for, wait_until

pytestmark = pytest.mark.slow

FALLBACK_REPLICAS = 4
FAILURE_THRESHOLD = 3
SCALEDOBJECT_PATCH = [{"op": "add", "path": "/spec/fallback",
                       "value": {"failureThreshold": FAILURE_THRESHOLD, "replicas": FALLBACK_REPLICAS}}]
TASKS = 500
# Redis back: new pod + volume + AOF load + readiness, then the workers' consumers reconnect (2, 4, 6 ... s).
REDIS_RECOVERY = 120.0
# What KEDA logs when a poll fails while building the scaler: the path that bypasses the fallback counter.
CACHE_BUILD_FAILED = "error getting scalers cache"
# The KEDA releases known to carry the defect: seen here on 2.21.0; kedacore/keda#5525 (reported on 2.13) and
# #8056 are open for every release up to it. A later release gets no xfail: if the defect is still there, the
# test fails and someone reads the upstream issues again before this range grows.
KNOWN_DEFECT_RANGE = ((2, 13, 0), (2, 21, 0))
EVIDENCE_READS = 3  # reads of the counter and the logs, a polling interval apart or more


def carries_known_defect(version: str) -> bool:
    v = tuple(int(x) for x in version.split("-", 1)[0].split(".")[:3])
    return KNOWN_DEFECT_RANGE[0] <= v <= KNOWN_DEFECT_RANGE[1]


def defect_evidence(reads: list[tuple[dict[str, int], int]]) -> str | None:
    """The defect's shape over time, from (status.health counters, polls that failed building the scaler) read
    several times during the outage: the counter flat at or below the threshold while the failed polls keep
    coming. None for any other shape (a counter that moves, errors that stop, too few reads)."""
    if len(reads) < EVIDENCE_READS:
        return None
    counters = [max(c.values(), default=0) for c, _ in reads]
    bypassed = [n for _, n in reads]
    flat = len(set(counters)) == 1 and counters[0] <= FAILURE_THRESHOLD and all(c for c, _ in reads)
    growing = all(b > a for a, b in itertools.pairwise(bypassed))
    if not (flat and growing):
        return None
    return f"status.health stayed {reads[-1][0]} over {len(reads)} reads while {bypassed} polls failed building the scaler"


def _failures(app) -> dict[str, int]:
    """status.health: metric -> numberOfFailures, as KEDA counts them for the fallback."""
    so = app.kube.custom.get_namespaced_custom_object("keda.sh", "v1alpha1", app.namespace, "scaledobjects",
                                                      app.target.scaledobject)
    return {k: int(v.get("numberOfFailures") or 0) for k, v in ((so.get("status") or {}).get("health") or {}).items()}


def test_redis_unreachable_falls_back_then_resumes(deployed_app, celery_app, redis_client, redis_forward,
                                                   record_timeline, scenario_record, keda_installed):
    app, b = deployed_app, deployed_app.bounds
    fallback = app.expected_scaledobject["spec"]["fallback"]
    assert (fallback["replicas"], fallback["failureThreshold"]) == (FALLBACK_REPLICAS, FAILURE_THRESHOLD)
    visibility = int(app.worker_env("VISIBILITY_TIMEOUT", "300"))
    # KEDA counts a failure per poll and sets Fallback once past the threshold (one more poll, and the HPA's
    # next two syncs ask for the metric too); then the HPA asks for the fallback replicas, which may be a
    # scale-down (stabilization window) or a scale-up (pod start).
    to_condition = (FAILURE_THRESHOLD + 2) * b.polling_interval + 2 * b.hpa_sync_period
    to_replicas = b.hpa_sync_period + max(b.scale_down_stabilization, POD_START_ALLOWANCE)
    to_fallback = to_condition + to_replicas
    hold = b.hpa_sync_period + 2 * b.polling_interval

    def observe():
        return take(app.kube, app.target, None, with_metric=True)

    known_defect: list[str] = []

    def cut_redis_off() -> None:
        old = {p.metadata.uid for p in pods(app.kube, app.namespace, REDIS_LABEL)}
        t0 = time.monotonic()
        app.kube.kubectl("scale", "deployment/redis", "--replicas=0", "-n", app.namespace)
        wait_none_left(app.kube, app.namespace, REDIS_LABEL, timeout=60)
        scenario_record.measure("redis_gone_after", time.monotonic() - t0)
        try:
            wait_until("KEDA to set Fallback=True with Redis gone", observe,
                       lambda s: (s.conditions or {}).get("Fallback") == "True", timeout=to_condition,
                       describe=lambda s: f"{s.line(b.max)} conditions {s.conditions}")
        except WaitTimeout as timeout:
            if not carries_known_defect(keda_installed.version):
                raise  # not a release known to carry the defect: a real failure
            # The defect's evidence over time: the counter and the bypassing polls read a polling interval apart.
            reads: list[tuple[dict[str, int], int]] = []
            for i in range(EVIDENCE_READS):
                if i:
                    holds_for("Redis staying gone between two reads of the evidence", lambda: pods(
                        app.kube, app.namespace, REDIS_LABEL), lambda p: not p, duration=b.polling_interval + 1,
                        describe=lambda p: f"{len(p)} Redis pod(s)", min_reads=1)
                logs = keda.component_logs(app.kube, time.monotonic() - t0)
                unread = [log.error for log in logs.values() if log.error]
                assert not unread, f"the defect's evidence is in KEDA's logs, which could not be read: {unread}"
                reads.append((_failures(app), sum(log.text.count(CACHE_BUILD_FAILED) for log in logs.values())))
            evidence = defect_evidence(reads)
            scenario_record.note("fallback_engaged", f"no: (health, bypassing polls) over time {reads}")
            if evidence is None:
                raise  # not the known defect's shape: a real failure
            known_defect.append(f"{timeout}; {evidence} (KEDA {keda_installed.version}, within the known range)")
            scenario.fallback_expected = False
        else:
            seen = wait_until(f"the HPA to hold {FALLBACK_REPLICAS} ready replicas in Fallback", observe,
                              lambda s: s.desired == FALLBACK_REPLICAS and s.ready == FALLBACK_REPLICAS,
                              timeout=to_replicas, describe=lambda s: f"{s.line(b.max)} conditions {s.conditions}")
            scenario_record.measure("fallback_after", time.monotonic() - t0, f"bound {to_fallback:.0f} s")
            scenario_record.note("at_fallback", seen.line(b.max))
            # Held, not passed through on the way somewhere else: the HPA keeps asking for the fallback replicas.
            holds_for(f"{FALLBACK_REPLICAS} replicas while Redis stays gone", observe,
                      lambda s: s.desired == FALLBACK_REPLICAS and (s.conditions or {}).get("Fallback") != "False",
                      duration=hold, describe=lambda s: f"{s.line(b.max)} conditions {s.conditions}",
                      min_reads=hold // 2)
        assert not pods(app.kube, app.namespace, REDIS_LABEL), "a Redis pod came back during the fault"
        app.kube.kubectl("scale", "deployment/redis", "--replicas=1", "-n", app.namespace)
        wait_replaced(app.kube, app.namespace, REDIS_LABEL, old, REDIS_RECOVERY)
        wait_redis_answers(redis_client, timeout=60)
        scenario_record.measure("redis_back_after", time.monotonic() - t0)

    try:
        with record_timeline() as tl:
            wait_idle_at_min(app, redis_client)
            scenario = ScaleOutAndIn(app, celery_app, redis_client, tl, TASKS, "high_priority",
                                     fault_allowance=to_fallback + hold + REDIS_RECOVERY + visibility,
                                     allow_reruns=True, fallback_expected=True)
            result = scenario_record.attach(scenario.result)
            scenario.run(after_enqueue=cut_redis_off)
    finally:
        scenario_record.note("port_forward", f"{redis_forward.restarts} restart(s): {redis_forward.events}")
    assert result.peak_ready == b.max
    if known_defect:
        pytest.xfail("KEDA's fallback did not engage for an unreachable Redis: the scaler-cache build path bypasses "
                     "the failure counter (kedacore/keda#5525, #8056); scaling resumed and no task was lost. "
                     + known_defect[0])
