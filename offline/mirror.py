"""A local OCI registry that plays docker.io, ghcr.io and registry.k8s.io, filled from the offline build.

Online mode (`--offline=off`) pulls every image from its registry; `--registry-mirror HOST:PORT` sends those
pulls to one mirror instead (Harbor, Artifactory, a Docker Hub pull-through cache). This module makes such a
mirror on a machine without any registry access, so the online path can be run for real here:

    python3 -m offline.mirror start [--port 5000]   # distribution v3 (offline/recipes/registry.sh), detached
    python3 -m offline.mirror fill                  # the offline build's images, under their upstream names,
                                                    # and prints the path of KEDA's release manifest
    python3 -m offline.mirror pulls                 # what was pulled from it (its access log), one per line
    python3 -m offline.mirror stop

One registry serves the three upstreams: containerd asks a mirror for `/v2/<path>/...` with the upstream
host only in `?ns=`, and the paths of the images this suite pulls do not collide across them
(`library/redis`, `kindest/node`, `kedacore/keda`). Stdlib only: `.ci/run` calls it with Debian's python3.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import socket
import sys
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from common.errors import SuiteError
from common.images import (
    OFFLINE_NODE_IMAGE,
    OFFLINE_PYTHON_BASE,
    OFFLINE_REDIS,
    ONLINE_NODE_IMAGE,
    ONLINE_PYTHON_BASE,
    ONLINE_REDIS,
)
from common.paths import cache_root
from common.pins import load_pins
from common.process import gone, run, serve, terminate
from offline import build as offline_build

DOCKER_HUB_HOSTS = ("docker.io", "index.docker.io", "registry-1.docker.io")


def mirror_dir() -> Path:
    return cache_root() / "mirror"


def split_reference(ref: str) -> tuple[str, str, str]:
    """An image reference as (registry host, repository path, tag) the way Docker and containerd read it:
    'redis:7' -> ('docker.io', 'library/redis', '7'); 'ghcr.io/kedacore/keda:2.21.0' -> ('ghcr.io', ...)."""
    name, _, digest = ref.partition("@")
    head, sep, tag = name.rpartition(":")
    if not sep or "/" in tag:
        head, tag = name, "latest"
    first, slash, rest = head.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        host, path = first, rest
    else:
        host, path = "docker.io", head
    if host in DOCKER_HUB_HOSTS:
        host = "docker.io"
        if "/" not in path:
            path = f"library/{path}"
    return host, path, (f"{tag}@{digest}" if digest else tag)


def via_mirror(mirror: str, ref: str) -> str:
    """Where `ref` is found on a mirror that keeps upstream paths: 'redis:7' -> 'MIRROR/library/redis:7'."""
    _, path, tag = split_reference(ref)
    return f"{mirror}/{path}:{tag}"


def upstream_images(pins: dict[str, str]) -> dict[str, str]:
    """The offline build's image for each upstream reference online mode pulls (the names the manifests and
    the suite use online). Kept here, next to the fill, so the mirror and the suite cannot drift apart."""
    keda, k8s = pins["KEDA_VERSION"], pins["K8S_VERSION"]
    out = {f"{ONLINE_NODE_IMAGE}:{k8s}": f"{OFFLINE_NODE_IMAGE}:{k8s}",
           f"docker.io/library/{ONLINE_REDIS}": OFFLINE_REDIS,
           f"docker.io/library/{ONLINE_PYTHON_BASE}": OFFLINE_PYTHON_BASE}
    for name in ("keda", "keda-metrics-apiserver", "keda-admission-webhooks"):
        out[f"ghcr.io/kedacore/{name}:{keda}"] = f"ghcr.io/kedacore/{name}:{keda}"
    return out


@dataclass(frozen=True)
class Mirror:
    """A running registry: where it listens, its process and its files."""

    port: int
    pid: int
    root: Path

    @property
    def address(self) -> str:  # for Docker on this host; kind's nodes reach it through their gateway
        return f"127.0.0.1:{self.port}"

    @property
    def access_log(self) -> Path:
        return self.root / "access.log"


def _state_file(root: Path) -> Path:
    return root / "mirror.json"


def running(root: Path | None = None) -> Mirror | None:
    root = root or mirror_dir()
    try:
        m = Mirror(**{**json.loads(_state_file(root).read_text()), "root": root})
    except (OSError, ValueError, TypeError):
        return None
    return None if gone(m.pid) else m


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        return s.getsockname()[1]


def _answers(port: int) -> str:
    """'' when GET /v2/ answers 200, else what it did instead (for the timeout message)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=2) as r:
            return "" if r.status == 200 else f"HTTP {r.status}"
    except (OSError, urllib.error.URLError) as e:
        return str(e)


def start(binary: Path, port: int = 0, root: Path | None = None, timeout: float = 30) -> Mirror:
    """Start the registry detached (it outlives this process; `stop` ends it) on 0.0.0.0:`port` (0: a free
    one), storage and logs under `root`; return once GET /v2/ answers. A running one is reused."""
    root = root or mirror_dir()
    if (m := running(root)) is not None:
        return m
    port = port or _free_port()
    root.mkdir(parents=True, exist_ok=True)
    config = root / "config.yml"
    config.write_text(f"""version: 0.1
log:
  level: warn
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: {root / 'storage'}
  delete:
    enabled: true
http:
  addr: 0.0.0.0:{port}
""")
    with (root / "access.log").open("a") as access, (root / "registry.log").open("a") as errors:
        # stdout: the access log (one line per request); stderr: the registry's own log.
        proc = serve([binary, "serve", config], lambda: _answers(port), timeout=timeout, stdout=access,
                     stderr=errors, log=root / "registry.log", what=f"the registry on port {port} (GET /v2/)")
    _state_file(root).write_text(json.dumps({"port": port, "pid": proc.pid}))
    return Mirror(port, proc.pid, root)


