"""Scale-in while tasks run: tasks longer than the HPA's 15 s step, none lost.

When the list empties, KEDA's metric drops to 0 while workers are still busy
(taken messages leave the list), so the HPA removes pods in mid-task. Their
soft shutdown puts the running task back in the list (acks_late), where KEDA
sees it again: every result must still arrive, with the right sum.
"""

from __future__ import annotations

import itertools

from fixtures.scaling.scenario import POD_START_ALLOWANCE, termination_grace
from worker.producer import collect, enqueue, expected_sums

TASKS = 40
SLEEP = 20.0  # > the HPA's 15 s scale-down step and the 15 s stabilization window
# listLength 2 instead of 10: 40 long tasks still ask for 10 workers, and the tail of the
# backlog is not left to one worker (with 10, the last 10 tasks x 20 s run one by one).
SCALEDOBJECT_PATCH = [{"op": "replace", "path": "/spec/triggers/0/metadata/listLength", "value": "2"}]


def scale_ins_during_work(samples, tasks: int) -> list:
    """(before, after) sample pairs where the Deployment shrank while results were still outstanding."""
    return [(a, c) for a, c in itertools.pairwise(samples)
            if c.desired < a.desired and (c.completed or 0) < tasks]


def test_scale_in_during_long_tasks_loses_nothing(deployed_app, celery_app, redis_client, record_timeline,
                                                  scenario_record):
    b = deployed_app.bounds
    with record_timeline() as tl:
        results = enqueue(celery_app, TASKS, "high_priority", SLEEP)
        tl.mark(f"enqueued {TASKS} tasks of {SLEEP:.0f} s")
        # Worst case every task runs twice on one worker; plus start-up and shutdowns.
        bound = 2 * TASKS * SLEEP + POD_START_ALLOWANCE + 4 * termination_grace(deployed_app)
        soft_shutdown = float(deployed_app.worker_env("SOFT_SHUTDOWN_TIMEOUT", "10"))
        acc = collect(results, timeout=bound, expected=expected_sums(TASKS), on_progress=tl.progress.update,
                      nothing_left=lambda: redis_client.llen("high_priority") == 0 and redis_client.hlen("unacked") == 0,
                      nothing_left_for=SLEEP + soft_shutdown + POD_START_ALLOWANCE / 4)
        tl.progress.update(acc)
        tl.mark("all results in" if acc.ok else "results incomplete")
    scenario_record.note("accounting", acc.summary())
    assert acc.ok, f"tasks lost or wrong across scale-in: {acc.summary()}"
    # The point of the test: at least one scale-in happened while work was still outstanding.
    during = scale_ins_during_work(tl.samples, TASKS)
    assert during, ("no scale-in happened while tasks were outstanding, so this run proved nothing; "
                    f"peak {tl.peak()} replicas, bounds {b}")
    first = during[0][1]
    scenario_record.note("scale_in_during_work", f"{len(during)} step(s); first at +{first.t - tl.t0:.0f} s: "
                                                 f"{during[0][0].desired} -> {first.desired} with "
                                                 f"{TASKS - (first.completed or 0)} tasks outstanding")
    scenario_record.note("run_twice", len(acc.reexecuted))
