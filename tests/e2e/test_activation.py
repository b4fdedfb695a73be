"""The activation boundary: LLEN equal to `activationListLength` leaves the workers at 0, one more wakes them.

KEDA (not the HPA) does 0 <-> 1: the scaler is active while LLEN > activationListLength.
A backlog exactly at the boundary must not activate however long it waits (4 polls and two
HPA syncs here; KEDA's own redis-lists test holds 60 s); one more task must activate within
a few polls, and every task then runs.

Two forms of the same check. The gate tier's holds the boundary 3 polling intervals: a KEDA that ignores the
threshold activates at its next poll, so 9 s catch it (the `activation-ignored` mutant). The slow tier's holds it
4 polls and two HPA syncs, the way KEDA's own test does, for a KEDA that activates late.
"""

from __future__ import annotations

import time

import pytest

from fixtures.scaling.observe import take
from fixtures.scaling.scenario import POD_START_ALLOWANCE, termination_grace
from fixtures.waits import holds_for, wait_until
from worker.producer import collect, enqueue, expected_sums

OVERLAY = "e2e-scale-to-zero"
ACTIVATION = 5
SCALEDOBJECT_PATCH = [{"op": "test", "path": "/spec/triggers/0/type", "value": "redis"},
                      {"op": "replace", "path": "/spec/triggers/0/metadata/activationListLength",
                       "value": str(ACTIVATION)}]
QUEUE = "high_priority"


def test_boundary_holds_fast(deployed_app, celery_app, redis_client, record_timeline, scenario_record):
    """The gate tier's form: the boundary held 3 polling intervals."""
    _boundary_then_one_more(deployed_app, celery_app, redis_client, record_timeline, scenario_record,
                            window=3 * deployed_app.bounds.polling_interval)


@pytest.mark.slow
def test_boundary_does_not_activate_one_more_does(deployed_app, celery_app, redis_client, record_timeline,
                                                  scenario_record):
    b = deployed_app.bounds
    _boundary_then_one_more(deployed_app, celery_app, redis_client, record_timeline, scenario_record,
                            window=4 * b.polling_interval + 2 * b.hpa_sync_period)


def _boundary_then_one_more(app, celery_app, redis_client, record_timeline, scenario_record, window: float) -> None:
    b = app.bounds
    assert (b.min, b.activation_list_length) == (0, ACTIVATION), "the overlay and patch must give min 0, activation 5"

    def observe():
        return take(app.kube, app.target, redis_client, with_metric=True)

    def describe(s) -> str:
        return f"{s.line(b.max)} conditions {s.conditions}"

    to_zero = b.scale_down_seconds(1) + termination_grace(app) + POD_START_ALLOWANCE // 2
    activation_bound = 4 * b.polling_interval + 15
    with record_timeline() as tl:
        wait_until("the idle deployment to reach 0 replicas", observe, lambda s: s.desired == 0 and s.ready == 0,
                   timeout=to_zero, describe=describe)
        tl.mark("idle at 0")
        results = enqueue(celery_app, ACTIVATION, QUEUE, 1.0)
        tl.mark(f"{ACTIVATION} tasks enqueued (= activationListLength)")
        seen = holds_for(f"0 replicas and Active!=True with LLEN {ACTIVATION} = activationListLength", observe,
                         lambda s: s.desired == 0 and s.queue in (None, ACTIVATION)
                         and (s.conditions or {}).get("Active") != "True",
                         duration=window, describe=describe, min_reads=window // 2)
        at_boundary = [s for s in seen if s.queue == ACTIVATION and (s.conditions or {}).get("Active") == "False"]
        assert len(at_boundary) * 2 >= len(seen), (
            f"only {len(at_boundary)} of {len(seen)} reads saw LLEN {ACTIVATION} with Active=False: "
            "the window does not show the boundary held")
        scenario_record.note("held_at_boundary", f"{window} s, {len(at_boundary)} reads LLEN {ACTIVATION} Active=False")
        tl.mark("boundary held")
        t0 = time.monotonic()
        results += enqueue(celery_app, 1, QUEUE, 1.0, start=ACTIVATION)
        tl.mark("one more task enqueued")
        wait_until(f"LLEN {ACTIVATION + 1} to activate the deployment", observe, lambda s: s.desired >= 1,
                   timeout=activation_bound, describe=describe)
        scenario_record.measure("activation_past_boundary", time.monotonic() - t0, f"bound {activation_bound} s")
        acc = collect(results, timeout=POD_START_ALLOWANCE + 60, expected=expected_sums(ACTIVATION + 1))
        assert acc.ok, f"tasks lost once activated: {acc.summary()}"
        scenario_record.note("accounting", acc.summary())
        tl.mark("all results in")
        wait_until("the deployment to return to 0", observe, lambda s: s.desired == 0 and s.ready == 0,
                   timeout=to_zero, describe=describe)
        tl.mark("back to 0")
