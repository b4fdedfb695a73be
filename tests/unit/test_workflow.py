"""The nightly workflow validates (GitHub's schema and actionlint) and tests what it should."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from common.pins import load_pins

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "nightly.yml"
ACTIONLINT = "github.com/rhysd/actionlint/cmd/actionlint@v1.7.12"


def test_schema():
    cp = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                         str(WORKFLOW)], capture_output=True, text=True, timeout=120)
    assert cp.returncode == 0, cp.stdout + cp.stderr


def test_actionlint():
    go = shutil.which("go")
    assert go, "actionlint is built with `go run`; install Go (the offline build needs it anyway)"
    cp = subprocess.run([go, "run", ACTIONLINT, "-no-color", str(WORKFLOW)], capture_output=True, text=True,
                        timeout=600, cwd=REPO)
    assert cp.returncode == 0, cp.stdout + cp.stderr


def test_matrix_covers_pinned_and_previous_keda_and_two_kubernetes():
    wf = yaml.safe_load(WORKFLOW.read_text())
    triggers = wf[True] if True in wf else wf["on"]  # YAML 1.1 reads `on` as True
    assert "schedule" in triggers and "workflow_dispatch" in triggers
    job = wf["jobs"]["e2e"]
    pins = load_pins()
    keda = job["strategy"]["matrix"]["keda"]
    assert pins["KEDA_VERSION"] in keda and len(keda) == 2
    major_minor = {tuple(v.split(".")[:2]) for v in keda}
    assert len(major_minor) == 2, "the second KEDA must be the previous minor"
    k8s = job["strategy"]["matrix"]["k8s"]
    assert pins["K8S_VERSION"] in k8s and len(k8s) == 2
    assert job["timeout-minutes"] <= 180 and "concurrency" in wf
    upload = next(s for s in job["steps"] if "upload-artifact" in s.get("uses", ""))
    assert upload["if"] == "always()"
    assert any("tox -e e2e" in s.get("run", "") for s in job["steps"])
