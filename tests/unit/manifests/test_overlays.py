"""Unit validation of manifests/ (no cluster, no network).

Every overlay is built with kustomize and every document is validated against the
committed JSON Schemas (tests/unit/schemas/, see scripts/refresh-schemas.py); the seed
scenario's values, the absence of plaintext passwords, Pod Security ``restricted``
fields, the NetworkPolicy, resource budgets and the e2e overlay's timing are asserted.

kustomize is found the way the suite finds it (fixtures.infra.tools.find_tool: $KUSTOMIZE_BIN,
PATH, then the offline build's bin directory). The suite's own kustomize wrapper
(fixtures.sut.manifests.render) is tested in tests/unit/fixtures/sut/test_manifests.py.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from common.paths import REPO
from common.process import run
from fixtures.sut.checks import (
    check_no_plaintext_secrets,
    check_pod_security_restricted,
    check_scaledobject,
    obj_name,
    validate,
)
from fixtures.sut.hpa_model import derive_bounds
from tests.unit.support.manifests import SCHEMAS, get, kustomize_bin, pod_spec
from worker import config as worker_config

MANIFESTS = REPO / "manifests"
OVERLAYS = ["base", "overlays/e2e", "overlays/e2e-scale-to-zero", "overlays/e2e-priorities", "overlays/e2e-acl-tls"]
E2E_OVERLAYS = ["overlays/e2e", "overlays/e2e-scale-to-zero", "overlays/e2e-priorities", "overlays/e2e-acl-tls"]
SEED_OVERLAYS = ["base", "overlays/e2e", "overlays/e2e-scale-to-zero"]  # the seed's one trigger on high_priority

EXPECTED_OBJECTS = {
    "PersistentVolumeClaim/redis-data",
    "Deployment/redis",
    "Service/redis",
    "NetworkPolicy/redis",
    "Deployment/celery-worker",
    "TriggerAuthentication/redis-auth",
    "ScaledObject/redis-scaledobject",
}
SECRET_NAME, SECRET_KEY = "redis-auth", "password"
SEED_ADDRESS = "redis.default.svc.cluster.local:6379"

# CPU requests that share the 2-core kind node with the system under test.
KEDA_PODS_CPU_M = 3 * 100  # operator, metrics apiserver, admission webhooks
KIND_CONTROL_PLANE_CPU_M = 250 + 200 + 100 + 100 + 2 * 100 + 100  # apiserver, kcm, scheduler, etcd, coredns x2, kindnet
NODE_CPU_M = 2000


def build(path: Path) -> list[dict[str, Any]]:
    """`kustomize build` of a committed directory, as it is (base and overlays)."""
    return [d for d in yaml.safe_load_all(run([kustomize_bin(), "build", path], timeout=60).stdout) if d]


_cache: dict[str, list[dict[str, Any]]] = {}


def rendered(overlay: str) -> list[dict[str, Any]]:
    if overlay not in _cache:
        _cache[overlay] = build(MANIFESTS / overlay)
    return _cache[overlay]


def cpu_m(q: str) -> int:
    return int(q[:-1]) if q.endswith("m") else int(float(q) * 1000)


def mem_mi(q: str) -> int:
    units = {"Mi": 1, "Gi": 1024, "Ki": 1 / 1024}
    for u, f in units.items():
        if q.endswith(u):
            return math.ceil(float(q[: -len(u)]) * f)
    return math.ceil(int(q) / 2**20)


# --------------------------------------------------------------------------- every overlay


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_builds_and_validates_against_schemas(overlay: str) -> None:
    docs = rendered(overlay)
    assert {obj_name(d) for d in docs} == EXPECTED_OBJECTS
    errors = validate(docs, SCHEMAS)
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_namespace_and_common_labels(overlay: str) -> None:
    for d in rendered(overlay):
        assert "namespace" not in d["metadata"], f"{obj_name(d)}: metadata.namespace must be left to the suite"
        labels = d["metadata"].get("labels") or {}
        assert labels.get("app.kubernetes.io/part-of") == "celery-keda-autoscaling", obj_name(d)
        assert labels.get("app.kubernetes.io/name"), obj_name(d)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_plaintext_password(overlay: str) -> None:
    docs = rendered(overlay)
    assert check_no_plaintext_secrets(docs) == []
    assert not [d for d in docs if d["kind"] == "Secret"], "Secret redis-auth is created by the suite, not committed"
    text = yaml.safe_dump_all(docs)
    assert "abc123" not in text, "the seed's password must not appear anywhere"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pod_security_restricted(overlay: str) -> None:
    docs = rendered(overlay)
    for name, uid in (("redis", 999), ("celery-worker", 10001)):
        dep = get(docs, "Deployment", name)
        assert check_pod_security_restricted(dep) == []
        ps = pod_spec(dep)
        assert ps["securityContext"]["runAsUser"] == uid
        assert ps["securityContext"]["runAsNonRoot"] is True
        assert ps["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        assert ps["automountServiceAccountToken"] is False
        assert ps["enableServiceLinks"] is False, f"{name}: Service `redis` would inject REDIS_PORT=tcp://..."
        for c in ps["containers"]:
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False
            assert sc["capabilities"]["drop"] == ["ALL"]
            assert sc["readOnlyRootFilesystem"] is True
        kinds = {k for v in ps.get("volumes", []) for k in v if k != "name"}
        assert kinds <= {"emptyDir", "persistentVolumeClaim", "secret"}, f"{name}: volume types {kinds}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_images_are_placeholders_pulled_if_not_present(overlay: str) -> None:
    docs = rendered(overlay)
    for name in ("redis", "celery-worker"):
        (c,) = pod_spec(get(docs, "Deployment", name))["containers"]
        assert c["image"] == name, "image placeholder is rewritten by the suite's `images:`"
        assert c["imagePullPolicy"] == "IfNotPresent"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_redis_deployment(overlay: str) -> None:
    docs = rendered(overlay)
    dep = get(docs, "Deployment", "redis")
    assert dep["spec"]["replicas"] == 1
    (c,) = pod_spec(dep)["containers"]
    env = {e["name"]: e for e in c["env"]}
    assert env["REDIS_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": SECRET_NAME, "key": SECRET_KEY}
    argv = c["command"] + c["args"]
    if "--requirepass" in argv:
        assert argv[argv.index("--requirepass") + 1] == "$(REDIS_PASSWORD)"
    else:  # ACL users (e2e-acl-tls): the workers' user has the Secret's password; no login as `default`
        assert argv[argv.index("--user") + 1:argv.index("--user") + 4] == ["default", "on", "resetpass"]
        assert ">$(REDIS_PASSWORD)" in argv, "no ACL user with the Secret's password"
    assert {"containerPort": 6379, "name": "redis", "protocol": "TCP"} in c["ports"]
    for probe in ("readinessProbe", "livenessProbe"):
        cmd = " ".join(c[probe]["exec"]["command"])
        assert "redis-cli" in cmd and "ping" in cmd and "$REDIS_PASSWORD" in cmd, probe
    svc = get(docs, "Service", "redis")
    assert svc["spec"]["selector"] == {"app.kubernetes.io/name": "redis"}
    assert svc["spec"]["ports"][0]["port"] == 6379
    assert dep["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"] == "redis"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_redis_persists_the_queue(overlay: str) -> None:
    """A restarted Redis must come back with its lists (issue 5: no task lost)."""
    docs = rendered(overlay)
    dep = get(docs, "Deployment", "redis")
    (c,) = pod_spec(dep)["containers"]
    argv = c["command"] + c["args"]
    opt = {argv[i]: argv[i + 1] for i in range(1, len(argv) - 1) if argv[i].startswith("--")}
    assert opt["--appendonly"] == "yes"
    assert opt["--appendfsync"] == "always", "a crash must not lose the last second of enqueues"
    assert opt["--dir"] == "/data"
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    vols = {v["name"]: v for v in pod_spec(dep)["volumes"]}
    claim = vols[mounts["/data"]]["persistentVolumeClaim"]["claimName"]
    pvc = get(docs, "PersistentVolumeClaim", claim)
    assert pvc["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert "storageClassName" not in pvc["spec"], "the cluster's default class"
    assert dep["spec"]["strategy"]["type"] == "Recreate", "RWO volume: the old pod must let go first"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_worker_deployment(overlay: str) -> None:
    dep = get(rendered(overlay), "Deployment", "celery-worker")
    ps = pod_spec(dep)
    (c,) = ps["containers"]
    assert "command" not in c and "args" not in c, "the command comes from the image"
    env = {e["name"]: e for e in c["env"]}
    assert env["REDIS_HOST"]["value"] == "redis"
    assert env["REDIS_PORT"]["value"] == "6379"
    assert env["REDIS_DB"]["value"] == "0"
    assert env["REDIS_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": SECRET_NAME, "key": SECRET_KEY}
    assert ps["terminationGracePeriodSeconds"] >= 60, "warm shutdown must outlive a task"
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    vols = {v["name"]: v for v in ps["volumes"]}
    assert "emptyDir" in vols[mounts["/tmp"]]
    assert dep["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"] == "celery-worker"
    # Ready means consuming: the probe checks the file worker.tasks writes on worker_ready.
    assert c["readinessProbe"]["exec"]["command"] == ["test", "-f", worker_config.READY_FILE_DEFAULT]
    assert mounts["/tmp"] and worker_config.READY_FILE_DEFAULT.startswith("/tmp/"), "the marker needs a writable dir"


@pytest.mark.parametrize("overlay", [o for o in OVERLAYS if not o.endswith("acl-tls")])  # acl-tls: its own test
def test_trigger_authentication(overlay: str) -> None:
    ta = get(rendered(overlay), "TriggerAuthentication", "redis-auth")
    assert ta["spec"]["secretTargetRef"] == [{"parameter": "password", "name": SECRET_NAME, "key": SECRET_KEY}]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_networkpolicy_admits_only_workers_and_keda(overlay: str) -> None:
    np = get(rendered(overlay), "NetworkPolicy", "redis")
    spec = np["spec"]
    assert spec["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "redis"}}
    assert spec["policyTypes"] == ["Ingress"]
    (rule,) = spec["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 6379}]
    peers = rule["from"]
    assert {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "celery-worker"}}} in peers
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "keda"}}} in peers
    for p in peers:
        assert "ipBlock" not in p
        # A peer with only namespaceSelector must be the keda namespace; a podSelector-only
        # peer is confined to the policy's own namespace.
        if "namespaceSelector" in p:
            assert p == {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "keda"}}}
        else:
            assert p["podSelector"].get("matchLabels"), "an empty podSelector would admit every pod"


# --------------------------------------------------------------------------- ScaledObject


@pytest.mark.parametrize("overlay", SEED_OVERLAYS)
def test_scaledobject_seed_values(overlay: str) -> None:
    so = get(rendered(overlay), "ScaledObject", "redis-scaledobject")
    assert check_scaledobject(so) == []
    spec = so["spec"]
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "celery-worker"}
    assert spec["pollingInterval"] == 3
    assert spec["cooldownPeriod"] == 10
    assert spec["maxReplicaCount"] == 10
    assert spec["minReplicaCount"] == (0 if overlay.endswith("scale-to-zero") else 1)
    (trig,) = spec["triggers"]
    assert trig["type"] == "redis"
    assert trig["authenticationRef"] == {"name": "redis-auth"}
    meta = trig["metadata"]
    assert meta["address"] == SEED_ADDRESS
    assert meta["listName"] == "high_priority"
    assert meta["listLength"] == "10"
    assert "password" not in meta
    expected_meta = {"address", "listName", "listLength"} | (
        {"activationListLength"} if overlay.endswith("scale-to-zero") else set()
    )
    assert set(meta) == expected_meta


def test_priorities_overlay_sums_every_priority_list() -> None:
    """Four redis triggers (one per kombu priority list), summed by scalingModifiers against the seed's 10."""
    so = get(rendered("overlays/e2e-priorities"), "ScaledObject", "redis-scaledobject")
    assert check_scaledobject(so) == []
    triggers = so["spec"]["triggers"]
    assert [t["metadata"]["listName"] for t in triggers] == [
        "high_priority", "high_priority\x06\x163", "high_priority\x06\x166", "high_priority\x06\x169"]
    assert {t["metadata"]["listLength"] for t in triggers} == {"10"}
    assert all(t["authenticationRef"] == {"name": "redis-auth"} for t in triggers)
    mods = so["spec"]["advanced"]["scalingModifiers"]
    assert (mods["formula"], mods["target"], mods["metricType"]) == ("p0 + p3 + p6 + p9", "10", "AverageValue")
    b = derive_bounds(so)
    assert (b.list_length, b.activation_list_length, b.min, b.max) == (10, 0, 1, 10)
    worker = get(rendered("overlays/e2e-priorities"), "Deployment", "celery-worker")
    env = {e["name"]: e.get("value") for e in pod_spec(worker)["containers"][0]["env"]}
    assert env["PRIORITY_STEPS"] == "0,3,6,9"


