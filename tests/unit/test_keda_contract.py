"""KEDA's contract and the per-cause measurements, on made-up timelines: each check fails on a broken input."""

from __future__ import annotations

import copy
from datetime import UTC

from fixtures.infra import keda
from fixtures.infra.keda import ComponentLog
from fixtures.scaling import contract
from fixtures.scaling.analysis import drain_rate, measure, metric_mismatches, replica_sequence, settled_at_or_below
from fixtures.scaling.observe import Snapshot
from fixtures.sut.hpa_model import ScalingBounds
from fixtures.sut.target import Target

B = ScalingBounds(polling_interval=3, cooldown=10, min=1, max=10, list_length=10, scale_down_stabilization=15)
T0 = 1000.0
READY = {"Ready": "True", "Active": "True", "Fallback": "False"}
IDLE = {"Ready": "True", "Active": "False", "Fallback": "False"}


def snap(t: float, desired: int = 1, ready: int = 1, hpa: int | None = 1, queue: int | None = 0,
         metric: float | None = 0, done: int | None = None, cond: dict | None = None) -> Snapshot:
    return Snapshot(t=T0 + t, desired=desired, ready=ready, hpa_desired=hpa, hpa_current=ready, queue=queue,
                    metric=metric, completed=done, conditions=cond if cond is not None else READY)


def timeline(lag: float = 0.0, half: bool = False) -> list[Snapshot]:
    """500 tasks: HPA 1 -> 5 (t=13) -> 10 (t=28), 10 ready at 31, drained at 73, back to 1 at 90."""
    out = []
    for t in range(0, 95):
        queue = max(0, 500 - max(0, t - 5) * 7)
        metric = None if t < lag else (queue / 2 if half else queue)
        hpa = 1 if t < 13 else 5 if t < 28 else 10 if t < 88 else 1
        ready = 1 if t < 16 else 5 if t < 31 else 10 if t < 90 else 1
        done = min(500, max(0, t - 5) * 7)
        cond = READY if queue else IDLE
        out.append(snap(t, desired=hpa, ready=ready, hpa=hpa, queue=queue, metric=metric, done=done, cond=cond))
    return out


def test_measurements_from_their_own_causes():
    tl = timeline()
    m = measure(tl, T0, B, back_to_min=T0 + 90)
    assert m.reaction == 13 and m.replica_sequence == (1, 5, 10) and m.scale_events == 2
    assert m.scale_up_to_max == 31 - 13
    assert m.scale_down_after_window == 90 - 75 - 0  # LLEN <= 10 (min's share) from t=75; window 15 - sync 15 = 0
    assert m.metric_lag == 0 and 6.9 < m.drain_rate_at_max < 7.1
    assert (m.hpa_sync_period, m.polling_interval) == (15, 3)


def test_a_late_metric_shows_as_lag_and_a_missing_phase_as_none():
    m = measure(timeline(lag=20), T0, B, back_to_min=None)
    assert m.metric_lag == 20 and m.scale_down_after_window is None
    assert measure([snap(0)], T0, B, None).reaction is None


def test_the_scale_down_is_timed_from_the_queue_settling_at_min_share():
    tl = [snap(t, queue=q) for t, q in enumerate([50, 30, 12, 9, 15, 8, 3, 0, 0])]
    assert settled_at_or_below(tl, 10, T0) == T0 + 5
    assert settled_at_or_below([snap(0, queue=50)], 10, T0) is None


def test_replica_sequence_skips_failed_reads_and_stops_at_max():
    tl = [snap(0, hpa=1), snap(1, hpa=None), snap(2, hpa=4), snap(3, hpa=8), snap(4, hpa=10), snap(5, hpa=3)]
    assert replica_sequence(tl, T0, 1, 10) == (1, 4, 8, 10)


def test_drain_rate_needs_a_stretch_at_max():
    assert drain_rate([snap(0, ready=10, queue=90, done=0), snap(2, ready=10, queue=70, done=20)], 10) is None
    assert drain_rate([snap(0, ready=10, queue=90, done=0), snap(10, ready=10, queue=20, done=70)], 10) == 7.0
    assert drain_rate([snap(0, ready=10, queue=0, done=0), snap(10, ready=10, queue=0, done=70)], 10) is None