def stop(root: Path | None = None) -> bool:
    """End the registry started by `start`; True when one was running."""
    root = root or mirror_dir()
    m = running(root)
    if m is not None:
        terminate(m.pid, grace=10)
    _state_file(root).unlink(missing_ok=True)
    return m is not None


def fill(mirror: Mirror, images: dict[str, str], say=print) -> None:
    """Push each local image (the value) to the mirror under its upstream reference's path (the key)."""
    for upstream, local in images.items():
        target = via_mirror(mirror.address, upstream)
        run(["docker", "tag", local, target], timeout=60)
        try:
            run(["docker", "push", target], timeout=900)
        finally:
            run(["docker", "rmi", target], timeout=60, check=False)  # the local name stays; only the alias goes
        say(f"mirror: {local} -> {target}")


# "GET /v2/library/redis/manifests/7.4-bookworm?ns=docker.io HTTP/1.1" 200 1573 "" "containerd/1.6.20+unknown"
_ACCESS = re.compile(r'"(?P<method>GET|HEAD) /v2/(?P<path>.+?)/(?P<kind>manifests|blobs)/(?P<ref>[^ ?]+)'
                     r'(?:\?ns=(?P<ns>[^ &]+))?[^"]*" (?P<status>\d{3}) \S+ "[^"]*" "(?P<agent>[^"]*)"')


@dataclass(frozen=True)
class Pull:
    """One manifest request the mirror served: which image, for which upstream, by whom."""

    path: str  # repository path, e.g. library/redis
    reference: str  # tag or digest
    upstream: str  # containerd's ?ns= (docker.io, ghcr.io...), '' for Docker, which does not send it
    status: int
    agent: str  # containerd/... (a kind node) or docker/... (this host's engine)

    @property
    def by_node(self) -> bool:
        return self.agent.startswith("containerd")


def pulls(access_log: Path, since_line: int = 0) -> list[Pull]:
    """Manifest requests in the access log from line `since_line` on (blobs follow manifests)."""
    lines = access_log.read_text(errors="replace").splitlines()[since_line:] if access_log.exists() else []
    return [Pull(m["path"], m["ref"], m["ns"] or "", int(m["status"]), m["agent"])
            for m in map(_ACCESS.search, lines) if m and m["kind"] == "manifests"]


@dataclass(frozen=True)
class ExpectedPull:
    """An image a run must have pulled through the mirror, and which puller must have asked for it."""

    reference: str  # upstream reference, e.g. ghcr.io/kedacore/keda:2.21.0
    by_node: bool  # True: the kind node's containerd (a Pod's image); False: Docker on this host

    def matches(self, pull: Pull) -> bool:
        host, path, tag = split_reference(self.reference)
        return (pull.path == path and pull.reference == tag and pull.status == 200 and pull.by_node == self.by_node
                and (not self.by_node or pull.upstream == host))


def pull_problems(expected: list[ExpectedPull], seen: list[Pull]) -> list[str]:
    """One line per expected image the mirror did not serve (with what it served instead for that path)."""
    problems = []
    for e in expected:
        if any(e.matches(p) for p in seen):
            continue
        _, path, _ = split_reference(e.reference)
        near = [f"{p.path}:{p.reference} {p.status} ns={p.upstream or '-'} by {p.agent.split(' ')[0]}"
                for p in seen if p.path == path]
        who = "the kind node (containerd)" if e.by_node else "Docker on this host"
        problems.append(f"{e.reference} was not pulled through the mirror by {who}; "
                        f"requests for {path}: {near or 'none'}")
    return problems


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m offline.mirror", description=__doc__.split("\n\n")[0])
    p.add_argument("command", choices=("start", "fill", "pulls", "stop"))
    p.add_argument("--port", type=int, default=0, help="port to listen on (start; default: a free one)")
    p.add_argument("--keda-version", help="KEDA version to push (fill; default: the pin)")
    a = p.parse_args(argv)
    try:
        if a.command == "start":
            results = offline_build.build(["registry"], {}, say=lambda s: print(s, file=sys.stderr))
            if not offline_build.complete(results):
                raise SuiteError("registry not built: " + offline_build.summary(results))
            m = start(offline_build.outputs(results)["registry"] / "registry", a.port)
            print(m.address)
        elif a.command == "fill":
            m = running()
            if m is None:
                raise SuiteError("no mirror running: python3 -m offline.mirror start")
            pins = load_pins({"KEDA_VERSION": a.keda_version} if a.keda_version else {})
            # KEDA's images and the release manifest that goes with them (--keda-manifest), made by the offline
            # KEDA build first: a version not built yet has no images to push
            results = offline_build.build(["keda"], {"KEDA_VERSION": pins["KEDA_VERSION"]},
                                          say=lambda s: print(s, file=sys.stderr))
            if not offline_build.complete(results):
                raise SuiteError(f"KEDA {pins['KEDA_VERSION']} not built: " + offline_build.summary(results))
            fill(m, upstream_images(pins))
            print(offline_build.outputs(results)["keda"] / f"keda-{pins['KEDA_VERSION']}.yaml")
        elif a.command == "pulls":
            for pull in pulls(mirror_dir() / "access.log"):
                print(json.dumps(asdict(pull)))
        else:
            print("stopped" if stop() else "no mirror was running")
    except SuiteError as e:
        print(f"offline.mirror: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(main())
