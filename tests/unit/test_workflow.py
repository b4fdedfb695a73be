"""The nightly workflow validates against GitHub's schema and tests what it should (actionlint: tox -e lint)."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from common.pins import load_pins
from common.process import run

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "nightly.yml"


def test_schema():
    cp = run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", WORKFLOW],
             timeout=120, check=False)
    assert cp.returncode == 0, cp.stdout + cp.stderr


def test_every_step_is_a_script_this_repo_runs():
    """A thin shell: no inline logic, each `run` is one command of scripts/nightly.sh or tox."""
    wf = yaml.safe_load(WORKFLOW.read_text())
    for name, job in wf["jobs"].items():
        assert job["timeout-minutes"] <= 180, name
        for step in job["steps"]:
            if "run" in step:
                assert step["run"].startswith(("bash scripts/nightly.sh ", "tox -e ")), (name, step["run"])
                assert "\n" not in step["run"].strip(), (name, step["run"])
            if any(k in step.get("run", "") for k in ("nightly.sh e2e", "nightly.sh mutants")):
                assert "timeout-minutes" in step, (name, step)


def test_online_nightly_offline_weekly_and_the_pins():
    wf = yaml.safe_load(WORKFLOW.read_text())
    triggers = wf[True] if True in wf else wf["on"]  # YAML 1.1 reads `on` as True
    crons = [c["cron"] for c in triggers["schedule"]]
    assert len(crons) == 2 and "workflow_dispatch" in triggers
    online, offline = wf["jobs"]["online"], wf["jobs"]["offline"]
    assert any("nightly.sh e2e off" in s.get("run", "") for s in online["steps"])
    assert any("nightly.sh e2e on" in s.get("run", "") for s in offline["steps"])
    assert any("nightly.sh mutants" in s.get("run", "") for s in offline["steps"])
    assert "inputs.keda_version" in str(online["strategy"]["matrix"]["include"])
    pins = load_pins()
    for job in (online, offline):
        keda = job["strategy"]["matrix"]["keda"]
        assert {pins["KEDA_VERSION"], pins["KEDA_PREVIOUS_VERSION"]} <= set(keda)
        assert pins["K8S_VERSION"] in job["strategy"]["matrix"]["k8s"]
        upload = next(s for s in job["steps"] if "upload-artifact" in s.get("uses", ""))
        assert upload["if"] == "always()"
    assert "concurrency" in wf
