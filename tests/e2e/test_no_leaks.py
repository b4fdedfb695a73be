"""SIGINT or SIGTERM to a running pytest leaves no cluster, node container or port-forward behind."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

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


def _port_forwards(marker: str) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if "port-forward" in line and marker in line]


@pytest.mark.parametrize(("sig", "when"), [
    (signal.SIGINT, "cluster {name} ready"),  # Ctrl-C while KEDA installs
    (signal.SIGTERM, "port-forward"),  # CI cancelling the job while a test runs
], ids=["SIGINT-during-setup", "SIGTERM-during-test"])
def test_signal_leaves_nothing_behind(sig, when, suite_options, tmp_path, built):
    kind = find_tool("kind", suite_options.kind_bin)
    name = f"leak-{secrets.token_hex(3)}"
    log = tmp_path / "inner.log"
    cmd = [sys.executable, "-m", "pytest", str(REPO / "tests/e2e/test_low_priority.py"), "-m", "e2e", "-p",
           "no:cacheprovider", f"--cluster-name={name}", f"--artifacts-dir={tmp_path / 'artifacts'}",
           f"--offline={'on' if suite_options.offline else 'off'}", f"--keda-version={suite_options.keda_version}",
           f"--basetemp={tmp_path / 'inner'}"]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
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
        leftover = name in run([str(kind), "get", "clusters"], timeout=60).stdout.split()
        if leftover:  # never let this test itself leak
            run([str(kind), "delete", "cluster", "--name", name], timeout=180, check=False)
    assert proc.returncode != 0, "an interrupted run must not report success"
    assert not leftover, f"cluster {name} left behind after {sig.name}"
    containers = run(["docker", "ps", "-a", "--filter", f"label=io.x-k8s.kind.cluster={name}",
                      "--format", "{{.Names}}"], timeout=30).stdout.split()
    assert not containers, f"node containers left behind after {sig.name}: {containers}"
    assert not _port_forwards(name), f"port-forward processes left behind after {sig.name}"
    assert "cleanup: kind cluster" in log.read_text() or "deleted cluster" in log.read_text()
