"""Build what the suite needs from source, reusing the cache, within a budget.

`python -m offline.build [components...]` prints, per component, whether the
cache hit and how long the build took; the same function backs the pytest
fixtures so `tox -e e2e --offline` and CI share one code path.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from common.errors import SuiteError
from common.paths import REPO, cache_root
from common.pins import load_pins
from common.process import spawn, terminate, wait
from offline import cache, recipes

# What one e2e run needs; the rest (debian-base, kubernetes, images) comes as deps.
E2E_COMPONENTS = ["kind", "kustomize", "node-image", "keda", "redis", "python-base"]


class BuildError(SuiteError):
    """A component failed to build; the message names it and its log."""


@dataclass
class Result:
    component: str
    version: str
    key: str
    status: str  # hit | built | failed | timeout | not-run
    seconds: float = 0.0
    out: str = ""
    images: list[str] = field(default_factory=list)
    detail: str = ""


def _run_recipe(recipe: recipes.Recipe, env: dict[str, str], log_path: Path, timeout: float | None) -> tuple[int, bool]:
    """Run one recipe in its own process group so a timeout or Ctrl-C kills all of it."""
    with open(log_path, "wb") as log:
        proc = spawn(["bash", recipe.path], stdout=log, cwd=REPO, env=env)
        try:
            rc = wait(proc, timeout)
        except BaseException:
            terminate(proc, grace=0.1)
            raise
        if rc is None:
            terminate(proc, grace=20)
            return -1, True
        return rc, False


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def with_patch_id(pins: dict[str, str]) -> dict[str, str]:
    """KEDA_PATCH (a file) -> KEDA_PATCH_ID `<name>-<sha256 of its text, 8>`: the patched KEDA's version suffix and
    image tag, so two patches never share a cache entry or a tag and the release's never stands in for either."""
    pins = {k: v for k, v in pins.items() if k != "KEDA_PATCH_ID"}
    patch = pins.get("KEDA_PATCH")
    if patch:
        path = Path(patch)
        if not path.is_file():
            raise BuildError(f"KEDA_PATCH {patch}: no such file")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:8]
        stem = "".join(c if c.isalnum() or c in "-_." else "-" for c in path.stem)
        pins["KEDA_PATCH_ID"] = f"{stem}-{digest}"
    return pins


def build(
    components: list[str],
    overrides: dict[str, str] | None = None,
    deadline: float | None = None,
    force: bool = False,
    say: Callable[[str], None] = print,
) -> list[Result]:
    """Build `components` and their deps in order; raise BuildError on the first failure.

    With a `deadline` (time.monotonic() value), a component that would start after
    it is reported `not-run` and a build still running at it is stopped (`timeout`):
    Go's build cache keeps what compiled, so the next run goes on from there.
    """
    pins = with_patch_id(load_pins({**os.environ, **(overrides or {})}))
    plan = recipes.closure(recipes.discover(), components)
    results: list[Result] = []
    keys: dict[str, str] = {}
    outs: dict[str, Path] = {}
    logs = cache_root() / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    stopped = False
    for recipe in plan:
        version = recipe.version(pins)
        k = recipes.key(recipe, version, [keys[d] for d in recipe.deps], REPO)
        keys[recipe.name] = k
        out = cache.out_dir(recipe.name, version, k)
        outs[recipe.name] = out
        res = Result(recipe.name, version, k, "not-run", out=str(out))
        results.append(res)
        if stopped:
            res.detail = "an earlier component did not finish"
            continue
        if not force and cache.stamp(out) is not None:
            stale = cache.check(out)
            if stale is None:
                res.status, res.images = "hit", cache.images_of(out)
                res.seconds = cache.stamp(out).get("seconds", 0.0)
                cache.link_tools(out)
                say(f"offline: {recipe.name:<14} {version:<12} cache hit   (built in {res.seconds:6.0f} s)")
                continue
            say(f"offline: {recipe.name:<14} {version:<12} cache stale ({stale})")
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining < 30:
            res.detail = "build budget used up before it could start"
            stopped = True
            continue
        cache.discard(out)
        out.mkdir(parents=True)
        log_path = logs / f"{recipe.name}-{cache.safe_version(version)}-{k}.log"
        env = {**os.environ, **pins, "REPO": str(REPO), "OUT": str(out), "VERSION": version}
        for dep in recipe.deps:
            env[f"{dep.upper().replace('-', '_')}_OUT"] = str(outs[dep])
        say(f"offline: {recipe.name:<14} {version:<12} building... (log: {log_path})")
        work = Path(tempfile.mkdtemp(prefix=f"offline-{recipe.name}-"))
        env["WORK"] = str(work)
        start = time.monotonic()
        try:
            rc, timed_out = _run_recipe(recipe, env, log_path, remaining)
        except BaseException:
            cache.discard(out)
            raise
        finally:
            shutil.rmtree(work, ignore_errors=True)
        res.seconds = time.monotonic() - start
        if timed_out:
            res.status, res.detail = "timeout", f"stopped at the build budget after {res.seconds:.0f} s"
            cache.discard(out)
            say(f"offline: {recipe.name:<14} {version:<12} STOPPED at the budget after {res.seconds:.0f} s")
            stopped = True
            continue
        if rc != 0:
            res.status = "failed"
            cache.discard(out)
            _record(results)
            raise BuildError(
                f"offline build of {recipe.name} {version} failed (exit {rc}) after {res.seconds:.0f} s; "
                f"log: {log_path}\n{_tail(log_path)}"
            )
        ids = cache.image_ids(out)
        missing = [ref for ref, image in ids.items() if image is None]
        if missing:
            res.status = "failed"
            cache.discard(out)
            _record(results)
            raise BuildError(f"{recipe.name} finished but did not tag {', '.join(missing)}; log: {log_path}")
        res.status, res.images = "built", list(ids)
        cache.write_stamp(out, {"component": recipe.name, "version": version, "key": k,
                                "seconds": round(res.seconds, 1), "built_at": time.time(), cache.IMAGE_IDS: ids})
        cache.link_tools(out)
        say(f"offline: {recipe.name:<14} {version:<12} built in {res.seconds:6.0f} s")
    _record(results)
    return results


