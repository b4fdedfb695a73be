"""The recipes share one sourced preamble (offline/recipes/_lib.sh): it is no recipe, it is in every
cache key, and its `die` and `go_mod_dir` say what failed (a fake `go`: no network)."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
from pathlib import Path

import pytest

from common import process
from offline import recipes
from tests.unit.support.fakes import fake_executables

LIB = recipes.RECIPE_DIR / recipes.PREAMBLE
SOURCE_LIB = '. "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"'


def test_the_preamble_is_no_recipe_and_every_recipe_sources_it():
    found = recipes.discover()
    assert "_lib" not in found and len(found) >= 15
    for name, r in found.items():
        lines = r.text.splitlines()
        code = [line for line in lines if line.strip() and not line.startswith("#")]
        assert code[0] == SOURCE_LIB, f"{name}: the first command must source the preamble"
        assert "set -euo pipefail" not in r.text, f"{name}: strict mode comes from the preamble"
        assert not re.search(r"^\s*die\(\)", r.text, re.M), f"{name}: defines its own die()"
        assert "go mod download -json" not in r.text, f"{name}: use go_mod_dir / go_mod_field"
        assert r.preamble == LIB.read_text()


def test_the_preamble_is_in_every_cache_key():
    r = recipes.discover()["kind"]
    k = recipes.key(r, "v1", [], recipes.OFFLINE_DIR.parent)
    assert recipes.key(dataclasses.replace(r, preamble=r.preamble + "\n# changed\n"), "v1", [],
                       recipes.OFFLINE_DIR.parent) != k


@pytest.fixture
def sh(tmp_path):
    """Run a recipe body (after the real preamble) as component `thing`, with a fake `go` on PATH."""
    (tmp_path / "mod").mkdir()
    bin_dir = fake_executables(tmp_path / "bin", go=r"""echo "GOTOOLCHAIN=${GOTOOLCHAIN:-} $*" >>"$GOLOG"
case "$4" in
  ok@v1) printf '{\n\t"Path": "ok",\n\t"Dir": "%s",\n\t"GoMod": "/x/ok.mod"\n}\n' "$MODDIR";;
  bad@v1) printf '{\n\t"Path": "bad",\n\t"Error": "bad@v1: 404 Not Found"\n}\n'; exit 1;;
  nodir@v1) printf '{"Path": "nodir", "Dir": "/nonexistent/nodir"}\n';;
  newgo@v1) printf '{"Error": "newgo@v1 requires go >= 9.0", "GoMod": "/x/newgo.mod"}\n'; exit 1;;
  silent@v1) echo "go: no answer" >&2; exit 1;;
esac""")

    def run(body: str) -> subprocess.CompletedProcess[str]:
        script = tmp_path / "thing.sh"
        script.write_text(f"#!/usr/bin/env bash\n. {LIB}\n{body}\necho after\n")
        env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "GOLOG": str(tmp_path / "golog"),
               "MODDIR": str(tmp_path / "mod"), "REPO": str(recipes.OFFLINE_DIR.parent)}
        return process.run(["bash", str(script)], env=env, timeout=30, check=False)

    run.golog = tmp_path / "golog"  # type: ignore[attr-defined]
    run.moddir = tmp_path / "mod"  # type: ignore[attr-defined]
    return run


def test_die_names_the_component(sh):
    cp = sh('die "no base image"')
    assert (cp.returncode, cp.stderr, cp.stdout) == (1, "thing: no base image\n", "")


def test_strict_mode_and_pins(sh):
    cp = sh('echo "${KEDA_VERSION:?}"; false')
    assert cp.returncode == 1 and cp.stdout.strip() and "after" not in cp.stdout


def test_go_mod_dir(sh):
    cp = sh('d=$(go_mod_dir ok@v1); echo "dir=$d"')
    assert cp.returncode == 0 and cp.stdout == f"dir={sh.moddir}\nafter\n"
    assert "mod download -json ok@v1" in sh.golog.read_text()


@pytest.mark.parametrize("module, message", [
    ("bad@v1", "thing: go mod download bad@v1 failed: bad@v1: 404 Not Found"),
    ("nodir@v1", "thing: go mod download nodir@v1: its Dir /nonexistent/nodir is not a directory"),
    ("newgo@v1", "thing: go mod download newgo@v1 failed: newgo@v1 requires go >= 9.0"),
    ("silent@v1", "thing: go mod download silent@v1 failed: no Dir in its answer"),
])
def test_go_mod_dir_dies_with_a_clear_message(sh, module, message):
    cp = sh(f'd=$(go_mod_dir {module}); echo "dir=$d"')
    assert cp.returncode == 1 and "after" not in cp.stdout
    assert cp.stderr.strip().splitlines()[-1] == message


def test_go_mod_field_sees_a_per_call_environment(sh):
    cp = sh('m=$(GOTOOLCHAIN=local go_mod_field GoMod ok@v1); echo "gomod=$m"')
    assert cp.stdout.startswith("gomod=/x/ok.mod\n")
    assert sh.golog.read_text().startswith("GOTOOLCHAIN=local mod download -json ok@v1")


def test_go_mod_field_takes_a_field_go_fetched_despite_its_error(sh):
    """kustomize's go line is newer than the local Go: `go mod download` says so, yet fetches its go.mod."""
    cp = sh('m=$(go_mod_field GoMod newgo@v1); echo "gomod=$m"')
    assert (cp.returncode, cp.stdout) == (0, "gomod=/x/newgo.mod\nafter\n")


def test_writable_copy(sh, tmp_path):
    src = tmp_path / "ro"
    (src / "d").mkdir(parents=True)
    (src / "d" / "f").write_text("x")
    for p in (src / "d" / "f", src / "d", src):
        p.chmod(0o555 if p.is_dir() else 0o444)
    cp = sh(f'writable_copy {src} {tmp_path / "rw"} && echo more >>{tmp_path / "rw" / "d" / "f"}')
    assert cp.returncode == 0, cp.stderr
    assert Path(tmp_path / "rw" / "d" / "f").read_text() == "xmore\n"
    for p in (src, src / "d"):
        p.chmod(0o755)
