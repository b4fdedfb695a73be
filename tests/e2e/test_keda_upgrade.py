"""KEDA replaced in place under load, the way users upgrade (and roll back), while a ScaledObject scales.

The session runs the candidate KEDA (--keda-version); the other end is --keda-from (the previous pin).
`rollback` swaps the candidate for the previous release once the workers have scaled past 1;
`upgrade` then swaps it back the same way. Each time the release manifest is applied server-side (offline:
the manifest and images the offline build made), and the test asserts that the existing ScaledObject is
accepted by the new webhook and stays Ready, the HPA keeps its owner (same UID, or the replacement is
recorded), scaling goes on to max and back to min, and every task is accounted for. The session's KEDA is
the candidate again afterwards, whatever happens.
"""

from __future__ import annotations

import time

import pytest
import yaml

from fixtures.infra import keda
from fixtures.scaling.analysis import longest_held_short, longest_metric_gap, pause_past_outage
from fixtures.scaling.scenario import ScaleOutAndIn

TASKS = 500
QUEUE = "high_priority"


def _hpa_identity(app) -> tuple[str, list[str]]:
    hpa = app.kube.autoscaling.read_namespaced_horizontal_pod_autoscaler(app.target.hpa, app.namespace)
    owners = [f"{o.kind}/{o.name}/{o.uid}" for o in hpa.metadata.owner_references or []]
    return hpa.metadata.uid, owners


@pytest.fixture(scope="module")
def keda_versions(provisioned, suite_options):
    """(candidate, previous) and a way to put one of them in place."""
    if suite_options.keda_from == provisioned.keda_version:
        pytest.fail(f"--keda-from {suite_options.keda_from} is the version under test: nothing to upgrade from",
                    pytrace=False)
    return provisioned.keda_version, suite_options.keda_from


@pytest.fixture(scope="module")
def keda_swap(cluster, provisioned, keda_versions):
    """`swap(version)` installs that KEDA in place and returns the seconds until it serves; the candidate is
    put back at the end of the module."""
    manifests = {v: provisioned.keda_manifest(v) for v in keda_versions}  # built or fetched before any load

    def swap(version: str) -> float:
        return keda.install_release(cluster, manifests[version], version, preloaded=provisioned.offline)

    yield swap
    if keda.running_images(cluster.kube) != sorted(keda.images_of(keda.manifest_docs(manifests[keda_versions[0]],
                                                                                      provisioned.offline))):
        swap(keda_versions[0])


@pytest.mark.disruptive("replaces the cluster's KEDA with --keda-from and back", keda=True)
@pytest.mark.parametrize("direction", ["rollback", "upgrade"])
def test_keda_swapped_under_load(direction, keda_versions, keda_swap, deployed_app, celery_app, redis_client,
                                 record_timeline, scenario_record):
    app = deployed_app
    candidate, previous = keda_versions
    start_with, swap_to = (candidate, previous) if direction == "rollback" else (previous, candidate)
    before = keda.running_images(app.kube)
    if not any(start_with in img for img in before):  # the module's first test leaves `previous` in place
        scenario_record.measure("initial_install", keda_swap(start_with), f"KEDA {start_with}")
    hpa_before = _hpa_identity(app)
    swap_record: dict[str, object] = {}

    def swap_keda() -> None:
        t0 = time.monotonic()
        swap_record["install"] = keda_swap(swap_to)
        swap_record["images"] = keda.running_images(app.kube)
        # The new webhook must accept the ScaledObject users already have.
        app.kube.kubectl("apply", "--server-side", "--dry-run=server", "--force-conflicts", "-n", app.namespace,
                         "-f", "-", input=yaml.safe_dump(app.expected_scaledobject))
        swap_record["swap_s"] = time.monotonic() - t0

    with record_timeline() as tl:
        # The swap's own time is added to every phase after it (ScaleOutAndIn._inject); after it, one HPA sync for
        # the HPA to read KEDA's metric again (the pause itself is asserted below: pause_past_outage).
        scenario = ScaleOutAndIn(app, celery_app, redis_client, tl, TASKS, QUEUE,
                                 fault_allowance=app.bounds.hpa_sync_period,
                                 ready_throughout=True)
        result = scenario_record.attach(scenario.result)
        scenario.run(after_scale_up=swap_keda)
    hpa_after = _hpa_identity(app)
    metric_gaps = sum(1 for s in tl.samples if s.metric is None)
    scenario_record.measure("metric_unreadable_longest", longest_metric_gap(tl.samples),
                            "longest time without a good read of KEDA's metric")
    scenario_record.measure("scaling_pause_longest", longest_held_short(tl.samples, app.bounds),
                            f"HPA desired count unchanged while the backlog asked for more; one sync "
                            f"({app.bounds.hpa_sync_period} s) is normal")
    scenario_record.measure("keda_swap", swap_record.get("swap_s"), f"KEDA {start_with} -> {swap_to}")
    scenario_record.note("keda_images_after", ", ".join(swap_record.get("images", [])))
    scenario_record.note("metric_unavailable", f"{metric_gaps} of {len(tl.samples)} samples")
    scenario_record.note("hpa", "same HPA, same owner" if hpa_after == hpa_before
                         else f"replaced: {hpa_before} -> {hpa_after}")
    assert all(swap_to in img for img in swap_record["images"]), (
        f"after the swap KEDA runs {swap_record['images']}, not {swap_to}")
    assert hpa_after[1] == hpa_before[1], f"the HPA's owner changed: {hpa_before[1]} -> {hpa_after[1]}"
    assert result.peak_ready == app.bounds.max
    problem = pause_past_outage(tl.samples, app.bounds)
    assert problem is None, f"KEDA {start_with} -> {swap_to}: {problem}"
