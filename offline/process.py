"""Stop a child started with start_new_session=True, and everything it spawned."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess


def terminate_group(proc: subprocess.Popen, grace: float) -> None:
    """SIGTERM the process group, SIGKILL it after `grace` s; no-op when it already exited."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