def test_base_keeps_hpa_default_behaviour() -> None:
    so = get(rendered("base"), "ScaledObject", "redis-scaledobject")
    assert "advanced" not in so["spec"]
    assert derive_bounds(so).scale_down_stabilization == 300, "the seed silently waits the HPA's 300 s default"


@pytest.mark.parametrize("overlay", E2E_OVERLAYS)
def test_e2e_scale_down_is_short(overlay: str) -> None:
    so = get(rendered(overlay), "ScaledObject", "redis-scaledobject")
    b = derive_bounds(so)
    assert b.scale_down_stabilization <= 30, "e2e must not wait the 300 s default"
    assert b.scale_down_stabilization == 15
    # One policy step may take max -> min.
    assert any((p.type == "Percent" and p.value >= 100) or (p.type == "Pods" and p.value >= b.max - 1)
               for p in b.scale_down_policies)
    assert b.scale_down_seconds(b.max) <= 60
    # scaleUp is explicit and equal to the HPA defaults.
    up = so["spec"]["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleUp"]
    assert up["stabilizationWindowSeconds"] == 0 and up["selectPolicy"] == "Max"
    assert sorted((p["type"], p["value"], p["periodSeconds"]) for p in up["policies"]) == [
        ("Percent", 100, 15), ("Pods", 4, 15)]
    assert b.scale_up_seconds(1, 10) <= 60
    assert b.desired_replicas(0) == b.min
    assert b.desired_replicas(25) == 3
    assert b.desired_replicas(500) == 10


