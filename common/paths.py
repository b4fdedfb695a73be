"""Where things live: the repository and the build cache (tools, components, owner records)."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def cache_root() -> Path:
    """$CKE_CACHE_DIR, else $XDG_CACHE_HOME/celery-keda-e2e, else ~/.cache/celery-keda-e2e."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "celery-keda-e2e"
    return Path(os.environ.get("CKE_CACHE_DIR", default))


def bin_dir() -> Path:
    """Where the offline build links the tools it built (kind, kubectl, kustomize)."""
    return cache_root() / "bin"
