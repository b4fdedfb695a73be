"""offline/cache.py: the component cache counts a hit only while every image it built is still there with the
same ID.

No Docker: the image-ID lookup is a dict the tests change (offline/conftest.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from offline import cache
from tests.unit.support.fakes import NEW, OLD

pytestmark = pytest.mark.usefixtures("cache_dir")


def entry(tmp_path: Path, refs: list[str], stamp: dict | None) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    (out / "images").write_text("".join(f"{r}\n" for r in refs))
    if stamp is not None:
        cache.write_stamp(out, stamp)
    return out


def test_stale_reason():
    assert cache.stale_reason({"x:1": OLD}, {"x:1": OLD}) is None
    assert cache.stale_reason({"x:1": OLD}, {"x:1": NEW}) == f"image x:1 changed: was {'a' * 12}, now {'b' * 12}"
    assert cache.stale_reason({"x:1": OLD, "y:1": OLD}, {"x:1": OLD, "y:1": None}) == "images gone: y:1"
    assert cache.stale_reason({}, {"x:1": NEW}) is None, "a stamp without IDs is not stale for that alone"
    assert cache.stale_reason({}, {"x:1": None}) == "images gone: x:1"
    assert cache.stale_reason({}, {}) is None


def test_hit_needs_the_same_image_ids(tmp_path, images):
    out = entry(tmp_path, ["x:1", "y:1"], {"component": "c", cache.IMAGE_IDS: {"x:1": OLD, "y:1": OLD}})
    images.update({"x:1": OLD, "y:1": OLD})
    assert cache.check(out) is None
    images["y:1"] = NEW
    assert cache.check(out) == f"image y:1 changed: was {'a' * 12}, now {'b' * 12}"
    del images["x:1"]
    assert cache.check(out) == "images gone: x:1"
    assert cache.stamp(out)[cache.IMAGE_IDS] == {"x:1": OLD, "y:1": OLD}, "a stale entry keeps its record"


def test_old_stamp_without_ids_is_a_hit_and_gets_them_recorded(tmp_path, images):
    out = entry(tmp_path, ["x:1"], {"component": "c", "seconds": 12.0})
    images["x:1"] = OLD
    assert cache.check(out) is None
    assert cache.stamp(out) == {"component": "c", "seconds": 12.0, cache.IMAGE_IDS: {"x:1": OLD}}
    images["x:1"] = NEW
    assert cache.check(out) == f"image x:1 changed: was {'a' * 12}, now {'b' * 12}"


def test_old_stamp_with_a_missing_image_is_stale(tmp_path, images):
    out = entry(tmp_path, ["x:1"], {"component": "c"})
    assert cache.check(out) == "images gone: x:1"
    assert cache.IMAGE_IDS not in cache.stamp(out)


def test_no_stamp_and_no_images(tmp_path, images):
    assert cache.check(entry(tmp_path, [], None)) == "not built"
    tools = tmp_path / "tools"
    tools.mkdir()
    cache.write_stamp(tools, {"component": "kind"})
    assert cache.check(tools) is None, "a component without images (a CLI) needs no Docker"


def test_a_tag_moved_by_another_cache_is_moved_back_while_the_built_image_exists(tmp_path, images):
    """Root's cache and a user's share one engine: the other's build retags `x:1`; this entry's image is still there."""
    out = entry(tmp_path, ["x:1"], {"image_ids": {"x:1": OLD}})
    images.update({"x:1": NEW, OLD: OLD})
    moved: list[tuple[str, str]] = []

    def tagger(image: str, ref: str) -> None:
        moved.append((image, ref))
        images[ref] = image

    assert cache.check(out, tagger=tagger) is None
    assert moved == [(OLD, "x:1")] and images["x:1"] == OLD


def test_a_moved_tag_whose_built_image_is_gone_stays_stale(tmp_path, images):
    out = entry(tmp_path, ["x:1"], {"image_ids": {"x:1": OLD}})
    images.update({"x:1": NEW})
    assert cache.check(out, tagger=lambda image, ref: pytest.fail("nothing to move back")) == (
        f"image x:1 changed: was {'a' * 12}, now {'b' * 12}")
