"""Check a KEDA release manifest and its offline overlay (run by offline/recipes/keda.sh).

usage: python3 validate.py <version> <dir with keda-<v>.yaml and keda-<v>.offline.yaml> [<image tag>]
Every document parses; KEDA's four core CRDs (and whatever the version adds); the external-metrics APIService is there; the three
Deployments use the images of this version; the overlay differs only in
imagePullPolicy (Always -> IfNotPresent).
"""
import collections
import sys

import yaml

EXPECTED = {
    "keda-operator": "ghcr.io/kedacore/keda",
    "keda-metrics-apiserver": "ghcr.io/kedacore/keda-metrics-apiserver",
    "keda-admission": "ghcr.io/kedacore/keda-admission-webhooks",
}


def load(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def deployments(docs):
    return {d["metadata"]["name"]: d["spec"]["template"]["spec"]["containers"]
            for d in docs if d["kind"] == "Deployment"}


def main(version, out, tag=None):
    tag = tag or version
    rel = load(f"{out}/keda-{version}.yaml")
    off = load(f"{out}/keda-{version}.offline.yaml")
    kinds = collections.Counter(d["kind"] for d in rel)
    print(f"keda-{version}.yaml: {len(rel)} documents {dict(kinds)}")
    crds = sorted(d["metadata"]["name"] for d in rel if d["kind"] == "CustomResourceDefinition")
    # The four every KEDA 2.x has; 2.15 adds cloudeventsources, 2.16 clustercloudeventsources.
    core = {"scaledobjects.keda.sh", "scaledjobs.keda.sh", "triggerauthentications.keda.sh",
            "clustertriggerauthentications.keda.sh"}
    assert core <= set(crds), f"missing CRDs {sorted(core - set(crds))}: {crds}"
    assert any(d["kind"] == "APIService" and d["metadata"]["name"] == "v1beta1.external.metrics.k8s.io"
               for d in rel), "APIService v1beta1.external.metrics.k8s.io missing"
    for docs, policy in ((rel, "Always"), (off, "IfNotPresent")):
        deps = deployments(docs)
        assert set(deps) == set(EXPECTED), deps.keys()
        for name, (c,) in ((n, cs) for n, cs in deps.items()):
            assert c["image"] == f"{EXPECTED[name]}:{tag}", (name, c["image"])
            assert c["imagePullPolicy"] == policy, (name, c["imagePullPolicy"])

    def norm(docs):
        return sorted(yaml.safe_dump(d, sort_keys=True).replace(
            "imagePullPolicy: IfNotPresent", "imagePullPolicy: Always") for d in docs)
    assert norm(rel) == norm(off), "offline overlay differs beyond imagePullPolicy"
    print(f"OK: {len(crds)} CRDs, APIService v1beta1.external.metrics.k8s.io, "
          "3 Deployments (release: Always, offline: IfNotPresent)")


if __name__ == "__main__":
    main(*sys.argv[1:4])
