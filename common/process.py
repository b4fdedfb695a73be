"""The one process layer: run a command with a bound, start and stop a process group.

Every external command of the suite and the offline build goes through here,
so each has a timeout and each failure carries the tail of what the command
said. `terminate` is the only way anything is stopped: SIGTERM, a grace
period, then SIGKILL, for a child we started (`Popen`) or a process we only
know by pid (a port-forward left by a killed run).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

from common.errors import SuiteError

TAIL_LINES = 15


def tail(text: str, lines: int = TAIL_LINES) -> str:
    """The last `lines` non-empty lines of a command's output, for an error message."""
    kept = [line for line in text.strip().splitlines() if line.strip()]
    return "\n".join(kept[-lines:])


def run(
    cmd: Sequence[str | os.PathLike[str]], *, timeout: float, input: str | None = None,
    env: dict[str, str] | None = None, check: bool = True, cwd: Path | str | None = None,
) -> subprocess.CompletedProcess[str]:
    """`subprocess.run` that never hangs and fails with the command's own stderr (a SuiteError)."""
    argv = [str(c) for c in cmd]
    try:
        cp = subprocess.run(argv, input=input, env=env, cwd=cwd, capture_output=True, text=True,
                            timeout=timeout)
    except FileNotFoundError as e:
        raise SuiteError(f"{argv[0]} not found: {e}") from None
    except subprocess.TimeoutExpired:
        raise SuiteError(f"`{' '.join(argv[:4])} ...` did not finish within {timeout:.0f} s") from None
    if check and cp.returncode != 0:
        raise SuiteError(f"`{' '.join(argv[:6])}` failed (exit {cp.returncode}):\n{tail(cp.stderr or cp.stdout)}")
    return cp


def succeeds(cmd: Sequence[str | os.PathLike[str]], *, timeout: float) -> bool:
    """True when the command exits 0 within `timeout` (a question, not a step: no error)."""
    try:
        return run(cmd, timeout=timeout, check=False).returncode == 0
    except SuiteError:
        return False


def _default_interrupts() -> None:
    """In the child, before exec: SIGINT and SIGQUIT at their defaults, whatever this process inherited (a
    shell's background job starts with both ignored, and a Python child would then install no
    KeyboardInterrupt handler: a signal test would fail for that, not for the suite)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)


Process = subprocess.Popen  # what `spawn` returns, for type hints outside this layer
STDOUT, DEVNULL = subprocess.STDOUT, subprocess.DEVNULL


def spawn(argv: Sequence[str | os.PathLike[str]], *, stdout: IO | int | None = None, cwd: Path | str | None = None,
          env: dict[str, str] | None = None, new_group: bool = True, stderr: IO | int | None = STDOUT,
          stdin: IO | int | None = None) -> subprocess.Popen:
    """Start a long-running process, by default in its own process group (so `terminate` gets
    its children too), with SIGINT and SIGQUIT at their defaults; stderr goes where stdout goes unless given."""
    return subprocess.Popen([str(a) for a in argv], stdout=stdout, stderr=stderr, stdin=stdin, cwd=cwd, env=env,
                            text=True, start_new_session=new_group, preexec_fn=_default_interrupts)


def serve(argv: Sequence[str | os.PathLike[str]], answers: Callable[[], str], *, timeout: float, what: str,
          stdout: IO | int | None = None, stderr: IO | int | None = STDOUT, log: Path | None = None,
          interval: float = 0.3) -> subprocess.Popen:
    """Start a server detached (its own session: it outlives this process) and return once `answers()` says ''
    (else it returns what the server did instead). Bounded: a server that exits, or does not answer within
    `timeout` s, is stopped and reported with its last answer and the tail of `log`. The one readiness poll of
    the process layer, for code that runs without the harness's wait layer (offline/: stdlib only)."""
    proc = spawn(argv, stdout=stdout, stderr=stderr, stdin=DEVNULL)
    deadline, last = time.monotonic() + timeout, "not asked yet"
    said = (lambda: tail(log.read_text(errors="replace"), 5)) if log else (lambda: "")
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SuiteError(f"{what} exited ({proc.returncode}): {said()}")
        if not (last := answers()):
            return proc
        time.sleep(interval)
    terminate(proc, grace=5)
    raise SuiteError(f"{what} did not answer within {timeout:.0f} s: {last}")


def wait(proc: subprocess.Popen, timeout: float) -> int | None:
    """The exit code, or None when the process is still running after `timeout` s."""
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


def _proc_stat(pid: int) -> list[str] | None:
    """Fields 3.. of /proc/PID/stat (state first), or None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    return stat.rsplit(")", 1)[1].split()


def start_ticks(pid: int) -> int | None:
    """Field 22 of /proc/PID/stat (start time in clock ticks): tells a reused pid from the original."""
    fields = _proc_stat(pid)
    return int(fields[19]) if fields else None


def gone(pid: int) -> bool:
    """No such process, or only its zombie is left."""
    fields = _proc_stat(pid)
    return fields is None or fields[0] in ("Z", "X")


def terminate(target: subprocess.Popen | int, grace: float) -> None:
    """SIGTERM, then SIGKILL after `grace` s; no-op when it already exited.

    A `Popen` started by `spawn` is signalled as a whole process group and
    reaped; a bare pid (not our child) is signalled alone and watched in /proc.
    """
    if isinstance(target, subprocess.Popen):
        if target.poll() is not None:
            return
        group = os.getpgid(target.pid) == target.pid if not gone(target.pid) else False

        def send(sig: int) -> None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(target.pid, sig) if group else target.send_signal(sig)

        send(signal.SIGTERM)
        if wait(target, grace) is None:
            send(signal.SIGKILL)
            target.wait()
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(target, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if gone(target):
                return
            time.sleep(0.1)
        os.kill(target, signal.SIGKILL)
