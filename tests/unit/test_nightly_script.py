"""The nightly workflow's script, run the way a GitHub runner runs it: a non-root user with passwordless sudo
in the docker group. `setup` must install what it needs through sudo and leave the user's own tools in the
user's cache; `plan` must print the e2e command the workflow would run."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from common.paths import REPO
from common.process import run

USER = "cke-runner"
SUDOERS = Path(f"/etc/sudoers.d/{USER}")


@pytest.fixture(scope="module")
def runner_user() -> str:
    """A throw-away runner-like user (created here as root; kept for the next run, it holds only caches)."""
    if os.geteuid() != 0:
        if run(["sudo", "-n", "true"], timeout=10, check=False).returncode == 0:
            return os.environ.get("USER", "")  # already the runner's situation
        pytest.skip("needs root (to create a runner-like user) or passwordless sudo (to be one)")
    assert shutil.which("sudo"), "sudo is missing: scripts/bootstrap.sh --system installs it"
    if run(["id", USER], timeout=10, check=False).returncode != 0:
        run(["useradd", "--create-home", "--groups", "docker", USER], timeout=30)
    SUDOERS.write_text(f"{USER} ALL=(ALL) NOPASSWD:ALL\n")
    SUDOERS.chmod(0o440)
    return USER


def as_runner(user: str, command: str, timeout: float) -> str:
    argv = ["bash", "-lc", f"cd {REPO} && {command}"]
    if user and user != os.environ.get("USER") and os.geteuid() == 0:
        argv = ["runuser", "-u", user, "--", *argv]
    cp = run(argv, timeout=timeout, check=False)
    out = cp.stdout + cp.stderr
    assert cp.returncode == 0, f"`{command}` as {user or 'this user'} failed (exit {cp.returncode}):\n{out[-3000:]}"
    return out


def test_setup_then_plan_as_a_sudo_user_in_the_docker_group(runner_user):
    out = as_runner(runner_user, "bash scripts/nightly.sh setup", timeout=600)
    assert "system part done" in out and "tools on PATH with" in out
    home = Path(run(["bash", "-c", f"echo ~{runner_user}"], timeout=10).stdout.strip())
    cache = home / ".cache" / "celery-keda-e2e"
    assert (cache / "venv" / "bin" / "tox").exists(), "tox belongs in the user's cache"
    owners = {p.stat().st_uid for p in (cache, cache / "venv")}
    assert (len(owners) == 1 and 0 not in owners) or runner_user == "root", "root-owned files in the user's cache"
    plan = as_runner(runner_user, "bash scripts/nightly.sh plan on 2.21.0 v1.34.4", timeout=120)
    assert "tox -e e2e-full -- --offline=on --keda-version=2.21.0 --k8s-version=v1.34.4" in plan
    docker = as_runner(runner_user, "docker info --format '{{.ServerVersion}}'", timeout=60)
    assert docker.strip(), "the docker group must reach the engine without sudo"
