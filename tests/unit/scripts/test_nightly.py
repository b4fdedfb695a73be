"""The nightly workflow, step by step, the way a GitHub runner runs it: every `run:` of every job, with its
`${{ ... }}` filled in, as a non-root user with passwordless sudo, with GITHUB_OUTPUT, GITHUB_PATH,
GITHUB_STEP_SUMMARY and the rest set, in a checkout of its own; each step's products are checked.

The steps that run a cluster (build, baseline, e2e, nodes, mutants) run here as CKE_NIGHTLY_DRY_RUN (they print the
command they would run, which is checked); tests/e2e/test_online_mode.py runs `e2e` and `gate` for real. The
`tox -e unit` step is this tier itself and is not run again from inside it. The gate step runs for real on
result files placed where the baseline and e2e steps write them: the stored baseline against itself passes, a
candidate slowed by 60 s fails, with a non-zero exit, a failing JUnit verdict and FAIL in the summary.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml

from common.paths import REPO
from common.pins import load_pins
from tests.unit.support.runner_user import as_runner, checkout_for, home_of
from tests.unit.support.runner_user import runner_user as ensure_runner_user

WORKFLOW = REPO / ".github" / "workflows" / "nightly.yml"
BASELINE = REPO / "docs" / "results" / "baseline-2.20.2-online.json"
ARTIFACT_URL = "https://github.com/o/r/actions/runs/1/artifacts/2"
DRY = ("nightly.sh build", "nightly.sh baseline", "nightly.sh e2e", "nightly.sh nodes", "nightly.sh mutants")


@pytest.fixture(scope="module")
def runner() -> tuple[str, Path]:
    user = ensure_runner_user()
    return user, checkout_for(user, REPO)


class Job:
    """One job of the workflow on the runner: GitHub's files, and PATH grown by GITHUB_PATH as GitHub does."""

    def __init__(self, user: str, checkout: Path, name: str):
        self.user, self.checkout = user, checkout
        self.github = checkout / f".github-{name}"
        as_runner(user, f"rm -rf {self.github} artifacts && mkdir -p {self.github}", timeout=60, cwd=checkout)
        self.files = {k: self.github / k.lower() for k in ("GITHUB_OUTPUT", "GITHUB_PATH", "GITHUB_ENV",
                                                           "GITHUB_STEP_SUMMARY")}

    def step(self, step: dict, context: dict[str, str], check: bool = True, **extra_env: str) -> str:
        line = re.sub(r"\$\{\{\s*([^}]+?)\s*\}\}", lambda m: context[m.group(1)], step["run"])
        env = {**{k: str(v) for k, v in self.files.items()}, "GITHUB_ACTIONS": "true", "CI": "true",
               "GITHUB_WORKSPACE": str(self.checkout), "RUNNER_TEMP": str(self.github),
               **{k: re.sub(r"\$\{\{\s*([^}]+?)\s*\}\}", lambda m: context[m.group(1)], str(v))
                  for k, v in (step.get("env") or {}).items()}, **extra_env}
        if any(k in line for k in DRY):
            env["CKE_NIGHTLY_DRY_RUN"] = "1"
        path = 'PATH="$(tac ' + str(self.files["GITHUB_PATH"]) + ' 2>/dev/null | paste -sd: -):$PATH"'
        assigns = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        return as_runner(self.user, f"export {path}; env {assigns} bash -e -c {shlex.quote(line)}; echo step-exit=$?",
                         timeout=1200, cwd=self.checkout, check=check)

    def read(self, name: str) -> str:
        path = self.files[name]
        return path.read_text() if path.exists() else ""


def _steps(job: dict) -> list[dict]:
    return [s for s in job["steps"] if "run" in s and s["run"] != "tox -e unit"]


def _place_results(checkout: Path, user: str, candidate: dict) -> None:
    """result.json files where the baseline and e2e steps write them, owned by the runner."""
    staged = checkout.parent / "staged-results"
    shutil.rmtree(staged, ignore_errors=True)
    (staged / "baseline").mkdir(parents=True)
    shutil.copy(BASELINE, staged / "baseline" / "result.json")
    (staged / "result.json").write_text(json.dumps(candidate))
    as_runner(user, f"mkdir -p artifacts && cp -r {staged}/. artifacts/", timeout=60, cwd=checkout)


def _slowed(result: dict | list[dict], seconds: float) -> list[dict]:
    """The stored runs with every phase and KEDA time `seconds` later: a KEDA that reacts a minute late."""
    out = json.loads(json.dumps(result if isinstance(result, list) else [result]))
    for run in out:
        for t in run["tests"].values():
            for sc in t.get("scenarios", []):
                for k in sc["phases"]:
                    sc["phases"][k] += seconds
                for k in ("reaction", "scale_up_to_max"):
                    sc["keda"][k] += seconds
    return out


