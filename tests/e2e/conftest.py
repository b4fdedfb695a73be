"""Everything under tests/e2e needs Docker and a kind cluster: mark it e2e."""

from pathlib import Path

import pytest

from fixtures.options import options_of

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(item.fspath).parents:
            item.add_marker(pytest.mark.e2e)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`--repeat N` runs a scaling test N times on one cluster (pass rate, latency spread)."""
    if "repeat_index" in metafunc.fixturenames:
        n = options_of(metafunc.config).repeat
        metafunc.parametrize("repeat_index", range(1, n + 1), ids=[f"run{i}" for i in range(1, n + 1)])
