"""The nightly workflow validates against GitHub's schema and tests what it should (actionlint: tox -e lint)."""

from __future__ import annotations

import sys

import yaml

from common.paths import REPO
from common.process import run

WORKFLOW = REPO / ".github" / "workflows" / "nightly.yml"


def test_schema():
    cp = run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", WORKFLOW],
             timeout=120, check=False)
    assert cp.returncode == 0, cp.stdout + cp.stderr


def test_every_step_is_a_script_this_repo_runs_within_its_jobs_time():
    """A thin shell: no inline logic, each `run` is one command of scripts/nightly.sh or tox; every step has a
    timeout and the steps' timeouts fit in the job's (a step that hangs is stopped by its own limit, with the
    steps after it still run, not by the job's)."""
    wf = yaml.safe_load(WORKFLOW.read_text())
    for name, job in wf["jobs"].items():
        assert job["timeout-minutes"] <= 360, name  # GitHub's own limit for a job
        assert sum(step["timeout-minutes"] for step in job["steps"]) <= job["timeout-minutes"], name
        for step in job["steps"]:
            if "run" in step:
                assert step["run"].startswith(("bash scripts/nightly.sh ", "tox -e ")), (name, step["run"])
                assert "\n" not in step["run"].strip(), (name, step["run"])
                assert "inputs." not in step["run"], f"{name}: a dispatch input goes through env, not into the shell"


def test_cells_come_from_the_pins_and_each_is_gated_in_its_own_job():
    wf = yaml.safe_load(WORKFLOW.read_text())
    triggers = wf[True] if True in wf else wf["on"]  # YAML 1.1 reads `on` as True
    crons = [c["cron"] for c in triggers["schedule"]]
    assert len(crons) == 2 and "workflow_dispatch" in triggers
    plan, online, offline = (wf["jobs"][j] for j in ("plan", "online", "offline"))
    assert any("nightly.sh matrix" in s.get("run", "") for s in plan["steps"])
    for job, mode in ((online, "off"), (offline, "on")):
        assert job["needs"] == "plan" and "fromJSON(needs.plan.outputs.matrix)" in job["strategy"]["matrix"]
        runs = [s.get("run", "") for s in job["steps"]]
        order = [next(i for i, r in enumerate(runs) if f"nightly.sh {sub}" in r) for sub in ("setup", "baseline", "e2e", "gate")]
        assert order == sorted(order), "setup, then the runner's own baseline, then the candidate, then the gate"
        assert f'nightly.sh baseline {mode} "${{{{ matrix.from }}}}"' in "\n".join(runs)
        assert f'nightly.sh e2e {mode} "${{{{ matrix.keda }}}}" "${{{{ matrix.from }}}}"' in "\n".join(runs)
        for step in job["steps"]:
            if any(k in step.get("run", "") for k in ("nightly.sh gate", "nightly.sh collect", "nightly.sh link")) \
                    or "upload-artifact" in step.get("uses", ""):
                assert step["if"] == "always()", step
    assert any("nightly.sh mutants" in s.get("run", "") for s in offline["steps"])
    assert "concurrency" in wf
