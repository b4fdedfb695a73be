"""Enqueue ``add(i, i)`` tasks and account for every result.

CLI:  python -m worker.producer --count 500 --queue high_priority [--sleep S]
                                [--wait/--no-wait] [--timeout T] [--start N]
Exit code: 0 all results present and right, 1 some missing/wrong/failed, 2 usage.

Library (reused by the e2e suite; works with any Celery app pointed at the
Redis, e.g. ``worker.tasks.make_app({...})`` through a port-forward):
  results = enqueue(app, count, queue, sleep)          # -> list[AsyncResult]
  acc = collect(results, timeout, on_progress)          # -> Accounting
  acc.ok, acc.missing, acc.wrong, acc.duplicates, acc.by_worker

Duplicates: the Redis result backend keeps one result per task id, so a task
that ran twice under the same id (at-least-once: acks_late redelivery) is seen
once (the worker logs ``redelivered=True`` for it); ``duplicates`` counts task
ids handed to ``collect`` more than once (e.g. result lists of two runs merged).
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from celery import Celery
from celery.backends.redis import RedisBackend
from celery.result import AsyncResult

from worker import config

ProgressFn = Callable[["Accounting", float], None]


class PollingRedisBackend(RedisBackend):
    """The producer's result backend: results are polled with MGET (`collect`), never awaited over pub/sub.

    Celery's Redis backend subscribes to each sent task's result channel and unsubscribes in
    AsyncResult.__del__. When the Redis behind that connection is gone (here: a port-forward closed
    with its test module), every garbage-collected result retried the unsubscribe with the backend's
    retry policy (90 x 1 s) inside whatever code the collector interrupted: the next module's
    enqueue stalled for 90 s (seen in the priorities e2e). Not subscribing leaves nothing to undo.
    """

    def on_task_call(self, producer, task_id):
        pass


def make_producer(env: Mapping[str, str] | None = None, name: str = "producer") -> Celery:
    """A Celery app with the workers' settings (worker.config) whose results are polled (PollingRedisBackend)."""
    from worker.tasks import make_app

    app = make_app(env, name=name)
    app.conf.result_backend = f"{__name__}.PollingRedisBackend+{config.redis_url(env)}"
    return app


def expected_sums(count: int, start: int = 0) -> list[int]:
    """The sums ``enqueue(..., start=start)`` expects, in enqueue order."""
    return [2 * i for i in range(start, start + count)]


def enqueue(app: Celery, count: int, queue: str, sleep: float | None = None,
            start: int = 0, on_progress: Callable[[int, int], None] | None = None,
            progress_every: int = 100, priority: int | None = None) -> list[AsyncResult]:
    """Send ``add(i, i)`` for i in [start, start+count) to ``queue``; one broker connection.
    `priority` (0-9) picks kombu's priority list when the app has several priority steps."""
    kwargs = {} if sleep is None else {"sleep": sleep}
    options = {} if priority is None else {"priority": priority}
    results: list[AsyncResult] = []
    with app.producer_or_acquire() as producer:
        for n, i in enumerate(range(start, start + count), 1):
            results.append(app.send_task(config.TASK_NAME, args=(i, i), kwargs=kwargs,
                                         queue=queue, producer=producer, **options))
            if on_progress and (n % progress_every == 0 or n == count):
                on_progress(n, count)
    return results


@dataclass
class Accounting:
    expected: int = 0                       # distinct task ids to account for
    received: int = 0                       # ids with a SUCCESS result (right or wrong)
    wrong: dict[str, tuple[int, object]] = field(default_factory=dict)  # id -> (expected, got)
    failed: dict[str, str] = field(default_factory=dict)                # id -> state/exception
    missing: list[str] = field(default_factory=list)                    # ids without a result
    duplicates: int = 0
    reexecuted: dict[str, int] = field(default_factory=dict)            # id -> completed runs (> 1)
    by_worker: Counter = field(default_factory=Counter)                 # hostname -> results
    done: set = field(default_factory=set, repr=False)                  # ids with a final state
    elapsed: float = 0.0
    backend_errors: int = 0                 # polls that found the result backend unreachable
    gave_up: str = ""                       # why collect stopped before its timeout (results lost for good)
    last_backend_error: str = ""

    @property
    def ok(self) -> bool:
        return not (self.missing or self.wrong or self.failed or self.duplicates)

    def summary(self) -> str:
        return (f"expected={self.expected} received={self.received} missing={len(self.missing)} "
                f"wrong={len(self.wrong)} failed={len(self.failed)} duplicates={self.duplicates} "
                f"run-twice={len(self.reexecuted)} "
                f"workers={len(self.by_worker)} elapsed={self.elapsed:.1f}s"
                + (f" backend-errors={self.backend_errors} (last: {self.last_backend_error})"
                   if self.backend_errors else "")
                + (f" gave-up: {self.gave_up}" if self.gave_up else ""))


