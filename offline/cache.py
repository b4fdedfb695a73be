"""Where built components live, and whether a cached one is still whole.

A component's `OUT` directory is complete when it holds a stamp (`.complete`).
The stamp records the ID of every image the recipe listed in `OUT/images`, so a
cached entry counts as a hit only while each of those tags still points at the
image that recipe built: another build that writes the same tags (a patched
KEDA, say) makes the entry stale instead of leaving it "hit" with other images
behind it.

Two caches on one Docker engine (root's and a user's, or two checkouts) write the
same tags. When a tag was moved by the other cache but the image this entry built
is still in the engine (by ID), the tag is moved back instead of rebuilding: the
content is exactly what the stamp recorded.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from common import docker
from common.paths import bin_dir, cache_root

TOOLS = ("kind", "kustomize", "kubectl", "actionlint")
STAMP = ".complete"
# The key in the stamp that maps each listed image to its ID (sha256:...).
IMAGE_IDS = "image_ids"

ImageLookup = Callable[[str], str | None]
ImageTagger = Callable[[str, str], None]


def safe_version(version: str) -> str:
    """A version usable as a path component."""
    return "".join(c if c.isalnum() or c in ".+-_" else "_" for c in version) or "none"


def out_dir(component: str, version: str, key: str) -> Path:
    safe = safe_version(version)
    return cache_root() / component / f"{safe}-{key}"


def images_of(out: Path) -> list[str]:
    f = out / "images"
    return [line.strip() for line in f.read_text().splitlines() if line.strip()] if f.exists() else []


def image_ids(out: Path, lookup: ImageLookup | None = None) -> dict[str, str | None]:
    """Each image listed in `out/images` and its current ID (None when Docker has no such image)."""
    lookup = lookup or docker.image_id
    return {ref: lookup(ref) for ref in images_of(out)}


def missing_images(out: Path, lookup: ImageLookup | None = None) -> list[str]:
    return [ref for ref, image in image_ids(out, lookup).items() if image is None]


def short_id(image: str) -> str:
    """The 12 hex digits `docker images` shows for an ID (sha256:...)."""
    return image.removeprefix("sha256:")[:12]


def stale_reason(recorded: dict[str, str], current: dict[str, str | None]) -> str | None:
    """Why a cached entry cannot be reused, or None when it can.

    `recorded` is the stamp's image IDs (empty for a stamp written before IDs were
    recorded: then only a missing image makes it stale), `current` what Docker has now.
    """
    gone = [ref for ref, image in current.items() if image is None]
    if gone:
        return f"images gone: {', '.join(gone)}"
    changed = [f"image {ref} changed: was {short_id(recorded[ref])}, now {short_id(image)}"
               for ref, image in current.items() if image is not None and recorded.get(ref, image) != image]
    return "; ".join(changed) or None


def restore_tags(recorded: dict[str, str], current: dict[str, str | None], lookup: ImageLookup,
                 tagger: ImageTagger) -> dict[str, str | None]:
    """Move back every tag that now points elsewhere (or nowhere) while the recorded image still exists.

    Returns what each ref points at afterwards.
    """
    after = dict(current)
    for ref, image in current.items():
        want = recorded.get(ref)
        if want and image != want and lookup(want) == want:
            tagger(want, ref)
            after[ref] = lookup(ref)
    return after


def check(out: Path, lookup: ImageLookup | None = None, tagger: ImageTagger | None = None) -> str | None:
    """Whether the cached component in `out` is a hit: None when it is, else why it is stale.

    A hit whose stamp lacks the ID of a listed image (an older cache) gets the
    current ID recorded, so from then on a changed image is noticed.
    """
    data = stamp(out)
    if data is None:
        return "not built"
    lookup = lookup or docker.image_id
    recorded = data.get(IMAGE_IDS) or {}
    current = restore_tags(recorded, image_ids(out, lookup), lookup, tagger or docker.tag)
    reason = stale_reason(recorded, current)
    if reason is None and any(ref not in recorded for ref in current):
        write_stamp(out, {**data, IMAGE_IDS: {**recorded, **current}})
    return reason


def stamp(out: Path) -> dict | None:
    f = out / STAMP
    return json.loads(f.read_text()) if f.exists() else None


def write_stamp(out: Path, data: dict) -> None:
    (out / STAMP).write_text(json.dumps(data, indent=2))


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
