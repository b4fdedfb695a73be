"""What the reaper of fixtures.infra.leftovers is tested with: an owner that is gone, and a KEDA install's
marks on its namespace as a run of this machine (or another) left them."""

from __future__ import annotations

import copy
import json
from dataclasses import asdict
from types import SimpleNamespace

import pytest
import yaml
from kubernetes import client

from common.process import spawn, start_ticks, terminate
from fixtures.infra import keda, leftovers
from fixtures.infra.leftovers import Owner


def dead_owner() -> Owner:
    proc = spawn(["sleep", "60"])
    ticks = start_ticks(proc.pid)
    assert ticks is not None
    terminate(proc, grace=0)
    return Owner(proc.pid, ticks, leftovers._boot_id())


# A release manifest's shape as far as the reaper cares: KEDA's namespace (not first here, to show it is moved
# first), a CRD, a RoleBinding in kube-system and the metrics APIService.
KEDA_DOCS = [
    {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
     "metadata": {"name": "scaledobjects.keda.sh"}},
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "keda", "labels": {"from": "manifest"}}},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
     "metadata": {"name": "keda-auth-reader", "namespace": "kube-system"}},
    {"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
     "metadata": {"name": "v1beta1.external.metrics.k8s.io"}},
]
KEDA_SKELETONS = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "keda"}},
    {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
     "metadata": {"name": "scaledobjects.keda.sh"}},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
     "metadata": {"name": "keda-auth-reader", "namespace": "kube-system"}},
    {"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
     "metadata": {"name": "v1beta1.external.metrics.k8s.io"}},
]


def installed_keda_docs(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """What keda.install_release applies for KEDA_DOCS on a cluster the suite did not create."""
    applied: list[list[dict]] = []
    monkeypatch.setattr(keda, "install", lambda kube, docs, version, **_: applied.append(docs) or 1.0)
    target = SimpleNamespace(kube=None, workers=0, restart_apiserver=None, load_image=None, image_ref=None)
    keda.install_release(target, yaml.safe_dump_all(copy.deepcopy(KEDA_DOCS)), "2.21.0", preloaded=False,
                         marks=leftovers.keda_install_marks)
    return applied[0]


def keda_namespace(docs: list[dict], owner: Owner | None = None, machine: str | None = None):
    """KEDA's namespace as the API server holds it after `docs` were applied; `owner`, `machine`: as if another
    run had installed it."""
    meta = docs[0]["metadata"]
    annotations = dict(meta.get("annotations") or {})
    if owner is not None:
        annotations[leftovers.OWNER_ANNOTATION] = json.dumps(asdict(owner))
    if machine is not None:
        annotations[leftovers.MACHINE_ANNOTATION] = machine
    return client.V1Namespace(metadata=client.V1ObjectMeta(name=meta["name"], labels=meta.get("labels"),
                                                           annotations=annotations),
                              status=client.V1NamespaceStatus(phase="Active"))
