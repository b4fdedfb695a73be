"""SIGINT or SIGTERM to a running pytest leaves no cluster, node container or port-forward behind;
after a SIGKILL, which nothing can catch, the next run deletes what was left."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fixtures.leftovers import port_forwards_for
from fixtures.proc import run
from fixtures.tools import find_tool

REPO = Path(__file__).resolve().parents[2]


def _wait_for_line(proc: subprocess.Popen, log: Path, needle: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if needle in log.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            break
        time.sleep(1)
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
    raise AssertionError(f"the inner pytest never logged {needle!r} within {timeout:.0f} s "
                         f"(exit {proc.poll()}); its last lines:\n{tail}")


def _inner_pytest(name: str, suite_options, tmp_path: Path, log: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "pytest", str(REPO / "tests/e2e/test_low_priority.py"), "-m", "e2e", "-p",
           "no:cacheprovider", f"--cluster-name={name}", f"--artifacts-dir={tmp_path / 'artifacts'}",
           f"--offline={'on' if suite_options.offline else 'off'}", f"--keda-version={suite_options.keda_version}",
           f"--basetemp={tmp_path / 'inner'}"]
    with log.open("w") as out:
        return subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})


def _take_stock_and_clean(kind: Path, name: str) -> tuple[bool, list[int]]:
    """Whether cluster `name` and which of its port-forwards were left, observed first and then
    removed, so a failing test never leaks what it is checking for."""
    left = name in run([str(kind), "get", "clusters"], timeout=60).stdout.split()
    forwards = port_forwards_for(name)
    for pid in forwards:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if left:
        run([str(kind), "delete", "cluster", "--name", name], timeout=180, check=False)
    return left, forwards


def _node_containers(name: str) -> list[str]:
    return run(["docker", "ps", "-a", "--filter", f"label=io.x-k8s.kind.cluster={name}",
                "--format", "{{.Names}}"], timeout=30).stdout.split()


@pytest.mark.parametrize(("sig", "when"), [
    (signal.SIGINT, "cluster {name} ready"),  # Ctrl-C while KEDA installs
    (signal.SIGTERM, "port-forward"),  # CI cancelling the job while a test runs
], ids=["SIGINT-during-setup", "SIGTERM-during-test"])
def test_signal_leaves_nothing_behind(sig, when, suite_options, tmp_path, built):
    kind = find_tool("kind", suite_options.kind_bin)
    name = f"leak-{secrets.token_hex(3)}"
    log = tmp_path / "inner.log"
    proc = _inner_pytest(name, suite_options, tmp_path, log)
    try:
        _wait_for_line(proc, log, when.format(name=name), timeout=600)
        time.sleep(2)
        proc.send_signal(sig)
        try:
            proc.wait(timeout=300)
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail(f"pytest did not exit within 300 s of {sig.name}")
    finally:
        if proc.poll() is None:
            proc.kill()
        leftover, forwards_left = _take_stock_and_clean(kind, name)
    assert proc.returncode != 0, "an interrupted run must not report success"
    assert not leftover, f"cluster {name} left behind after {sig.name}"
    containers = _node_containers(name)
    assert not containers, f"node containers left behind after {sig.name}: {containers}"
    assert not forwards_left, f"port-forward processes {forwards_left} left behind after {sig.name}"
    assert "cleanup: kind cluster" in log.read_text() or "deleted cluster" in log.read_text()


def test_sigkill_leftovers_are_deleted_by_the_next_run(suite_options, tmp_path, built):
    """SIGKILL (OOM killer, CI hard timeout) runs no handler: the cluster and the
    port-forward survive. The next run's reaper (the same code the cluster
    fixture runs first) must delete both, and touch nothing else."""
    kind = find_tool("kind", suite_options.kind_bin)
    name = f"leak-{secrets.token_hex(3)}"
    log = tmp_path / "inner.log"
    proc = _inner_pytest(name, suite_options, tmp_path, log)
    try:
        _wait_for_line(proc, log, "port-forward", timeout=600)
        time.sleep(2)
        proc.kill()
        proc.wait(timeout=60)
        assert name in run([str(kind), "get", "clusters"], timeout=60).stdout.split(), \
            "after SIGKILL the cluster should still exist (else this test proves nothing)"
        forwards = port_forwards_for(name)
        assert forwards, "after SIGKILL the port-forward should still run (else this test proves nothing)"
        start = time.monotonic()
        reaper = subprocess.run([sys.executable, "-m", "fixtures.leftovers", f"--kind={kind}"], cwd=REPO,
                                capture_output=True, text=True, timeout=400)
        print(f"reaper took {time.monotonic() - start:.1f} s:\n{reaper.stdout}{reaper.stderr}")
        assert reaper.returncode == 0, reaper.stderr
        assert name in reaper.stdout
    finally:
        if proc.poll() is None:
            proc.kill()
        leftover, forwards_left = _take_stock_and_clean(kind, name)
    assert not leftover, f"the reaper left cluster {name}"
    assert not _node_containers(name), f"the reaper left node containers of {name}"
    assert not forwards_left, f"the reaper left port-forwards {forwards_left} running"