def transient_errors(backend) -> tuple[type[BaseException], ...]:
    """What a result backend raises while its server is briefly away (Redis restarting)."""
    return (*getattr(backend, "connection_errors", ()), ConnectionError, TimeoutError)


def _fetch_metas(backend, ids: Sequence[str]) -> dict[str, dict]:
    """Task metadata for the ids that have one; one MGET per chunk on a Redis backend."""
    metas: dict[str, dict] = {}
    client = getattr(backend, "client", None)
    if client is not None and hasattr(backend, "get_key_for_task"):
        for at in range(0, len(ids), 500):
            chunk = ids[at:at + 500]
            values = client.mget([backend.get_key_for_task(i) for i in chunk])
            for task_id, raw in zip(chunk, values, strict=True):
                if raw is not None:
                    metas[task_id] = backend.decode_result(raw)
        return metas
    for task_id in ids:  # any other backend: one read per id
        meta = backend.get_task_meta(task_id)
        if meta.get("status") not in (None, "PENDING"):
            metas[task_id] = meta
    return metas


def _asks(question: Callable[[], bool], errors: tuple[type[BaseException], ...]) -> bool:
    """A failed read is not an answer: only a True read counts."""
    try:
        return bool(question())
    except errors:
        return False


def collect(results: Iterable[AsyncResult], timeout: float, on_progress: ProgressFn | None = None,
            expected: Sequence[int] | None = None, poll_interval: float = 0.5,
            progress_every: float = 2.0, nothing_left: Callable[[], bool] | None = None,
            nothing_left_for: float = 60.0) -> Accounting:
    """Wait up to ``timeout`` s for every result; check each sum against ``expected``.

    ``expected[k]`` is the sum for ``results[k]`` (default ``2*k``: what
    ``enqueue(..., start=0)`` sends). ``on_progress(acc, elapsed)`` is called
    every ``progress_every`` s and once at the end.

    ``nothing_left()`` says that no message is left anywhere to produce the
    missing results (the list and the unacked hash empty); when it has held
    for ``nothing_left_for`` s (longer than any task runs) with no result
    arriving, the missing results are lost for good and waiting out
    ``timeout`` would only delay the verdict.
    """
    results = list(results)
    expected = list(expected) if expected is not None else expected_sums(len(results))
    if len(expected) != len(results):
        raise ValueError(f"{len(results)} results but {len(expected)} expected sums")
    acc = Accounting()
    want: dict[str, int] = {}
    for r, value in zip(results, expected, strict=True):
        if r.id in want:
            acc.duplicates += 1
        else:
            want[r.id] = value
    acc.expected = len(want)
    if not results:
        return acc
    backend = results[0].backend
    pending = list(want)
    t0 = time.monotonic()
    last_report = t0
    errors = transient_errors(backend)
    revoked: dict[str, str] = {}
    empty_since: float | None = None
    done_before = 0
    while True:
        try:
            metas = _fetch_metas(backend, pending)
        except errors as e:  # the broker restarting is a fault the results must survive, not a verdict
            acc.backend_errors += 1
            acc.last_backend_error = f"{type(e).__name__}: {e}"
            metas = {}
        for task_id, meta in metas.items():
            state = meta.get("status")
            if state == "SUCCESS":
                got = meta.get("result")
                acc.received += 1
                acc.by_worker[meta.get("worker") or "?"] += 1
                if got != want[task_id]:
                    acc.wrong[task_id] = (want[task_id], got)
            elif state == "FAILURE":
                acc.failed[task_id] = f"{state}: {meta.get('result')!r}"
            elif state == "REVOKED":
                # Not final here: a worker that loses Redis cancels its running task (see
                # worker.config) and records REVOKED, but the message goes back to the queue
                # and a later run stores SUCCESS over it. Still REVOKED at the end = failed.
                revoked[task_id] = f"{state}: {meta.get('result')!r}"
                continue
            else:  # STARTED/RETRY: not final yet
                continue
            revoked.pop(task_id, None)
            acc.done.add(task_id)
        pending = [i for i in pending if i not in acc.done]
        now = time.monotonic()
        acc.elapsed = now - t0
        acc.missing = [i for i in pending if i not in revoked]
        if not pending or acc.elapsed >= timeout:
            acc.failed.update(revoked)
            break
        if nothing_left is not None:
            arrived = len(acc.done) > done_before
            done_before = len(acc.done)
            if arrived or not _asks(nothing_left, errors):
                empty_since = None  # a result came in, or something is still queued or held
            elif empty_since is None:
                empty_since = now
            elif now - empty_since >= nothing_left_for:
                acc.failed.update(revoked)
                acc.gave_up = f"nothing left to run for {now - empty_since:.0f} s"
                break
        if on_progress and now - last_report >= progress_every:
            on_progress(acc, acc.elapsed)
            last_report = now
        time.sleep(min(poll_interval, max(0.0, timeout - acc.elapsed)))
    try:
        acc.reexecuted = executions_over_one(backend, list(want))
    except errors as e:
        acc.backend_errors += 1
        acc.last_backend_error = f"{type(e).__name__}: {e} (run-twice count not read)"
    if on_progress:
        on_progress(acc, acc.elapsed)
    return acc


