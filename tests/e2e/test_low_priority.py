"""Tasks on low_priority alone never scale the deployment: KEDA watches only high_priority."""

from __future__ import annotations

import time

from fixtures.waits import wait_until
from tests.e2e.scaling import recorded_timeline
from worker.producer import collect, enqueue, expected_sums

TASKS = 60
SLEEP = 1.0


def test_low_priority_backlog_does_not_scale(request, app, celery_app, redis_client, suite_options,
                                             scenario_record):
    b = app.bounds
    # Long enough for KEDA to poll several times and the HPA to act twice on what it saw.
    window = 2 * b.hpa_sync_period + 3 * b.polling_interval + b.scale_up_stabilization
    with recorded_timeline(request, app, redis_client, suite_options, scenario_record) as tl:
        results = enqueue(celery_app, TASKS, "low_priority", SLEEP)
        backlog = redis_client.llen("low_priority")
        assert backlog > b.list_length, f"low_priority holds only {backlog}: the backlog would not scale anyway"
        tl.mark(f"enqueued {TASKS} on low_priority (LLEN {backlog})")
        end = time.monotonic() + window
        while time.monotonic() < end:
            time.sleep(1)
        seen = [s for s in tl.samples if s.t >= tl.t0]
        assert seen, "no observation of the deployment during the window"
        assert all(s.desired == b.min for s in seen), \
            f"replicas moved on a low_priority backlog: {max(seen, key=lambda s: s.desired).line(b.max)}"
        assert all(s.metric in (None, 0) for s in seen), "KEDA reported a non-zero high_priority metric"
        acc = collect(results, timeout=TASKS * SLEEP + 60, expected=expected_sums(TASKS))
        assert acc.ok, f"low_priority tasks lost or wrong: {acc.summary()}"
        scenario_record["window_without_scaling"] = f"{window:.0f} s"
        scenario_record["accounting"] = acc.summary()
    wait_until("low_priority to be empty", lambda: redis_client.llen("low_priority"), lambda n: n == 0,
               timeout=30, describe=lambda n: f"LLEN low_priority {n}")
