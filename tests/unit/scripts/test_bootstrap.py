"""The first command on a machine the suite has never seen, run for real here.

A brand-new Debian machine failed `bash .ci/run` after 2 seconds: bootstrap wrote its apt log into a cache folder
that did not exist yet. Every run before went green because the machine already had `~/.cache`. So here:
bootstrap runs as a user created for the test (non-root, passwordless sudo, an empty HOME, not in the docker
group), and once more as this user with a HOME that has no `.cache`. Both must end ready: Go and tox in the
user's own cache, nothing root-owned in it, the user added to the docker group and reaching Docker through
`sg docker` in the same session (scripts/lib.sh), without a new login.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from common.paths import REPO
from common.process import run
from tests.unit.support.fakes import fake_executables
from tests.unit.support.runner_user import as_root, as_user

CLEAN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@pytest.fixture
def new_user() -> Iterator[tuple[str, Path]]:
    """A user that did not exist a moment ago, with an empty HOME and a copy of this checkout beside it (not in
    pytest's tmp_path, which other users cannot enter); removed after."""
    if os.geteuid() != 0 and run(["sudo", "-n", "true"], timeout=10, check=False).returncode != 0:
        pytest.skip("needs root or passwordless sudo to create a user")
    name = f"ckenew{os.getpid() % 100000}"
    home = Path("/home") / name
    run([*as_root(), "useradd", "--create-home", "--skel", "/dev/null", "--shell", "/bin/bash", name], timeout=30)
    sudoers, checkout = f"/etc/sudoers.d/{name}", None
    run([*as_root(), "bash", "-c", f"echo '{name} ALL=(ALL) NOPASSWD:ALL' >{sudoers} && chmod 440 {sudoers}"], timeout=30)
    try:
        assert run([*as_root(), "ls", "-A", str(home)], timeout=10).stdout.strip() == "", "HOME must start empty"
        checkout = Path(tempfile.mkdtemp(prefix=f"{name}-")) / "checkout"
        shutil.copytree(REPO, checkout, ignore=shutil.ignore_patterns(".tox", ".git", "artifacts", "__pycache__"))
        run([*as_root(), "chown", "-R", f"{name}:{name}", str(checkout.parent)], timeout=60)
        run([*as_root(), "chmod", "755", str(checkout.parent)], timeout=10)
        yield name, checkout
    finally:
        run([*as_root(), "pkill", "-u", name], timeout=30, check=False)
        run([*as_root(), "userdel", "-r", "-f", name], timeout=60, check=False)
        run([*as_root(), "rm", "-f", sudoers], timeout=10, check=False)
        if checkout is not None:
            run([*as_root(), "rm", "-rf", str(checkout.parent)], timeout=60, check=False)


def _as(user: str, checkout: Path, command: str, timeout: float) -> tuple[int, str]:
    env = ["env", "-i", f"HOME=/home/{user}", f"USER={user}", f"LOGNAME={user}", f"PATH={CLEAN_PATH}", "LANG=C.UTF-8"]
    cp = run([*as_user(user), *env, "bash", "-c", f"cd {checkout} && {command}"], timeout=timeout, check=False)
    return cp.returncode, cp.stdout + cp.stderr


def test_bootstrap_as_a_new_sudo_user_with_an_empty_home(new_user):
    user, checkout = new_user
    # One session, as scripts/e2e.sh runs it: bootstrap adds the user to the docker group, which this session
    # does not have (its groups were set when it started); reach_docker_or_reexec continues under sg docker.
    probe = "docker info --format server={{.ServerVersion}}"
    rc, out = _as(user, checkout, f"bash scripts/bootstrap.sh && . scripts/lib.sh && "
                                  f"reach_docker_or_reexec bash -c 'echo under-sg; {probe}'", timeout=900)
    assert rc == 0, f"bootstrap failed for a new user (exit {rc}):\n{out[-3000:]}"
    assert f"added {user} to the docker group" in out, out[-2000:]
    assert "continuing under `sg docker`" in out and "under-sg" in out and "server=" in out, out[-2000:]
    cache = Path(f"/home/{user}/.cache/celery-keda-e2e")
    for made in ("env.sh", "venv/bin/tox"):
        assert (cache / made).exists(), f"{made} missing from the new user's cache:\n{out[-2000:]}"
    root_owned = run([*as_root(), "find", f"/home/{user}", "-uid", "0"], timeout=60).stdout.split()
    assert not root_owned, f"root-owned files in the new user's HOME: {root_owned[:5]}"


def test_ci_bootstrap_from_a_home_without_a_cache(tmp_path):
    """What `.ci/run` runs first, with HOME pointing at a folder that has never held `.cache` (the 2-second
    failure: `$CACHE.apt.log: No such file or directory`)."""
    home = tmp_path / "home"
    home.mkdir()
    # A machine that lacks one package (the failing path wrote the apt log): dpkg says jq is missing,
    # apt-get "installs" it. (As a sudo user, sudo's secure_path drops these fakes and the real path runs.)
    fake = fake_executables(tmp_path / "fakebin", dpkg='[ "$1 $2" = "-s jq" ] && exit 1\nexec /usr/bin/dpkg "$@"',
                            **{"apt-get": 'echo "fake apt-get $*"'})
    env = {"HOME": str(home), "PATH": f"{fake}:{os.environ.get('PATH', CLEAN_PATH)}", "LANG": "C.UTF-8"}
    cp = run(["bash", "scripts/bootstrap.sh"], env=env, timeout=900, cwd=REPO, check=False)
    assert cp.returncode == 0, f"bootstrap from a HOME without .cache failed (exit {cp.returncode}):\n{cp.stderr[-3000:]}"
    env_file = run(["bash", "scripts/bootstrap.sh", "--env"], env=env, timeout=60, cwd=REPO).stdout.strip()
    assert env_file == str(home / ".cache" / "celery-keda-e2e" / "env.sh")
    assert (home / ".cache" / "celery-keda-e2e" / "venv" / "bin" / "tox").exists()
