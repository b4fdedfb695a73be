"""A worker node lost during scale-out: scaling survives it and no task is lost.

With `--nodes 2` or more the workers spread over the worker nodes (fixtures/sut/topology.py). Once the
Deployment first asks for more than min, the test picks a node that runs a worker holding a task and neither
Redis (Redis's data is on a node-local volume: losing its node would lose the queue, which is a different
test) nor KEDA (which runs on the control plane when there are worker nodes: see fixtures/infra/keda.py),
asks Celery which tasks that node's workers hold, and kills the node's container (SIGKILL: nothing in
it shuts down or finishes its task). Proved, not assumed: the node turns NotReady; its pods are replaced by
pods with new UIDs on other nodes; the tasks its workers held and had not finished are completed by workers
elsewhere (after the visibility timeout); scaling reaches max again, falls back to min, and no task is lost.
Tasks take TASK_SECONDS, so a task held when Celery answered is still running when the node dies.
The record keeps the time from the loss to NotReady and to the replacements, and
what bounds them: the node monitor grace period (read from the controller manager), the workers' toleration
of an unreachable node, the visibility timeout and a pod's start.
"""

from __future__ import annotations

import time

import pytest

from common import docker
from fixtures.infra import keda
from fixtures.scaling.scenario import POD_START_ALLOWANCE, ScaleOutAndIn, wait_idle_at_min
from fixtures.sut.pods import REDIS_LABEL, WORKER_LABEL, is_ready, pods
from fixtures.sut.topology import WORKER_EVICTION_SECONDS, node_monitor_grace
from fixtures.waits import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.disruptive("kills a node"),
              pytest.mark.kind_only("kills a kind node's container")]

TASKS = 200
TASK_SECONDS = 6.0
# A running task counts as held by the node only if it started at most this long ago: it then has at least
# TASK_SECONDS - FRESH_TASK s to run when the node is killed (the first run here counted a task that finished
# in the instant between Celery's answer and the kill, so nothing was shown redelivered).
FRESH_TASK = 2.0
QUEUE = "high_priority"
NODE_BACK = 180.0  # s: a restarted kind node's kubelet registers Ready again


def _node_ready(kube, node: str) -> str:
    n = kube.core.read_node(node)
    return next((c.status for c in n.status.conditions or [] if c.type == "Ready"), "Unknown")


def _held_by(celery_app, workers: list[str]) -> set[str]:
    """Task ids the named Celery workers have reserved, or started at most FRESH_TASK s ago (they answer over
    Redis): tasks that cannot finish before a kill that follows at once."""
    inspect = celery_app.control.inspect(destination=workers, timeout=2.0, limit=len(workers))
    now = time.time()  # Celery's time_start is wall-clock
    running = {t["id"] for tasks in (inspect.active() or {}).values() for t in tasks
               if t.get("time_start") and now - float(t["time_start"]) <= FRESH_TASK}
    return running | {t["id"] for tasks in (inspect.reserved() or {}).values() for t in tasks}


