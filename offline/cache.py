"""Where built components live, and whether a cached one is still whole."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from common.docker import image_exists
from common.paths import bin_dir, cache_root

TOOLS = ("kind", "kustomize", "kubectl")


def safe_version(version: str) -> str:
    """A version usable as a path component."""
    return "".join(c if c.isalnum() or c in ".+-_" else "_" for c in version) or "none"


def out_dir(component: str, version: str, key: str) -> Path:
    safe = safe_version(version)
    return cache_root() / component / f"{safe}-{key}"


def images_of(out: Path) -> list[str]:
    f = out / "images"
    return [line.strip() for line in f.read_text().splitlines() if line.strip()] if f.exists() else []


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
