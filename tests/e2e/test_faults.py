"""Faults during scaling: a killed worker, a restarted KEDA operator, a restarted Redis."""

from __future__ import annotations

import time

import pytest

from fixtures.scaling.scenario import POD_START_ALLOWANCE, ScaleOutAndIn, wait_idle_at_min
from fixtures.sut.pods import OPERATOR_LABEL, REDIS_LABEL, WORKER_LABEL, pods, wait_gone, wait_replaced
from fixtures.sut.redis_access import wait_redis_answers
from fixtures.waits import wait_until
from worker.config import EXECUTIONS_KEY
from worker.producer import collect, enqueue, expected_sums

TASKS = 500
# Redis replaced: termination + new pod + volume mount + AOF load + readiness (period 5 s);
# then each worker's Celery consumer reconnects on its own backoff (2, 4, 6 ... s).
REDIS_RECOVERY = 120.0
# While the operator restarts, the metrics server (which asks the operator over gRPC) has no
# value for the HPA: pod start + leader election + first poll; measured 21-45 s here.
OPERATOR_RECOVERY = 90.0


def test_worker_killed_mid_task_is_redelivered(deployed_app, celery_app, redis_client, record_timeline,
                                               scenario_record):
    """A pod that dies without a shutdown (SIGKILL, node loss) does not lose its task."""
    app = deployed_app
    visibility = int(app.worker_env("VISIBILITY_TIMEOUT", "300"))
    task_s = 15.0
    with record_timeline() as tl:
        wait_idle_at_min(app, redis_client)
        [result] = enqueue(celery_app, 1, "high_priority", task_s)
        wait_until("a worker to take the task (unacked)", lambda: redis_client.hlen("unacked"), lambda n: n == 1,
                   timeout=60, describe=lambda n: f"unacked {n}, LLEN {redis_client.llen('high_priority')}")
        taken = time.monotonic()
        [victim] = _running_workers(app)
        app.kube.kubectl("delete", "pod", victim.metadata.name, "-n", app.namespace, "--grace-period=0", "--force",
                         "--wait=false")
        wait_gone(app.kube, victim)
        tl.mark(f"killed {victim.metadata.name} mid-task")
        bound = visibility + 10 + POD_START_ALLOWANCE + task_s
        acc = collect([result], timeout=bound, expected=expected_sums(1))
        assert acc.ok, f"the killed worker's task was lost: {acc.summary()} (bound {bound:.0f} s)"
        after = time.monotonic() - taken
        scenario_record.measure("redelivered_after", after, f"from being taken; visibility timeout {visibility} s")
        tl.mark("task completed by another pod")
    # The fault happened and the recovery is the one claimed: another pod ran it, after the visibility timeout.
    ran_on = set(acc.by_worker)
    assert f"celery@{victim.metadata.name}" not in ran_on, f"the killed pod {victim.metadata.name} finished it: {ran_on}"
    assert after >= visibility, (f"the task finished {after:.0f} s after it was taken, before the {visibility} s "
                                 "visibility timeout: it was not redelivered, so the kill did not hit it")
    scenario_record.note("ran_on", ", ".join(sorted(ran_on)))
    assert redis_client.hlen("unacked") == 0


@pytest.mark.disruptive("deletes the KEDA operator pod, which every ScaledObject of the cluster depends on")
def test_keda_operator_restart_during_scale_out(deployed_app, celery_app, redis_client, record_timeline,
                                                scenario_record):
    """Scaling goes on when the operator pod is deleted right after the backlog appears."""
    app = deployed_app

    def restart_operator() -> None:
        old = app.kube.core.list_namespaced_pod("keda", label_selector=OPERATOR_LABEL).items
        assert old, f"no pod matches {OPERATOR_LABEL} in keda: the fault would hit nothing"
        t0 = time.monotonic()
        app.kube.kubectl("delete", "pod", "-n", "keda", "-l", OPERATOR_LABEL, "--wait=false")
        new = wait_replaced(app.kube, "keda", OPERATOR_LABEL, {p.metadata.uid for p in old}, OPERATOR_RECOVERY)
        scenario_record.measure("operator_replaced_after", time.monotonic() - t0, f"new pod {new}")

    with record_timeline() as tl:
        scenario = ScaleOutAndIn(app, celery_app, redis_client, tl, TASKS, "high_priority",
                                 fault_allowance=OPERATOR_RECOVERY)
        result = scenario_record.attach(scenario.result)
        scenario.run(after_enqueue=restart_operator)
    assert result.peak_ready == app.bounds.max