def test_scale_to_zero_activation() -> None:
    so = get(rendered("overlays/e2e-scale-to-zero"), "ScaledObject", "redis-scaledobject")
    b = derive_bounds(so)
    assert (b.min, b.activation_list_length) == (0, 0)
    assert "idleReplicaCount" not in so["spec"], "idleReplicaCount must be < minReplicaCount"
    assert b.desired_replicas(0) == 0 and b.desired_replicas(1) == 1
    assert b.scale_down_seconds(10) >= b.cooldown


@pytest.mark.parametrize("overlay", E2E_OVERLAYS)
def test_e2e_resources_fit_a_two_core_node(overlay: str) -> None:
    docs = rendered(overlay)
    so = get(docs, "ScaledObject", "redis-scaledobject")
    worker = pod_spec(get(docs, "Deployment", "celery-worker"))["containers"][0]["resources"]
    redis = pod_spec(get(docs, "Deployment", "redis"))["containers"][0]["resources"]
    assert worker["requests"] == {"cpu": "25m", "memory": "96Mi"}
    assert worker["limits"] == {"cpu": "500m", "memory": "256Mi"}
    assert redis["requests"] == {"cpu": "25m", "memory": "64Mi"}
    total = (so["spec"]["maxReplicaCount"] * cpu_m(worker["requests"]["cpu"]) + cpu_m(redis["requests"]["cpu"])
             + KEDA_PODS_CPU_M + KIND_CONTROL_PLANE_CPU_M)
    assert total <= NODE_CPU_M - 250, f"CPU requests {total}m leave < 250m headroom on a 2-core node"
    mem = so["spec"]["maxReplicaCount"] * mem_mi(worker["requests"]["memory"]) + mem_mi(redis["requests"]["memory"])
    assert mem + 3 * 100 <= 1536, f"workers+redis+KEDA request {mem + 300}Mi"


