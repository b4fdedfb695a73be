"""The suite fails when the system under test is broken: each mutant is caught by the failure it names.

Each mutant (fixtures/sut/mutants.py) runs in an inner pytest with `--mutant NAME`, on this session's
cluster when only the manifests change, on a cluster of the patch's own when KEDA itself is patched (that
KEDA is built from source with the patch; the KEDA faults share one patch and one cluster, each switched
on by its environment variable when the inner run installs KEDA). The inner run must fail, and its output must carry the line the
mutant's table entry names: a mutant caught by some other failure does not count as caught.
A mutant caught by the gate (`needs_baseline`: a regression in time, not in behaviour) gets a baseline made
first by the unbroken suite; the same baseline measures the gate's own false-failure rate.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from common.paths import REPO
from common.process import run
from fixtures.infra import cluster as infra_cluster
from fixtures.inner import inner_pytest
from fixtures.report import gate
from fixtures.sut.mutants import DEFAULT_SCENARIO, MUTANTS, Mutant, caught_line

INNER_TIMEOUT = 1500  # s: a patched KEDA build (warm Go cache) + a cluster + the scenario
BASELINE_RUNS = 5  # the unbroken default scenario's runs: the gate's baseline, and the gate's own noise test

pytestmark = pytest.mark.kind_only("inner runs reuse this session's kind cluster by name, or make their own")


def _inner(m: Mutant | None, tests: list[str], workdir: Path, options, cluster, provisioned, patched: dict[str, str],
           *extra: str) -> tuple[int, str, float]:
    """An inner run of `tests` against mutant `m` (None: the unbroken system): on this session's cluster when only
    the manifests change; when KEDA itself is patched, on the cluster of that patch (`patched`: patch -> cluster
    name), which the first such run makes and keeps and the others reuse, each installing the patched KEDA with
    its own fault switched on."""
    mutant = (f"--mutant={m.name}",) if m is not None else ()
    name = None
    if m is None or m.keda_patch is None:
        inner = inner_pytest(options, provisioned, workdir, *tests, on_cluster=cluster, extra=(*mutant, *extra))
    else:
        name = patched.get(m.keda_patch)
        share = "--keep-cluster" if name is None else "--reuse-cluster"
        name = name or f"cke-mutants-{uuid.uuid4().hex[:6]}"
        inner = inner_pytest(options, provisioned, workdir, *tests, cluster_name=name,
                             extra=(*mutant, share, *extra))
    start = time.monotonic()
    cp = run([*inner.argv(), "-m", "e2e"], cwd=REPO, timeout=INNER_TIMEOUT, check=False)
    if name is not None and m.keda_patch is not None and name in cluster.kind.clusters():
        patched[m.keda_patch] = name
    return cp.returncode, cp.stdout + cp.stderr, time.monotonic() - start


@pytest.fixture(scope="module")
def patched_clusters(cluster) -> Iterator[dict[str, str]]:
    """patch -> the kind cluster its mutants share (one build of KEDA, every fault behind a switch): deleted here,
    at the end of the module, whatever the mutants did."""
    made: dict[str, str] = {}
    yield made
    for name in made.values():
        infra_cluster.delete(cluster.kind, name)


@pytest.fixture(scope="module")
def unbroken_baseline(cluster, provisioned, suite_options, tmp_path_factory) -> Path:
    """The default scenario on the unbroken system, BASELINE_RUNS times: the baseline the gate-caught mutants are
    held to (kept in the artifacts as mutants-baseline.json)."""
    tmp = tmp_path_factory.mktemp("baseline")
    result = suite_options.artifacts_dir.resolve() / "mutants-baseline.json"
    rc, out, seconds = _inner(None, [DEFAULT_SCENARIO], tmp / "baseline", suite_options, cluster, provisioned, {},
                              f"--repeat={BASELINE_RUNS}", f"--results-file={result}")
    assert rc == 0, f"the unbroken default scenario failed, so no mutant can be judged:\n{out[-4000:]}"
    print(f"baseline of {BASELINE_RUNS} runs made in {seconds:.0f} s: {result}")
    return result


def test_same_version_runs_pass_the_gate_pairwise(unbroken_baseline, scenario_record):
    """The gate's false-failure rate on this machine: every unbroken run gated against every other one."""
    pairs, failures, lines = gate.pairwise(gate.load(unbroken_baseline))
    scenario_record.note("pairwise", f"{failures} of {pairs} ordered pairs of {BASELINE_RUNS} same-version runs "
                                     "failed the gate")
    assert pairs == BASELINE_RUNS * (BASELINE_RUNS - 1)
    assert failures == 0, "the gate failed runs of the same system against each other:\n" + "\n".join(lines[:30])


@pytest.mark.parametrize("name", list(MUTANTS))
def test_mutant_is_caught(name, request, cluster, provisioned, suite_options, tmp_path, scenario_record,
                          patched_clusters):
    m = MUTANTS[name]
    baseline = (f"--baseline={request.getfixturevalue('unbroken_baseline')}",) if m.needs_baseline else ()
    rc, out, seconds = _inner(m, list(m.tests), tmp_path / name, suite_options, cluster, provisioned,
                              patched_clusters, *baseline)
    line = caught_line(out, m.caught_by)
    caught = line is not None
    scenario_record.note("caught_by", f"{line[:200]} ({seconds:.0f} s)" if caught else f"NOT CAUGHT (exit {rc})")
    assert rc != 0, f"mutant {name} ({m.breaks}) passed the suite: nothing caught it\n{out[-4000:]}"
    assert caught, (f"mutant {name} ({m.breaks}) failed the run, but not with {m.caught_by!r}: the check meant "
                    f"for it did not fire\n{out[-4000:]}")
