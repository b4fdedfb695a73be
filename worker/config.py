"""Celery settings read from the environment.

Imported by ``worker.tasks`` (``settings_from_env()``) and usable on its own
as a celeryconfig module: ``app.config_from_object("worker.config")`` picks up
the lower-case module attributes computed at import time.

Environment (defaults in brackets):
  REDIS_HOST [localhost], REDIS_PORT [6379], REDIS_DB [0],
  REDIS_PASSWORD [empty; from a Secret in k8s, never printed],
  TASK_SLEEP_SECONDS [1], VISIBILITY_TIMEOUT [300], RESULT_EXPIRES [3600],
  SOFT_SHUTDOWN_TIMEOUT [10], UNACKED_RESTORE_INTERVAL [10].
"""
from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from urllib.parse import quote, urlsplit, urlunsplit

from kombu import Exchange, Queue

QUEUE_NAMES = ("high_priority", "low_priority", "default")
DEFAULT_QUEUE = "default"
TASK_NAME = "worker.tasks.add"
EXECUTIONS_KEY = "cke:executions"  # hash: task id -> completed runs (see tasks._count_execution)


# The readiness marker: written once the worker consumes, removed when it shuts down (worker.tasks);
# the pod's readinessProbe is `test -f` on it. The hash of hostname -> when its consumer started lets
# the suite check that no pod turned Ready before it consumed.
READY_FILE_DEFAULT = "/tmp/celery-consuming"
CONSUMING_KEY = "cke:consuming"


def ready_file(env: Mapping[str, str] | None = None) -> str:
    return (os.environ if env is None else env).get("READY_FILE", READY_FILE_DEFAULT)


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "")
    return int(raw) if raw.strip() else default


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "")
    return float(raw) if raw.strip() else default


def _port(env: Mapping[str, str]) -> int:
    raw = (env.get("REDIS_PORT") or "").strip()
    if raw.startswith("tcp://"):  # a k8s service link (Service `redis`, enableServiceLinks): tcp://ip:port
        raw = raw.rsplit(":", 1)[-1]
    return int(raw) if raw else 6379


def tls_enabled(env: Mapping[str, str]) -> bool:
    return (env.get("REDIS_TLS") or "").lower() in ("1", "true", "yes")


def redis_url(env: Mapping[str, str] | None = None) -> str:
    """The broker/result URL, user and password included (do not print it: see mask_url).
    REDIS_USERNAME: an ACL user (else Redis's `default`); REDIS_TLS=true: `rediss://`."""
    env = os.environ if env is None else env
    host = env.get("REDIS_HOST") or "localhost"
    port = _port(env)
    db = _int(env, "REDIS_DB", 0)
    user = quote(env.get("REDIS_USERNAME") or "", safe="")
    password = env.get("REDIS_PASSWORD") or ""
    auth = f"{user}:{quote(password, safe='')}@" if password else (f"{user}@" if user else "")
    return f"{'rediss' if tls_enabled(env) else 'redis'}://{auth}{host}:{port}/{db}"


def ssl_options(env: Mapping[str, str]) -> dict | None:
    """TLS for broker and result backend: the server's certificate verified against REDIS_CA_FILE
    (the per-run CA of the e2e-acl-tls overlay), or against the system CAs when that is unset."""
    if not tls_enabled(env):
        return None
    options: dict = {"ssl_cert_reqs": ssl.CERT_REQUIRED}
    if env.get("REDIS_CA_FILE"):
        options["ssl_ca_certs"] = env["REDIS_CA_FILE"]
    return options


