"""Faults during scaling: a killed worker, a restarted KEDA operator, a restarted Redis."""

from __future__ import annotations

import time

from fixtures.observe import take
from fixtures.redis_access import wait_redis_answers
from fixtures.scenario import POD_START_ALLOWANCE, ScenarioResult, run_scale_out_and_in
from fixtures.waits import wait_until
from tests.e2e.scaling import recorded_timeline
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


def test_worker_killed_mid_task_is_redelivered(request, app, celery_app, redis_client, suite_options,
                                               scenario_record):
    """A pod that dies without a shutdown (SIGKILL, node loss) does not lose its task."""
    visibility = _env(app, "VISIBILITY_TIMEOUT", 300)
    task_s = 15.0
    with recorded_timeline(request, app, redis_client, suite_options, scenario_record) as tl:
        wait_until("one idle worker before the fault", lambda: take(app.kube, app.target, redis_client),
                   lambda s: s.ready == s.desired == app.bounds.min, timeout=120, describe=lambda s: s.line())
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
        scenario_record["redelivered_after"] = f"{time.monotonic() - t0:.1f} s (visibility timeout {visibility} s)"
        tl.mark("task completed by another pod")
    assert redis_client.hlen("unacked") == 0


def test_keda_operator_restart_during_scale_out(request, app, celery_app, redis_client, suite_options,
                                                scenario_record):
    """Scaling goes on when the operator pod is deleted right after the backlog appears."""
    result = ScenarioResult(tasks=500)

    def restart_operator() -> None:
        app.kube.kubectl("delete", "pod", "-n", "keda", "-l", "app=keda-operator", "--wait=false")

    with recorded_timeline(request, app, redis_client, suite_options, scenario_record) as tl:
        run_scale_out_and_in(app, celery_app, redis_client, tl, 500, "high_priority", None, result,
                             after_enqueue=restart_operator, fault_allowance=OPERATOR_RECOVERY)
    scenario_record["phases"] = {p: getattr(result.times, p) for p in ("first_scale_up", "reached_max",
                                                                         "drained", "back_to_min")}
    scenario_record["first_scale_up"] = f"{result.times.first_scale_up:.1f} s (operator restarted at +1 s)"
    scenario_record["accounting"] = result.accounting.summary() if result.accounting else "none"
    assert result.peak_ready == app.bounds.max


def _redis_pods(app) -> list:
    return app.kube.core.list_namespaced_pod(app.namespace, label_selector=REDIS_LABEL).items


def _ready(pod) -> bool:
    return pod.metadata.deletion_timestamp is None and any(
        c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or []))


def test_redis_restart_with_tasks_queued(request, app, celery_app, redis_client, redis_forward, suite_options,
                                         scenario_record):
    """Redis is replaced mid scale-out: the queue comes back from its volume and scaling resumes."""
    queue = "high_priority"
    visibility = _env(app, "VISIBILITY_TIMEOUT", 300)
    result = ScenarioResult(tasks=500)
    seen: dict[str, object] = {}

    def restart_redis() -> None:
        # Restart while workers hold tasks, so the in-flight path (ack lost with the connection) is hit too.
        wait_until("a worker to hold a task", lambda: redis_client.hlen("unacked"), lambda n: n >= 1, timeout=60,
                   describe=lambda n: f"unacked {n}, LLEN {redis_client.llen(queue)}")
        seen["in_flight_at_restart"] = int(redis_client.hlen("unacked"))
        old = {p.metadata.uid for p in _redis_pods(app)}
        seen["queued_before"] = before = int(redis_client.llen(queue))
        t0 = time.monotonic()
        app.kube.kubectl("delete", "pod", "-n", app.namespace, "-l", REDIS_LABEL, "--wait=false")
        new = wait_until("a new Redis pod to be Ready", lambda: _redis_pods(app),
                         lambda pods: any(_ready(p) and p.metadata.uid not in old for p in pods), timeout=120,
                         describe=lambda pods: ", ".join(f"{p.metadata.name} {p.status.phase}"
                                                         f"{' ready' if _ready(p) else ''}" for p in pods) or "none")
        seen["new_pod"] = next(p.metadata.name for p in new if p.metadata.uid not in old and _ready(p))
        wait_redis_answers(redis_client, timeout=60)
        seen["redis_back_after_s"] = round(time.monotonic() - t0, 1)
        seen["queued_after"] = after = int(redis_client.llen(queue))
        assert after > 0, f"the queue did not survive the Redis restart: LLEN {queue} {before} before, 0 after"

    try:
        with recorded_timeline(request, app, redis_client, suite_options, scenario_record) as tl:
            wait_until("one idle worker before the fault", lambda: take(app.kube, app.target, redis_client),
                       lambda s: s.ready == s.desired == app.bounds.min, timeout=120, describe=lambda s: s.line())
            run_scale_out_and_in(app, celery_app, redis_client, tl, 500, queue, None, result,
                                 after_scale_up=restart_redis, fault_allowance=REDIS_RECOVERY + visibility)
    finally:
        scenario_record["redis_restart"] = seen | {"port_forward_restarts": redis_forward.restarts,
                                                   "port_forward_events": redis_forward.events}
        scenario_record["phases"] = {p: getattr(result.times, p) for p in ("first_scale_up", "reached_max",
                                                                             "drained", "back_to_min")}
        scenario_record["accounting"] = result.accounting.summary() if result.accounting else "none"
    assert result.peak_ready == app.bounds.max
