"""Run a real ``celery worker`` subprocess (the container's command) for a test, then stop it.

    with CeleryWorker(redis.env(), name="w1") as w:
        w.wait_ready(); ...; w.sigterm(); w.wait_exit()   # or w.sigkill()

The worker runs in its own session: ``sigterm()`` signals the main process only
(as the kubelet signals PID 1), ``sigkill()`` kills the whole process group
(main process and pool child, as a container kill does).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from common.paths import REPO
from common.process import spawn, terminate
from fixtures.waits import wait_until

QUEUES = "high_priority,low_priority,default"
# The Redis password of the worker tests' server: it must never show in a worker's or the producer's output.
PASSWORD = "unit-S3cret-pw"
# Worker settings that keep the tests in seconds: restore sweep and soft shutdown of 1 s, tasks that do not sleep.
FAST = {"UNACKED_RESTORE_INTERVAL": "1", "SOFT_SHUTDOWN_TIMEOUT": "1", "TASK_SLEEP_SECONDS": "0"}


class CeleryWorker:
    def __init__(self, env: dict[str, str], name: str = "w1", queues: str = QUEUES,
                 extra_args: tuple[str, ...] = (), remap_sigterm: bool = True):
        self.name = name
        self.hostname = f"{name}@unit"
        self.queues = queues
        self.extra_args = tuple(extra_args)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_", "CELERY_"))}
        self.env.update({"PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"})
        if remap_sigterm:  # as the Dockerfile does: SIGTERM -> cold shutdown with soft-shutdown wait
            self.env["REMAP_SIGTERM"] = "SIGQUIT"
        else:
            self.env.pop("REMAP_SIGTERM", None)
        self.proc: subprocess.Popen | None = None
        self.tmpdir = tempfile.mkdtemp(prefix=f"unit-celery-{name}-")
        self.logfile = Path(self.tmpdir, "worker.log")
        self.ready_file = Path(self.tmpdir, "celery-consuming")  # the readiness marker (worker.config.ready_file)
        self.env["READY_FILE"] = str(self.ready_file)
        self.env.update(env)

    def command(self) -> list[str]:
        return [sys.executable, "-m", "celery", "-A", "worker.tasks", "worker", "--loglevel=INFO",
                "-Q", self.queues, "-n", self.hostname, *self.extra_args]

    def start(self) -> CeleryWorker:
        self._log = open(self.logfile, "wb")
        self.proc = spawn(self.command(), stdout=self._log, cwd=self.tmpdir, env=self.env)
        return self

    def output(self) -> str:
        return self.logfile.read_text(errors="replace") if self.logfile.exists() else ""

    def wait_for(self, text: str, timeout: float = 20.0) -> None:
        def output() -> str:
            if self.proc.poll() is not None and text not in self.output():
                raise RuntimeError(f"worker {self.name} exited ({self.proc.returncode}) before "
                                   f"{text!r}:\n{self.output()[-3000:]}")
            return self.output()

        wait_until(f"worker {self.name} to log {text!r}", output, lambda out: text in out, timeout=timeout,
                   interval=0.05, describe=lambda out: out[-3000:], progress_every=None)

    def wait_ready(self, timeout: float = 30.0) -> CeleryWorker:
        self.wait_for(" ready.", timeout)
        return self

    def sigterm(self) -> None:
        os.kill(self.proc.pid, signal.SIGTERM)

    def sigkill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(10)

    def wait_exit(self, timeout: float = 30.0) -> int:
        return self.proc.wait(timeout)

    def stop(self) -> None:
        if self.proc is None:
            return
        terminate(self.proc, grace=0)  # this worker's session only: main process and pool children
        self._log.close()

    def __enter__(self) -> CeleryWorker:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
