"""Online mode, the laptop's and the nightly's path, run for real on a machine with no registry access.

The nightly workflow's own step (`scripts/nightly.sh e2e off KEDA K8S`) runs here the way a GitHub runner runs it:
as a non-root user with passwordless sudo in the docker group, in a checkout of its own. Its images come from a
local registry (offline/mirror.py: distribution v3, filled with the offline build's images under their upstream
names) through `--registry-mirror`, and KEDA from its release manifest served over http (`--keda-manifest URL`,
an internal mirror of the GitHub release). The default scenario must pass; every image must have been pulled
through the mirror (its access log), by the puller that needs it; only the worker image, which this suite builds
and which exists nowhere else, may be `kind load`ed; KEDA keeps its release imagePullPolicy; and result.json must
say what ran: online, the mirror, the versions.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from common.images import ONLINE_NODE_IMAGE, ONLINE_PYTHON_BASE, ONLINE_REDIS
from common.paths import REPO
from common.pins import load_pins
from common.process import run
from fixtures.infra import cleanup, keda
from fixtures.infra.provision import Provisioned
from fixtures.infra.tools import find_tool
from offline import build as offline_build
from offline import mirror as offline_mirror
from tests.unit.support.runner_user import as_runner, checkout_for, home_of, runner_user

log = logging.getLogger("celery-keda-e2e")
SCENARIO = "tests/e2e/test_default_scenario.py"
RUN_BOUND = 2400  # s: setup (cached after the first run) + a tox env + cluster + KEDA + one scenario, with room

pytestmark = [pytest.mark.kind_only("runs the nightly's online step, which makes its own kind cluster"),
              pytest.mark.serial("its inner run makes a kind cluster and a registry mirror: a load of its own")]


@pytest.fixture(scope="module")
def online_provisioned(provisioned: Provisioned) -> Provisioned:
    if not provisioned.offline:
        pytest.skip("the mirror is filled from the offline build, and this run is online already: "
                    "it exercises the registries themselves")
    return provisioned


@pytest.fixture(scope="module")
def mirror(online_provisioned: Provisioned) -> Iterator[offline_mirror.Mirror]:
    """The local registry, filled with this run's KEDA, Kubernetes node, Redis and Python images."""
    results = offline_build.build(["registry"], {}, say=log.info)
    assert offline_build.complete(results), offline_build.summary(results)
    was_running = offline_mirror.running() is not None
    m = offline_mirror.start(offline_build.outputs(results)["registry"] / "registry")
    if not was_running:
        cleanup.register("registry mirror", offline_mirror.stop)
    pins = {"KEDA_VERSION": online_provisioned.keda_version, "K8S_VERSION": online_provisioned.k8s_version}
    offline_mirror.fill(m, offline_mirror.upstream_images(pins), say=log.info)
    yield m
    if not was_running:
        offline_mirror.stop()
        cleanup.done("registry mirror")