def test_every_step_of_every_cell_as_the_runner(runner):
    user, checkout = runner
    wf = yaml.safe_load(WORKFLOW.read_text())
    pins = load_pins()

    plan = Job(user, checkout, "plan")
    for step in _steps(wf["jobs"]["plan"]):
        assert "step-exit=0" in plan.step(step, {"inputs.keda_version": "2.22.0"})
    matrix = json.loads(plan.read("GITHUB_OUTPUT").split("matrix=", 1)[1])
    cells = [(c["keda"], c["from"]) for c in matrix["include"]]
    assert cells == [(pins["KEDA_VERSION"], pins["KEDA_PREVIOUS_VERSION"]),
                     (pins["KEDA_PREVIOUS_VERSION"], pins["KEDA_BEFORE_PREVIOUS_VERSION"]),
                     ("2.22.0", pins["KEDA_VERSION"])], "each cell upgrades from the release before it"

    stored = json.loads(BASELINE.read_text())
    for job_name in ("online", "offline"):
        cell = matrix["include"][0]
        context = {f"matrix.{k}": str(v).lower() if isinstance(v, bool) else str(v) for k, v in cell.items()}
        context["steps.upload.outputs.artifact-url"] = ARTIFACT_URL
        job = Job(user, checkout, job_name)
        for step in _steps(wf["jobs"][job_name]):
            run_line = step["run"]
            if "nightly.sh gate" in run_line:
                _place_results(checkout, user, stored)
            out = job.step(step, context)
            assert "step-exit=0" in out, f"{job_name}: `{run_line}` failed:\n{out[-3000:]}"
            if "nightly.sh setup" in run_line:
                cache = home_of(user) / ".cache" / "celery-keda-e2e"
                assert str(cache / "bin") in job.read("GITHUB_PATH"), "later steps see the built tools"
                for tool in ("kind", "kubectl", "kustomize"):
                    assert (cache / "bin" / tool).exists(), f"setup builds the pinned {tool}"
                owners = {p.stat().st_uid for p in (cache, cache / "venv")}
                assert 0 not in owners, "root-owned files in the runner's cache"
            if "nightly.sh baseline" in run_line:
                assert f"--keda-version={cell['from']}" in out and "--repeat=3" in out
                assert "--results-file=artifacts/baseline/result.json" in out
            if "nightly.sh e2e" in run_line:
                assert f"--keda-version={cell['keda']} --keda-from={cell['from']}" in out
                assert "tox -e e2e-full" in out and "--results-file=artifacts/result.json" in out
            if "nightly.sh nodes" in run_line:
                assert f"--keda-version={cell['keda']}" in out and "--nodes=2" in out
                assert "tox -e e2e-slow" in out and out.rstrip().count("tests/e2e/test_node_loss.py") == 1
                assert "--results-file=artifacts/nodes/result.json" in out, "not the result file the gate reads"
            if "nightly.sh gate" in run_line:
                suite = ElementTree.parse(checkout / "artifacts" / "junit-gate.xml").getroot().find("testsuite")
                assert suite.get("failures") == "0", ElementTree.tostring(suite).decode()[:2000]
                assert f"Upgrade gate: PASS: KEDA {cell['keda']} against {cell['from']}" in job.read(
                    "GITHUB_STEP_SUMMARY")
            if "nightly.sh collect" in run_line:
                assert (checkout / "artifacts" / "build-logs").is_dir()
        summary = job.read("GITHUB_STEP_SUMMARY")
        assert "### Phases" in summary and "| first_scale_up |" in summary
        assert ARTIFACT_URL in summary, "the summary links the uploaded artifact"

    # A candidate a minute slower: the gate step exits non-zero, its JUnit verdict fails, the summary says FAIL.
    gate_step = next(s for s in _steps(wf["jobs"]["online"]) if "nightly.sh gate" in s["run"])
    _place_results(checkout, user, _slowed(stored, 60.0))
    job = Job(user, checkout, "online-slowed")
    out = job.step(gate_step, context, check=False)
    assert "step-exit=1" in out and "gate: FAIL" in out, out[-3000:]
    verdict = ElementTree.parse(checkout / "artifacts" / "junit-gate.xml").getroot().find("testsuite/testcase")
    assert verdict.get("classname") == "gate.verdict" and verdict.find("failure") is not None
    assert "## Upgrade gate: FAIL" in job.read("GITHUB_STEP_SUMMARY")


def test_bad_arguments_are_refused_in_one_line_before_anything_runs():
    for args, message in ((["matrix", "2.21"], "is not a version like 2.21.0"),
                          (["e2e", "maybe", "2.21.0", "2.20.2", "v1.34.4"], "MODE 'maybe'"),
                          (["e2e", "off", "2.21.0", "2.21.0", "v1.34.4"], "the upgrade test needs another release"),
                          (["baseline", "off", "2.20.2", "1.34.4"], "K8S '1.34.4' is not a version")):
        out = as_runner("", f"bash scripts/nightly.sh {' '.join(args)}", timeout=60, cwd=REPO, check=False)
        errors = [line for line in out.splitlines() if "ERROR" in line]
        assert len(errors) == 1 and message in errors[0], out


def test_the_node_loss_step_fails_when_its_test_did_not_run(tmp_path):
    """test_node_loss skips itself on one node; the nightly step that gives it two must not pass on that skip."""
    def ran(body: str) -> str:
        junit = tmp_path / "junit.xml"
        junit.write_text(f'<testsuites><testsuite name="pytest">{body}</testsuite></testsuites>')
        return as_runner("", f"bash scripts/nightly.sh ran {junit}; echo exit=$?", timeout=60, cwd=REPO, check=False)

    case = '<testcase classname="tests.e2e.test_node_loss" name="test_a_lost_worker_node_is_survived" time="1">'
    skipped = ran(case + '<skipped message="needs --nodes 2"/></testcase>')
    assert "exit=1" in skipped and "nothing ran (1 test(s), skipped: test_a_lost_worker_node_is_survived)" in skipped
    assert "exit=1" in ran("") and "nothing ran (0 test(s)" in ran("")
    assert "exit=1" in as_runner("", f"bash scripts/nightly.sh ran {tmp_path}/none.xml; echo exit=$?", timeout=60,
                                 cwd=REPO, check=False)
    passed = ran(case + "</testcase>")
    assert "exit=0" in passed and "1 of 1 test(s) ran" in passed
