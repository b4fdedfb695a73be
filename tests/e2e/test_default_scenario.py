"""The seed's scenario: 500 `add` tasks on high_priority scale the workers 1 -> 10 -> 1, no task lost.

ScaleOutAndIn asserts each phase within its bound, no task lost or run twice, `max` distinct workers
completing tasks, Ready meaning consuming, and KEDA's contract (HPA settings, served metric = LLEN,
ScaledObject conditions, events, clean operator logs); see fixtures/scaling/scenario.py.
"""

from __future__ import annotations

from fixtures.scaling.scenario import ScaleOutAndIn

TASKS = 500
QUEUE = "high_priority"


def test_scales_out_to_max_and_back_to_min(repeat_index, deployed_app, celery_app, redis_client, record_timeline,
                                           scenario_record):
    b = deployed_app.bounds
    assert (b.min, b.max, b.list_length, b.list_name) == (1, 10, 10, QUEUE), "the e2e overlay drifted from the seed"
    with record_timeline() as tl:
        scenario = ScaleOutAndIn(deployed_app, celery_app, redis_client, tl, TASKS, QUEUE)
        result = scenario_record.attach(scenario.result)
        scenario.run()
    assert result.peak_ready == b.max, f"peak ready replicas {result.peak_ready}, expected {b.max}"