@pytest.fixture(scope="module")
def manifest_url(online_provisioned: Provisioned, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """KEDA's release manifest (the offline build's `kustomize build config/default`) served over http."""
    v = online_provisioned.keda_version
    release = tmp_path_factory.mktemp("release")
    shutil.copy(keda.offline_manifest(online_provisioned.outputs["keda"], v), release / f"keda-{v}.yaml")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(release)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/keda-{v}.yaml"
    server.shutdown()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        log.info("release server: " + format, *args)


def _runner_kubectl(user: str, home: Path, suite_kubectl: Path) -> Path:
    """The runner's kubectl (GitHub's ubuntu image has one; this machine's runner user gets the built one).
    Not root: this user is the runner already, and its kubectl is the suite's."""
    if os.geteuid() != 0:
        return suite_kubectl
    dest = home / "runner-tools" / "kubectl"
    run(["runuser", "-u", user, "--", "mkdir", "-p", str(dest.parent)], timeout=30)
    run(["install", "-o", user, "-m", "0755", str(suite_kubectl), str(dest)], timeout=60)
    return dest


def test_online_mode_through_a_registry_mirror(mirror, manifest_url, online_provisioned, suite_options):
    p = online_provisioned
    user = runner_user()
    home = home_of(user)
    checkout = checkout_for(user, REPO)
    kubectl = _runner_kubectl(user, home, find_tool("kubectl", suite_options.kubectl_bin))
    since = len(mirror.access_log.read_text(errors="replace").splitlines())

    as_runner(user, "bash scripts/nightly.sh setup", timeout=900, cwd=checkout)
    env = (f"CKE_REGISTRY_MIRROR={mirror.address} CKE_KEDA_MANIFEST={manifest_url} KUBECTL_BIN={kubectl} "
           "PYTHONUNBUFFERED=1")
    prev = load_pins()["KEDA_PREVIOUS_VERSION"]
    keda_from = prev if prev != p.keda_version else load_pins()["KEDA_BEFORE_PREVIOUS_VERSION"]
    out = as_runner(user, f"env {env} bash scripts/nightly.sh e2e off {p.keda_version} {keda_from} {p.k8s_version} "
                          f"{SCENARIO}; echo nightly-exit=$?", timeout=RUN_BOUND, cwd=checkout, check=False)
    (Path(suite_options.artifacts_dir) / "online-mode.log").write_text(out)
    result_file = checkout / "artifacts" / "result.json"
    assert result_file.exists(), f"the online run wrote no result.json; its output ends:\n{out[-4000:]}"
    result = json.loads(result_file.read_text())
    outcomes = {k: t.get("outcome") for k, t in result["tests"].items()}
    assert outcomes and set(outcomes.values()) == {"passed"}, \
        f"the online default scenario did not pass: {outcomes}; output ends:\n{out[-4000:]}"
    assert "nightly-exit=0" in out, f"scripts/nightly.sh e2e failed; output ends:\n{out[-4000:]}"
    # The nightly's gate step, against the stored online baseline of the previous pin (the runner records its
    # own; this machine's is stored): the verdict in the job summary and in JUnit.
    baseline = f"docs/results/baseline-{prev}-online.json"
    if p.keda_version == load_pins()["KEDA_VERSION"] and (REPO / baseline).exists():
        summary = checkout / "artifacts" / "step-summary.md"
        gate = as_runner(user, f"GITHUB_STEP_SUMMARY={summary} bash scripts/nightly.sh gate {p.keda_version} {prev} "
                               f"{baseline}; echo gate-exit=$?", timeout=120, cwd=checkout, check=False)
        (Path(suite_options.artifacts_dir) / "online-mode-gate.log").write_text(gate)
        assert f"gate: PASS against {baseline}" in gate and "gate-exit=0" in gate, \
            f"the nightly's gate did not pass: {[ln for ln in gate.splitlines() if 'FAIL' in ln or 'gate:' in ln]}"
        assert f"## Upgrade gate: PASS: KEDA {p.keda_version} against {prev} (online)" in summary.read_text()
        assert 'failures="0"' in (checkout / "artifacts" / "junit-gate.xml").read_text()

    node_image = f"{ONLINE_NODE_IMAGE}:{p.k8s_version}"
    assert (result["offline"], result["registry_mirror"]) == (False, mirror.address), result
    assert (result["keda_version"], result["k8s_version"], result["node_image"]) == \
        (p.keda_version, p.k8s_version, node_image), "result.json must say which versions ran"
    not_built_here = [i for i in result["loaded_images"] if not i.startswith("celery-worker:")]
    assert not not_built_here, f"`kind load`ed in online mode (must be pulled): {not_built_here}"
    release = keda.manifest_docs(keda.offline_manifest(p.outputs["keda"], p.keda_version).read_text(),
                                 pull_if_not_present=False)
    release_policies = {c["image"]: c.get("imagePullPolicy", "IfNotPresent") for d in release
                        if d.get("kind") == "Deployment" for c in d["spec"]["template"]["spec"]["containers"]}
    assert result["keda_pull_policies"] == release_policies, "KEDA must keep its release imagePullPolicy"

    expected = [offline_mirror.ExpectedPull(node_image, by_node=False),
                offline_mirror.ExpectedPull(ONLINE_PYTHON_BASE, by_node=False),
                offline_mirror.ExpectedPull(f"docker.io/library/{ONLINE_REDIS}", by_node=True),
                *(offline_mirror.ExpectedPull(img, by_node=True) for img in keda.images_of(release))]
    pulled = offline_mirror.pulls(mirror.access_log, since)
    problems = offline_mirror.pull_problems(expected, pulled)
    assert not problems, "\n".join(problems)
    log.info("online run through the mirror: %d manifest requests: %s", len(pulled),
             "; ".join(sorted({f"{x.path}:{x.reference} by {x.agent.split('/')[0]}" for x in pulled
                               if not x.reference.startswith("sha256:")})))
