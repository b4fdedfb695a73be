"""A GitHub-runner-like user: not root, passwordless sudo, in the docker group. The nightly's scripts run as it
(tests/unit/scripts/test_nightly.py: `setup`, `plan`; tests/e2e/test_online_mode.py: `e2e` in online mode)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from common.process import run

USER = "cke-runner"
SUDOERS = Path(f"/etc/sudoers.d/{USER}")


def runner_user() -> str:
    """The runner-like user, created here as root (kept for the next run: it holds only caches); this user
    itself when it already has passwordless sudo; else the test is skipped (it needs one of the two)."""
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


def as_user(user: str) -> list[str]:
    """The argv prefix that runs a command as `user`: runuser as root, else passwordless sudo."""
    return ["runuser", "-u", user, "--"] if os.geteuid() == 0 else ["sudo", "-n", "-u", user, "-H", "--"]


def as_root() -> list[str]:
    return [] if os.geteuid() == 0 else ["sudo", "-n"]


def home_of(user: str) -> Path:
    return Path(run(["bash", "-c", f"echo ~{user}"], timeout=10).stdout.strip())


def as_runner(user: str, command: str, timeout: float, cwd: Path, check: bool = True) -> str:
    """`command` in a login shell of `user` in `cwd`; its output (stdout and stderr). With `check`, a non-zero
    exit fails the test with the output's tail."""
    argv = ["bash", "-lc", f"cd {cwd} && {command}"]
    env = None
    if user and user != os.environ.get("USER") and os.geteuid() == 0:
        argv = ["runuser", "-u", user, "--", *argv]
        # A runner's clean environment, not this run's: tox's TOX_WORK_DIR, TOX_ENV_DIR... would point the
        # runner's tox at this checkout's .tox (runuser sets HOME, USER, LOGNAME and SHELL from passwd).
        env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
    cp = run(argv, timeout=timeout, check=False, env=env)
    out = cp.stdout + cp.stderr
    if check:
        assert cp.returncode == 0, f"`{command}` as {user or 'this user'} failed (exit {cp.returncode}):\n{out[-3000:]}"
    return out


def checkout_for(user: str, repo: Path) -> Path:
    """A copy of the working tree owned by `user` (a runner's checkout), at ~user/checkout; its .tox is kept
    between runs (tox reuses the environment when nothing it depends on changed)."""
    dest = home_of(user) / "checkout"
    script = (f"mkdir -p {dest} && find {dest} -mindepth 1 -maxdepth 1 ! -name .tox -exec rm -rf {{}} + && "
              f"tar -C {repo} --exclude=./.tox --exclude=./.git --exclude=./artifacts --exclude=__pycache__ "
              f"--exclude='*.egg-info' -cf - . | runuser -u {user} -- tar -C {dest} -xf -")
    if user and os.geteuid() == 0:
        run(["runuser", "-u", user, "--", "mkdir", "-p", str(dest)], timeout=30)
        run(["bash", "-c", script], timeout=300)
        return dest
    return repo  # this user is the runner: its own working tree is the checkout