def _running_workers(app) -> list:
    pods = app.kube.core.list_namespaced_pod(app.namespace, label_selector=WORKER_LABEL).items
    running = [p for p in pods if p.status.phase == "Running" and p.metadata.deletion_timestamp is None]
    assert len(running) == 1, f"expected one running worker, found {[p.metadata.name for p in running]}"
    return running


def _accounted(r, queue: str) -> tuple[int, int, int]:
    """(queued, held, done) in one MULTI: LLEN, HLEN unacked, HLEN of the worker's execution counts."""
    pipe = r.pipeline(transaction=True)
    pipe.llen(queue).hlen("unacked").hlen(EXECUTIONS_KEY)
    queued, held, done = pipe.execute()
    return int(queued), int(held), int(done)


def test_redis_restart_with_tasks_queued(deployed_app, celery_app, redis_client, redis_forward, record_timeline,
                                         scenario_record):
    """Redis is replaced mid scale-out: the queue comes back from its volume and scaling resumes."""
    app = deployed_app
    queue = "high_priority"
    visibility = int(app.worker_env("VISIBILITY_TIMEOUT", "300"))

    def restart_redis() -> None:
        # Restart while workers hold tasks, so the in-flight path (ack lost with the connection) is hit too.
        wait_until("a worker to hold a task", lambda: redis_client.hlen("unacked"), lambda n: n >= 1, timeout=60,
                   describe=lambda n: f"unacked {n}, LLEN {redis_client.llen(queue)}")
        scenario_record.note("in_flight_at_restart", int(redis_client.hlen("unacked")))
        old = {p.metadata.uid for p in pods(app.kube, app.namespace, REDIS_LABEL)}
        before = _accounted(redis_client, queue)
        t0 = time.monotonic()
        app.kube.kubectl("delete", "pod", "-n", app.namespace, "-l", REDIS_LABEL, "--wait=false")
        new = wait_replaced(app.kube, app.namespace, REDIS_LABEL, old, REDIS_RECOVERY)
        scenario_record.note("new_pod", new)
        wait_redis_answers(redis_client, timeout=60)
        scenario_record.measure("redis_back_after", time.monotonic() - t0)
        after = _accounted(redis_client, queue)
        scenario_record.note("accounted_before_after", f"{before} -> {after}")
        # Every task is in exactly one place at any instant: queued, held (unacked) or done (executions).
        # Read atomically before and after, the sum must be all 500, to within the tasks a worker may have
        # counted but not yet acked in that instant (one per worker): the AOF kept the whole state.
        for when, acc in (("before", before), ("after", after)):
            acc = (acc[0], acc[1], acc[2] - done_earlier)  # earlier tests of this module ran on this Redis too
            assert TASKS <= sum(acc) <= TASKS + app.bounds.max, (
                f"{when} the Redis restart: queued {acc[0]} + held {acc[1]} + done {acc[2]} = {sum(acc)}, "
                f"not the {TASKS} enqueued")

    done_earlier = _accounted(redis_client, queue)[2]
    try:
        with record_timeline() as tl:
            wait_idle_at_min(app, redis_client)
            # The in-flight task's ack dies with the old connection: it may run again (counted, not lost).
            scenario = ScaleOutAndIn(app, celery_app, redis_client, tl, TASKS, queue,
                                     fault_allowance=REDIS_RECOVERY + visibility, allow_reruns=True)
            result = scenario_record.attach(scenario.result)
            scenario.run(after_scale_up=restart_redis)
    finally:
        scenario_record.note("port_forward", f"{redis_forward.restarts} restart(s): {redis_forward.events}")
    assert result.peak_ready == app.bounds.max