# --------------------------------------------------------------------------- the schemas themselves


def test_schemas_catch_typos() -> None:
    docs = [dict(d) for d in rendered("overlays/e2e")]
    dep = yaml.safe_load(yaml.safe_dump(get(docs, "Deployment", "celery-worker")))
    pod_spec(dep)["terminationGracePeriod"] = 60
    so = yaml.safe_load(yaml.safe_dump(get(docs, "ScaledObject", "redis-scaledobject")))
    so["spec"]["triggers"][0]["metadata"]["listLength"] = 10
    errors = validate([dep, so], SCHEMAS)
    assert any("Deployment/celery-worker: spec.template.spec:" in e and "terminationGracePeriod" in e for e in errors)
    assert any("ScaledObject/redis-scaledobject: spec.triggers[0].metadata.listLength:" in e for e in errors)


def test_schema_sources_match_pinned_versions() -> None:
    import json
    import re

    index = json.loads((SCHEMAS / "index.json").read_text())
    assert set(index["kinds"]) == {
        "apps/v1/Deployment", "v1/Service", "v1/Secret", "v1/PersistentVolumeClaim", "networking.k8s.io/v1/NetworkPolicy",
        "keda.sh/v1alpha1/ScaledObject", "keda.sh/v1alpha1/TriggerAuthentication"}
    for f in index["kinds"].values():
        assert (SCHEMAS / f).is_file(), f
    versions = REPO / "offline" / "versions.env"
    if versions.exists():
        text = versions.read_text()
        k8s = re.search(r"K8S_VERSION:=([^}]+)", text)
        keda = re.search(r"KEDA_VERSION:=([^}]+)", text)
        src = index["sources"]
        if k8s:
            assert src["k8s.io/kubernetes"]["version"] == k8s.group(1).strip(), "run scripts/refresh-schemas.py"
        if keda:
            assert src["github.com/kedacore/keda/v2"]["version"] == "v" + keda.group(1).strip().lstrip("v"), \
                "run scripts/refresh-schemas.py"


