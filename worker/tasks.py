"""The Celery app and its one task, ``add``.

Run a worker:  celery -A worker.tasks worker --loglevel=INFO -Q high_priority,low_priority,default
(concurrency, prefetch and the rest come from worker.config / the environment).
"""
from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
from collections.abc import Mapping

from celery import Celery
from celery.signals import worker_ready, worker_shutting_down

from worker import config

log = logging.getLogger(__name__)


def make_app(env: Mapping[str, str] | None = None, name: str = "worker") -> Celery:
    """A Celery app configured from ``env`` (default: os.environ)."""
    app = Celery(name)
    app.conf.update(config.settings_from_env(env))
    return app


app = make_app()


@app.task(name=config.TASK_NAME, bind=True)
def add(self, x, y, sleep=None):
    """Sleep TASK_SLEEP_SECONDS (or ``sleep``), then return x + y.

    The hostname that ran it is stored with the result (result_extended) and
    logged, so the producer side can tell which pod did the work.
    """
    seconds = config.task_sleep_seconds() if sleep is None else float(sleep)
    redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
    log.info("add(%s, %s) id=%s sleep=%.2fs redelivered=%s host=%s",
             x, y, self.request.id, seconds, redelivered, self.request.hostname or socket.gethostname())
    if seconds > 0:
        time.sleep(seconds)
    _count_execution(self)
    return x + y


def _count_execution(task) -> None:
    """Count completed runs per task id, so the test side can report duplicates.

    The result backend keeps one result per id, which would hide a task run
    twice (legal under acks_late's at-least-once); this hash does not. It
    retries through a Redis restart like the result itself (the backend's
    retry policy); past that, a counting failure must never fail the task.
    """
    backend = task.app.backend

    def count() -> None:
        backend.client.hincrby(config.EXECUTIONS_KEY, task.request.id, 1)
        backend.client.expire(config.EXECUTIONS_KEY, int(task.app.conf.result_expires or 3600))

    try:
        if hasattr(backend, "ensure"):
            backend.ensure(count, ())
        else:
            count()
    except Exception as e:
        log.warning("could not count execution of %s: %s", task.request.id, e)


@worker_ready.connect
def _announce(sender=None, **_):
    """The consumer is connected and consuming: say so in Redis, then in the readiness file.

    The pod's readinessProbe (`test -f` on the file) turns Ready only now, not when the
    container starts, so "10 ready" means 10 workers taking tasks. The hostname and the time
    go into a Redis hash first, so a pod never turns Ready before that time: the suite checks
    exactly that, against the pod's Ready transition.
    """
    hostname = getattr(sender, "hostname", None) or socket.gethostname()
    try:
        with app.connection_for_write() as conn:
            conn.default_channel.client.hset(config.CONSUMING_KEY, hostname, f"{time.time():.3f}")
    except Exception as e:  # never keep a working consumer out of service over a bookkeeping write
        log.warning("could not record %s as consuming: %s", hostname, e)
    path = config.ready_file()
    with open(path, "w") as f:
        f.write(f"{hostname}\n")
    # The banner already masks the password; say it once more in our own words.
    log.info("worker ready: broker=%s queues=%s concurrency=%s prefetch=%s ready_file=%s",
             config.mask_url(app.conf.broker_url), ",".join(config.QUEUE_NAMES),
             app.conf.worker_concurrency, app.conf.worker_prefetch_multiplier, path)


@worker_shutting_down.connect
def _withdraw(**_):
    """Not ready once shutdown starts: the Service and the suite stop counting this pod."""
    with contextlib.suppress(FileNotFoundError):
        os.remove(config.ready_file())
