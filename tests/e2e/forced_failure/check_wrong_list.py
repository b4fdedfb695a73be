"""A deliberately broken deployment, run only by test_diagnostics.py through an inner pytest.

The ScaledObject watches a list nobody writes to, so the default scenario's
first wait must time out with the last observed state and leave a bundle.
(Not named test_*.py: the normal run never collects it.)
"""

from fixtures.scenario import ScenarioResult, run_scale_out_and_in
from tests.e2e.scaling import recorded_timeline

SCALEDOBJECT_PATCH = [{"op": "replace", "path": "/spec/triggers/0/metadata/listName", "value": "wrong_list"}]


def test_scaledobject_on_the_wrong_list_does_not_scale(request, app, celery_app, redis_client, suite_options,
                                                       scenario_record):
    with recorded_timeline(request, app, redis_client, suite_options, scenario_record) as tl:
        run_scale_out_and_in(app, celery_app, redis_client, tl, 100, "high_priority", None, ScenarioResult(100))
