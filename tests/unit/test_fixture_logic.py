"""Fixture logic without Docker or a cluster: options, waits, tools, names, kustomization."""

from __future__ import annotations

import os
import socket
import stat
import time
from pathlib import Path

import pytest
import yaml

from common.docker import require_docker
from common.errors import SuiteError
from common.process import spawn
from fixtures import options
from fixtures.infra import cleanup, cluster, keda, leftovers
from fixtures.infra.kind import Kind
from fixtures.infra.portforward import PortForward, check_port_free, free_port, listening
from fixtures.infra.provision import resolve_offline
from fixtures.infra.tools import find_tool
from fixtures.scaling.observe import Snapshot
from fixtures.sut.images import split_ref
from fixtures.sut.manifests import kustomization
from fixtures.waits import Deadline, HoldBroken, WaitTimeout, holds_for, wait_until

REPO = Path(__file__).resolve().parents[2]
# What pytest hands us when nothing is given: our options default to None, pytest-kind's have their own defaults.
DEFAULTS = {**{o.dest: None for o in options.OPTIONS}, "cluster_name": "pytest-kind", "keep_cluster": False}


def parse(env: dict[str, str] | None = None, **kw: object) -> options.Options:
    values = {**DEFAULTS, **kw}
    return options.parse(values.__getitem__, env=env or {})


def test_defaults_come_from_the_pins():
    o = parse()
    pins = (REPO / "offline" / "versions.env").read_text()
    assert f'KEDA_VERSION:={o.keda_version}}}' in pins and f'K8S_VERSION:={o.k8s_version}}}' in pins
    assert o.cluster_name is None, "pytest-kind's default name must become a unique one"
    assert o.offline_mode == "auto" and o.result_path == Path("artifacts/result.json")


def test_every_option_has_an_env_twin_and_the_flag_wins():
    assert len({o.env for o in options.OPTIONS}) == len(options.OPTIONS)
    env = {"CKE_REPEAT": "3", "CKE_KEEP_CLUSTER": "1", "CKE_CLUSTER_NAME": "from-env", "CKE_MUTANT": "wrong-list"}
    o = parse(env=env)
    assert (o.repeat, o.keep_cluster, o.cluster_name, o.mutant.name) == (3, True, "from-env", "wrong-list")
    o = parse(env=env, repeat="5", cluster_name="from-flag")
    assert (o.repeat, o.cluster_name) == (5, "from-flag")


def test_env_overrides_pin_and_option_overrides_env():
    assert parse(env={"KEDA_VERSION": "2.20.2"}).keda_version == "2.20.2"
    assert parse(env={"KEDA_VERSION": "2.20.2"}, keda_version="v2.21.0").keda_version == "2.21.0"
    assert parse(k8s_version="1.35.4").k8s_version == "v1.35.4"


def test_untested_kubernetes_is_a_warning_when_allowed(caplog):
    o = parse(keda_version="2.16.1", allow_untested_k8s=True)
    assert o.keda_version == "2.16.1" and o.allow_untested_k8s
    assert "running anyway (--allow-untested-k8s)" in caplog.text
    assert parse(keda_version="2.20.2", k8s_version="v1.35.4").keda_version == "2.20.2"  # inside its window
    assert parse(keda_version="2.21.0").keda_version == "2.21.0"  # not in the table: not checked


@pytest.mark.parametrize(("kw", "message"), [
    ({"keda_version": "latest"}, "--keda-version 'latest' is not a KEDA version like 2.21.0"),
    ({"keda_version": "2.21"}, "is not a KEDA version"),
    ({"k8s_version": "1.34"}, "--k8s-version 'v1.34' is not a Kubernetes version like v1.34.4"),
    ({"offline": "maybe"}, "--offline 'maybe': use one of auto, on, off"),
    ({"redis_port": 70000}, "--redis-port 70000: use 1-65535"),
    ({"reuse_cluster": True}, "--reuse-cluster needs --cluster-name"),
    ({"build_budget": -5}, "--build-budget -5"),
    ({"repeat": 0}, "--repeat 0: use 1 or more"),
    ({"repeat": "many"}, "--repeat 'many': use 1 or more"),
    ({"keda_installs": 0}, "--keda-installs 0: use 1 or more"),
    ({"keda_version": "2.16.1"}, "KEDA 2.16.1 is tested on Kubernetes v1.29-v1.31 (keda.sh/docs/2.16/operate/cluster), "
                                 "not v1.34.4: use --k8s-version within that window, or --allow-untested-k8s"),
    ({"keda_from": "2.15.1"}, "KEDA 2.15.1 is tested on Kubernetes v1.28-v1.30"),
    ({"keda_version": "2.14.0"}, "KEDA 2.14.0 is older than 2.15, the oldest this suite builds and runs"),
    ({"mutant": "nope"}, "--mutant 'nope': unknown; known: wrong-list"),
    ({"baseline": "/nonexistent/base.json"}, "--baseline /nonexistent/base.json: no such file"),
    ({"registry_mirror": "127.0.0.1:5000", "offline": "on"}, "--registry-mirror is for online mode"),
    ({"registry_mirror": "ftp://mirror"}, "--registry-mirror 'ftp://mirror': use [http://|https://]HOST[:PORT]"),
    ({"registry_mirror": "mirror:port"}, "--registry-mirror 'mirror:port':"),
])
def test_bad_options_give_one_line(kw, message):
    with pytest.raises(SuiteError) as e:
        parse(**kw)
    assert message in str(e.value) and "\n" not in str(e.value)


