"""A deliberately broken deployment, run only by test_diagnostics.py through an inner pytest.

The ScaledObject watches a list nobody writes to, so the default scenario's
first wait must time out with the last observed state and leave a bundle.
(Not named test_*.py: the normal run never collects it.)
"""

from fixtures.scaling.scenario import ScaleOutAndIn

SCALEDOBJECT_PATCH = [{"op": "replace", "path": "/spec/triggers/0/metadata/listName", "value": "wrong_list"}]


def test_scaledobject_on_the_wrong_list_does_not_scale(deployed_app, celery_app, redis_client, record_timeline,
                                                       scenario_record):
    with record_timeline() as tl:
        scenario = ScaleOutAndIn(deployed_app, celery_app, redis_client, tl, 100, "high_priority")
        scenario_record.attach(scenario.result)
        scenario.run()
