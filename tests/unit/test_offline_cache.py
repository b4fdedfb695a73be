"""The component cache counts a hit only while every image it built is still there with the same ID.

No Docker: the image-ID lookup is a dict the tests change.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from common import docker
from offline import build, cache, recipes

OLD = "sha256:" + "a" * 64
NEW = "sha256:" + "b" * 64


@pytest.fixture
def images(monkeypatch) -> dict[str, str]:
    """What Docker has: image ref -> ID; the cache asks `common.docker.image_id`, which reads this."""
    have: dict[str, str] = {}
    monkeypatch.setattr(docker, "image_id", have.get)
    return have


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("CKE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


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


@pytest.fixture
def one_recipe(tmp_path, monkeypatch) -> Path:
    """A recipe set of one component that tags `x:1` (the fake Docker learns it from a file the recipe writes)."""
    path = tmp_path / "recipes" / "thing.sh"
    path.parent.mkdir()
    path.write_text("#!/usr/bin/env bash\n# version: 1.0\n# deps:\nset -euo pipefail\n"
                    'echo x:1 >"$OUT/images"\necho ran >>"$RUNS"\n')
    monkeypatch.setattr(recipes, "discover", lambda: {"thing": recipes.parse(path)})
    monkeypatch.setenv("RUNS", str(tmp_path / "runs"))
    return tmp_path / "runs"


def test_build_records_ids_and_rebuilds_when_an_image_changed(one_recipe, images):
    said: list[str] = []
    images["x:1"] = OLD  # what the recipe "tags"
    [first] = build.build(["thing"], say=said.append)
    assert first.status == "built"
    assert cache.stamp(Path(first.out))[cache.IMAGE_IDS] == {"x:1": OLD}

    [second] = build.build(["thing"], say=said.append)
    assert second.status == "hit"
    assert one_recipe.read_text().count("ran") == 1

    images["x:1"] = NEW  # another build wrote the same tag
    said.clear()
    [third] = build.build(["thing"], say=said.append)
    assert third.status == "built"
    assert f"cache stale (image x:1 changed: was {'a' * 12}, now {'b' * 12})" in said[0]
    assert one_recipe.read_text().count("ran") == 2
    assert cache.stamp(Path(third.out))[cache.IMAGE_IDS] == {"x:1": NEW}


def test_build_keeps_an_old_cache_and_records_its_ids(one_recipe, images):
    images["x:1"] = OLD
    [first] = build.build(["thing"], say=lambda _: None)
    out = Path(first.out)
    stamp = cache.stamp(out)
    del stamp[cache.IMAGE_IDS]
    cache.write_stamp(out, stamp)  # as written before IDs were recorded

    [again] = build.build(["thing"], say=lambda _: None)
    assert again.status == "hit"
    assert json.loads((out / ".complete").read_text())[cache.IMAGE_IDS] == {"x:1": OLD}
    assert one_recipe.read_text().count("ran") == 1


def test_build_fails_when_the_recipe_did_not_tag_its_image(one_recipe, images):
    with pytest.raises(build.BuildError, match="did not tag x:1"):
        build.build(["thing"], say=lambda _: None)


def test_errors_are_suite_errors():
    from common.errors import SuiteError

    assert issubclass(build.BuildError, SuiteError)
    assert issubclass(recipes.RecipeError, SuiteError)


def test_a_recipe_over_its_budget_is_stopped_with_its_children(tmp_path):
    from common.process import gone

    path = tmp_path / "slow.sh"
    path.write_text('#!/usr/bin/env bash\n# version: 1\nsleep 300 &\necho $! >"$WORK/child"\nwait\n')
    (tmp_path / "work").mkdir()
    env = {"PATH": "/usr/bin:/bin", "WORK": str(tmp_path / "work")}
    rc, timed_out = build._run_recipe(recipes.parse(path), env, tmp_path / "log", timeout=1)
    assert (rc, timed_out) == (-1, True)
    # The whole group got the signal; under load the child may take a moment to die after its parent.
    from fixtures.waits import wait_until

    child = int((tmp_path / "work" / "child").read_text())
    wait_until(f"the recipe's child {child} to be gone", lambda: gone(child), bool, timeout=10, interval=0.05,
               progress_every=None)


def test_a_keda_patch_gets_a_version_and_tag_of_its_own(tmp_path):
    """`offline.build keda --patch FILE`: the id goes into the cache version and the image tags."""
    import pytest

    from offline.build import BuildError, with_patch_id

    a, b = tmp_path / "half-metric.patch", tmp_path / "other.patch"
    a.write_text("--- a/x\n+++ b/x\n")
    b.write_text("--- a/y\n+++ b/y\n")
    ida = with_patch_id({"KEDA_PATCH": str(a)})["KEDA_PATCH_ID"]
    assert ida.startswith("half-metric-") and len(ida) == len("half-metric-") + 8
    assert with_patch_id({"KEDA_PATCH": str(b)})["KEDA_PATCH_ID"] != ida
    assert "KEDA_PATCH_ID" not in with_patch_id({"KEDA_PATCH_ID": "stale"})
    with pytest.raises(BuildError, match="no such file"):
        with_patch_id({"KEDA_PATCH": str(tmp_path / "missing.patch")})


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