def test_the_served_metric_must_be_llen():
    assert metric_mismatches(timeline(), 3) == []
    half = metric_mismatches(timeline(half=True), 3)
    assert len(half) > 20 and "metric 250 while LLEN was" in half[0]


def test_a_metric_a_poll_behind_llen_is_fine():
    tl = [snap(t, queue=500 - 7 * t, metric=500 - 7 * max(0, t - 3)) for t in range(20)]
    assert metric_mismatches(tl, 3) == []


HPA = {"spec": {"minReplicas": 1, "maxReplicas": 10,
                "behavior": {"scaleDown": {"stabilizationWindowSeconds": 15, "selectPolicy": "Max",
                                           "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]}},
                "metrics": [{"type": "External", "external": {
                    "metric": {"name": "s0-redis-high_priority"},
                    "target": {"type": "AverageValue", "averageValue": "10"}}}]}}
SO = {"spec": {"advanced": {"horizontalPodAutoscalerConfig": {"behavior": {"scaleDown": {
    "stabilizationWindowSeconds": 15, "selectPolicy": "Max",
    "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]}}}}}}
TARGET = Target("ns")


def test_the_hpa_carries_the_scaledobject():
    assert contract.check_hpa(HPA, SO, B, TARGET) == []


def test_an_hpa_without_the_scale_down_behavior_is_caught():
    """Mutant 2 (KEDA dropping advanced.horizontalPodAutoscalerConfig) as the contract check sees it."""
    hpa = copy.deepcopy(HPA)
    hpa["spec"]["behavior"] = {"scaleDown": {"stabilizationWindowSeconds": 300}}
    errors = contract.check_hpa(hpa, SO, B, TARGET)
    assert any("behavior.scaleDown.stabilizationWindowSeconds 300, ScaledObject says 15" in e for e in errors)


def test_an_hpa_with_other_bounds_or_target_is_caught():
    hpa = copy.deepcopy(HPA)
    hpa["spec"]["maxReplicas"] = 20
    hpa["spec"]["metrics"][0]["external"]["target"]["averageValue"] = "5"
    errors = contract.check_hpa(hpa, SO, B, TARGET)
    assert any("maxReplicas 20" in e for e in errors) and any("expected AverageValue 10" in e for e in errors)


def test_conditions_over_a_run():
    assert contract.check_conditions(timeline(), 0, idle_after=16) == []
    flapping = timeline()
    flapping[40] = snap(40, queue=200, metric=200, cond={"Ready": "False", "Active": "True"})
    assert "not Ready in 1 of" in contract.check_conditions(flapping, 0, 16)[0]
    assert contract.check_conditions(flapping, 0, 16, ready_throughout=False) == []
    # KEDA keeps Active for cooldownPeriod after its last active poll: that is allowed, longer is not.
    cooling = [*timeline(), *(snap(t, queue=0, cond=READY) for t in range(95, 100))]
    assert contract.check_conditions(cooling, 0, idle_after=30) == []
    stuck = [*timeline(), *(snap(t, queue=0, cond=READY) for t in range(95, 120))]
    assert "still Active=True" in contract.check_conditions(stuck, 0, idle_after=30)[0]
    never = [snap(t, queue=100, cond=IDLE) for t in range(5)]
    assert "never Active" in contract.check_conditions(never, 0, 16)[0]
    fallback = [snap(0, queue=0, cond={**IDLE, "Fallback": "True"})]
    assert "Fallback" in contract.check_conditions(fallback, 0, 16)[0]
    # a run that cut the scaler off must have seen Fallback, and must end out of it
    went_and_came_back = [snap(0, queue=5, cond={**READY, "Fallback": "True"}), snap(30, queue=0, cond=IDLE)]
    assert contract.check_conditions(went_and_came_back, 0, 16, ready_throughout=False, fallback_expected=True) == []
    never = [snap(0, queue=5, cond=READY), snap(30, queue=0, cond=IDLE)]
    assert "never in Fallback" in contract.check_conditions(never, 0, 16, fallback_expected=True)[0]
    stuck_in = [snap(0, queue=5, cond=READY), snap(30, queue=0, cond={**IDLE, "Fallback": "True"})]
    assert "still in Fallback" in contract.check_conditions(stuck_in, 0, 16, fallback_expected=True)[0]
    assert contract.check_conditions([], 0, 16) == ["the ScaledObject's conditions were never read"]


def _logs(**texts: str) -> dict[str, ComponentLog]:
    return {name.replace("_", "-"): ComponentLog(name.replace("_", "-"), text) for name, text in texts.items()}


def test_log_problems_and_events():
    logs = _logs(keda_operator="INFO ok\nERROR events is forbidden: User cannot create\npanic: runtime error",
                 keda_operator_metrics_apiserver="WARNING: DATA RACE")
    assert len(contract.log_problems(logs)) == 3
    assert contract.log_problems(_logs(keda_operator="INFO reconciling ScaledObject")) == []
    # the line CI saw while an earlier test's namespace was being deleted: not an RBAC problem ...
    dying = ('E1126 09:16:43.384576 1 event_broadcaster.go:270] "Server rejected event (will not retry!)" '
             'err="events.events.k8s.io \\"redis-auth.18eb8da20133f36a\\" is forbidden: unable to create new '
             'content in namespace faults-d98a because it is being terminated"')
    assert contract.log_problems(_logs(keda_operator=dying)) == []
    # ... while the events RBAC regression (kedacore/keda#7922) still is
    rbac = ('E1126 "Server rejected event" err="events.events.k8s.io is forbidden: User '
            '\\"system:serviceaccount:keda:keda-operator\\" cannot create resource \\"events\\""')
    assert len(contract.log_problems(_logs(keda_operator=rbac))) == 1
    events = [{"reason": "KEDAScalersStarted", "involvedObject": {"kind": "ScaledObject", "name": "redis-scaledobject"}},
              {"reason": "Scheduled", "involvedObject": {"kind": "Pod", "name": "redis-scaledobject"}}]
    assert contract.keda_events(events, "redis-scaledobject") == ["KEDAScalersStarted"]


def test_a_log_never_read_and_a_restart_are_problems_not_silence():
    """An unreadable log is not an empty one; a panic in a restarted container's previous log counts; a pod that
    restarted during the run is named, a pod replaced by a fault or a KEDA swap (a new name) is not."""
    unreadable = {"keda-operator": ComponentLog("keda-operator", error="its log could not be read: timed out")}
    assert contract.log_problems(unreadable) == ["keda-operator: its log could not be read: timed out"]
    crashed = {"keda-operator": ComponentLog("keda-operator", "INFO fine", previous="panic: assignment to nil map")}
    assert contract.log_problems(crashed) == ["keda-operator (previous container): panic: assignment to nil map"]
    before = {"keda-operator-1": 0, "keda-operator-metrics-apiserver-2": 1}
    after = {"keda-operator-9": 0, "keda-operator-metrics-apiserver-2": 3}
    assert keda.restarted_during(before, after) == {"keda-operator-metrics-apiserver-2": 2}
    assert keda.restarted_during(before, before) == {}


def test_a_pod_ready_before_its_consumer_is_caught():
    from datetime import datetime
    from types import SimpleNamespace as NS

    from fixtures.scaling.scenario import ready_before_consuming

    def pod(name, ready_at):
        cond = NS(type="Ready", status="True", last_transition_time=datetime.fromtimestamp(ready_at, UTC))
        return NS(metadata=NS(name=name, deletion_timestamp=None), status=NS(conditions=[cond]))

    consuming = {"celery@ok": 100.0, "celery@early": 100.0}
    assert ready_before_consuming([pod("ok", 101.0)], consuming) == []
    assert ready_before_consuming([pod("ok", 99.5)], consuming) == []  # within the 1 s resolution
    assert "4.0 s before" in ready_before_consuming([pod("early", 96.0)], consuming)[0]
    assert "no consumer announced" in ready_before_consuming([pod("silent", 96.0)], consuming)[0]


def test_scaling_pauses_and_metric_gaps():
    from fixtures.scaling.analysis import longest_held_short, longest_metric_gap

    steady = timeline()
    assert longest_metric_gap(steady) == 1.0
    assert longest_held_short(steady, B) == 14  # 5 replicas from t=13 to t=27: one HPA period, normal
    paused = [snap(t, hpa=5, ready=5, queue=300, metric=None if 20 <= t < 60 else 300) for t in range(80)]
    assert longest_metric_gap(paused) == 41.0
    assert longest_held_short(paused, B) == 79


def test_a_mutant_counts_as_caught_only_by_what_the_run_reported():
    from fixtures.sut.mutants import MUTANTS, caught_line

    out = ('>       assert acc.ok, f"tasks lost or wrong across scale-in: {acc.summary()}"\n'
           "E       AssertionError: tasks lost or wrong across scale-in: expected=40 received=34 missing=6\n")
    assert caught_line(out, MUTANTS["no-acks-late"].caught_by).startswith("E       AssertionError: tasks lost")
    assert caught_line(out.splitlines()[0], MUTANTS["no-acks-late"].caught_by) is None  # the source line alone
    assert caught_line("gate: FAIL against base.json (20/25 checks)", MUTANTS["slow-metrics"].caught_by)
    hpa = ("E       AssertionError: KEDA's HPA does not carry the ScaledObject's settings:\n"
           "E         HPA keda-hpa-redis-scaledobject: behavior.scaleDown.stabilizationWindowSeconds None, "
           "ScaledObject says 15")
    assert caught_line(hpa, MUTANTS["no-scale-down-behavior"].caught_by)


def test_hpa_failure_keeps_the_cause_and_ignores_scaling_disabled():
    from types import SimpleNamespace as NS

    from fixtures.scaling.observe import hpa_failure

    cause = "NOPERM this user has no permissions to run the 'eval' command"
    msg = ("the HPA was unable to compute the replica count: unable to get external metric ns/s0-redis-high_priority/"
           "&LabelSelector{MatchLabels:map[string]string{scaledobject.keda.sh/name: redis-scaledobject,},"
           "MatchExpressions:[]LabelSelectorRequirement{},}: unable to fetch metrics from external metrics API: "
           + "x" * 400 + " " + cause)
    got = hpa_failure([NS(status="False", reason="FailedGetExternalMetric", message=msg)])
    assert got is not None and got.startswith("FailedGetExternalMetric: ...") and got.endswith(cause)
    assert "LabelSelector" not in got
    assert hpa_failure([NS(status="False", reason="ScalingDisabled", message="replica count is zero"),
                        NS(status="True", reason="ValidMetricFound", message="ok")]) is None


def test_scaledobject_warnings_newest_first_warnings_only():
    from datetime import datetime
    from types import SimpleNamespace as NS

    from fixtures.scaling.observe import scaledobject_warnings

    def event(reason, message, minute, kind="Warning", count=1):
        return NS(type=kind, reason=reason, message=message, count=count, event_time=None,
                  last_timestamp=datetime(2026, 11, 26, 10, minute, tzinfo=UTC), metadata=NS(creation_timestamp=None))
    items = [event("KEDAScalerFailed", "connection refused", 1, count=4),
             event("KEDAScalersStarted", "Started scalers watch", 2, kind="Normal"),
             event("KEDAScalerFailed", "NOPERM this user has no permissions to run the 'eval' command", 3, count=2)]
    calls = []

    def list_events(namespace, field_selector, _request_timeout):
        calls.append((namespace, field_selector))
        return NS(items=items)
    kube = NS(core=NS(list_namespaced_event=list_events))
    got = scaledobject_warnings(kube, TARGET)
    assert got == ["KEDAScalerFailed: NOPERM this user has no permissions to run the 'eval' command (x2)",
                   "KEDAScalerFailed: connection refused (x4)"]
    assert calls == [("ns", "involvedObject.kind=ScaledObject,involvedObject.name=redis-scaledobject")]
