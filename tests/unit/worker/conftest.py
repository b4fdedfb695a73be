"""A real redis-server for the worker tests (one a test module, flushed for each test), the worker settings that
point at it, and a producer app on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis as redis_lib
from celery import Celery

from tests.unit.support.celery_worker import FAST, PASSWORD
from tests.unit.support.redis_server import RedisServer
from worker.tasks import make_app


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with RedisServer(password=PASSWORD) as server:  # raises, naming the Debian package, if missing
        yield server


@pytest.fixture
def redis(redis_server: RedisServer) -> Iterator[redis_lib.Redis]:
    client = redis_server.client()
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def env(redis_server: RedisServer) -> dict[str, str]:
    return redis_server.env() | FAST


@pytest.fixture
def app(env: dict[str, str]) -> Iterator[Celery]:
    application = make_app(env, name="unit-producer")
    yield application
    application.close()
