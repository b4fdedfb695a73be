"""The unit tier is laid out like the source: the tests of `fixtures/infra/cluster.py` are
`tests/unit/fixtures/infra/test_cluster.py`, those of `scripts/ensure-docker.sh` `tests/unit/scripts/test_ensure_docker.py`.

So a reader finds a module's tests without searching, and a test file whose module was renamed or removed, or a new
one put anywhere, fails here with the rule it breaks instead of rotting quietly.
"""

from __future__ import annotations

from pathlib import Path

from common.paths import REPO

UNIT = REPO / "tests" / "unit"
# Subjects that are not Python packages: the folder under tests/unit -> the folder its tests' subjects are in.
SUBJECTS = {"scripts": "scripts", "workflows": ".github/workflows", "manifests": "manifests", "e2e": "tests/e2e"}
HELPERS = "support"  # the shared fakes and helpers: no tests
# Test files that test no one module of the folder they would sit in, each with why.
EXCEPTIONS = {
    "test_architecture.py": "docs/architecture.md against the tree, .importlinter and pyproject.toml",
    "test_layout.py": "this layout itself",
    "test_support.py": "the unit tier's own helpers, in support/ (which holds no tests)",
    "workflows/test_nightly_workflow.py": ".github/workflows/nightly.yml, named apart from scripts/test_nightly.py "
                                          "(scripts/nightly.sh)",
}


def _tests() -> list[Path]:
    return sorted(p.relative_to(UNIT) for p in UNIT.rglob("test_*.py") if "__pycache__" not in p.parts)


def _subject_folder(folder: Path) -> Path | None:
    """The source folder a test folder mirrors: a package (`fixtures/infra`) or one of SUBJECTS; else None."""
    if folder.parts and folder.parts[0] in SUBJECTS:
        return REPO / SUBJECTS[folder.parts[0]] / Path(*folder.parts[1:])
    source = REPO / folder
    return source if folder.parts and (source / "__init__.py").is_file() else None


def _names(source: Path) -> set[str]:
    """What a test module may be named for: each module, subpackage, script or folder of `source`, with `-` read as
    `_` (ensure-docker.sh -> ensure_docker), and a tests/e2e module also without its own `test_`."""
    stems = {p.name.split(".")[0].replace("-", "_") for p in source.iterdir() if p.name != "__pycache__"}
    return stems | {s.removeprefix("test_") for s in stems}


def misplaced() -> list[str]:
    wrong = []
    for test in _tests():
        key = test.as_posix()
        if key in EXCEPTIONS:
            continue
        if test.parts[0] == HELPERS:
            wrong.append(f"{key}: support/ holds helpers, not tests")
            continue
        source = _subject_folder(test.parent)
        if source is None or not source.is_dir():
            wrong.append(f"{key}: {test.parent.as_posix() or 'tests/unit'} mirrors no source package or subject")
        elif test.stem.removeprefix("test_") not in _names(source):
            wrong.append(f"{key}: {source.relative_to(REPO)} has no module {test.stem.removeprefix('test_')}")
    return wrong


def test_every_test_file_sits_at_the_path_of_what_it_tests():
    assert not misplaced(), "move each to tests/unit/<package path>/test_<module>.py:\n" + "\n".join(misplaced())


def test_every_exception_still_exists():
    assert [e for e in EXCEPTIONS if not (UNIT / e).is_file()] == []


def test_every_test_folder_is_a_package():
    """`tests.unit.fixtures`, never a second top-level `fixtures`: without __init__.py, pytest would put the folder
    on sys.path and its name would shadow the real package the tests import."""
    folders = {p.parent for p in UNIT.rglob("*.py") if "__pycache__" not in p.parts}
    assert sorted(str(f.relative_to(REPO)) for f in folders if not (f / "__init__.py").is_file()) == []
