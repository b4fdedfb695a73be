"""Celery priorities with kombu's default priority steps: priority-9 tasks alone scale the workers.

The overlay gives the worker (and so the producer) PRIORITY_STEPS=0,3,6,9: a task sent at
priority 9 lands in `high_priority\\x06\\x169`, not in `high_priority`. Its ScaledObject sums
the four lists with scalingModifiers (the reason is in the overlay). With nothing but
priority-9 tasks queued, the plain list stays empty and the workers must still go to max and back.
"""

from __future__ import annotations

import pytest

from fixtures.scaling.scenario import ScaleOutAndIn, wait_idle_at_min

pytestmark = pytest.mark.slow

OVERLAY = "e2e-priorities"
TASKS = 500
PRIORITY = 9
PRIORITY_LIST = "high_priority\x06\x169"


def test_priority_nine_alone_scales_to_max_and_back(deployed_app, celery_app, redis_client, record_timeline,
                                                    scenario_record):
    app, b = deployed_app, deployed_app.bounds
    assert app.target.metric == "composite-metric" and PRIORITY_LIST in app.target.watched, (
        f"the overlay must sum the priority lists: metric {app.target.metric}, lists {app.target.watched}")
    lists_at_max: dict[str, int] = {}

    def where_tasks_wait() -> None:
        """After the enqueue: the backlog is in the priority-9 list, the list the seed's ScaledObject reads is empty."""
        lists_at_max.update({repr(k): int(redis_client.llen(k)) for k in app.target.watched})
        assert redis_client.llen("high_priority") == 0, f"priority-{PRIORITY} tasks in the plain list: {lists_at_max}"
        assert redis_client.llen(PRIORITY_LIST) > b.list_length, f"no backlog in {PRIORITY_LIST!r}: {lists_at_max}"

    with record_timeline() as tl:
        wait_idle_at_min(app, redis_client)
        scenario = ScaleOutAndIn(app, celery_app, redis_client, tl, TASKS, "high_priority", priority=PRIORITY,
                                 ready_throughout=True)  # the hook only looks: no fault
        result = scenario_record.attach(scenario.result)
        scenario.run(after_enqueue=where_tasks_wait)
    scenario_record.note("lists_after_enqueue", str(lists_at_max))
    assert result.peak_ready == b.max
