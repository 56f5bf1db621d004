from tests.deploys.workers import celery_on_redis, dead_broker, start_worker  # noqa: F401
