"""The seed's scenario: 500 `add` tasks on high_priority scale the workers 1 -> 10 -> 1, no task lost."""

from __future__ import annotations

from fixtures.scenario import ScenarioResult, run_scale_out_and_in
from tests.e2e.scaling import recorded_timeline

TASKS = 500
QUEUE = "high_priority"


def test_scales_out_to_max_and_back_to_min(repeat_index, request, app, celery_app, redis_client, suite_options, scenario_record):
    b = app.bounds
    assert (b.min, b.max, b.list_length, b.list_name) == (1, 10, 10, QUEUE), "the e2e overlay drifted from the seed"
    result = ScenarioResult(tasks=TASKS)
    try:
        with recorded_timeline(request, app, redis_client, suite_options, scenario_record) as tl:
            run_scale_out_and_in(app, celery_app, redis_client, tl, TASKS, QUEUE, None, result)
    finally:
        t = result.times
        scenario_record["phases"] = {p: getattr(t, p) for p in ("first_scale_up", "reached_max", "drained",
                                                                 "back_to_min")}
        if result.peak_ready:
            scenario_record["peak_ready_replicas"] = result.peak_ready
        for phase in ("first_scale_up", "reached_max", "drained", "back_to_min"):
            got = getattr(t, phase)
            floor = f"floor {t.floors[phase]:.0f} s, " if phase in t.floors else ""
            scenario_record[phase] = (f"{got:.1f} s" if got is not None else "not reached") + \
                f" ({floor}bound {t.bounds.get(phase, 0):.0f} s)"
        if t.back_to_min is not None and t.queue_empty is not None:
            scenario_record["back_to_min_after_empty_queue"] = (
                f"{t.back_to_min - t.queue_empty:.1f} s (floor {t.floors['back_to_min_after_empty_queue']:.0f} s: "
                "the stabilization window minus one HPA sync)")
        if result.tasks_per_second:
            scenario_record["tasks_per_second"] = f"{result.tasks_per_second:.1f}"
        if result.accounting:
            scenario_record["accounting"] = result.accounting.summary()
    assert result.peak_ready == b.max, f"peak ready replicas {result.peak_ready}, expected {b.max}"
    over = [s for s in tl.samples if s.desired > b.max]
    assert not over, f"replicas exceeded maxReplicaCount {b.max}: {over[0].line(b.max)}"
