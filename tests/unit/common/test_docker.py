"""common/docker.py: no docker CLI, or no engine behind it, is one clear line (a fake docker: no engine touched)."""

from __future__ import annotations

import pytest

from common.docker import require_docker
from common.errors import SuiteError
from tests.unit.support.fakes import fake_executables


def test_missing_docker_is_one_clear_line(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SuiteError, match="the docker CLI is not installed; start one"):
        require_docker()
    fake_executables(tmp_path, docker="echo 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock.' >&2\n"
                                      "exit 1")
    with pytest.raises(SuiteError, match="no Docker engine answers \\(Cannot connect"):
        require_docker()
