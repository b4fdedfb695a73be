"""Manifests for the tests of `fixtures/sut/` and of `manifests/`: the committed JSON Schemas, a valid
ScaledObject to break, kustomize found the way the suite finds it, and lookups in rendered documents."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from common.errors import SuiteError
from common.paths import REPO
from fixtures.infra.tools import find_tool

# Written by scripts/refresh-schemas.py, which names this folder (tests/unit/schemas/).
SCHEMAS = REPO / "tests" / "unit" / "schemas"

GOOD_SO: dict[str, Any] = {
    "apiVersion": "keda.sh/v1alpha1",
    "kind": "ScaledObject",
    "metadata": {"name": "redis-scaledobject"},
    "spec": {
        "scaleTargetRef": {"name": "celery-worker"},
        "pollingInterval": 3,
        "cooldownPeriod": 10,
        "minReplicaCount": 1,
        "maxReplicaCount": 10,
        "triggers": [
            {
                "type": "redis",
                "metadata": {"address": "redis.ns.svc.cluster.local:6379", "listName": "high_priority", "listLength": "10"},
                "authenticationRef": {"name": "redis-auth"},
            }
        ],
    },
}


def so(**spec_changes: Any) -> dict[str, Any]:
    """GOOD_SO with `spec_changes` in its spec (a copy)."""
    doc = copy.deepcopy(GOOD_SO)
    doc["spec"].update(spec_changes)
    return doc


def kustomize_bin() -> Path:
    try:
        return find_tool("kustomize")
    except SuiteError as e:
        pytest.fail(str(e), pytrace=False)


def get(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected exactly one {kind}/{name}, found {len(found)}"
    return found[0]


def pod_spec(deploy: dict[str, Any]) -> dict[str, Any]:
    return deploy["spec"]["template"]["spec"]
