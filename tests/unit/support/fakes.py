"""Stand-ins for what a test must not touch: executables on a PATH (docker, kind, go, dpkg...), a process shaped
like the suite's `kubectl port-forward`, and the image IDs a fake Docker reports.

One helper for every fake executable, so that each test states only what its fake answers."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

from common.process import spawn

# Two image IDs for a fake Docker (the offline cache's tests): what a build tagged, and what replaced it.
OLD = "sha256:" + "a" * 64
NEW = "sha256:" + "b" * 64


def fake_executables(directory: Path, *, log: Path | None = None, real: Iterable[str] = (), **scripts: str) -> Path:
    """`directory` (made if missing) with one executable bash script per keyword, name -> body (`apt-get` through
    `**{"apt-get": ...}`). With `log`, each script first appends `<name> <args>` to it; `real` names this machine's
    own tools to link beside the fakes, for a PATH that holds nothing else. Returns `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, body in scripts.items():
        path = directory / name
        logs = f'echo "{name} $*" >>{log}\n' if log else ""
        path.write_text(f"#!/bin/bash\n{logs}{body}\n")
        path.chmod(0o755)
    for tool in real:
        found = shutil.which(tool)
        if found and not (directory / tool).exists():
            (directory / tool).symlink_to(found)
    return directory


def spawn_fake_port_forward(kubeconfig: Path, *, as_flag: bool = False) -> subprocess.Popen[bytes]:
    """A process that only sleeps, shaped like the suite's `kubectl port-forward` for the cluster of `kubeconfig`:
    named in its environment (KUBECONFIG), or with `as_flag` on its command line (--kubeconfig)."""
    if as_flag:
        return spawn(["bash", "-c", "sleep 60; exit 0", "--kubeconfig", str(kubeconfig), "port-forward"])
    return spawn(["bash", "-c", "sleep 60; exit 0", "port-forward"], env={**os.environ, "KUBECONFIG": str(kubeconfig)})
