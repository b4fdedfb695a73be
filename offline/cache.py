"""Where built components live, and whether a cached one is still whole."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

TOOLS = ("kind", "kustomize", "kubectl")


def cache_root() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "celery-keda-e2e"
    return Path(os.environ.get("CKE_CACHE_DIR", default))


def bin_dir() -> Path:
    return cache_root() / "bin"


def safe_version(version: str) -> str:
    """A version usable as a path component."""
    return "".join(c if c.isalnum() or c in ".+-_" else "_" for c in version) or "none"


def out_dir(component: str, version: str, key: str) -> Path:
    safe = safe_version(version)
    return cache_root() / component / f"{safe}-{key}"


def images_of(out: Path) -> list[str]:
    f = out / "images"
    return [line.strip() for line in f.read_text().splitlines() if line.strip()] if f.exists() else []


def image_exists(ref: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", ref], capture_output=True).returncode == 0


def missing_images(out: Path) -> list[str]:
    return [ref for ref in images_of(out) if not image_exists(ref)]


def stamp(out: Path) -> dict | None:
    f = out / ".complete"
    return json.loads(f.read_text()) if f.exists() else None


def write_stamp(out: Path, data: dict) -> None:
    (out / ".complete").write_text(json.dumps(data, indent=2))


def discard(out: Path) -> None:
    shutil.rmtree(out, ignore_errors=True)


def link_tools(out: Path) -> list[str]:
    """Expose built CLI tools in one directory the suite puts on PATH."""
    linked = []
    for tool in TOOLS:
        src = out / tool
        if src.is_file():
            bin_dir().mkdir(parents=True, exist_ok=True)
            dst = bin_dir() / tool
            if dst.is_symlink() or dst.exists():
                dst.unlink()
            dst.symlink_to(src)
            linked.append(tool)
    return linked
