#!/usr/bin/env python3
"""Regenerate the JSON Schemas in tests/unit/schemas/ that the manifest unit tests use.

Where they come from (no network needed at test time; these files are committed):

* Kubernetes built-in kinds (apps/v1 Deployment, v1 Service, v1 Secret,
  v1 PersistentVolumeClaim, networking.k8s.io/v1 NetworkPolicy): the OpenAPI v3 documents shipped in the
  Kubernetes source, ``api/openapi-spec/v3/*.json`` of the Go module
  ``k8s.io/kubernetes@<K8S_VERSION>`` (default v1.34.4).
* KEDA kinds (keda.sh/v1alpha1 ScaledObject, TriggerAuthentication): the
  ``openAPIV3Schema`` of the CRDs in ``config/crd/bases/*.yaml`` of the Go module
  ``github.com/kedacore/keda/v2@v<KEDA_VERSION>`` (default v2.21.0).

Both modules are fetched with ``go mod download -json <module>@<version>`` (Go module
proxy or the local module cache), so only ``go`` is required.

How each file is made self-contained and small:

* every ``$ref`` needed by the kind is copied into ``$defs`` (transitively) and
  rewritten to ``#/$defs/<name>``; CRD ``metadata`` is replaced by Kubernetes' ObjectMeta;
* descriptions, defaults, ``x-kubernetes-*`` annotations are dropped;
* ``x-kubernetes-int-or-string`` becomes ``type: [integer, string]``; Quantity strings
  get the apiserver's quantity regex;
* objects with ``properties`` and no ``additionalProperties`` /
  ``x-kubernetes-preserve-unknown-fields`` get ``additionalProperties: false``
  (the apiserver prunes or, with strict field validation, rejects unknown fields, so a
  typo such as ``terminationGracePeriod`` should fail the unit tests);
* the top level pins ``apiVersion``/``kind`` and requires ``metadata``.

``index.json`` maps ``<apiVersion>/<kind>`` to its file and records the module versions
and checksums the files were generated from.

Refresh (e.g. after bumping a version in offline/versions.env)::

    python3 scripts/refresh-schemas.py [--k8s-version v1.34.4] [--keda-version v2.21.0]
    git add tests/unit/schemas && git commit

Requires Python 3.11 with PyYAML, and ``go``.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "tests" / "unit" / "schemas"
VERSIONS_ENV = ROOT / "offline" / "versions.env"

K8S_MODULE = "k8s.io/kubernetes"
KEDA_MODULE = "github.com/kedacore/keda/v2"

QUANTITY_PATTERN = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))"
    r"(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"

# (apiVersion, kind, OpenAPI v3 document, component name)
K8S_KINDS: list[tuple[str, str, str, str]] = [
    ("apps/v1", "Deployment", "apis__apps__v1_openapi.json", "io.k8s.api.apps.v1.Deployment"),
    ("v1", "Service", "api__v1_openapi.json", "io.k8s.api.core.v1.Service"),
    ("v1", "Secret", "api__v1_openapi.json", "io.k8s.api.core.v1.Secret"),
    ("v1", "PersistentVolumeClaim", "api__v1_openapi.json", "io.k8s.api.core.v1.PersistentVolumeClaim"),
    (
        "networking.k8s.io/v1",
        "NetworkPolicy",
        "apis__networking.k8s.io__v1_openapi.json",
        "io.k8s.api.networking.v1.NetworkPolicy",
    ),
]
# (apiVersion, kind, CRD file)
KEDA_KINDS: list[tuple[str, str, str]] = [
    ("keda.sh/v1alpha1", "ScaledObject", "keda.sh_scaledobjects.yaml"),
    ("keda.sh/v1alpha1", "TriggerAuthentication", "keda.sh_triggerauthentications.yaml"),
]

DROP_KEYS = {"description", "default", "example", "externalDocs", "nullable"}


def schema_file_name(api_version: str, kind: str) -> str:
    """File name for a kind: ``<group or core>-<version>-<Kind>.json``."""
    group, _, version = api_version.rpartition("/")
    return f"{group or 'core'}-{version}-{kind}.json"


def read_version_defaults() -> tuple[str, str]:
    k8s, keda = "v1.34.4", "v2.21.0"
    if VERSIONS_ENV.exists():
        text = VERSIONS_ENV.read_text()
        if m := re.search(r"K8S_VERSION:=([^}\"]+)", text):
            k8s = m.group(1).strip()
        if m := re.search(r"KEDA_VERSION:=([^}\"]+)", text):
            keda = "v" + m.group(1).strip().lstrip("v")
    return os.environ.get("K8S_VERSION", k8s), os.environ.get("KEDA_VERSION", keda)


def go_mod_download(module: str, version: str) -> dict[str, Any]:
    """``go mod download -json module@version``; returns its JSON (Dir, Sum, ...)."""
    with tempfile.TemporaryDirectory() as tmp:  # outside any module, no go.mod needed
        proc = subprocess.run(
            ["go", "mod", "download", "-json", f"{module}@{version}"],
            cwd=tmp,
            capture_output=True,
            text=True,
            check=False,
        )
    info = json.loads(proc.stdout) if proc.stdout.strip() else {}
    if proc.returncode != 0 or "Dir" not in info:
        sys.exit(f"go mod download {module}@{version} failed: {info.get('Error') or proc.stderr.strip()}")
    return info


def ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def clean(node: Any) -> Any:
    """Strip documentation/annotations, rewrite refs, tighten objects (recursive)."""
    if isinstance(node, list):
        return [clean(n) for n in node]
    if not isinstance(node, dict):
        return node
    node = dict(node)
    # {"allOf": [{"$ref": X}], "default": ...} is how OpenAPI v3 wraps a plain reference.
    all_of = node.get("allOf")
    if isinstance(all_of, list) and len(all_of) == 1 and "$ref" in all_of[0]:
        node.pop("allOf")
        node["$ref"] = all_of[0]["$ref"]
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in DROP_KEYS or key.startswith("x-"):
            continue
        if key == "$ref":
            out["$ref"] = "#/$defs/" + ref_name(value)
        elif key in ("properties", "patternProperties", "$defs"):
            out[key] = {k: clean(v) for k, v in value.items()}
        elif key in ("format",):
            continue  # not asserted by jsonschema by default; "int-or-string" etc. are not JSON Schema formats
        else:
            out[key] = clean(value)
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["type"] = ["integer", "string"]
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


def collect_defs(components: dict[str, Any], roots: list[str]) -> dict[str, Any]:
    """Transitive closure of the components referenced from ``roots``."""
    defs: dict[str, Any] = {}
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in defs:
            continue
        schema = clean(components[name])
        if name == "io.k8s.apimachinery.pkg.api.resource.Quantity":
            schema = {"anyOf": [{"type": "string", "pattern": QUANTITY_PATTERN}, {"type": "number"}]}
        defs[name] = schema
        todo.extend(ref_name(r) for r in re.findall(r'"\$ref": "([^"]+)"', json.dumps(schema)))
    return defs


def pin_top(schema: dict[str, Any], api_version: str, kind: str) -> dict[str, Any]:
    props = schema.setdefault("properties", {})
    props["apiVersion"] = {"const": api_version}
    props["kind"] = {"const": kind}
    schema["required"] = sorted(set(schema.get("required", [])) | {"apiVersion", "kind", "metadata"})
    schema["type"] = "object"
    return schema


def build_k8s(spec_dir: Path) -> dict[tuple[str, str], dict[str, Any]]:
    components: dict[str, Any] = {}
    for doc in sorted({d for _, _, d, _ in K8S_KINDS}):
        components.update(json.loads((spec_dir / doc).read_text())["components"]["schemas"])
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for api_version, kind, _, name in K8S_KINDS:
        defs = collect_defs(components, [name])
        top = pin_top(defs.pop(name), api_version, kind)
        out[(api_version, kind)] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": f"{api_version} {kind}",
            **top,
            "$defs": dict(sorted(defs.items())),
        }
    out["__components__"] = components  # type: ignore[index]
    return out


def build_keda(crd_dir: Path, components: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    meta_defs = collect_defs(components, [OBJECT_META])
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for api_version, kind, file_name in KEDA_KINDS:
        crd = yaml.safe_load((crd_dir / file_name).read_text())
        if crd["spec"]["names"]["kind"] != kind:
            sys.exit(f"{file_name}: expected kind {kind}, found {crd['spec']['names']['kind']}")
        version = api_version.split("/")[1]
        matches = [v for v in crd["spec"]["versions"] if v["name"] == version]
        if not matches:
            sys.exit(f"{file_name}: no version {version}")
        schema = clean(copy.deepcopy(matches[0]["schema"]["openAPIV3Schema"]))
        schema["properties"]["metadata"] = {"$ref": "#/$defs/" + OBJECT_META}
        top = pin_top(schema, api_version, kind)
        out[(api_version, kind)] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": f"{api_version} {kind}",
            **top,
            "$defs": dict(sorted(meta_defs.items())),
        }
    return out


def main() -> None:
    k8s_default, keda_default = read_version_defaults()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--k8s-version", default=k8s_default)
    parser.add_argument("--keda-version", default=keda_default)
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args()

    k8s = go_mod_download(K8S_MODULE, args.k8s_version)
    keda = go_mod_download(KEDA_MODULE, args.keda_version)
    built = build_k8s(Path(k8s["Dir"]) / "api" / "openapi-spec" / "v3")
    components = built.pop("__components__")  # type: ignore[call-overload]
    built.update(build_keda(Path(keda["Dir"]) / "config" / "crd" / "bases", components))

    args.out.mkdir(parents=True, exist_ok=True)
    index: dict[str, Any] = {
        "generated_by": "scripts/refresh-schemas.py",
        "sources": {
            K8S_MODULE: {"version": k8s["Version"], "sum": k8s.get("Sum"), "path": "api/openapi-spec/v3/"},
            KEDA_MODULE: {"version": keda["Version"], "sum": keda.get("Sum"), "path": "config/crd/bases/"},
        },
        "kinds": {},
    }
    for (api_version, kind), schema in sorted(built.items()):
        name = schema_file_name(api_version, kind)
        (args.out / name).write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")
        index["kinds"][f"{api_version}/{kind}"] = name
        print(f"wrote {args.out / name} ({(args.out / name).stat().st_size} bytes)")
    (args.out / "index.json").write_text(json.dumps(index, indent=1, sort_keys=True) + "\n")
    print(f"wrote {args.out / 'index.json'}")


if __name__ == "__main__":
    main()