def executions_over_one(backend, ids: Sequence[str]) -> dict[str, int]:
    """Task ids whose task completed more than once (at-least-once made visible)."""
    client = getattr(backend, "client", None)
    if client is None or not ids:
        return {}
    out: dict[str, int] = {}
    for at in range(0, len(ids), 500):
        chunk = ids[at:at + 500]
        for task_id, n in zip(chunk, client.hmget(config.EXECUTIONS_KEY, chunk), strict=True):
            if n is not None and int(n) > 1:
                out[task_id] = int(n)
    return out


def _print_progress(acc: Accounting, elapsed: float) -> None:
    print(f"results {acc.received}/{acc.expected} missing={len(acc.missing)} "
          f"wrong={len(acc.wrong)} failed={len(acc.failed)} elapsed={elapsed:.1f}s", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m worker.producer", description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500, help="tasks to enqueue (default 500)")
    parser.add_argument("--queue", default="high_priority", choices=config.QUEUE_NAMES)
    parser.add_argument("--sleep", type=float, default=None,
                        help="seconds each task sleeps (default: the worker's TASK_SLEEP_SECONDS)")
    parser.add_argument("--start", type=int, default=0, help="first i of add(i, i) (default 0)")
    parser.add_argument("--wait", action=argparse.BooleanOptionalAction, default=True,
                        help="wait for all results and check them (default: --wait)")
    parser.add_argument("--timeout", type=float, default=600.0, help="bound on --wait, seconds (default 600)")
    args = parser.parse_args(argv)
    if args.count < 0:
        parser.error("--count must be >= 0")

    app = make_producer()  # configured from the environment

    print(f"broker: {config.mask_url(app.conf.broker_url)} queue: {args.queue} count: {args.count}", flush=True)
    t0 = time.monotonic()
    results = enqueue(app, args.count, args.queue, args.sleep, start=args.start,
                      on_progress=lambda n, total: print(f"enqueued {n}/{total}", flush=True))
    print(f"enqueued {len(results)} tasks in {time.monotonic() - t0:.1f}s", flush=True)
    if not args.wait:
        return 0
    acc = collect(results, args.timeout, _print_progress, expected=expected_sums(args.count, args.start))
    for host, n in sorted(acc.by_worker.items()):
        print(f"worker {host}: {n} results")
    for task_id, (want, got) in list(acc.wrong.items())[:20]:
        print(f"WRONG {task_id}: expected {want}, got {got!r}")
    for task_id, why in list(acc.failed.items())[:20]:
        print(f"FAILED {task_id}: {why}")
    for task_id in acc.missing[:20]:
        print(f"MISSING {task_id}")
    print(("OK " if acc.ok else "LOSS ") + acc.summary(), flush=True)
    return 0 if acc.ok else 1


if __name__ == "__main__":
    sys.exit(main())
