"""The real parts `make run` starts: a Redis server and a Celery worker connected to it."""

import os
import subprocess
import sys

import pytest
import redis

from functions_ui.devserver.redis_server import RedisServer, redis_reachable


def test_redis_server_starts_on_loopback_and_stops():
    server = RedisServer().start()
    try:
        client = redis.Redis.from_url(server.url)
        client.set("greeting", "hello")
        assert client.get("greeting") == b"hello"
        assert server.url.startswith("redis://127.0.0.1:")
    finally:
        server.stop()
    assert not redis_reachable(server.url)


@pytest.fixture
def celery_worker_process(redis_server):
    env = {**os.environ, "REDIS_URL": redis_server.url}
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "functions_ui",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "WARNING",
            "--hostname",
            "test-ping@%h",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield worker
    worker.terminate()
    worker.wait(timeout=15)


def test_a_real_celery_worker_answers_over_redis(redis_server, celery_worker_process, settings):
    from functions_ui.celery import app, ping

    app.conf.broker_url = redis_server.url
    app.conf.result_backend = redis_server.url
    try:
        assert ping.apply_async(expires=60).get(timeout=60) == "pong"
    finally:
        app.conf.broker_url = settings.CELERY_BROKER_URL
        app.conf.result_backend = settings.CELERY_RESULT_BACKEND
