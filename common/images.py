"""The names of the images the suite runs, online (what the registries serve) and offline (what the offline
build tags), in one table: the suite (fixtures/infra/provision.py), the system under test's manifests and the
registry mirror's fill (offline/mirror.py) all read them here, so they cannot drift apart."""

from __future__ import annotations

ONLINE_NODE_IMAGE = "kindest/node"  # :<Kubernetes version>, kind's published node images
OFFLINE_NODE_IMAGE = "offline.local/kind-node"  # :<Kubernetes version>, offline/recipes/node-image.sh
ONLINE_PYTHON_BASE = "python:3.11-slim-bookworm"
OFFLINE_PYTHON_BASE = "offline.local/python:3.11-bookworm"
ONLINE_REDIS = "redis:7.4-bookworm"
OFFLINE_REDIS = "offline.local/redis:bookworm"
