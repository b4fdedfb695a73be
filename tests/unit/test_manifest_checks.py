"""Bad inputs give the right one-line errors from fixtures/manifest_checks.py (no kustomize needed)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from fixtures.sut.checks import (
    check_no_plaintext_secrets,
    check_pod_security_restricted,
    check_scaledobject,
    validate,
)
from fixtures.sut.hpa_model import ScalingBounds, derive_bounds

ROOT = Path(__file__).resolve().parents[2]

SCHEMAS = Path(__file__).resolve().parent / "schemas"

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
    doc = copy.deepcopy(GOOD_SO)
    doc["spec"].update(spec_changes)
    return doc


def trig_meta(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["spec"]["triggers"][0]["metadata"]


def assert_one_line(errors: list[str]) -> None:
    assert errors and all("\n" not in e for e in errors)


def test_good_scaledobject_has_no_errors() -> None:
    assert check_scaledobject(GOOD_SO) == []
    assert validate([GOOD_SO], SCHEMAS) == []


def test_min_greater_than_max() -> None:
    errors = check_scaledobject(so(minReplicaCount=5, maxReplicaCount=2))
    assert errors == ["ScaledObject/redis-scaledobject: spec.minReplicaCount (5) > spec.maxReplicaCount (2)"]


@pytest.mark.parametrize("value", ["ten", "10.5", "", "1e3"])
def test_non_numeric_list_length(value: str) -> None:
    doc = so()
    trig_meta(doc)["listLength"] = value
    errors = check_scaledobject(doc)
    assert errors == [f"ScaledObject/redis-scaledobject: spec.triggers[0].metadata.listLength {value!r} is not an integer"]


@pytest.mark.parametrize("value", ["0", "-3"])
def test_non_positive_list_length(value: str) -> None:
    doc = so()
    trig_meta(doc)["listLength"] = value
    assert check_scaledobject(doc) == [
        f"ScaledObject/redis-scaledobject: spec.triggers[0].metadata.listLength must be > 0, got {value!r}"]


def test_unquoted_list_length() -> None:
    doc = so()
    trig_meta(doc)["listLength"] = 10
    assert check_scaledobject(doc) == [
        "ScaledObject/redis-scaledobject: spec.triggers[0].metadata.listLength must be a quoted string, got int 10"]
    # the schema says the same (trigger metadata is map[string]string)
    assert any("spec.triggers[0].metadata.listLength: 10 is not of type 'string'" in e for e in validate([doc], SCHEMAS))


def test_activation_list_length() -> None:
    doc = so()
    trig_meta(doc)["activationListLength"] = "0"  # KEDA's default, valid: active while LLEN > 0
    assert check_scaledobject(doc) == []
    trig_meta(doc)["activationListLength"] = "-1"
    assert check_scaledobject(doc) == [
        "ScaledObject/redis-scaledobject: spec.triggers[0].metadata.activationListLength must be >= 0, got '-1'"]
    trig_meta(doc)["activationListLength"] = "some"
    assert check_scaledobject(doc) == [
        "ScaledObject/redis-scaledobject: spec.triggers[0].metadata.activationListLength 'some' is not an integer"]


def test_plaintext_password_in_trigger() -> None:
    doc = so()
    trig_meta(doc)["password"] = "abc123"
    expected = ("ScaledObject/redis-scaledobject: plaintext secret in spec.triggers[0].metadata.password; "
                "use authenticationRef to a TriggerAuthentication")
    assert check_scaledobject(doc) == [expected]
    assert check_no_plaintext_secrets([doc]) == [expected]
    # the *FromEnv form names an env var, not a secret
    doc = so()
    trig_meta(doc)["passwordFromEnv"] = "REDIS_PASSWORD"
    assert check_scaledobject(doc) == []


def test_missing_authentication_ref() -> None:
    doc = so()
    del doc["spec"]["triggers"][0]["authenticationRef"]
    assert check_scaledobject(doc) == [
        "ScaledObject/redis-scaledobject: spec.triggers[0].authenticationRef is missing "
        "(redis password must come from a TriggerAuthentication)"]


def test_the_seed_scaledobject_fails_as_expected() -> None:
    seed = so()
    del seed["spec"]["triggers"][0]["authenticationRef"]
    trig_meta(seed).update(address="redis.default:6379", password="abc123")
    errors = check_scaledobject(seed)
    assert_one_line(errors)
    assert len(errors) == 2
    assert "metadata.password" in errors[0] and "authenticationRef is missing" in errors[1]


def deployment(env: list[dict[str, Any]], args: list[str] | None = None) -> dict[str, Any]:
    c: dict[str, Any] = {"name": "redis", "image": "redis", "env": env}
    if args is not None:
        c["args"] = args
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "redis"},
            "spec": {"selector": {"matchLabels": {"a": "b"}},
                     "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [c]}}}}


def test_plaintext_secrets_in_deployments_secrets_and_urls() -> None:
    assert check_no_plaintext_secrets([deployment([{"name": "REDIS_PASSWORD", "value": "abc123"}])]) == [
        "Deployment/redis: plaintext secret in spec.template.spec.containers[0].env[0] (REDIS_PASSWORD); "
        "use valueFrom.secretKeyRef"]
    assert check_no_plaintext_secrets([deployment([], ["--requirepass", "abc123"])]) == [
        "Deployment/redis: plaintext --requirepass in spec.template.spec.containers[0] command/args; use $(REDIS_PASSWORD)"]
    assert check_no_plaintext_secrets([deployment([], ["--requirepass", "$(REDIS_PASSWORD)"])]) == []
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "redis-auth"}, "stringData": {"password": "x"}}
    assert check_no_plaintext_secrets([secret]) == [
        "Secret/redis-auth: Secret with data committed; the suite creates Secrets per run"]
    url = deployment([{"name": "BROKER_URL", "value": "redis://:abc123@redis:6379/0"}])
    assert check_no_plaintext_secrets([url]) == [
        "Deployment/redis: password embedded in URL at spec.template.spec.containers[0].env[0].value"]
    ok = deployment([{"name": "REDIS_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "redis-auth", "key": "password"}}}])
    assert check_no_plaintext_secrets([ok]) == []


def test_pod_security_restricted_errors() -> None:
    errors = check_pod_security_restricted(deployment([]))
    assert_one_line(errors)
    w = "Deployment/redis: spec.template.spec.containers[0]"
    assert f"{w}: runAsNonRoot is not true (pod or container securityContext)" in errors
    assert f"{w}.securityContext.allowPrivilegeEscalation must be false" in errors
    assert f"{w}.securityContext.capabilities.drop must contain ALL" in errors
    assert f"{w}.securityContext.readOnlyRootFilesystem must be true" in errors


def test_validate_messages() -> None:
    doc = deployment([])
    doc["spec"]["template"]["spec"]["terminationGracePeriod"] = 60
    errors = validate([doc, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}], SCHEMAS)
    assert errors == [
        "Deployment/redis: spec.template.spec: Additional properties are not allowed "
        "('terminationGracePeriod' was unexpected)",
        f"ConfigMap/x: no schema for v1/ConfigMap in {SCHEMAS}",
    ]


def test_derive_bounds_defaults_and_overrides() -> None:
    b = derive_bounds(GOOD_SO)
    assert (b.polling_interval, b.cooldown, b.min, b.max, b.list_length) == (3, 10, 1, 10, 10)
    assert b.scale_down_stabilization == 300 and b.activation_list_length == 0 and b.list_name == "high_priority"
    bare = {"kind": "ScaledObject", "metadata": {"name": "x"},
            "spec": {"scaleTargetRef": {"name": "w"}, "triggers": [{"type": "redis", "metadata": {"listName": "q"}}]}}
    d = derive_bounds(bare)
    assert (d.polling_interval, d.cooldown, d.min, d.max, d.list_length, d.scale_down_stabilization) == (
        30, 300, 0, 100, 5, 300)
    e2e = so(advanced={"horizontalPodAutoscalerConfig": {"behavior": {"scaleDown": {
        "stabilizationWindowSeconds": 15, "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]}}}})
    assert derive_bounds(e2e).scale_down_stabilization == 15
    assert derive_bounds(e2e).scale_down_seconds(10) == 15 + 15 + 15
    # HPA default scale-up from 1: max(+4, +100%) per 15 s -> 5 -> 10: two steps
    assert derive_bounds(e2e).scale_up_seconds(1, 10) == 0 + 15 + 2 * 15
    assert isinstance(derive_bounds(e2e), ScalingBounds)
    with pytest.raises(ValueError, match="no redis trigger"):
        derive_bounds({"kind": "ScaledObject", "metadata": {"name": "x"}, "spec": {"triggers": []}})


def test_no_behavior_takes_the_hpa_legacy_path() -> None:
    """The seed's ScaledObject has no `advanced`: the HPA's legacy limit max(2 x current, 4) per sync,
    measured here as 1 -> 4 -> 8 -> 10; any behavior switches to the default policies, 1 -> 5 -> 10."""
    seed = derive_bounds(GOOD_SO)
    assert seed.behavior_set is False
    assert seed.replica_steps(1, 10) == [1, 4, 8, 10]
    assert seed.scale_up_seconds(1, 10) == 0 + 15 + 3 * 15
    assert seed.scale_down_seconds(10) == 300 + 15 + 15  # legacy: one step after the 300 s window
    e2e = derive_bounds(so(advanced={"horizontalPodAutoscalerConfig": {"behavior": {
        "scaleDown": {"stabilizationWindowSeconds": 15}}}}))
    assert e2e.behavior_set is True
    assert e2e.replica_steps(1, 10) == [1, 5, 10]
    assert e2e.replica_steps(0, 10) == [0, 1, 5, 10]
    assert e2e.scale_up_floor(1, 10) == 15


def test_a_model_that_ignores_the_policies_would_be_caught() -> None:
    """The model must fail on a wrong expectation: 1 -> 2 -> 4 -> 8 -> 10 is not what the default policies do."""
    e2e = derive_bounds(so(advanced={"horizontalPodAutoscalerConfig": {"behavior": {}}}))
    assert e2e.replica_steps(1, 10) != [1, 2, 4, 8, 10]


def test_metric_name_and_lists_follow_the_scaledobject():
    from fixtures.sut.hpa_model import external_metric_name, redis_lists

    seed = {"spec": {"triggers": [{"type": "redis", "metadata": {"listName": "high_priority", "listLength": "10"}}]}}
    assert (redis_lists(seed), external_metric_name(seed)) == (("high_priority",), "s0-redis-high_priority")
    dotted = {"spec": {"triggers": [{"type": "redis", "metadata": {"listName": "celery.jobs:a/b"}}]}}
    assert external_metric_name(dotted) == "s0-redis-celery-jobs-a-b"  # KEDA's NormalizeString
    summed = copy.deepcopy(seed)
    summed["spec"]["triggers"].append({"type": "redis", "metadata": {"listName": "high_priority\x06\x169"}})
    summed["spec"]["advanced"] = {"scalingModifiers": {"formula": "a + b", "target": "7", "activationTarget": "2"}}
    assert external_metric_name(summed) == "composite-metric"
    assert redis_lists(summed) == ("high_priority", "high_priority\x06\x169")
    b = derive_bounds(summed)
    assert (b.list_length, b.activation_list_length) == (7, 2), "the HPA's target is the modifiers', not listLength"
