"""Made-up timelines for the scaling analysis and KEDA's contract checks: `snap` builds one observation at T0 + t,
`timeline` a whole default-scenario run, so that each test changes only what it breaks."""

from __future__ import annotations

from fixtures.scaling.observe import Snapshot
from fixtures.sut.hpa_model import ScalingBounds

B = ScalingBounds(polling_interval=3, cooldown=10, min=1, max=10, list_length=10, scale_down_stabilization=15)
T0 = 1000.0
READY = {"Ready": "True", "Active": "True", "Fallback": "False"}
IDLE = {"Ready": "True", "Active": "False", "Fallback": "False"}


def snap(t: float, desired: int = 1, ready: int = 1, hpa: int | None = 1, queue: int | None = 0,
         metric: float | None = 0, done: int | None = None, cond: dict | None = None,
         metric_seconds: float = 0.05) -> Snapshot:
    """A metric, when given, was answered `metric_seconds` before the sample (the timeline's reader thread)."""
    answered = None if metric is None else T0 + t - metric_seconds
    return Snapshot(t=T0 + t, desired=desired, ready=ready, hpa_desired=hpa, hpa_current=ready, queue=queue,
                    metric=metric, metric_at=answered, metric_seconds=None if metric is None else metric_seconds,
                    completed=done, conditions=cond if cond is not None else READY)


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
