"""offline/build.py: a build records the IDs of the images it tagged and builds again when one changed, a recipe
over its budget is stopped with its children, and a KEDA patch gets a version and tag of its own.

No Docker: the image-ID lookup is a dict the tests change (offline/conftest.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from offline import build, cache, recipes
from tests.unit.support.fakes import NEW, OLD

pytestmark = pytest.mark.usefixtures("cache_dir")


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
