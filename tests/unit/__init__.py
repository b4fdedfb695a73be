"""The unit tier: no cluster, seconds. Laid out like the source (tests/unit/test_layout.py keeps it so): the tests
of `fixtures/infra/cluster.py` are in `tests/unit/fixtures/infra/test_cluster.py`, shared helpers in `support/`.

A package, so that its folders are `tests.unit.fixtures`, `tests.unit.common`... and never shadow the real
top-level `fixtures`, `common`, `offline` and `worker` the tests import."""
