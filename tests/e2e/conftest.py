"""`--repeat N` runs a scaling test N times on one cluster (pass rate, latency spread, the gate's medians)."""

import pytest

from fixtures.options import options_of


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "repeat_index" in metafunc.fixturenames:
        n = options_of(metafunc.config).repeat
        metafunc.parametrize("repeat_index", range(1, n + 1), ids=[f"run{i}" for i in range(1, n + 1)])