def test_offline_modes():
    assert resolve_offline(parse().offline_mode, lambda: True) is False
    assert resolve_offline(parse().offline_mode, lambda: False) is True
    assert resolve_offline(parse(offline="on").offline_mode, lambda: True) is True
    assert resolve_offline(parse(offline="off").offline_mode, lambda: False) is False
    assert parse(env={"CKE_OFFLINE": "on"}).offline_mode == "on"
    # a registry mirror is the registry: auto is online without asking Docker Hub
    mirrored = parse(registry_mirror="127.0.0.1:5000")
    assert resolve_offline(mirrored.offline_mode, lambda: False, mirrored.registry_mirror) is False
    assert parse(env={"CKE_REGISTRY_MIRROR": "harbor.corp"}).registry_mirror.scheme == "https"


def test_keda_release_url():
    assert parse(keda_version="v2.21.0").keda_version == "2.21.0"
    assert keda.release_url("2.21.0").endswith("/v2.21.0/keda-2.21.0.yaml")


def test_keda_offline_manifest_pull_policy():
    text = yaml.safe_dump_all([
        {"kind": "Deployment", "metadata": {"name": "keda-operator"},
         "spec": {"template": {"spec": {"containers": [{"name": "m", "image": "ghcr.io/kedacore/keda:2.21.0",
                                                         "imagePullPolicy": "Always"}]}}}},
        {"kind": "Namespace", "metadata": {"name": "keda"}}])
    docs = keda.manifest_docs(text, pull_if_not_present=True)
    assert docs[0]["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    assert keda.images_of(docs) == ["ghcr.io/kedacore/keda:2.21.0"]
    assert keda.manifest_docs(text, pull_if_not_present=False)[0]["spec"]["template"]["spec"]["containers"][0][
        "imagePullPolicy"] == "Always"


def test_a_bug_in_a_probe_is_not_waited_out():
    """Only read errors (API, Redis, OS) are retried: a TypeError in a probe fails at once, not at the bound."""
    start = time.monotonic()
    with pytest.raises(TypeError):
        wait_until("anything", lambda: None + 1, lambda v: True, timeout=30, interval=0.05)
    assert time.monotonic() - start < 5


def test_a_deadline_is_shared_by_waits():
    d = Deadline.after(0.3)
    with pytest.raises(WaitTimeout, match="bound 0 s"):
        wait_until("never", lambda: 0, lambda v: False, timeout=d, interval=0.05)
    assert d.expired() and d.remaining(at_least=2.0) == 2.0


def test_holds_for_passes_a_quiet_window_and_fails_on_the_first_change():
    assert holds_for("stays 1", lambda: 1, lambda v: v == 1, duration=0.3, interval=0.05) != []
    values = iter([1, 1, 2, 1])
    with pytest.raises(HoldBroken, match="stays 1 broke after .*: 2"):
        holds_for("stays 1", lambda: next(values), lambda v: v == 1, duration=5, interval=0.01)


def test_holds_for_without_a_good_read_proves_nothing():
    with pytest.raises(HoldBroken, match="only 0 good read"):
        holds_for("quiet", lambda: (_ for _ in ()).throw(ConnectionError("down")), lambda v: True, duration=0.2,
                  interval=0.05)


def test_wait_until_returns_the_value_that_satisfied():
    values = iter([1, 2, 3])
    assert wait_until("three", lambda: next(values), lambda v: v == 3, timeout=5, interval=0.01) == 3


def test_wait_timeout_names_the_condition_and_the_last_state():
    snap = Snapshot(t=0, desired=4, ready=3, hpa_desired=10, hpa_current=4, queue=312, metric=312.0)
    with pytest.raises(WaitTimeout) as e:
        wait_until("10 ready replicas", lambda: snap, lambda s: s.ready >= 10, timeout=0.3, interval=0.05,
                   describe=lambda s: s.line(10))
    msg = str(e.value)
    assert "waiting for 10 ready replicas" in msg
    assert "last observed: replicas 3/10 desired 4 hpa 10 queue 312 metric 312" in msg
    assert "RetryError" not in msg


def test_a_failed_read_is_not_a_state():
    calls = {"n": 0}

    def probe() -> int:
        calls["n"] += 1
        if calls["n"] < 3:
            raise ConnectionError("apiserver hiccup")
        return 0

    # 0 after two failed reads: only the real read counts.
    assert wait_until("zero", probe, lambda v: v == 0, timeout=5, interval=0.01) == 0
    with pytest.raises(WaitTimeout, match="nothing \\(every read failed\\); last read error: ConnectionError"):
        wait_until("anything", lambda: (_ for _ in ()).throw(ConnectionError("down")), lambda v: True,
                   timeout=0.2, interval=0.05)


def test_find_tool_order_and_errors(tmp_path, monkeypatch):
    tool = tmp_path / "kind"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    assert find_tool("kind", tool) == tool
    monkeypatch.setenv("KIND_BIN", str(tool))
    assert find_tool("kind") == tool
    monkeypatch.setenv("KIND_BIN", str(tmp_path / "nope"))
    with pytest.raises(SuiteError, match=r"\$KIND_BIN=.*nope is not an executable file"):
        find_tool("kind")
    monkeypatch.delenv("KIND_BIN")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("CKE_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(SuiteError, match="kustomize not found .*python -m offline.build kustomize"):
        find_tool("kustomize")


def test_missing_docker_is_one_clear_line(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SuiteError, match="the docker CLI is not installed; start one"):
        require_docker()
    fake = tmp_path / "docker"
    fake.write_text("#!/bin/sh\necho 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock.' >&2\n"
                    "exit 1\n")
    fake.chmod(0o755)
    with pytest.raises(SuiteError, match="no Docker engine answers \\(Cannot connect"):
        require_docker()


def test_busy_port_is_refused():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(SuiteError, match=f"local port {port} is busy"):
            check_port_free(port)


# A stand-in for `kubectl port-forward` (the supervisor is what is tested, not kubectl): listens on
# the port, and on its first start either exits after 1 s or logs kubectl's "lost connection to pod".
FORWARDER = """
import socket, sys, time
port, mode, starts = int(sys.argv[1]), sys.argv[2], sys.argv[3]
with open(starts, "a+") as f:
    f.write("x"); f.seek(0); n = len(f.read())
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port)); s.listen()
print(f"Forwarding from 127.0.0.1:{port} -> 6379 (start {n})", flush=True)
if n == 1 and mode == "exit":
    time.sleep(1); print("error: lost connection to pod", flush=True); sys.exit(1)
if n == 1 and mode == "lost":
    time.sleep(1); print("E1125 portforward.go:424] lost connection to pod", flush=True)
if mode == "fail":
    print("error: unable to forward port because pod is not running. Current status=Pending", flush=True)
    sys.exit(1)
time.sleep(3600)
"""


def _forwarder(tmp_path: Path, mode: str) -> tuple[list[str], int, Path]:
    import sys
    port, starts = free_port(), tmp_path / f"starts-{mode}"
    return [sys.executable, "-c", FORWARDER, str(port), mode, str(starts)], port, starts


@pytest.mark.parametrize("mode", ["exit", "lost"])
def test_port_forward_comes_back_on_the_same_port(tmp_path: Path, mode: str):
    argv, port, starts = _forwarder(tmp_path, mode)
    with PortForward(argv, port, f"pf-{mode}", ready_timeout=10) as pf:
        assert listening(port)
        wait_until("a second start", lambda: starts.read_text() if starts.exists() else "",
                   lambda t: len(t) >= 2, timeout=15, interval=0.2)
        wait_until("listening again", lambda: listening(port), bool, timeout=10, interval=0.2)
        assert pf.restarts == 1 and "lost connection to pod" in pf.events[0]
        assert f"pf-{mode}" in cleanup.pending()
    assert f"pf-{mode}" not in cleanup.pending()
    assert not listening(port), "the forwarder must be gone after stop()"
    check_port_free(port)


def test_port_forward_that_cannot_start_says_why_and_leaves_nothing(tmp_path: Path):
    argv, port, _ = _forwarder(tmp_path, "fail")
    with pytest.raises(SuiteError, match="kubectl exited \\(1\\): .*pod is not running"):
        PortForward(argv, port, "pf-fail", ready_timeout=10).start()
    assert "pf-fail" not in cleanup.pending()
    check_port_free(port)


def _fake_kind(tmp_path: Path, clusters: list[str]) -> Path:
    kind = tmp_path / "kind"
    kind.write_text("#!/bin/sh\n" + "".join(f"echo {c}\n" for c in clusters))
    kind.chmod(0o755)
    return kind


def test_cluster_names(tmp_path, monkeypatch):
    monkeypatch.setattr(cluster.docker, "container_exists", lambda name: name == "squatter-control-plane")
    existing = Kind(_fake_kind(tmp_path, ["mine"])).clusters()
    assert cluster.check_name("fresh", reuse=False, existing=existing) is False
    assert cluster.check_name("mine", reuse=True, existing=existing) is True
    with pytest.raises(SuiteError, match="a kind cluster named 'mine' already exists: pass --reuse-cluster"):
        cluster.check_name("mine", reuse=False, existing=existing)
    with pytest.raises(SuiteError, match="squatter-control-plane exists and is not a kind cluster"):
        cluster.check_name("squatter", reuse=False, existing=existing)
    with pytest.raises(SuiteError, match="is not valid"):
        cluster.check_name("Bad_Name", reuse=False, existing=existing)
    a, b = cluster.unique_name(), cluster.unique_name()
    assert a != b and a.startswith("cke-")


def _logging_kind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cases: str) -> tuple[Path, Path]:
    """A kind that logs its arguments and answers per `case "$1"` arms; owner records in tmp_path."""
    calls = tmp_path / "calls"
    kind = tmp_path / "kind"
    kind.write_text(f'#!/bin/sh\necho "$@" >> {calls}\ncase "$1" in {cases} esac\n')
    kind.chmod(0o755)
    monkeypatch.setattr(cluster.docker, "container_exists", lambda name: False)
    monkeypatch.setattr(cluster.Cluster, "reject_untranslated_service_traffic", lambda self: "10.96.0.0/16")
    monkeypatch.setenv("CKE_CACHE_DIR", str(tmp_path / "cache"))
    return kind, calls


def test_failed_cluster_creation_deletes_what_kind_left(tmp_path, monkeypatch):
    kind, calls = _logging_kind(tmp_path, monkeypatch, 'create) echo "boom: node failed" >&2; exit 1;;')
    with pytest.raises(SuiteError, match="(?s)kind could not create cluster t1 \\(deleted again\\).*boom"):
        cluster.up("t1", Kind(kind), Path("/bin/true"), "img:1", reuse=False, keep=False, workdir=tmp_path / "w")
    lines = calls.read_text().splitlines()
    assert lines[0] == "get clusters" and lines[1].startswith("create cluster --name=t1")
    assert "delete cluster --name t1" in lines[2:]
    assert list(leftovers.owner_records().iterdir()) == []  # the record went with the cluster


def test_up_first_deletes_a_cluster_whose_run_was_killed(tmp_path, monkeypatch):
    """A SIGKILLed run's cluster is recorded with a dead owner: the next `up` deletes it, and only it."""
    kind, calls = _logging_kind(tmp_path, monkeypatch, 'get) printf "cke-killed\\ncke-live\\nsomeone-elses\\n";;')
    monkeypatch.setattr(cluster.Kube, "kubectl", lambda self, *a, **k: "")
    dead = spawn(["true"])
    dead.wait(timeout=10)
    leftovers.record(leftovers.owner_records(), "cke-killed", leftovers.Owner(dead.pid, 1, leftovers._boot_id()))
    leftovers.record(leftovers.owner_records(), "cke-live")
    c = cluster.up("t2", Kind(kind), Path("/bin/true"), None, reuse=False, keep=False, workdir=tmp_path / "w")
    lines = calls.read_text().splitlines()
    assert [line for line in lines if line.startswith("delete")] == ["delete cluster --name cke-killed"]
    assert sorted(p.name for p in leftovers.owner_records().iterdir()) == ["cke-live.json", "t2.json"]
    cluster.down(c, keep=False)
    assert sorted(p.name for p in leftovers.owner_records().iterdir()) == ["cke-live.json"]


def test_cleanup_runs_each_action_once():
    seen: list[str] = []
    cleanup.register("a", lambda: seen.append("a"))
    cleanup.register("b", lambda: seen.append("b"))
    cleanup.done("a")
    cleanup.run_all()
    cleanup.run_all()
    assert seen == ["b"] and cleanup.pending() == []


def test_generated_kustomization_sets_namespace_images_and_address(tmp_path):
    overlay = REPO / "manifests" / "overlays" / "e2e"
    k = kustomization(overlay, tmp_path, "ns1", {"celery-worker": "celery-worker:abc", "redis": "reg:5000/r:7"})
    assert k["namespace"] == "ns1"
    assert os.path.normpath(tmp_path / k["resources"][0]) == str(overlay)
    assert {"name": "redis", "newName": "reg:5000/r", "newTag": "7"} in k["images"]
    ops = yaml.safe_load(k["patches"][0]["patch"])
    assert ops[0]["value"] == "redis.ns1.svc.cluster.local:6379"


def test_split_ref():
    assert split_ref("localhost:5000/a/b:1.2") == ("localhost:5000/a/b", "1.2")
    assert split_ref("localhost:5000/a/b") == ("localhost:5000/a/b", "latest")
    assert split_ref("celery-worker:abc") == ("celery-worker", "abc")


def test_snapshot_line_matches_the_progress_format():
    s = Snapshot(t=time.time(), desired=10, ready=4, hpa_desired=10, hpa_current=4, queue=312, metric=None,
                 completed=180)
    assert s.line(10) == "replicas 4/10 desired 10 hpa 10 queue 312 metric ? done 180"


def test_unknown_keda_version_is_refused_before_any_cluster(tmp_path, monkeypatch):
    go = tmp_path / "go"
    go.write_text("#!/bin/sh\necho github.com/kedacore/keda/v2 v2.15.1 v2.16.1 v2.20.2 v2.21.0\n")
    go.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    keda.check_exists_offline("2.21.0")
    with pytest.raises(SuiteError) as e:
        keda.check_exists_offline("9.9.9")
    assert str(e.value) == ("KEDA 9.9.9 does not exist on the Go module proxy; versions it serves: "
                            "2.15.1, 2.16.1, 2.20.2, 2.21.0")


def test_network_probe_pod_meets_restricted_and_needs_no_secret():
    from fixtures.sut.checks import check_pod_security_restricted
    from fixtures.sut.netprobe import classify, probe_pod

    pod = probe_pod("netprobe-x", "offline.local/redis:bookworm", "redis.ns.svc.cluster.local",
                    labels={"app.kubernetes.io/name": "celery-worker"})
    assert check_pod_security_restricted(pod) == []
    assert pod["metadata"]["labels"]["app.kubernetes.io/name"] == "celery-worker"
    env = pod["spec"]["containers"][0]["env"]
    assert all("valueFrom" not in e for e in env), "the probe must not be handed the Redis password"
    assert classify("redis-cli: NOAUTH Authentication required.\nRESULT=CONNECTED") is True
    assert classify("redis-cli: <no output, timed out>\nRESULT=BLOCKED") is False
    with pytest.raises(ValueError, match="no RESULT= line"):
        classify("sh: redis-cli: not found")


def test_a_crash_looping_keda_container_is_named_at_once():
    from types import SimpleNamespace as NS

    def pod(name, reason, restarts=3):
        state = NS(waiting=NS(reason=reason) if reason else None)
        return NS(metadata=NS(name=name), status=NS(container_statuses=[NS(name="c", state=state,
                                                                            restart_count=restarts)]))

    assert keda.crashing([pod("ok", None), pod("starting", "ContainerCreating")]) == []
    assert keda.crashing([pod("adapter", "CrashLoopBackOff")]) == [("adapter", "c", "CrashLoopBackOff")]
    assert keda.crashing([pod("first-error", "Error", restarts=0)]) == []


def test_keda_manifest_option_and_its_checks(tmp_path):
    from fixtures.infra import keda

    assert parse(keda_manifest="https://mirror.example/keda-2.21.0.yaml").keda_manifest.startswith("https://")
    with pytest.raises(SuiteError, match="--keda-manifest /nonexistent/keda.yaml: no such file"):
        parse(keda_manifest="/nonexistent/keda.yaml")
    manifest = tmp_path / "keda.yaml"
    manifest.write_text("""
apiVersion: apps/v1
kind: Deployment
metadata: {name: keda-operator, namespace: keda}
spec:
  template:
    spec:
      containers: [{name: keda-operator, image: ghcr.io/kedacore/keda:2.21.0, imagePullPolicy: Always}]
""")
    assert parse(keda_manifest=str(manifest)).keda_manifest == str(manifest)
    assert "keda-operator" in keda.read_manifest(str(manifest), "2.21.0")
    with pytest.raises(SuiteError, match=r"installs KEDA images tagged \['2.21.0'\], not 2.20.2: pass --keda-version"):
        keda.read_manifest(str(manifest), "2.20.2")
    (tmp_path / "bad.yaml").write_text("kind: [unclosed")
    with pytest.raises(SuiteError, match="not YAML"):
        keda.read_manifest(str(tmp_path / "bad.yaml"), "2.21.0")
    with pytest.raises(SuiteError, match="cannot read it"):
        keda.read_manifest("http://127.0.0.1:9/keda.yaml", "2.21.0", timeout=2)


def test_keda_manifest_template_serves_every_version_the_run_installs(tmp_path):
    """`{version}` in --keda-manifest: the upgrade test's other KEDA comes from the same place (an internal
    mirror of the releases), read and version-checked like the first; a version that is not there is refused."""
    from fixtures.infra.provision import Provisioned

    for v in ("2.21.0", "2.20.2"):
        (tmp_path / f"keda-{v}.yaml").write_text(f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: keda-operator, namespace: keda}}
