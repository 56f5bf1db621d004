"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os

import pytest
from django.conf import settings as django_settings

from functions_ui.permissions.models import Role
from tests.factories import PASSWORD, make_member, make_workspace

# Playwright's sync API runs an event loop in the test thread; the ORM must still work there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


TEST_SECRETS_KEY = "m5Qh1Yk0wJrGq7Vx2n3bT9cE6fZs8aLd4uHiPoKjWeA="


@pytest.fixture(autouse=True)
def _test_settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SECRETS_ENCRYPTION_KEYS = [TEST_SECRETS_KEY]
    # Production caches in Redis; a test keeps its own cache in memory.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture
def workspace(db):
    return make_workspace(slug="acme", name="Acme Inc.")


@pytest.fixture
def login_as(client, workspace):
    """Log the test client in as a new member holding `role` (None: a member with no role)."""

    def login(role: str | None = Role.FUNCTIONS_ADMIN, **kwargs):
        user = make_member(workspace=workspace, role=role, **kwargs)
        assert client.login(username=user.username, password=PASSWORD)
        return user

    return login


@pytest.fixture(scope="session")
def redis_server():
    """A real redis-server on a free loopback port, for the tests that need one."""
    from functions_ui.devserver.redis_server import RedisServer

    with RedisServer() as server:
        yield server


def point_celery_at(url: str) -> None:
    """Send this process's tasks to `url`, dropping connections made to another broker."""
    from kombu import pools

    from functions_ui.celery import app

    app.conf.broker_url = url
    app.conf.result_backend = url
    pools.reset()
    app._pool = None
    if "amqp" in app.__dict__:
        app.__dict__["amqp"]._producer_pool = None
    app._backend_cache = None
    app._local.__dict__.pop("backend", None)


NO_BROKER_URL = "redis://127.0.0.1:1/0"


@pytest.fixture(autouse=True)
def _no_broker_by_default():
    """Tasks and doorbells of a test go nowhere unless it asks for a broker (celery_on_redis):
    never to a Redis that happens to run on the machine."""
    point_celery_at(NO_BROKER_URL)
    yield
    point_celery_at(django_settings.CELERY_BROKER_URL)


@pytest.fixture
def celery_on_redis(redis_server):
    """Tasks enqueued by the code under test go to the session's real Redis."""
    import redis

    redis.Redis.from_url(redis_server.url).flushdb()
    point_celery_at(redis_server.url)
    yield redis_server
    point_celery_at(django_settings.CELERY_BROKER_URL)


@pytest.fixture
def dead_broker():
    """Celery pointed at a loopback port where nothing listens."""
    from functions_ui.devserver.redis_server import free_port

    point_celery_at(f"redis://127.0.0.1:{free_port()}/0")
    yield
    point_celery_at(django_settings.CELERY_BROKER_URL)


def pytest_report_header(config: pytest.Config) -> str:
    # `make test` runs twice (SQLite, then PostgreSQL): say which database this run is on.
    db = django_settings.DATABASES["default"]
    where = f" on {db['HOST']}:{db['PORT']}" if db.get("HOST") else ""
    return f"database: {db['ENGINE'].rsplit('.', 1)[-1]} {db['NAME']}{where}"
