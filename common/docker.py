"""The Docker engine, asked through its CLI: is it there, which images and containers exist."""

from __future__ import annotations

import shutil

from common.errors import SuiteError
from common.process import run, succeeds

HINT = "start one (on Debian as root: `bash scripts/ensure-docker.sh`, which installs and starts docker.io)"


def require_docker(timeout: float = 20) -> str:
    """Return the engine version, or raise one clear line when no engine answers."""
    if not shutil.which("docker"):
        raise SuiteError(f"the docker CLI is not installed; {HINT}")
    try:
        cp = run(["docker", "version", "--format", "{{.Server.Version}}"], timeout=timeout, check=False)
    except SuiteError:
        raise SuiteError(f"the Docker engine did not answer within {timeout:.0f} s; {HINT}") from None
    if cp.returncode != 0 or not cp.stdout.strip():
        why = (cp.stderr.strip().splitlines() or ["no answer"])[-1]
        raise SuiteError(f"no Docker engine answers ({why}); {HINT}")
    return cp.stdout.strip()


def image_exists(ref: str) -> bool:
    return succeeds(["docker", "image", "inspect", ref], timeout=30)


def image_id(ref: str) -> str | None:
    """The image's ID (sha256:...), or None when there is no such image."""
    cp = run(["docker", "image", "inspect", "--format", "{{.Id}}", ref], timeout=30, check=False)
    return cp.stdout.strip() if cp.returncode == 0 else None


def tag(image: str, ref: str) -> None:
    """Point `ref` at `image` (an ID or another ref)."""
    run(["docker", "tag", image, ref], timeout=30)


def kill(container: str, timeout: float = 60) -> None:
    """`docker kill`: SIGKILL to the container, no shutdown of anything in it (a node lost, not drained)."""
    run(["docker", "kill", container], timeout=timeout)


def start(container: str, timeout: float = 60) -> None:
    run(["docker", "start", container], timeout=timeout)


def container_exists(name: str) -> bool:
    return succeeds(["docker", "container", "inspect", name], timeout=30)


def containers_with_label(label: str) -> list[str]:
    """Names of the containers (running or not) that carry `label` (key or key=value)."""
    out = run(["docker", "ps", "-a", "--filter", f"label={label}", "--format", "{{.Names}}"], timeout=30).stdout
    return out.split()


def build(tag: str, context: str, build_args: dict[str, str] | None = None, timeout: float = 900) -> None:
    args = [a for k, v in (build_args or {}).items() for a in ("--build-arg", f"{k}={v}")]
    run(["docker", "build", *args, "-t", tag, context], timeout=timeout)


def pull(ref: str, timeout: float = 300) -> None:
    run(["docker", "pull", ref], timeout=timeout)


def exec_in(container: str, script: str, timeout: float = 60) -> str:
    """`docker exec <container> sh -c <script>`; its stdout."""
    return run(["docker", "exec", container, "sh", "-c", script], timeout=timeout).stdout
