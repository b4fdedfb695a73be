"""minReplicaCount 0: the workers idle at 0, the first task activates them, and they return to 0."""

from __future__ import annotations

import time

from fixtures.observe import take
from fixtures.scenario import POD_START_ALLOWANCE, termination_grace
from fixtures.waits import wait_until
from tests.e2e.scaling import recorded_timeline
from worker.producer import collect, enqueue, expected_sums

OVERLAY = "e2e-scale-to-zero"


def test_idles_at_zero_activates_and_returns(request, app, celery_app, redis_client, suite_options, scenario_record):
    b = app.bounds
    assert b.min == 0, "the scale-to-zero overlay must set minReplicaCount 0"
    probe = lambda: take(app.kube, app.target, redis_client)  # noqa: E731
    desc = lambda s: s.line(b.max)  # noqa: E731
    to_zero = b.scale_down_seconds(1) + termination_grace(app) + POD_START_ALLOWANCE // 2
    with recorded_timeline(request, app, redis_client, suite_options, scenario_record) as tl:
        wait_until("the idle deployment to reach 0 replicas", probe,
                   lambda s: s.desired == 0 and s.ready == 0, timeout=to_zero, describe=desc)
        tl.mark("idle at 0")
        t0 = time.monotonic()
        results = enqueue(celery_app, 1, "high_priority", 1.0)
        tl.mark("one task enqueued")
        wait_until("the first task to activate the deployment", probe, lambda s: s.desired >= 1,
                   timeout=4 * b.polling_interval + 15, describe=desc)
        scenario_record["activation"] = f"{time.monotonic() - t0:.1f} s (bound {4 * b.polling_interval + 15} s)"
        acc = collect(results, timeout=POD_START_ALLOWANCE + 30, expected=expected_sums(1))
        assert acc.ok, f"the activating task was lost: {acc.summary()}"
        scenario_record["first_result"] = f"{time.monotonic() - t0:.1f} s"
        tl.mark("result in")
        t1 = time.monotonic()
        wait_until("the deployment to return to 0 after the task", probe,
                   lambda s: s.desired == 0 and s.ready == 0, timeout=to_zero, describe=desc)
        scenario_record["back_to_zero"] = f"{time.monotonic() - t1:.1f} s (bound {to_zero:.0f} s)"
        tl.mark("back to 0")
