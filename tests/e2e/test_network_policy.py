"""The Redis NetworkPolicy, enforced: only the workers, KEDA and opted-in clients get in.

Each check is a one-shot pod that tries to PING Redis through its Service
(fixtures.sut.netprobe). The admitted probes are the controls: they prove that a
blocked probe was stopped by the policy, not by a broken network.
"""

from __future__ import annotations

import secrets

import pytest

from fixtures.sut.netprobe import ProbeResult, probe_pod, run_probe

WORKER = {"app.kubernetes.io/name": "celery-worker"}
CLIENT = {"celery-keda-autoscaling/redis-client": "true"}


def _policy_engine_log(app) -> str:
    out = app.kube.kubectl("logs", "-n", "kube-system", "-l", "app=kindnet", "--tail=200", check=False)
    return "\n".join(line for line in out.splitlines() if "NetworkPolicy" in line or "nfqueue" in line)[-1500:]


@pytest.fixture(scope="module")
def probe(deployed_app):
    app = deployed_app
    host = f"redis.{app.namespace}.svc.cluster.local"
    image = app.pod_spec("redis")["containers"][0]["image"]

    def run(namespace: str, labels: dict[str, str] | None) -> ProbeResult:
        name = f"netprobe-{secrets.token_hex(3)}"
        return run_probe(app.kube, namespace, probe_pod(name, image, host, labels=labels))

    return run


def test_a_pod_outside_the_policy_cannot_reach_redis(deployed_app, probe, scenario_record):
    app = deployed_app
    admitted = probe(app.namespace, CLIENT)
    assert admitted.connected, f"control failed: an opted-in client could not reach Redis: {admitted.output}"
    outsider = probe(app.namespace, None)
    scenario_record.note("outsider", f"{outsider.pod}: {outsider.output.splitlines()[0]}")
    scenario_record.note("admitted", f"{admitted.pod}: {admitted.output.splitlines()[0]}")
    assert not outsider.connected, (
        f"NetworkPolicy not enforced: {outsider.pod} (no allowed label) reached Redis: {outsider.output}\n"
        f"policy engine (kindnet) says:\n{_policy_engine_log(app)}")


@pytest.mark.kind_only("runs its impostor pod in the `default` namespace and reads kindnet's log")
def test_worker_label_admits_only_in_the_app_namespace(deployed_app, probe, scenario_record):
    app = deployed_app
    """The worker rule is a podSelector: the same label in another namespace is not let in."""
    worker = probe(app.namespace, WORKER)
    assert worker.connected, f"a pod labelled as a worker could not reach Redis: {worker.output}"
    impostor = probe("default", WORKER)
    scenario_record.note("impostor", f"{impostor.pod}: {impostor.output.splitlines()[0]}")
    assert not impostor.connected, (
        f"{impostor.pod} (worker label, other namespace) reached Redis: {impostor.output}\n"
        f"policy engine (kindnet) says:\n{_policy_engine_log(app)}")
