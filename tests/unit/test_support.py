"""The unit tier's own helpers (tests/unit/support/): a missing redis-server fails the worker tests with the Debian
package to install, not with a confusing error deeper down."""

from __future__ import annotations

import pytest

from tests.unit.support.redis_server import MISSING, RedisServer


def test_missing_redis_server_names_the_debian_package():
    with pytest.raises(RuntimeError) as err:
        RedisServer(executable="redis-server-not-installed").start()
    assert "redis-server" in str(err.value) and "apt-get install" in str(err.value)
    assert "Debian package" in MISSING