def mask_url(url: str) -> str:
    """Replace the password of a URL by ``***`` (user and host kept)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = f"{user}:***@{host}"
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def task_sleep_seconds(env: Mapping[str, str] | None = None) -> float:
    return _float(os.environ if env is None else env, "TASK_SLEEP_SECONDS", 1.0)


def priority_steps(env: Mapping[str, str]) -> list[int]:
    """PRIORITY_STEPS ("0" or e.g. "0,3,6,9"): ascending priorities 0-9, the first 0 (kombu's plain list)."""
    raw = env.get("PRIORITY_STEPS", "0")
    try:
        steps = [int(x) for x in raw.split(",")]
    except ValueError:
        raise ValueError(f"PRIORITY_STEPS={raw!r}: expected comma-separated integers such as 0,3,6,9") from None
    if steps[0] != 0 or steps != sorted(set(steps)) or steps[-1] > 9:
        raise ValueError(f"PRIORITY_STEPS={raw!r}: must be ascending, distinct, start at 0 and stay within 0-9")
    return steps


def settings_from_env(env: Mapping[str, str] | None = None) -> dict:
    """All Celery settings, as a dict for ``app.conf.update``."""
    env = os.environ if env is None else env
    url = redis_url(env)
    return {
        "broker_url": url,
        "result_backend": url,
        "task_queues": tuple(
            Queue(name, Exchange(name, type="direct"), routing_key=name)
            for name in QUEUE_NAMES
        ),
        "task_default_queue": DEFAULT_QUEUE,
        "task_default_exchange": DEFAULT_QUEUE,
        "task_default_routing_key": DEFAULT_QUEUE,
        # add goes to `default` unless the caller names a queue; apply_async(queue=...) wins over a route.
        "task_routes": {TASK_NAME: {"queue": DEFAULT_QUEUE}},
        # Ack after the task ran, so a pod killed mid-task leaves its message in `unacked` for redelivery.
        # TASK_ACKS_LATE=false exists only for the suite's `no-acks-late` mutant (fixtures/sut/mutants.py),
        # which proves the scale-in test catches the loss this setting prevents.
        "task_acks_late": env.get("TASK_ACKS_LATE", "true").lower() != "false",
        # A pool child that dies (OOM, SIGKILL) requeues its message instead of acking it as failed.
        "task_reject_on_worker_lost": True,
        # Reserve one message at a time: prefetched messages leave the list, hiding backlog from KEDA's LLEN.
        "worker_prefetch_multiplier": 1,
        # One task per pod: KEDA scales pods, so one pod = one unit of work (and at most one unacked message).
        "worker_concurrency": 1,
        "broker_transport_options": {
            # Unacked messages older than this go back to their list (recovery of SIGKILLed pods).
            "visibility_timeout": _int(env, "VISIBILITY_TIMEOUT", 300),
            # Sweep for expired unacked messages every N s (kombu default is ~100 s: 10 s x throttle 10).
            "unacked_restore_interval": _int(env, "UNACKED_RESTORE_INTERVAL", 10),
            "unacked_restore_throttle": 1,
            # Default one priority step: every message, whatever its priority, lands in the plain list
            # `<queue>` that the seed's ScaledObject LLENs, never in the `<queue>\x06\x16N` priority lists.
            # PRIORITY_STEPS=0,3,6,9 (kombu's default) gives each step its own list: the ScaledObject must
            # then count them all (manifests/overlays/e2e-priorities).
            "priority_steps": priority_steps(env),
            # Poll the worker's queues in turn (no queue starves); does not change where messages land.
            "queue_order_strategy": "round_robin",
            # kombu runs some broker commands synchronously in the worker's event loop; on a connection
            # that died without a FIN/RST (a firewall or NetworkPolicy dropping it, a NAT timeout) they
            # would wait forever, and the loop with them: no BRPOP, no health check, a worker that looks
            # fine and never consumes. Bound them (BRPOP itself returns within brpop_timeout, 1 s).
            "socket_timeout": 30,
            "socket_connect_timeout": 10,
            "socket_keepalive": True,
        },
        "result_backend_transport_options": {
            "retry_on_timeout": True,
            # Storing a result rides through a Redis restart (pod replaced, AOF reloaded): retry each
            # second for up to 90 s instead of Celery's 20, so a task finished during the outage
            # still records its result rather than failing after the work was done.
            "retry_policy": {"max_retries": 90, "interval_start": 0, "interval_step": 1, "interval_max": 1},
        },
        # The result backend's own sockets (Celery's defaults: no connect timeout, 120 s reads). In the
        # Redis-restart e2e a pool child's reconnect SYN went out while the Service still pointed at the
        # dead pod; every retransmit matched the same conntrack entry, so connect() hung in SYN_SENT for
        # minutes with the task's result unstored and the next task reserved behind it (499 of 500).
        # A short connect timeout makes the retry use a new source port, hence the new pod.
        "redis_socket_connect_timeout": 5.0,
        "redis_socket_timeout": 30.0,
        "redis_socket_keepalive": True,
        # Results are read once by the producer; expire them so Redis does not grow run after run.
        "result_expires": _int(env, "RESULT_EXPIRES", 3600),
        # Store worker hostname (and args) with each result: which pod ran which task, no extra keys.
        "result_extended": True,
        # Celery 5.5+ soft shutdown: on cold shutdown (SIGTERM remapped to SIGQUIT by REMAP_SIGTERM=SIGQUIT)
        # let the running task finish for up to this long, then cancel it so its message is requeued.
        # Keep it below the pod's terminationGracePeriodSeconds.
        "worker_soft_shutdown_timeout": _float(env, "SOFT_SHUTDOWN_TIMEOUT", 10.0),
        # Also run the soft-shutdown wait when idle, so reserved (unacked) messages are restored on exit;
        # costs SOFT_SHUTDOWN_TIMEOUT seconds per idle pod at scale-in.
        "worker_enable_soft_shutdown_on_idle": True,
        # If Redis drops, let the running task finish: cancelling it kills the pool child at an arbitrary
        # point, and after one such kill mid-result (e2e: Redis pod restarted) the worker reconnected but
        # never consumed again. Finished instead, the task stores its result once Redis is back; its ack
        # is lost with the old connection, so the message is redelivered after the visibility timeout:
        # a counted duplicate (at-least-once), never a loss.
        "worker_cancel_long_running_tasks_on_connection_loss": False,
        # Every result-backend call (the read-before-write of store_result too, which the Redis
        # backend's own retry_policy does not cover) retries through a Redis restart: ~60 s.
        "result_backend_always_retry": True,
        "result_backend_max_retries": 60,
        "result_backend_base_sleep_between_retries_ms": 200,
        "result_backend_max_sleep_between_retries_ms": 2000,
        # Keep retrying Redis at startup (pods may start before Redis is ready).
        "broker_connection_retry_on_startup": True,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        # Events are not needed by the suite; keep the worker quiet on the broker.
        "worker_send_task_events": False,
        # REDIS_TLS=true: verified TLS to the broker and the result backend (None: plain TCP).
        "broker_use_ssl": ssl_options(env),
        "redis_backend_use_ssl": ssl_options(env),
    }


# celeryconfig-module style: lower-case attributes, computed from the environment at import.
globals().update(settings_from_env())
