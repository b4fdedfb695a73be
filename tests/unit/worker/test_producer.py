"""worker/producer.py against a real redis-server and real `celery worker` processes: the accounting of what came
back (missing, wrong, duplicated, failed), its CLI, and a result collector that never stalls on a gone Redis."""

from __future__ import annotations

import os
import sys
import time

from common.paths import REPO
from common.process import run
from tests.unit.support.celery_worker import FAST, PASSWORD, CeleryWorker
from tests.unit.support.redis_server import RedisServer
from worker import config
from worker.producer import Accounting, collect, enqueue, expected_sums


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