spec:
  template:
    spec:
      containers: [{{name: keda-operator, image: ghcr.io/kedacore/keda:{v}}}]
""")
    template = str(tmp_path / "keda-{version}.yaml")
    assert parse(keda_manifest=template).keda_manifest == template  # not a file itself: filled in per version
    p = Provisioned(False, "2.21.0", "v1.34.4", manifest="first", manifest_template=template)
    assert p.keda_manifest() == "first"
    assert "ghcr.io/kedacore/keda:2.20.2" in p.keda_manifest("2.20.2")
    with pytest.raises(SuiteError, match="keda-2.19.0.yaml: cannot read it"):
        p.keda_manifest("2.19.0")


def test_scale_events_settle_for_the_longest_policy_period():
    """A run starting within one policy period of the last scale-down would jump 1 -> 10 (the HPA adds back the
    pods removed in the period): the scenario waits out the longest period first; nothing to wait for without
    behavior (the legacy limit)."""
    from fixtures.sut.hpa_model import ScalingBounds, ScalingPolicy
    b = ScalingBounds(polling_interval=5, cooldown=10, min=1, max=10, list_length=10,
                      scale_up_policies=(ScalingPolicy("Percent", 100, 15), ScalingPolicy("Pods", 4, 30)),
                      scale_down_policies=(ScalingPolicy("Percent", 100, 60),))
    assert b.scale_events_settled_after() == 30  # the scale-up policies' periods count, not scale-down's
    assert ScalingBounds(polling_interval=5, cooldown=10, min=1, max=10, list_length=10,
                         behavior_set=False).scale_events_settled_after() == 0


def test_keda_patch_option(tmp_path):
    """A user's patch to KEDA (a pull request's diff) reaches the offline build like a mutant's; refused in one
    line when the file is missing, beside --mutant, or in online mode (nothing is built there)."""
    from fixtures.infra.provision import provision

    patch = tmp_path / "fix.patch"
    patch.write_text("--- a/x\n+++ b/x\n")
    assert parse(keda_patch=str(patch)).keda_patch == patch
    with pytest.raises(SuiteError, match="--keda-patch /nonexistent.patch: no such file"):
        parse(keda_patch="/nonexistent.patch")
    with pytest.raises(SuiteError, match="--keda-patch and --mutant both patch KEDA's source"):
        parse(keda_patch=str(patch), mutant="slow-metrics")
    with pytest.raises(SuiteError, match=r"--keda-patch .*fix.patch patches KEDA's source, which only offline mode"):
        provision(parse(keda_patch=str(patch), offline="off").provision_request(), probe_registry=lambda: True)


def test_pytest_kinds_kubeconfig_flag_is_refused_not_ignored():
    """`pytest --help` lists pytest-kind's --kubeconfig; the suite does not honour it, so it says so in one line."""
    with pytest.raises(SuiteError, match="--kubeconfig /nonexistent: pytest-kind's flag, not honoured here"):
        options.parse({**DEFAULTS, "kubeconfig": "/nonexistent"}.__getitem__, env={})
    assert options.parse({**DEFAULTS, "kubeconfig": None}.__getitem__, env={}).keda_version