def _record(results: list[Result]) -> None:
    path = cache_root() / "last-build.json"
    path.write_text(json.dumps([asdict(r) for r in results], indent=2))


def summary(results: list[Result]) -> str:
    built = [r for r in results if r.status == "built"]
    hits = [r for r in results if r.status == "hit"]
    lines = [f"offline build: {len(hits)} cache hits, {len(built)} built in "
             f"{sum(r.seconds for r in built):.0f} s"]
    for r in results:
        if r.status in ("not-run", "timeout", "failed"):
            lines.append(f"  {r.component} {r.version}: {r.status.upper()} - {r.detail}")
    return "\n".join(lines)


def complete(results: list[Result]) -> bool:
    return all(r.status in ("hit", "built") for r in results)


def outputs(results: list[Result]) -> dict[str, Path]:
    return {r.component: Path(r.out) for r in results}


def main(argv: list[str] | None = None) -> int:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress as it happens, in a CI log too
    p = argparse.ArgumentParser(prog="python -m offline.build", description=__doc__)
    p.add_argument("components", nargs="*", default=E2E_COMPONENTS,
                   help=f"components to build (default: {' '.join(E2E_COMPONENTS)})")
    p.add_argument("--keda-version", help="KEDA version to build (default: the pin in offline/versions.env)")
    p.add_argument("--k8s-version", help="Kubernetes version of the node image (default: the pin)")
    p.add_argument("--patch", type=Path, help="a patch to KEDA's source (-p1): build that KEDA under a tag of its "
                                              "own, <version>-<patch id>, to gate a pull request or a fix")
    p.add_argument("--budget", type=float, help="seconds; stop building at this bound and say what was not built")
    p.add_argument("--force", action="store_true", help="rebuild even on a cache hit")
    p.add_argument("--list", action="store_true", help="list components, versions and cache state, build nothing")
    a = p.parse_args(argv)
    overrides = {}
    if a.keda_version:
        overrides["KEDA_VERSION"] = a.keda_version.removeprefix("v")
    if a.k8s_version:
        overrides["K8S_VERSION"] = a.k8s_version if a.k8s_version.startswith("v") else f"v{a.k8s_version}"
    if a.patch:
        if not a.patch.is_file():
            print(f"offline: ERROR: --patch {a.patch}: no such file", file=sys.stderr)
            return 1
        overrides["KEDA_PATCH"] = str(a.patch.resolve())
    try:
        if a.list:
            pins = with_patch_id(load_pins({**os.environ, **overrides}))
            for r in recipes.closure(recipes.discover(), a.components):
                print(f"{r.name:<14} {r.version(pins):<12} deps: {' '.join(r.deps) or '-'}")
            return 0
        deadline = time.monotonic() + a.budget if a.budget else None
        results = build(a.components, overrides, deadline, a.force)
    except SuiteError as e:
        print(f"offline: ERROR: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("offline: interrupted; the component being built was discarded", file=sys.stderr)
        return 130
    print(summary(results))
    return 0 if complete(results) else 3


if __name__ == "__main__":
    sys.exit(main())
