"""A fake Docker's image IDs and a cache folder of the test's own, for the tests of offline/cache.py and
offline/build.py (the constants they share are in tests/unit/support/fakes.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from common import docker


@pytest.fixture
def images(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """What Docker has: image ref -> ID; the cache asks `common.docker.image_id`, which reads this."""
    have: dict[str, str] = {}
    monkeypatch.setattr(docker, "image_id", have.get)
    return have


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CKE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"
