"""worker/config.py: the settings the worker and the producer build from the environment, and the Redis lists
they put tasks in: KEDA's scaler measures `LLEN <queue>`, so the settings must keep that number honest."""

from __future__ import annotations

import time

import pytest

from worker import config
from worker.producer import enqueue, make_producer


def test_config_from_env_and_masked_url():
    env = {"REDIS_HOST": "redis.default", "REDIS_PORT": "6380", "REDIS_DB": "2",
           "REDIS_PASSWORD": "p@ss/w:rd", "VISIBILITY_TIMEOUT": "7"}
    s = config.settings_from_env(env)
    assert s["broker_url"] == s["result_backend"] == "redis://:p%40ss%2Fw%3Ard@redis.default:6380/2"
    assert config.mask_url(s["broker_url"]) == "redis://:***@redis.default:6380/2"
    assert config.mask_url("redis://localhost:6379/0") == "redis://localhost:6379/0"
    assert s["broker_transport_options"]["visibility_timeout"] == 7
    assert s["broker_transport_options"]["priority_steps"] == [0]
    assert [q.name for q in s["task_queues"]] == ["high_priority", "low_priority", "default"]
    assert s["task_default_queue"] == "default"
    assert (s["task_acks_late"], s["task_reject_on_worker_lost"]) == (True, True)
    assert (s["worker_prefetch_multiplier"], s["worker_concurrency"]) == (1, 1)
    assert s["worker_soft_shutdown_timeout"] > 0 and s["worker_enable_soft_shutdown_on_idle"]
    defaults = config.settings_from_env({})
    assert defaults["broker_url"] == "redis://localhost:6379/0"
    assert config.task_sleep_seconds({}) == 1.0
    # a k8s service link must not break the port
    assert config.redis_url({"REDIS_HOST": "redis", "REDIS_PORT": "tcp://10.96.0.9:6379"}) == "redis://redis:6379/0"


def test_result_backend_sockets_are_bounded(app):
    """Celery's defaults (no connect timeout) let a pool child hang in SYN_SENT for minutes after a
    Redis pod was replaced (seen in the Redis-restart e2e); the backend the worker builds must not."""
    params = app.backend.connparams
    assert params["socket_connect_timeout"] == 5.0
    assert params["socket_timeout"] == 30.0
    assert params["socket_keepalive"] is True
    transport = app.connection_for_read().transport_options
    assert (transport["socket_connect_timeout"], transport["socket_timeout"]) == (10, 30)


def test_tasks_wait_in_the_plain_list_keda_measures(redis, app):
    enqueue(app, 5, "high_priority", sleep=0)
    app.send_task(config.TASK_NAME, args=(1, 1), queue="high_priority", priority=9)
    enqueue(app, 2, "low_priority")
    app.send_task(config.TASK_NAME, args=(2, 2))  # no queue: routed to `default`
    assert redis.llen("high_priority") == 6  # the prioritized one too: one priority step
    assert redis.llen("low_priority") == 2
    assert redis.llen("default") == 1
    assert not [k for k in redis.keys("*") if b"\x06\x16" in k], "no hidden priority lists"
    time.sleep(0.5)  # nobody consumes: the backlog stays visible
    assert redis.llen("high_priority") == 6


def test_kombu_default_priority_steps_write_the_lists_the_priorities_overlay_counts(redis, env):
    """With PRIORITY_STEPS=0,3,6,9 (kombu's default) a task's priority picks its list; the e2e-priorities
    ScaledObject must LLEN exactly those lists, or a backlog of priority 3-9 tasks scales nothing."""
    from fixtures.infra.tools import find_tool
    from fixtures.sut.hpa_model import redis_lists
    from fixtures.sut.manifests import overlay_path, render, scaledobject_of

    app = make_producer(env | {"PRIORITY_STEPS": "0,3,6,9"}, name="unit-priorities")
    try:
        for p in range(10):
            enqueue(app, 1, "high_priority", sleep=0, start=p, priority=p)
    finally:
        app.close()
    lists = {k.decode(): redis.llen(k) for k in redis.keys("high_priority*")}
    assert lists == {"high_priority": 3, "high_priority\x06\x163": 3, "high_priority\x06\x166": 3,
                     "high_priority\x06\x169": 1}
    so = scaledobject_of(render(find_tool("kustomize"), overlay_path("e2e-priorities"), "ns", {}))
    assert sorted(redis_lists(so)) == sorted(lists)
    formula = so["spec"]["advanced"]["scalingModifiers"]["formula"]
    assert sorted(formula.replace(" ", "").split("+")) == sorted(t["name"] for t in so["spec"]["triggers"])


def test_priority_steps_are_validated():
    assert config.priority_steps({}) == [0]
    assert config.priority_steps({"PRIORITY_STEPS": "0,3,6,9"}) == [0, 3, 6, 9]
    for bad in ("3,6", "0,6,3", "0,0", "0,10", "zero"):
        with pytest.raises(ValueError, match="PRIORITY_STEPS"):
            config.priority_steps({"PRIORITY_STEPS": bad})


def test_acks_late_is_on_unless_the_mutant_turns_it_off():
    assert config.settings_from_env({})["task_acks_late"] is True
    assert config.settings_from_env({"TASK_ACKS_LATE": "false"})["task_acks_late"] is False
