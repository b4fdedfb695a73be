"""Unit tests of the Celery worker against a real redis-server and real `celery worker` processes.

What KEDA's Redis scaler sees is `LLEN <queue>`; these tests check that the
worker's settings keep that number honest and that no task is lost when a
worker pod is killed (SIGKILL) or scaled in (SIGTERM).
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from celery_worker import REPO, CeleryWorker
from redis_server import MISSING, RedisServer

from common.process import run
from fixtures.waits import wait_until
from worker import config
from worker.producer import Accounting, collect, enqueue, expected_sums, make_producer
from worker.tasks import make_app

PASSWORD = "unit-S3cret-pw"
FAST = {"UNACKED_RESTORE_INTERVAL": "1", "SOFT_SHUTDOWN_TIMEOUT": "1", "TASK_SLEEP_SECONDS": "0"}


@pytest.fixture(scope="module")
def redis_server():
    with RedisServer(password=PASSWORD) as server:  # raises, naming the Debian package, if missing
        yield server


@pytest.fixture
def redis(redis_server):
    client = redis_server.client()
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def env(redis_server):
    return redis_server.env() | FAST


@pytest.fixture
def app(env):
    application = make_app(env, name="unit-producer")
    yield application
    application.close()


def result_meta(app, task_id):
    return app.backend.get_task_meta(task_id)


# --- helpers and configuration ------------------------------------------------------------

def test_missing_redis_server_names_the_debian_package():
    with pytest.raises(RuntimeError) as err:
        RedisServer(executable="redis-server-not-installed").start()
    assert "redis-server" in str(err.value) and "apt-get install" in str(err.value)
    assert "Debian package" in MISSING


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


# --- the list KEDA measures ------------------------------------------------------------------

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


def test_producer_results_outlive_their_redis_without_stalling(env):
    """The producer polls results; a result garbage-collected after its Redis is gone must not retry an
    unsubscribe 90 x 1 s inside whatever code the collector interrupted (the e2e priorities stall)."""
    import gc

    from worker.producer import PollingRedisBackend, make_producer

    with RedisServer(password="gone-pw") as server:
        app = make_producer(server.env() | FAST, name="unit-gone")
        assert isinstance(app.backend, PollingRedisBackend)
        results = enqueue(app, 5, "high_priority", sleep=0)
        assert not app.backend.result_consumer.subscribed_to, "the producer must not subscribe to result channels"
    t0 = time.monotonic()
    del results
    gc.collect()
    assert time.monotonic() - t0 < 2.0, f"dropping results of a gone Redis took {time.monotonic() - t0:.0f} s"
    app.close()


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


def test_prefetch_one_holds_at_most_one_unacked_message(redis, app, env):
    n = 8
    results = enqueue(app, n, "high_priority", sleep=0.4)
    assert redis.llen("high_priority") == n
    samples = []
    with CeleryWorker(env, name="prefetch") as w:
        w.wait_ready()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            llen, unacked = redis.llen("high_priority"), redis.hlen("unacked")
            done = sum(1 for r in results if result_meta(app, r.id)["status"] == "SUCCESS")
            samples.append((llen, unacked, done))
            if done == n:
                break
            time.sleep(0.05)
    assert samples[-1][2] == n, f"not all done: {samples[-5:]}"
    assert max(u for _, u, _ in samples) <= 1, "prefetch took more than one message"
    # backlog seen by KEDA = everything not done minus at most the one being worked on
    for llen, unacked, done in samples:
        assert llen >= n - done - 1, (llen, unacked, done)
    seen = sorted({llen for llen, _, _ in samples}, reverse=True)
    assert len(seen) >= n - 2, f"LLEN should step down one by one, saw {seen}"
    acc = collect(results, timeout=5)
    assert acc.ok and acc.received == n and set(acc.by_worker) == {"prefetch@unit"}, acc.summary()


def test_results_have_the_right_sums(redis, app, env):
    with CeleryWorker(env, name="sums") as w:
        w.wait_ready()
        results = enqueue(app, 20, "high_priority", sleep=0, start=100)
        results += enqueue(app, 3, "default", sleep=0, start=200)
        results += enqueue(app, 3, "low_priority", sleep=0, start=300)
        expected = expected_sums(20, 100) + expected_sums(3, 200) + expected_sums(3, 300)
        acc = collect(results, timeout=30, expected=expected)
    assert acc.ok, acc.summary()
    assert acc.received == 26 and [r.get(timeout=1) for r in results[:3]] == [200, 202, 204]
    assert redis.llen("high_priority") == 0


# --- no task lost -----------------------------------------------------------------------------

def test_sigkilled_worker_task_is_redelivered_to_another_worker(redis, app, env):
    env = env | {"VISIBILITY_TIMEOUT": "3"}  # > task time (2 s), so a live worker never loses it
    with CeleryWorker(env, name="victim") as victim:
        victim.wait_ready()
        [result] = enqueue(app, 1, "high_priority", sleep=2)
        victim.wait_for("add(0, 0)", 10)
        assert redis.llen("high_priority") == 0 and redis.hlen("unacked") == 1
        victim.sigkill()  # pod killed mid-task: no ack, no requeue by the worker itself
    assert result_meta(app, result.id)["status"] == "PENDING"
    assert redis.hlen("unacked") == 1
    with CeleryWorker(env, name="rescuer") as rescuer:
        rescuer.wait_ready()
        acc = collect([result], timeout=20)
        assert "redelivered=True" in rescuer.output()
    assert acc.ok, acc.summary()
    assert acc.by_worker == {"rescuer@unit": 1}
    assert redis.hlen("unacked") == 0 and redis.llen("high_priority") == 0


def test_sigterm_lets_a_short_task_finish(redis, app, env):
    env = env | {"SOFT_SHUTDOWN_TIMEOUT": "2", "VISIBILITY_TIMEOUT": "60"}
    with CeleryWorker(env, name="finisher") as w:
        w.wait_ready()
        results = enqueue(app, 3, "high_priority", sleep=1)
        w.wait_for("add(0, 0)", 10)
        w.sigterm()  # what the kubelet sends at scale-in
        w.wait_exit(20)
    assert result_meta(app, results[0].id)["status"] == "SUCCESS"
    assert result_meta(app, results[0].id)["result"] == 0
    # the two never started are still in the list for the next worker (and for KEDA)
    assert redis.llen("high_priority") == 2 and redis.hlen("unacked") == 0
    with CeleryWorker(env, name="next") as w:
        w.wait_ready()
        acc = collect(results, timeout=20)
    assert acc.ok, acc.summary()


def test_sigterm_requeues_a_long_task(redis, app, env):
    # visibility timeout 60 s: the requeue must come from the shutdown, not from the sweep.
    env = env | {"SOFT_SHUTDOWN_TIMEOUT": "1", "VISIBILITY_TIMEOUT": "60"}
    with CeleryWorker(env, name="quitter") as w:
        w.wait_ready()
        [result] = enqueue(app, 1, "high_priority", sleep=30)
        w.wait_for("add(0, 0)", 10)
        t0 = time.monotonic()
        w.sigterm()
        w.wait_exit(20)
        assert time.monotonic() - t0 < 10
        assert "Restoring 1 unacknowledged message" in w.output()
    assert result_meta(app, result.id)["status"] == "PENDING"
    assert redis.llen("high_priority") == 1 and redis.hlen("unacked") == 0  # back where KEDA sees it
    with CeleryWorker(env, name="finisher2") as w:
        w.wait_ready()
        w.wait_for("redelivered=True", 10)  # picked up again (it would now run its 30 s)
        assert redis.llen("high_priority") == 0 and redis.hlen("unacked") == 1


def test_a_task_run_twice_is_reported_not_hidden(redis, app, env):
    # A visibility timeout shorter than the task: the restore sweep hands the message to the
    # second worker while the first still runs it -> two completed runs of one id.
    env = env | {"VISIBILITY_TIMEOUT": "1", "UNACKED_RESTORE_INTERVAL": "1"}
    with CeleryWorker(env, name="first") as a, CeleryWorker(env, name="second") as b:
        a.wait_ready()
        b.wait_ready()
        [result] = enqueue(app, 1, "high_priority", sleep=4)
        wait_until("the task to complete twice", lambda: int(redis.hget(config.EXECUTIONS_KEY, result.id) or 0),
                   lambda runs: runs >= 2, timeout=40, interval=0.05, progress_every=None)
        acc = collect([result], timeout=10)
    assert acc.ok, acc.summary()  # at-least-once is legal...
    assert acc.reexecuted == {result.id: 2}  # ...and visible
    assert "run-twice=1" in acc.summary()


# --- secrets ----------------------------------------------------------------------------------

def test_worker_output_never_shows_the_password(redis, app, env):
    with CeleryWorker(env, name="banner") as w:
        w.wait_ready()
        collect(enqueue(app, 1, "high_priority", sleep=0), timeout=10)
        out = w.output()
    assert PASSWORD not in out
    assert "redis://:**@127.0.0.1" in out  # celery's banner masks it
    assert "broker=redis://:***@127.0.0.1" in out  # so does our ready line


# --- producer accounting ------------------------------------------------------------------------

def test_accounting_reports_missing_wrong_and_duplicates(redis, app, env):
    with CeleryWorker(env, name="acct", queues="high_priority") as w:
        w.wait_ready()
        done = enqueue(app, 4, "high_priority", sleep=0)
        stuck = enqueue(app, 2, "low_priority", sleep=0, start=10)  # nobody consumes low_priority
        acc = collect(done, timeout=15)
        assert acc.ok and acc.received == 4 and acc.expected == 4, acc.summary()

        progress: list[tuple[int, float]] = []
        acc = collect(done + stuck, timeout=1.0, expected=expected_sums(4) + expected_sums(2, 10),
                      on_progress=lambda a, t: progress.append((a.received, t)), progress_every=0.2)
        assert isinstance(acc, Accounting) and not acc.ok
        assert acc.missing == [r.id for r in stuck] and acc.received == 4
        assert 1.0 <= acc.elapsed < 3 and progress and progress[-1][0] == 4

        wrong = collect(done, timeout=5, expected=[0, 2, 5, 6])
        assert wrong.wrong == {done[2].id: (5, 4)} and not wrong.missing and not wrong.ok

        dup = collect(done + done[:2], timeout=5, expected=expected_sums(4) + expected_sums(2))
        assert dup.duplicates == 2 and dup.expected == 4 and dup.received == 4 and not dup.ok

        failing = app.send_task(config.TASK_NAME, args=(1, "x"), queue="high_priority")
        bad = collect([failing], timeout=10, expected=[2])
        assert list(bad.failed) == [failing.id] and "TypeError" in bad.failed[failing.id]

    # REVOKED is what a worker that lost Redis records before the message runs again: wait for
    # the re-run, and only call it failed (not missing) if it never comes.
    [revoked] = enqueue(app, 1, "low_priority", sleep=0, start=20)
    app.backend.mark_as_revoked(revoked.id, reason="terminated")
    acc = collect([revoked], timeout=1.0, expected=[40])
    assert list(acc.failed) == [revoked.id] and "REVOKED" in acc.failed[revoked.id] and not acc.missing
    assert acc.elapsed >= 1.0, "REVOKED must not end the wait early"


def run_producer(env, *args, timeout=60):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("REDIS_")}
    full_env.update(env, PYTHONPATH=str(REPO))
    return run([sys.executable, "-m", "worker.producer", *args], env=full_env, cwd=REPO, timeout=timeout, check=False)


def test_producer_cli_succeeds_and_masks_the_password(redis, env):
    with CeleryWorker(env, name="cli") as w:
        w.wait_ready()
        p = run_producer(env, "--count", "12", "--queue", "high_priority", "--sleep", "0",
                         "--timeout", "30")
    assert p.returncode == 0, p.stdout + p.stderr
    assert PASSWORD not in p.stdout + p.stderr
    assert "broker: redis://:***@127.0.0.1" in p.stdout
    assert "enqueued 12/12" in p.stdout and "OK expected=12 received=12 missing=0" in p.stdout


def test_producer_cli_exits_nonzero_on_loss(redis, env):
    p = run_producer(env, "--count", "3", "--queue", "low_priority", "--timeout", "1")
    assert p.returncode == 1, p.stdout + p.stderr
    assert "LOSS expected=3 received=0 missing=3" in p.stdout and p.stdout.count("MISSING ") == 3
    assert redis.llen("low_priority") == 3
    p = run_producer(env, "--count", "4", "--queue", "default", "--no-wait")
    assert p.returncode == 0 and redis.llen("default") == 4


# --- a Redis restart (the pod replaced, its volume kept) --------------------------------------

def manifest_persistence_args() -> tuple[str, ...]:
    """The persistence options the Redis Deployment runs with (password and --dir are the test's)."""
    import yaml
    dep = yaml.safe_load((REPO / "manifests" / "base" / "redis-deployment.yaml").read_text())
    args = dep["spec"]["template"]["spec"]["containers"][0]["args"]
    out: list[str] = []
    i = 0
    while i < len(args):
        if args[i] in ("--requirepass", "--dir"):
            i += 2
            continue
        out.append(args[i])
        i += 1
    return tuple(out)


@pytest.fixture
def persistent_redis():
    with RedisServer(password=PASSWORD, server_args=manifest_persistence_args()) as server:
        yield server


def test_manifest_persistence_keeps_the_queue_across_a_restart(persistent_redis):
    assert "--appendonly" in manifest_persistence_args()
    app = make_app(persistent_redis.env(), name="unit-producer")
    try:
        enqueue(app, 25, "high_priority").clear()
        r = persistent_redis.client()
        assert r.llen("high_priority") == 25
        persistent_redis.restart()
        assert persistent_redis.client().llen("high_priority") == 25
    finally:
        app.close()


def test_without_persistence_a_restart_loses_the_queue():
    """The control: the seed's Redis (no AOF) comes back empty, so the test above can fail."""
    with RedisServer(password=PASSWORD) as server:
        app = make_app(server.env(), name="unit-producer")
        try:
            enqueue(app, 5, "high_priority").clear()
            server.restart()
            assert server.client().llen("high_priority") == 0
        finally:
            app.close()


def test_tasks_complete_across_a_redis_restart(persistent_redis):
    """Workers and the result collector ride through Redis going away for 3 s mid-run."""
    env = persistent_redis.env() | FAST | {"VISIBILITY_TIMEOUT": "5"}
    app = make_app(env, name="unit-producer")
    try:
        with CeleryWorker(env, name="survivor") as w:
            w.wait_ready()
            results = enqueue(app, 6, "high_priority", sleep=1)
            w.wait_for("add(0, 0)", 10)
            persistent_redis.restart(down_for=3)
            acc = collect(results, timeout=90, expected=expected_sums(6))
            assert acc.ok, f"{acc.summary()}\n{w.output()[-3000:]}"
            assert "Connection to broker lost" in w.output() or "Cannot connect" in w.output()
        r = persistent_redis.client()
        assert r.llen("high_priority") == 0
        del results  # an AsyncResult unsubscribes when collected: do it while Redis still runs
    finally:
        app.close()


def test_ready_means_consuming_and_stops_at_shutdown(redis, env):
    """The readiness marker appears only once the consumer runs (after the hostname is in Redis), and goes when
    shutdown starts: the pod's readinessProbe (`test -f`) then means "consuming"."""
    with CeleryWorker(env, name="ready") as w:
        assert not w.ready_file.exists()
        w.wait_ready()
        wait_until("the readiness marker", w.ready_file.exists, bool, timeout=10, interval=0.05, progress_every=None)
        since = float(redis.hget(config.CONSUMING_KEY, w.hostname))
        assert since <= w.ready_file.stat().st_mtime + 0.5, "the time is recorded before the marker appears"
        w.sigterm()
        w.wait_exit()
    assert not w.ready_file.exists(), "a worker shutting down must stop being ready"


def test_acks_late_is_on_unless_the_mutant_turns_it_off():
    assert config.settings_from_env({})["task_acks_late"] is True
    assert config.settings_from_env({"TASK_ACKS_LATE": "false"})["task_acks_late"] is False


def test_collect_stops_waiting_when_nothing_is_left_to_run(redis, app):
    """A result whose message is nowhere (not queued, not held) can never arrive: say so without the full bound."""
    import time as _time

    [result] = enqueue(app, 1, "low_priority", 0)  # no worker consumes it here
    redis.delete("low_priority")  # ...and now its message is gone, as if acked and lost
    start = _time.monotonic()
    acc = collect([result], timeout=60, nothing_left=lambda: redis.llen("low_priority") == 0, nothing_left_for=1.0)
    assert _time.monotonic() - start < 10
    assert not acc.ok and len(acc.missing) == 1 and "gave-up: nothing left to run" in acc.summary()
    # A task cancelled at shutdown leaves a REVOKED result that is polled again and again: not progress.
    [revoked] = enqueue(app, 1, "low_priority", 0)
    redis.delete("low_priority")
    app.backend.store_result(revoked.id, None, "REVOKED")
    start = _time.monotonic()
    acc = collect([revoked], timeout=60, nothing_left=lambda: True, nothing_left_for=1.0)
    assert _time.monotonic() - start < 10 and not acc.ok and len(acc.failed) == 1


# --- Redis with ACL users and TLS (manifests/overlays/e2e-acl-tls), the overlay's own rules ----------------

def _overlay_acl_args(passwords: dict[str, str]) -> tuple[str, ...]:
    """The `--user ...` rules of the e2e-acl-tls Redis container, as rendered, with the kubelet's $(VAR)s filled in."""
    from fixtures.infra.tools import find_tool
    from fixtures.sut.manifests import overlay_path, render

    docs = render(find_tool("kustomize"), overlay_path("e2e-acl-tls"), "ns", {})
    [redis_pod] = [d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "redis"]
    args = redis_pod["spec"]["template"]["spec"]["containers"][0]["args"]
    rules, keep = [], False
    for a in args:
        if a.startswith("--"):
            keep = a == "--user"
        if keep:
            for var, value in passwords.items():
                a = a.replace(f"$({var})", value)
            rules.append(a)
    return tuple(rules)


KEDA_LIST_SCRIPT = """
local listName = KEYS[1]
local listType = redis.call('type', listName).ok
if listType == 'list' or listType == 'none' then return redis.call('llen', listName) end
return redis.error_reply('ERR unsupported key type: ' .. listType)
"""  # the branch of KEDA's redis scaler script (pkg/scalers/redis_scaler.go) a Celery list takes


@pytest.fixture(scope="module")
def acl_tls_server(tmp_path_factory):
    from fixtures.sut.redis_tls import make_tls

    passwords = {"REDIS_PASSWORD": "unit-celery-pw", "KEDA_REDIS_PASSWORD": "unit-keda-pw"}
    tls = make_tls(tmp_path_factory.mktemp("tls"), "ns")
    server = RedisServer(password=passwords["REDIS_PASSWORD"], username="celery", tls=tls,
                         server_args=("--save", "", "--appendonly", "no", *_overlay_acl_args(passwords)))
    with server:
        yield server


def test_acl_tls_overlay_rules_let_celery_work_and_keda_only_count(acl_tls_server, tmp_path):
    """The overlay's ACL and TLS, on a real redis-server: a real worker runs tasks over TLS as `celery`; the
    `keda-scaler` user can EVAL KEDA's script on high_priority and nothing else; plain TCP and `default` fail."""
    server = acl_tls_server
    env = server.env() | FAST
    assert config.redis_url(env).startswith("rediss://celery:")
    app = make_app(env, name="unit-acl-tls")
    try:
        with CeleryWorker(env, name="acl1") as w:
            w.wait_ready()
            results = enqueue(app, 5, "high_priority", sleep=0)
            acc = collect(results, timeout=30, expected=expected_sums(5))
        assert acc.ok, acc.summary()
    finally:
        app.close()
    keda = server.client(username="keda-scaler", password="unit-keda-pw")
    assert keda.ping()
    assert keda.eval(KEDA_LIST_SCRIPT, 1, "high_priority") == 0
    import redis as redis_lib
    with pytest.raises(redis_lib.exceptions.NoPermissionError):
        keda.lpush("high_priority", "x")  # the scaler cannot touch the queue
    with pytest.raises(redis_lib.exceptions.NoPermissionError):
        keda.eval(KEDA_LIST_SCRIPT, 1, "celery-task-meta-1")  # nor read other keys
    with pytest.raises(redis_lib.exceptions.AuthenticationError):
        server.client(username="default", password="unit-celery-pw").ping()
    plain = redis_lib.Redis(host=server.host, port=server.port, username="celery", password="unit-celery-pw",
                            socket_timeout=2)
    with pytest.raises(redis_lib.exceptions.ConnectionError):
        plain.ping()  # TLS only


def test_acl_rules_keep_script_effects_across_an_aof_reload():
    """Redis replays its AOF as `default`, rechecking ACLs at each EXEC; a Lua script's effects are in the AOF
    as MULTI/EXEC. With `default off` they were refused at reload and lost (redis/redis#14541): the overlay keeps
    `default` on, with every permission and no way to log in. Shown here with kombu's own binding script."""
    import redis as redis_lib
    from kombu.transport.redis import REFRESH_BINDING

    passwords = {"REDIS_PASSWORD": "p1", "KEDA_REDIS_PASSWORD": "p2"}
    rules = _overlay_acl_args(passwords)
    with RedisServer(password="p1", username="celery",
                     server_args=("--save", "", "--appendonly", "yes", "--appendfsync", "always", *rules)) as server:
        c = server.client()
        c.eval(REFRESH_BINDING, 2, "_kombu.binding.celery", "_kombu.binding.index", "q\x06\x16", "celery", "60000")
        assert c.scard("_kombu.binding.celery") == 1
        server.restart()
        reloaded = server.client()
        assert reloaded.scard("_kombu.binding.celery") == 1, (
            "the script's effects were lost at AOF reload: " + server.log.read_text()[-600:])
        assert "AOF-loading-client" not in server.log.read_text()
        with pytest.raises(redis_lib.exceptions.AuthenticationError, match="invalid username-password"):
            server.client(username="default", password="").ping()


def test_acl_without_scripting_refuses_kedas_eval(tmp_path):
    """The failure the e2e's broken-ACL test expects: without +@scripting, KEDA's EVAL is refused by name."""
    import redis as redis_lib

    rules = tuple(a for a in _overlay_acl_args({"REDIS_PASSWORD": "p1", "KEDA_REDIS_PASSWORD": "p2"})
                  if a != "+@scripting")
    with RedisServer(password="p1", username="celery", server_args=("--save", "", *rules)) as server:
        keda = server.client(username="keda-scaler", password="p2")
        assert keda.ping()
        with pytest.raises(redis_lib.exceptions.NoPermissionError, match="'eval' command"):
            keda.eval(KEDA_LIST_SCRIPT, 1, "high_priority")
