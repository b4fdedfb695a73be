"""minReplicaCount 0: the workers idle at 0, the first task activates them, and they return to 0."""

from __future__ import annotations

import time

from fixtures.scaling.observe import take
from fixtures.scaling.scenario import POD_START_ALLOWANCE, termination_grace
from fixtures.waits import wait_until
from worker.producer import collect, enqueue, expected_sums

OVERLAY = "e2e-scale-to-zero"


def test_idles_at_zero_activates_and_returns(deployed_app, celery_app, redis_client, record_timeline,
                                             scenario_record):
    app, b = deployed_app, deployed_app.bounds
    assert b.min == 0, "the scale-to-zero overlay must set minReplicaCount 0"

    def observe():
        return take(app.kube, app.target, redis_client)

    def describe(s) -> str:
        return s.line(b.max)

    to_zero = b.scale_down_seconds(1) + termination_grace(app) + POD_START_ALLOWANCE // 2
    activation_bound = 4 * b.polling_interval + 15
    with record_timeline() as tl:
        wait_until("the idle deployment to reach 0 replicas", observe,
                   lambda s: s.desired == 0 and s.ready == 0, timeout=to_zero, describe=describe)
        tl.mark("idle at 0")
        t0 = time.monotonic()
        results = enqueue(celery_app, 1, "high_priority", 1.0)
        tl.mark("one task enqueued")
        wait_until("the first task to activate the deployment", observe, lambda s: s.desired >= 1,
                   timeout=activation_bound, describe=describe)
        scenario_record.measure("activation", time.monotonic() - t0, f"bound {activation_bound} s")
        acc = collect(results, timeout=POD_START_ALLOWANCE + 30, expected=expected_sums(1))
        assert acc.ok, f"the activating task was lost: {acc.summary()}"
        scenario_record.measure("first_result", time.monotonic() - t0)
        tl.mark("result in")
        t1 = time.monotonic()
        wait_until("the deployment to return to 0 after the task", observe,
                   lambda s: s.desired == 0 and s.ready == 0, timeout=to_zero, describe=describe)
        scenario_record.measure("back_to_zero", time.monotonic() - t1, f"bound {to_zero:.0f} s")
        tl.mark("back to 0")
