"""Ctrl-C to `tox -e e2e` (SIGINT to its whole process group, as a terminal sends it) during cluster creation,
KEDA's install or a running test, or SIGTERM to a running pytest (CI cancelling a job), leaves no cluster, node
container or port-forward behind; after a SIGKILL, which nothing can catch, the next run deletes what was left.

Through tox, because that is the laptop's path and tox stands between the terminal and pytest: on Ctrl-C it
forwards SIGINT, then SIGTERM after `interrupt_timeout` and SIGKILL after `terminate_timeout` (tox.ini sets them
long enough for the suite's teardown; tox's defaults, 0.3 s and 0.2 s, would cut it off)."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from common import docker
from common.paths import REPO
from common.process import run, spawn, terminate, wait
from fixtures.infra.kind import NODE_LABEL, Kind
from fixtures.infra.leftovers import port_forwards_for
from fixtures.infra.tools import find_tool
from fixtures.inner import inner_pytest
from fixtures.waits import wait_until

# The inner pytest sets SIGINT's handler itself: a run started in the background by a shell inherits
# SIGINT as ignored, and Python then installs no KeyboardInterrupt handler (the test would fail for that).
INNER_PYTEST = ("import signal, sys, pytest; signal.signal(signal.SIGINT, signal.default_int_handler); "
                "sys.exit(pytest.main(sys.argv[1:]))")

PARALLEL = "pytest -n 2"
pytestmark = [pytest.mark.kind_only("interrupts runs that create, and reap, kind clusters"),
              pytest.mark.serial("its inner runs each make a kind cluster: on 2 cores, beside a scenario, they load its timings")]


def _still_running(proc: subprocess.Popen, log: Path, before: str) -> None:
    """The inner pytest has not exited yet; when it has, what it logged last says why, and the wait ends."""
    if proc.poll() is not None:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        raise AssertionError(f"the inner pytest exited ({proc.returncode}) before {before}:\n{tail}")


def _wait_for_line(proc: subprocess.Popen, log: Path, needle: str, timeout: float) -> None:
    def text() -> str:
        _still_running(proc, log, f"logging {needle!r}")
        return log.read_text(errors="replace")

    wait_until(f"the inner pytest to log {needle!r}", text, lambda t: needle in t, timeout=timeout,
               describe=lambda t: "last lines:\n" + "\n".join(t.splitlines()[-15:]), progress_every=None)


def _inner_run(name: str, options, provisioned, tmp_path: Path, log: Path, how: str) -> subprocess.Popen:
    """The low-priority test on a cluster of its own, started as `tox -e e2e -- ...` (the laptop's command), as a
    bare pytest, or as `pytest -n 2` with the scale-to-zero test beside it (two workers on the one cluster the
    controller owns). Its own process group, SIGINT at its default (`spawn`), whatever this process inherited.

    Through tox: with --skip-pkg-install only when this run is `tox -e e2e` itself (that environment is in use
    and holds the package; reinstalling it under the running tests is what the flag avoids). From `tox -e
    e2e-parallel` or a bare pytest, the e2e environment may not exist yet, and the flag would skip its
    dependencies too (seen: "pytest is not allowed" in a fresh checkout's first `tox -e e2e-parallel`). tox's
    own TOX_* variables are left out, as a terminal has none."""
    tests = [str(REPO / "tests/e2e/test_low_priority.py")]
    if how == PARALLEL:
        tests.append(str(REPO / "tests/e2e/test_scale_to_zero.py"))
    args = inner_pytest(options, provisioned, tmp_path, *tests, cluster_name=name).args
    if how == "tox":
        tox = shutil.which("tox")
        assert tox, "tox is not on PATH (scripts/bootstrap.sh installs it; source its --env file)"
        in_e2e = os.environ.get("TOX_ENV_NAME") == "e2e"
        argv = [tox, "-e", "e2e", *(("--skip-pkg-install",) if in_e2e else ()), "--", *args]
    else:
        argv = [sys.executable, "-c", INNER_PYTEST, "-m", "e2e", *(("-n", "2") if how == PARALLEL else ()), *args]
    env = {k: v for k, v in os.environ.items() if not (how == "tox" and k.startswith("TOX_"))}
    with log.open("w") as out:
        return spawn(argv, stdout=out, cwd=REPO, new_group=True, env={**env, "PYTHONUNBUFFERED": "1"})


def _take_stock_and_clean(kind: Kind, name: str) -> tuple[bool, list[int]]:
    """Whether cluster `name` and which of its port-forwards were left, observed first and then
    removed, so a failing test never leaks what it is checking for."""
    left = name in kind.clusters()
    forwards = port_forwards_for(name)
    for pid in forwards:
        terminate(pid, grace=0)
    if left:
        kind.delete(name)
    return left, forwards


@pytest.fixture
def inner(request, suite_options, provisioned, tmp_path) -> tuple[Kind, str, Path, subprocess.Popen]:
    """An inner run (the low-priority test) on a cluster of its own, named `leak-xxxxxx`; through tox when the
    test is parametrized with via_tox=True."""
    name = f"leak-{secrets.token_hex(3)}"
    log = tmp_path / "inner.log"
    how = getattr(request, "param", "pytest")
    return (Kind(find_tool("kind", suite_options.kind_bin)), name, log,
            _inner_run(name, suite_options, provisioned, tmp_path, log, how))


@pytest.mark.parametrize(("inner", "sig", "when"), [
    ("tox", signal.SIGINT, "creating kind cluster {name}"),  # Ctrl-C while kind creates the cluster
    ("tox", signal.SIGINT, "cluster {name} ready"),  # Ctrl-C while KEDA installs
    ("tox", signal.SIGINT, "port-forward"),  # Ctrl-C while a test runs
    ("pytest", signal.SIGTERM, "port-forward"),  # CI cancelling the job while a test runs
    (PARALLEL, signal.SIGINT, None),  # Ctrl-C to `pytest -n 2` while its workers' tests run
], ids=["tox-SIGINT-during-cluster-creation", "tox-SIGINT-during-keda-install", "tox-SIGINT-during-test",
        "pytest-SIGTERM-during-test", "pytest-n2-SIGINT-during-tests"], indirect=["inner"])
def test_signal_leaves_nothing_behind(sig, when, inner):
    kind, name, log, proc = inner
    try:
        if when is None:  # xdist's workers log nowhere the controller prints: their port-forwards are the sign
            def forwards() -> list[int]:
                _still_running(proc, log, "a port-forward")
                return port_forwards_for(name)

            wait_until(f"a test of the parallel run on {name} to open its port-forward", forwards, bool, timeout=600,
                       interval=1, progress_every=None)
        else:
            _wait_for_line(proc, log, when.format(name=name), timeout=600)
        if when is not None and when.startswith("creating"):
            # The fault must land mid-creation: kind's node container exists, the cluster is not ready yet.
            wait_until(f"kind to start the node container of {name}",
                       lambda: docker.containers_with_label(f"{NODE_LABEL}={name}"), bool, timeout=120, interval=0.2,
                       progress_every=None)
            assert f"cluster {name} ready" not in log.read_text(), "too late: the cluster was already ready"
        else:
            time.sleep(2)
        # As a terminal sends Ctrl-C (and CI cancels a job): to the whole process group, so kind, kubectl and
        # docker children get it too, not only pytest.
        os.killpg(proc.pid, sig)
        if wait(proc, 300) is None:
            pytest.fail(f"pytest did not exit within 300 s of {sig.name}")
    finally:
        terminate(proc, grace=0)
        leftover, forwards_left = _take_stock_and_clean(kind, name)
    assert proc.returncode != 0, "an interrupted run must not report success"
    assert not leftover, f"cluster {name} left behind after {sig.name}"
    containers = docker.containers_with_label(f"{NODE_LABEL}={name}")
    assert not containers, f"node containers left behind after {sig.name}: {containers}"
    assert not forwards_left, f"port-forward processes {forwards_left} left behind after {sig.name}"
    said = log.read_text()
    assert "cleanup: kind cluster" in said or "deleted cluster" in said or "deleted the parallel run's cluster" in said


def test_sigkill_leftovers_are_deleted_by_the_next_run(inner):
    """SIGKILL (OOM killer, CI hard timeout) runs no handler: the cluster and the
    port-forward survive. The next run's reaper (the same code the cluster
    fixture runs first) must delete both, and touch nothing else."""
    kind, name, log, proc = inner
    try:
        _wait_for_line(proc, log, "port-forward", timeout=600)
        time.sleep(2)
        proc.kill()
        proc.wait(timeout=60)
        assert name in kind.clusters(), "after SIGKILL the cluster should still exist (else this test proves nothing)"
        forwards = port_forwards_for(name)
        assert forwards, "after SIGKILL the port-forward should still run (else this test proves nothing)"
        start = time.monotonic()
        reaper = run([sys.executable, "-m", "fixtures.infra.leftovers", f"--kind={kind.path}"], cwd=REPO,
                     timeout=400, check=False)
        print(f"reaper took {time.monotonic() - start:.1f} s:\n{reaper.stdout}{reaper.stderr}")
        assert reaper.returncode == 0, reaper.stderr
        assert name in reaper.stdout
    finally:
        terminate(proc, grace=0)
        leftover, forwards_left = _take_stock_and_clean(kind, name)
    assert not leftover, f"the reaper left cluster {name}"
    assert not docker.containers_with_label(f"{NODE_LABEL}={name}"), f"the reaper left node containers of {name}"
    assert not forwards_left, f"the reaper left port-forwards {forwards_left} running"


def test_pytest_kinds_fixture_is_this_sessions_cluster(kind_cluster, cluster):
    """Code written against pytest-kind's `kind_cluster` gets the suite's cluster, not a second one made with
    pytest-kind's defaults (a GitHub download of kind, a cluster named `pytest-kind`)."""
    assert kind_cluster is cluster.handle
    assert kind_cluster.name == cluster.name and kind_cluster.kubeconfig_path == cluster.kube.kubeconfig
    assert cluster.name in kind_cluster.kubectl("config", "current-context")