def test_a_lost_worker_node_is_survived(suite_options, cluster, deployed_app, celery_app, redis_client,
                                        record_timeline, scenario_record):
    if suite_options.nodes < 2:
        pytest.skip("needs --nodes 2 or more (CKE_NODES): a worker node to lose besides Redis's")
    app = deployed_app
    control_plane = next(n for n in cluster.kind.nodes(cluster.name) if n.endswith("-control-plane"))
    grace = node_monitor_grace(control_plane)
    visibility = int(app.worker_env("VISIBILITY_TIMEOUT", "300"))
    allowance = grace + WORKER_EVICTION_SECONDS + visibility + POD_START_ALLOWANCE
    lost: dict = {}

    def lose_a_worker_node() -> None:
        [redis_pod] = [p for p in pods(app.kube, app.namespace, REDIS_LABEL) if p.metadata.deletion_timestamp is None]
        # KEDA runs on the control plane here (fixtures.infra.keda.manifest_docs): this test loses workers, not KEDA.
        keda_nodes = {p.spec.node_name for p in app.kube.core.list_namespaced_pod(keda.NAMESPACE).items}
        spared = {redis_pod.spec.node_name, *keda_nodes}

        def candidate() -> tuple[str, list, set[str]] | None:
            running = [p for p in pods(app.kube, app.namespace, WORKER_LABEL)
                       if is_ready(p) and p.spec.node_name not in spared]
            for node in sorted({p.spec.node_name for p in running}):
                on_node = [p for p in running if p.spec.node_name == node]
                held = _held_by(celery_app, [f"celery@{p.metadata.name}" for p in on_node])
                if held:
                    return node, on_node, held
            return None

        node, victims, held = wait_until(
            f"a Ready worker holding a task on a node without Redis or KEDA ({', '.join(sorted(spared))})", candidate,
            lambda c: c is not None, timeout=POD_START_ALLOWANCE, interval=1,
            describe=lambda c: "none yet" if c is None else c[0])
        lost.update(node=node, uids={p.metadata.uid for p in victims}, pods=[p.metadata.name for p in victims],
                    held=held, at=time.monotonic())
        docker.kill(node)  # kind's node name is its container's name
        wait_until(f"node {node} to turn NotReady (node monitor grace {grace} s)",
                   lambda: _node_ready(app.kube, node), lambda s: s != "True", timeout=grace + 30, interval=1,
                   describe=lambda s: f"Ready={s}")
        lost["not_ready_after"] = time.monotonic() - lost["at"]

    try:
        with record_timeline() as tl:
            wait_idle_at_min(app, redis_client)
            scenario = ScaleOutAndIn(app, celery_app, redis_client, tl, TASKS, QUEUE, task_seconds=TASK_SECONDS,
                                     fault_allowance=allowance, allow_reruns=True)
            result = scenario_record.attach(scenario.result)
            scenario.run(after_scale_up=lose_a_worker_node)
        now = pods(app.kube, app.namespace, WORKER_LABEL)
    finally:
        if lost:  # the rest of the session gets the node back
            docker.start(lost["node"])
            wait_until(f"node {lost['node']} Ready again after its container restarted",
                       lambda: _node_ready(app.kube, lost["node"]), lambda s: s == "True", timeout=NODE_BACK,
                       interval=2, describe=lambda s: f"Ready={s}")
    scenario_record.note("lost_node", f"{lost['node']} with {', '.join(lost['pods'])} holding {len(lost['held'])} "
                                      f"task(s)")
    scenario_record.measure("not_ready_after", lost["not_ready_after"], f"node monitor grace {grace} s")
    scenario_record.note("bounded_by", f"grace {grace} s + toleration {WORKER_EVICTION_SECONDS} s + visibility "
                                       f"{visibility} s + pod start {POD_START_ALLOWANCE} s = {allowance} s "
                                       "added to every phase")
    # The fault happened and the recovery is the one claimed.
    back = [p for p in now if p.metadata.uid in lost["uids"] and is_ready(p)]
    assert not back, f"pods of the lost node still count as Ready: {[p.metadata.name for p in back]}"
    elsewhere = [p for p in now if p.spec.node_name != lost["node"] and p.metadata.uid not in lost["uids"]]
    assert elsewhere, f"no replacement worker on another node than {lost['node']}"
    # result_extended: each result names the worker that completed it.
    ran = {tid: celery_app.backend.get_task_meta(tid).get("worker") for tid in lost["held"]}
    victims = {f"celery@{name}" for name in lost["pods"]}
    finished_before = {tid for tid, w in ran.items() if w in victims}  # in the instant before the kill
    elsewhere = {tid: w for tid, w in ran.items() if w and w not in victims}
    assert elsewhere, (f"none of the {len(ran)} task(s) the lost node held was completed elsewhere: {ran} (the kill "
                       "hit no running task, so redelivery was not shown)")
    assert set(elsewhere) | finished_before == set(ran), f"held tasks without a result: {ran}"
    scenario_record.note("held_tasks", f"{len(elsewhere)} completed elsewhere after the loss "
                                       f"({', '.join(sorted(set(elsewhere.values())))}), {len(finished_before)} "
                                       "finished on the node just before it")
    assert result.peak_ready == app.bounds.max
