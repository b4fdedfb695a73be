"""scripts/ensure-docker.sh: a docker.pid left behind by a killed dockerd must not
stop the engine from starting (CI failed on exactly that), and a live one must
not be removed."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from common.paths import REPO
from common.process import run, spawn
from fixtures.waits import wait_until
from tests.unit.support.fakes import fake_executables

SCRIPT = REPO / "scripts" / "ensure-docker.sh"


def _call(function: str, *args: str) -> subprocess.CompletedProcess[str]:
    quoted = " ".join(f"'{a}'" for a in args)
    return run(["bash", "-c", f"ENSURE_DOCKER_FUNCTIONS_ONLY=1 source '{SCRIPT}'; {function} {quoted}"],
               timeout=30, check=False)


def _state(pidfile: Path) -> str:
    result = _call("pidfile_state", str(pidfile))
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture
def fake_dockerd(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A process whose name is `dockerd` (a copy of sleep), so no engine is touched."""
    binary = tmp_path / "dockerd"
    shutil.copy(shutil.which("sleep") or "/bin/sleep", binary)
    proc = spawn([str(binary), "60"], new_group=False)
    yield proc
    proc.kill()
    proc.wait(timeout=10)


def test_missing_pidfile_is_none(tmp_path: Path) -> None:
    assert _state(tmp_path / "docker.pid") == "none"


def test_pid_of_no_process_is_stale_and_is_removed(tmp_path: Path) -> None:
    proc = spawn(["true"], new_group=False)
    proc.wait(timeout=10)
    pidfile = tmp_path / "docker.pid"
    pidfile.write_text(str(proc.pid))
    assert _state(pidfile) == f"stale:{proc.pid}"
    result = _call("clear_stale_pidfile", str(pidfile))
    assert result.returncode == 0, result.stderr
    assert not pidfile.exists()
    assert "removing stale" in result.stderr


def test_pid_reused_by_another_program_is_stale(tmp_path: Path) -> None:
    proc = spawn(["sleep", "60"], new_group=False)
    try:
        pidfile = tmp_path / "docker.pid"
        pidfile.write_text(f"{proc.pid}\n")
        assert _state(pidfile) == f"stale:{proc.pid}"
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_empty_pidfile_is_stale(tmp_path: Path) -> None:
    pidfile = tmp_path / "docker.pid"
    pidfile.write_text("")
    assert _state(pidfile) == "stale:empty"


def test_running_dockerd_is_live(tmp_path: Path, fake_dockerd: subprocess.Popen[bytes]) -> None:
    pidfile = tmp_path / "docker.pid"
    pidfile.write_text(str(fake_dockerd.pid))
    assert _state(pidfile) == f"live:{fake_dockerd.pid}"


def test_killed_but_unreaped_dockerd_is_stale(tmp_path: Path, fake_dockerd: subprocess.Popen[bytes]) -> None:
    """The race seen by hand: right after `pkill -9 dockerd` the zombie still has the name."""
    fake_dockerd.send_signal(signal.SIGKILL)
    status = Path(f"/proc/{fake_dockerd.pid}/status")
    deadline = time.monotonic() + 10
    while "zombie" not in status.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "zombie" in status.read_text(), status.read_text()
    pidfile = tmp_path / "docker.pid"
    pidfile.write_text(str(fake_dockerd.pid))
    assert _state(pidfile) == f"stale:{fake_dockerd.pid}"


def test_alive_process_ignores_zombies(tmp_path: Path) -> None:
    """containerd killed by hand stays a zombie for a moment; the script must start a new one."""
    name = f"ckefake{os.getpid() % 100000}"
    binary = tmp_path / name
    shutil.copy(shutil.which("sleep") or "/bin/sleep", binary)
    proc = spawn([str(binary), "60"], new_group=False)
    try:
        assert _call("alive_process", name).returncode == 0
        proc.send_signal(signal.SIGKILL)
        wait_until("the killed process to be a zombie", lambda: Path(f"/proc/{proc.pid}/status").read_text(),
                   lambda status: "zombie" in status, timeout=10, interval=0.05, describe=lambda _: "not yet",
                   progress_every=None)
        assert _call("alive_process", name).returncode == 1
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_a_process_inside_a_container_is_not_the_hosts(tmp_path: Path) -> None:
    """A running kind node's own containerd is visible from the host; taking it for the host's
    containerd left the engine unstarted (seen when a killed run's cluster was still up)."""
    name = f"ckefake{(os.getpid() + 1) % 100000}"
    binary = tmp_path / name
    shutil.copy(shutil.which("sleep") or "/bin/sleep", binary)
    probe = run(["unshare", "--mount", "true"], timeout=30, check=False)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a mount namespace here (unshare: {probe.stderr.strip()}); needs root")
    proc = spawn(["unshare", "--mount", str(binary), "60"], new_group=False)
    try:
        pid = wait_until(f"{name} to start", lambda: run(["pgrep", "-x", name], timeout=10, check=False).stdout.split(),
                         bool, timeout=10, interval=0.05, progress_every=None)[0]
        assert _call("alive_process", name).returncode == 1
        pidfile = tmp_path / "docker.pid"
        pidfile.write_text(pid)
        assert _state(pidfile) == f"stale:{pid}"  # not named dockerd, and not the host's either
    finally:
        proc.kill()
        proc.wait(timeout=10)


