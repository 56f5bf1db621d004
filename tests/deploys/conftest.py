from tests.deploys.workers import start_worker  # noqa: F401