def test_acl_tls_overlay_users_and_secrets_are_the_ones_the_suite_fills() -> None:
    """The ACL users of Redis's rules are the names the suite puts in Secret redis-auth, every Secret key the
    overlay reads is one the suite fills, and KEDA reads its own user, password and the CA."""
    from fixtures.sut.deploy import SCALER_USER, SECRET_KEYS, TLS_SECRET, WORKER_USER, secret_refs

    docs = rendered("overlays/e2e-acl-tls")
    args = pod_spec(get(docs, "Deployment", "redis"))["containers"][0]["args"]
    users = [args[i + 1] for i, a in enumerate(args) if a == "--user"]
    assert users == ["default", WORKER_USER, SCALER_USER]
    i = args.index("default")
    assert args[i + 1:i + 3] == ["on", "resetpass"], "no way to log in as default (and no `nopass`)"
    assert "nopass" not in args
    assert args[args.index("--port") + 1] == "0", "TLS only"
    refs = secret_refs(docs)
    assert {key for name, key in refs if name == "redis-auth"} <= set(SECRET_KEYS)
    assert (TLS_SECRET, "ca.crt") in refs
    auth = get(docs, "TriggerAuthentication", "redis-auth")["spec"]["secretTargetRef"]
    assert {(t["parameter"], t["name"], t["key"]) for t in auth} == {
        ("username", "redis-auth", "keda-username"), ("password", "redis-auth", "keda-password"),
        ("ca", TLS_SECRET, "ca.crt")}
    so = get(docs, "ScaledObject", "redis-scaledobject")
    assert so["spec"]["triggers"][0]["metadata"]["enableTLS"] == "true"
    worker_env = {e["name"]: e for e in pod_spec(get(docs, "Deployment", "celery-worker"))["containers"][0]["env"]}
    assert worker_env["REDIS_TLS"]["value"] == "true"
    assert worker_env["REDIS_USERNAME"]["valueFrom"]["secretKeyRef"] == {"name": "redis-auth", "key": "username"}