# --- what the script does about the engine: never replace one -------------------------------------------------

# What the script runs besides the fakes, linked from this machine.
REAL_TOOLS = ("cat", "tr", "grep", "awk", "mkdir", "id", "jq", "sed", "tail", "readlink", "pgrep", "cut")


def _fake_bin(tmp_path: Path, **scripts: str) -> Path:
    """A directory of fake executables (name -> shell body) that log each call to calls.log, and nothing else:
    the real docker, dockerd, dpkg and apt-get of this machine are out of reach."""
    return fake_executables(tmp_path / "bin", log=tmp_path / "calls.log", real=REAL_TOOLS, **scripts)


def _plan(fake: Path) -> str:
    cp = run(["/bin/bash", "-c", f"ENSURE_DOCKER_FUNCTIONS_ONLY=1 source '{SCRIPT}'; engine_plan"],
             env={"PATH": str(fake)}, timeout=30, check=False)
    assert cp.returncode == 0, cp.stderr
    return cp.stdout.strip()


def test_an_engine_that_answers_is_left_alone(tmp_path: Path) -> None:
    fake = _fake_bin(tmp_path, docker="exit 0", dockerd="exit 0", dpkg="exit 1", **{"apt-get": "exit 0"})
    assert _plan(fake) == "running"
    cp = run(["/bin/bash", str(SCRIPT)], env={"PATH": str(fake)}, timeout=30, check=False)
    assert cp.returncode == 0 and "left as it is" in cp.stderr, cp.stderr
    calls = (tmp_path / "calls.log").read_text().splitlines()
    assert not [c for c in calls if not c.startswith("docker ")], f"touched more than `docker`: {calls}"


def test_an_installed_engine_that_is_stopped_is_started_not_reinstalled(tmp_path: Path) -> None:
    fake = _fake_bin(tmp_path, docker="exit 1", dockerd="exit 0", dpkg="exit 0")
    assert _plan(fake) == "start"


def test_docker_ce_without_its_dockerd_is_refused_not_overwritten(tmp_path: Path) -> None:
    """A stock ubuntu-24.04 runner has docker-ce/containerd.io; Debian's docker.io conflicts with them."""
    fake = _fake_bin(tmp_path, docker="exit 1", dpkg='[ "$2" = docker-ce ]', **{"apt-get": "exit 0"})
    assert _plan(fake) == "refuse:docker-ce is installed but no dockerd is on PATH"
    cp = run(["/bin/bash", str(SCRIPT)], env={"PATH": str(fake)}, timeout=30, check=False)
    assert cp.returncode == 1 and "not installing Debian's docker.io" in cp.stderr, cp.stderr
    assert "apt-get" not in (tmp_path / "calls.log").read_text()


def test_no_engine_at_all_gets_debians_docker_io(tmp_path: Path) -> None:
    fake = _fake_bin(tmp_path, docker="exit 1", dpkg="exit 1")
    assert _plan(fake) == "install"


def test_daemon_json_keeps_the_users_settings(tmp_path: Path) -> None:
    merge = f"ENSURE_DOCKER_FUNCTIONS_ONLY=1 source '{SCRIPT}'; merge_daemon_json"
    cp = run(["bash", "-c", merge], input='{"log-level": "warn", "runtimes": {"nvidia": {"path": "x"}}}', timeout=30)
    merged = json.loads(cp.stdout)
    assert merged["log-level"] == "warn" and set(merged["runtimes"]) == {"nvidia", "runc-nosysresource"}
    assert merged["default-runtime"] == "runc-nosysresource"
    assert json.loads(run(["bash", "-c", merge], input="", timeout=30).stdout)["default-runtime"] == "runc-nosysresource"
    assert run(["bash", "-c", merge], input="{not json", timeout=30, check=False).returncode != 0
