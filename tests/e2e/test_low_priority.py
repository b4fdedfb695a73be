"""Tasks on low_priority alone never scale the deployment: KEDA watches only high_priority."""

from __future__ import annotations

from fixtures.scaling.observe import take
from fixtures.waits import holds_for, wait_until
from worker.producer import collect, enqueue, expected_sums

TASKS = 60
SLEEP = 1.0


def test_low_priority_backlog_does_not_scale(deployed_app, celery_app, redis_client, record_timeline,
                                             scenario_record):
    app, b = deployed_app, deployed_app.bounds
    # Long enough for KEDA to poll several times and the HPA to act twice on what it saw.
    window = 2 * b.hpa_sync_period + 3 * b.polling_interval + b.scale_up_stabilization
    with record_timeline() as tl:
        results = enqueue(celery_app, TASKS, "low_priority", SLEEP)
        backlog = redis_client.llen("low_priority")
        assert backlog > b.list_length, f"low_priority holds only {backlog}: the backlog would not scale anyway"
        tl.mark(f"enqueued {TASKS} on low_priority (LLEN {backlog})")
        seen = holds_for("replicas at min and KEDA's high_priority metric at 0 with a low_priority backlog",
                         lambda: take(app.kube, app.target, redis_client, with_metric=True),
                         lambda s: s.desired == b.min and s.metric in (None, 0), duration=window,
                         describe=lambda s: s.line(b.max))
        # A metric read that failed (None) proves nothing: KEDA must have been seen answering 0.
        answered = [s for s in seen if s.metric is not None]
        assert len(answered) * 2 >= len(seen), (
            f"KEDA's metric was unreadable in {len(seen) - len(answered)} of {len(seen)} reads: "
            "the window does not show that it stayed at 0")
        acc = collect(results, timeout=TASKS * SLEEP + 60, expected=expected_sums(TASKS))
        assert acc.ok, f"low_priority tasks lost or wrong: {acc.summary()}"
        scenario_record.note("window_without_scaling", f"{window:.0f} s, {len(answered)} metric reads at 0")
        scenario_record.note("accounting", acc.summary())
    wait_until("low_priority to be empty", lambda: redis_client.llen("low_priority"), lambda n: n == 0,
               timeout=30, describe=lambda n: f"LLEN low_priority {n}")
