"""Celery worker autoscaled by KEDA from the Redis list of its queue.

``worker.config``   settings read from the environment (no secrets logged),
``worker.tasks``    the Celery app and the ``add`` task,
``worker.producer`` enqueue N tasks and account for every result.
"""
