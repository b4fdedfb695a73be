"""A stand-in for `fixtures.infra.kube.Kube` with no API server behind it: the objects a test names, served by
the calls the suite makes (namespaces, pods, Deployments, the metrics APIService), each call recorded.

For the checks of a cluster the suite did not create (fixtures/infra/existing.py), whose every refusal a unit
test must show with an input that makes it fail."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException


def deployment(name: str, image: str, labels: dict[str, str] | None = None) -> client.V1Deployment:
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name, labels=labels or {}),
        spec=client.V1DeploymentSpec(selector=client.V1LabelSelector(), template=client.V1PodTemplateSpec(
            spec=client.V1PodSpec(containers=[client.V1Container(name=name, image=image)]))))


def apiservice(namespace: str | None, service: str | None, available: str = "True") -> client.V1APIService:
    ref = client.ApiregistrationV1ServiceReference(namespace=namespace, name=service) if service else None
    return client.V1APIService(
        metadata=client.V1ObjectMeta(name="v1beta1.external.metrics.k8s.io"),
        spec=client.V1APIServiceSpec(service=ref, group_priority_minimum=100, version_priority=100),
        status=client.V1APIServiceStatus(conditions=[client.V1APIServiceCondition(
            type="Available", status=available, reason="Passed" if available == "True" else "FailedDiscoveryCheck",
            message="")]))


def waiting_pod(reason: str, message: str = "") -> client.V1Pod:
    """A pod whose only container waits with `reason` (ErrImagePull: the kubelet could not pull)."""
    return client.V1Pod(status=client.V1PodStatus(phase="Pending", container_statuses=[client.V1ContainerStatus(
        name="probe", image="x", image_id="", ready=False, restart_count=0,
        state=client.V1ContainerState(waiting=client.V1ContainerStateWaiting(reason=reason, message=message)))]))


def finished_pod(phase: str = "Succeeded") -> client.V1Pod:
    return client.V1Pod(status=client.V1PodStatus(phase=phase))


@dataclass
class _Core:
    pod: client.V1Pod | None = None  # what read_namespaced_pod answers
    namespaces: list[client.V1Namespace] = field(default_factory=list)
    pods: dict[str, list[client.V1Pod]] = field(default_factory=dict)  # namespace -> pods (list_namespaced_pod)
    calls: list[str] = field(default_factory=list)

    def create_namespace(self, body: client.V1Namespace) -> None:
        self.calls.append(f"create namespace {body.metadata.name}")
        self.namespaces.append(body)

    def delete_namespace(self, name: str, **_: Any) -> None:
        self.calls.append(f"delete namespace {name}")
        self.namespaces = [n for n in self.namespaces if n.metadata.name != name]

    def read_namespace(self, name: str) -> client.V1Namespace:
        for n in self.namespaces:
            if n.metadata.name == name:
                return n
        raise ApiException(status=404, reason="Not Found")

    def list_namespaced_pod(self, namespace: str) -> client.V1PodList:
        return client.V1PodList(items=self.pods.get(namespace, []))

    def list_namespace(self, label_selector: str = "") -> client.V1NamespaceList:
        wanted = dict(kv.split("=", 1) for kv in label_selector.split(",") if kv)
        return client.V1NamespaceList(items=[n for n in self.namespaces if all(
            (n.metadata.labels or {}).get(k) == v for k, v in wanted.items())])

    def create_namespaced_pod(self, namespace: str, body: client.V1Pod) -> None:
        self.calls.append(f"create pod {namespace}/{body.metadata.name} {body.spec.containers[0].image}")

    def read_namespaced_pod(self, name: str, namespace: str) -> client.V1Pod:
        assert self.pod is not None, "the test names no pod"
        return self.pod

    def list_node(self) -> client.V1NodeList:
        return client.V1NodeList(items=[])


@dataclass
class _Apps:
    deployments: dict[str, list[client.V1Deployment]] = field(default_factory=dict)  # namespace -> Deployments

    def list_namespaced_deployment(self, namespace: str) -> client.V1DeploymentList:
        return client.V1DeploymentList(items=self.deployments.get(namespace, []))


@dataclass
class _Apiregistration:
    service: client.V1APIService | None = None  # None: no external metrics APIService (404)

    def read_api_service(self, name: str) -> client.V1APIService:
        if self.service is None:
            raise ApiException(status=404, reason="Not Found")
        return self.service


@dataclass
class FakeKube:
    """Shaped like Kube where fixtures/infra/existing.py reads one."""

    kubeconfig: Path = Path("/nonexistent/kubeconfig")
    kubectl_bin: Path = Path("kubectl")
    env: dict[str, str] = field(default_factory=dict)
    core: _Core = field(default_factory=_Core)
    apps: _Apps = field(default_factory=_Apps)
    apiregistration: _Apiregistration = field(default_factory=_Apiregistration)
    api: object = None
