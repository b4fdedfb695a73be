"""The unit tier's shared helpers, each written once: a real redis-server and Celery worker, the runner-like user,
fake executables, and builders of made-up inputs that several test files use. No tests here."""
