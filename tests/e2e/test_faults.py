"""Faults during scaling: a killed worker, a restarted KEDA operator, a restarted Redis."""

from __future__ import annotations

import time

from fixtures.scaling.observe import take
from fixtures.scaling.scenario import POD_START_ALLOWANCE, ScaleOutAndIn
from fixtures.sut.redis_access import wait_redis_answers
from fixtures.waits import wait_until
from worker.producer import collect, enqueue, expected_sums

WORKER_LABEL = "app.kubernetes.io/name=celery-worker"
REDIS_LABEL = "app.kubernetes.io/name=redis"
# Redis replaced: termination + new pod + volume mount + AOF load + readiness (period 5 s);
# then each worker's Celery consumer reconnects on its own backoff (2, 4, 6 ... s).
REDIS_RECOVERY = 120.0
# While the operator restarts, the metrics server (which asks the operator over gRPC) has no
# value for the HPA: pod start + leader election + first poll; measured 21-45 s here.
OPERATOR_RECOVERY = 90.0


def _env(app, name: str, default: int) -> int:
    for c in app.pod_spec(app.target.deployment)["containers"]:
        for e in c.get("env", []):
            if e["name"] == name:
                return int(e["value"])
    return default


def _wait_one_idle_worker(app, r) -> None:
    wait_until("one idle worker before the fault", lambda: take(app.kube, app.target, r),
               lambda s: s.ready == s.desired == app.bounds.min, timeout=120, describe=lambda s: s.line())


def test_worker_killed_mid_task_is_redelivered(deployed_app, celery_app, redis_client, record_timeline,
                                               scenario_record):
    """A pod that dies without a shutdown (SIGKILL, node loss) does not lose its task."""
    app = deployed_app
    visibility = _env(app, "VISIBILITY_TIMEOUT", 300)
    task_s = 15.0
    with record_timeline() as tl:
        _wait_one_idle_worker(app, redis_client)
        [result] = enqueue(celery_app, 1, "high_priority", task_s)
        wait_until("a worker to take the task (unacked)", lambda: redis_client.hlen("unacked"), lambda n: n == 1,
                   timeout=60, describe=lambda n: f"unacked {n}, LLEN {redis_client.llen('high_priority')}")
        pods = app.kube.core.list_namespaced_pod(app.namespace, label_selector=WORKER_LABEL).items
        running = [p.metadata.name for p in pods if p.status.phase == "Running"]
        assert len(running) == 1, f"expected one running worker, found {running}"
        app.kube.kubectl("delete", "pod", running[0], "-n", app.namespace, "--grace-period=0", "--force",
                         "--wait=false")
        tl.mark(f"killed {running[0]} mid-task")
        t0 = time.monotonic()
        bound = visibility + 10 + POD_START_ALLOWANCE + task_s
        acc = collect([result], timeout=bound, expected=expected_sums(1))
        assert acc.ok, f"the killed worker's task was lost: {acc.summary()} (bound {bound:.0f} s)"
        scenario_record.measure("redelivered_after", time.monotonic() - t0, f"visibility timeout {visibility} s")
        tl.mark("task completed by another pod")
    assert redis_client.hlen("unacked") == 0


def test_keda_operator_restart_during_scale_out(deployed_app, celery_app, redis_client, record_timeline,
                                                scenario_record):
    """Scaling goes on when the operator pod is deleted right after the backlog appears."""
    app = deployed_app

    def restart_operator() -> None:
        app.kube.kubectl("delete", "pod", "-n", "keda", "-l", "app=keda-operator", "--wait=false")

    with record_timeline() as tl:
        scenario = ScaleOutAndIn(app, celery_app, redis_client, tl, 500, "high_priority",
                                 fault_allowance=OPERATOR_RECOVERY)
        result = scenario_record.attach(scenario.result)
        scenario.run(after_enqueue=restart_operator)
    assert result.peak_ready == app.bounds.max


def _redis_pods(app) -> list:
    return app.kube.core.list_namespaced_pod(app.namespace, label_selector=REDIS_LABEL).items


def _ready(pod) -> bool:
    return pod.metadata.deletion_timestamp is None and any(
        c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or []))


def test_redis_restart_with_tasks_queued(deployed_app, celery_app, redis_client, redis_forward, record_timeline,
                                         scenario_record):
    """Redis is replaced mid scale-out: the queue comes back from its volume and scaling resumes."""
    app = deployed_app
    queue = "high_priority"
    visibility = _env(app, "VISIBILITY_TIMEOUT", 300)

    def restart_redis() -> None:
        # Restart while workers hold tasks, so the in-flight path (ack lost with the connection) is hit too.
        wait_until("a worker to hold a task", lambda: redis_client.hlen("unacked"), lambda n: n >= 1, timeout=60,
                   describe=lambda n: f"unacked {n}, LLEN {redis_client.llen(queue)}")
        scenario_record.note("in_flight_at_restart", int(redis_client.hlen("unacked")))
        old = {p.metadata.uid for p in _redis_pods(app)}
        before = int(redis_client.llen(queue))
        t0 = time.monotonic()
        app.kube.kubectl("delete", "pod", "-n", app.namespace, "-l", REDIS_LABEL, "--wait=false")
        new = wait_until("a new Redis pod to be Ready", lambda: _redis_pods(app),
                         lambda pods: any(_ready(p) and p.metadata.uid not in old for p in pods), timeout=120,
                         describe=lambda pods: ", ".join(f"{p.metadata.name} {p.status.phase}"
                                                         f"{' ready' if _ready(p) else ''}" for p in pods) or "none")
        scenario_record.note("new_pod", next(p.metadata.name for p in new if p.metadata.uid not in old and _ready(p)))
        wait_redis_answers(redis_client, timeout=60)
        scenario_record.measure("redis_back_after", time.monotonic() - t0)
        after = int(redis_client.llen(queue))
        scenario_record.note("queued_before_after", f"{before} -> {after}")
        assert after > 0, f"the queue did not survive the Redis restart: LLEN {queue} {before} before, 0 after"

    try:
        with record_timeline() as tl:
            _wait_one_idle_worker(app, redis_client)
            # The in-flight task's ack dies with the old connection: it may run again (counted, not lost).
            scenario = ScaleOutAndIn(app, celery_app, redis_client, tl, 500, queue,
                                     fault_allowance=REDIS_RECOVERY + visibility, allow_reruns=True)
            result = scenario_record.attach(scenario.result)
            scenario.run(after_scale_up=restart_redis)
    finally:
        scenario_record.note("port_forward", f"{redis_forward.restarts} restart(s): {redis_forward.events}")
    assert result.peak_ready == app.bounds.max
