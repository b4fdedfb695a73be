"""Each house rule `tox -e lint` states must be able to fail: plant a breach of it in a copy, expect the failure.

A lint contract that is misconfigured (a module renamed out of a layer, a ruff rule
whose path exemption grew too wide) passes silently forever. So on every lint run,
in a throwaway copy of the packages and the lint configuration:

- an upward import (the Kubernetes-access layer importing the pytest glue) must
  break import-linter's layers contract;
- an import of the pytest harness from `offline/` must break the stand-alone contract;
- an import loop between two modules of one layer must break the acyclic contract;
- `subprocess.run` and `time.sleep` outside the process and wait layers must each
  be refused by ruff's banned-API rule (TID251).

Run by `tox -e lint` (the lint environment has ruff and import-linter):
    python scripts/lint-canaries.py
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from common.process import run  # noqa: E402  (the repository's process layer, from the checkout)

COPIED = ("common", "fixtures", "offline", "worker", "pyproject.toml", ".importlinter")


@dataclass(frozen=True)
class Canary:
    """A breach planted in `path` (appended), and the words the failing tool must print."""

    rule: str
    path: str
    line: str
    tool: str  # lint-imports | ruff
    expect: str


CANARIES = (
    Canary("layers: a lower layer imports the pytest glue", "fixtures/infra/kube.py",
           "from fixtures import reporting  # canary", "lint-imports", "fixtures.infra.kube -> fixtures.reporting"),
    Canary("offline/ never imports the harness", "offline/cache.py",
           "import fixtures.waits  # canary", "lint-imports", "offline.cache -> fixtures.waits"),
    Canary("no import loop inside a layer", "fixtures/sut/target.py",
           "import fixtures.sut.deploy  # canary", "lint-imports", ".target -> .deploy"),
    Canary("only common/process.py calls subprocess", "fixtures/sut/pods.py",
           "import subprocess  # canary\nsubprocess.run(['true'])", "ruff", "TID251"),
    Canary("only fixtures/waits.py polls", "fixtures/scaling/analysis.py",
           "import time  # canary\ntime.sleep(1)", "ruff", "TID251"),
)


def _tool(name: str) -> str:
    found = shutil.which(name, path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    if not found:
        raise SystemExit(f"lint-canaries: {name} is not installed (run through `tox -e lint`)")
    return found


def check(canary: Canary, workdir: Path) -> str | None:
    """None when the tool fails on the planted breach, naming it; else what went wrong."""
    tree = workdir / canary.rule.split(":")[0].replace(" ", "-").replace("/", "-")
    for name in COPIED:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, tree / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, tree / name)
    with (tree / canary.path).open("a") as f:
        f.write(f"\n{canary.line}\n")
    if canary.tool == "ruff":
        argv = [_tool("ruff"), "check", "--no-cache", "--select", "TID251", canary.path]
    else:
        argv = [_tool("lint-imports"), "--no-cache"]
    cp = run(argv, cwd=tree, timeout=120, check=False, env={**os.environ, "PYTHONPATH": str(tree)})
    out = cp.stdout + cp.stderr
    if cp.returncode == 0:
        return f"{canary.tool} passed with the breach planted in {canary.path}"
    if canary.expect not in out:
        return f"{canary.tool} failed, but without {canary.expect!r}:\n{out[-1500:]}"
    return None


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="lint-canaries-") as tmp:
        failures = []
        for canary in CANARIES:
            problem = check(canary, Path(tmp))
            print(f"lint-canaries: {'caught' if problem is None else 'NOT CAUGHT'}: {canary.rule} "
                  f"({canary.path}: {canary.line.splitlines()[-1]})")
            if problem:
                failures.append(f"{canary.rule}: {problem}")
    for f in failures:
        print(f"lint-canaries: {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
