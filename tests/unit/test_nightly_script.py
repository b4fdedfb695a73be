"""The nightly workflow's script, run the way a GitHub runner runs it: a non-root user with passwordless sudo
in the docker group. `setup` must install what it needs through sudo and leave the user's own tools in the
user's cache; `plan` must print the e2e command the workflow would run."""

from __future__ import annotations

import pytest

from common.paths import REPO
from tests.runner_user import as_runner as run_as
from tests.runner_user import home_of
from tests.runner_user import runner_user as ensure_runner_user


@pytest.fixture(scope="module")
def runner_user() -> str:
    return ensure_runner_user()


def as_runner(user: str, command: str, timeout: float) -> str:
    return run_as(user, command, timeout, cwd=REPO)


def test_setup_then_plan_as_a_sudo_user_in_the_docker_group(runner_user):
    out = as_runner(runner_user, "bash scripts/nightly.sh setup", timeout=600)
    assert "system part done" in out and "tools on PATH with" in out
    home = home_of(runner_user)
    cache = home / ".cache" / "celery-keda-e2e"
    assert (cache / "venv" / "bin" / "tox").exists(), "tox belongs in the user's cache"
    owners = {p.stat().st_uid for p in (cache, cache / "venv")}
    assert (len(owners) == 1 and 0 not in owners) or runner_user == "root", "root-owned files in the user's cache"
    plan = as_runner(runner_user, "bash scripts/nightly.sh plan on 2.21.0 v1.34.4", timeout=120)
    assert "tox -e e2e-full -- --offline=on --keda-version=2.21.0 --k8s-version=v1.34.4" in plan
    assert (cache / "bin" / "kind").exists() and (cache / "bin" / "kustomize").exists(), \
        "setup builds the pinned kind and kustomize into the user's cache"
    docker = as_runner(runner_user, "docker info --format '{{.ServerVersion}}'", timeout=60)
    assert docker.strip(), "the docker group must reach the engine without sudo"
