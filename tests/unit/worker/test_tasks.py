"""worker/tasks.py run as the container runs it, a real `celery worker` process against a real redis-server: no
task is lost when a worker pod is killed (SIGKILL) or scaled in (SIGTERM), prefetch holds at most one message,
readiness means consuming, and the worker rides through a Redis restart and the e2e-acl-tls overlay's ACL and TLS.
"""

from __future__ import annotations

import time

import pytest

from common.paths import REPO
from fixtures.waits import wait_until
from tests.unit.support.celery_worker import FAST, PASSWORD, CeleryWorker
from tests.unit.support.redis_server import RedisServer
from worker import config
from worker.producer import collect, enqueue, expected_sums
from worker.tasks import make_app


def result_meta(app, task_id):
    return app.backend.get_task_meta(task_id)


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


# --- secrets and readiness -----------------------------------------------------------------------

def test_worker_output_never_shows_the_password(redis, app, env):
    with CeleryWorker(env, name="banner") as w:
        w.wait_ready()
        collect(enqueue(app, 1, "high_priority", sleep=0), timeout=10)
        out = w.output()
    assert PASSWORD not in out
    assert "redis://:**@127.0.0.1" in out  # celery's banner masks it
    assert "broker=redis://:***@127.0.0.1" in out  # so does our ready line


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
