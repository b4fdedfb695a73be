"""Markers by directory: tests/e2e are `e2e` (Docker, a kind cluster), tests/mutants are `mutants`."""

from pathlib import Path

import pytest

# pytest-kind's fixture name means this session's cluster. Also imported by fixtures/plugin.py; here because a
# conftest's fixture always wins over a plugin's, whichever of the two plugins pytest loaded last.
from fixtures.cluster import kind_cluster  # noqa: F401

TIERS = {Path(__file__).parent / "e2e": pytest.mark.e2e, Path(__file__).parent / "mutants": pytest.mark.mutants}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for directory, marker in TIERS.items():
            if directory in Path(item.fspath).parents:
                item.add_marker(marker)
