"""`autoscaling.keda.sh/paused-replicas` during a scale-out holds the workers there; removing it resumes.

Teams pause a ScaledObject for maintenance with tasks still queued: KEDA must set the
Deployment to the paused count and keep it there (it removes its HPA while paused), and,
once the annotation is gone, scale on the backlog again up to max with no task lost.
"""

from __future__ import annotations

import time

import pytest

from fixtures.scaling.observe import take
from fixtures.scaling.scenario import POD_START_ALLOWANCE, ScaleOutAndIn, termination_grace, wait_idle_at_min
from fixtures.waits import holds_for, wait_until

pytestmark = pytest.mark.slow

PAUSED_REPLICAS = 3
ANNOTATION = "autoscaling.keda.sh/paused-replicas"
TASKS = 500


def test_paused_replicas_hold_then_resume(deployed_app, celery_app, redis_client, record_timeline, scenario_record):
    app, b = deployed_app, deployed_app.bounds
    scaledobject = f"scaledobject/{app.target.scaledobject}"
    # KEDA sees the annotation on its next reconcile and sets spec.replicas; pods then start or terminate.
    to_paused = 2 * b.polling_interval + max(termination_grace(app), POD_START_ALLOWANCE)
    hold = 2 * b.hpa_sync_period + 3 * b.polling_interval

    def observe():
        return take(app.kube, app.target, redis_client, with_metric=True)

    def describe(s) -> str:
        return f"{s.line(b.max)} conditions {s.conditions}"

    def pause_then_resume() -> None:
        t0 = time.monotonic()
        app.kube.kubectl("annotate", scaledobject, f"{ANNOTATION}={PAUSED_REPLICAS}", "--overwrite",
                         "-n", app.namespace)
        wait_until(f"KEDA to hold the workers at the paused {PAUSED_REPLICAS} (Paused=True)", observe,
                   lambda s: s.desired == s.ready == PAUSED_REPLICAS and (s.conditions or {}).get("Paused") == "True",
                   timeout=to_paused, describe=describe)
        scenario_record.measure("paused_after", time.monotonic() - t0, f"bound {to_paused:.0f} s")
        seen = holds_for(f"{PAUSED_REPLICAS} replicas while paused", observe,
                         lambda s: s.desired == PAUSED_REPLICAS, duration=hold, describe=describe,
                         min_reads=hold // 2)
        # The hold means something only if the backlog, unpaused, would have asked for more.
        backlog = min(s.queue for s in seen if s.queue is not None)
        assert b.desired_replicas(backlog) > PAUSED_REPLICAS, (
            f"the backlog fell to {backlog} during the pause: unpaused it would not have asked for more than "
            f"{PAUSED_REPLICAS}, so the hold proves nothing")
        scenario_record.note("held", f"{PAUSED_REPLICAS} replicas for {hold} s with LLEN >= {backlog}")
        app.kube.kubectl("annotate", scaledobject, f"{ANNOTATION}-", "-n", app.namespace)
        scenario_record.note("resumed_at", f"{time.monotonic() - t0:.1f} s after the pause")

    with record_timeline() as tl:
        wait_idle_at_min(app, redis_client)
        scenario = ScaleOutAndIn(app, celery_app, redis_client, tl, TASKS, "high_priority",
                                 fault_allowance=to_paused + hold)
        result = scenario_record.attach(scenario.result)
        scenario.run(after_scale_up=pause_then_resume)
    assert result.peak_ready == b.max
    last = tl.samples[-1].conditions or {}
    assert last.get("Paused") != "True", f"the ScaledObject is still Paused after the annotation was removed: {last}"
