"""Serve the dashboard with everything it needs: Redis, a Celery worker and the web server.

Ctrl-C stops all of it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from functions_ui.devserver.redis_server import (
    RedisServer,
    RedisUnavailable,
    is_loopback_url,
    redis_reachable,
)


def _stop_on_signal(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Start Redis (when none answers on REDIS_URL), a Celery worker and the web server."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--addr", default=os.environ.get("ADDR", "127.0.0.1:8000"))

    def handle(self, *args, **options) -> None:
        # Stop everything on Ctrl-C and on `kill` alike, even when started in the background.
        signal.signal(signal.SIGINT, _stop_on_signal)
        signal.signal(signal.SIGTERM, _stop_on_signal)
        children: list[subprocess.Popen] = []
        redis_server: RedisServer | None = None
        url = settings.REDIS_URL
        try:
            if redis_reachable(url):
                self.stdout.write(f"Using the Redis at {url}.")
            elif is_loopback_url(url):
                port = urlparse(url).port or 6379
                # Persistent (append-only file under .var/), as production's Redis should be.
                redis_server = RedisServer(
                    port=port, data_dir=Path(settings.VAR_DIR) / "redis"
                ).start()
                self.stdout.write(f"Started redis-server on 127.0.0.1:{port}.")
            else:
                raise CommandError(f"Redis at {url} does not answer.")

            worker = subprocess.Popen(
                [
                    *(sys.executable, "-m", "celery", "--quiet", "-A", "functions_ui", "worker"),
                    *("--loglevel", "WARNING", "--concurrency", "2", "--hostname", "dev@%h"),
                    # One machine: the worker also runs the periodic tasks (Celery beat).
                    *("--beat", "--schedule", str(Path(settings.VAR_DIR) / "celerybeat-schedule")),
                ],
            )
            children.append(worker)
            self._wait_for_worker()
            self.stdout.write(self.style.SUCCESS("Celery worker connected."))

            web = subprocess.Popen(
                [sys.executable, "manage.py", "runserver", options["addr"], "--noreload"],
                cwd=settings.BASE_DIR,
            )
            children.append(web)
            call_command("seed_demo", "--logins-only", stdout=self.stdout)
            self.stdout.write(
                self.style.SUCCESS(
                    f"Dashboard on http://{options['addr']}/ — Ctrl-C stops everything."
                )
            )
            web.wait()
        except RedisUnavailable as error:
            raise CommandError(str(error)) from error
        except KeyboardInterrupt:
            self.stdout.write("\nStopping…")
        finally:
            for child in reversed(children):
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()
            if redis_server:
                redis_server.stop()

    def _wait_for_worker(self) -> None:
        from functions_ui.celery import ping

        try:
            answer = ping.apply_async(expires=30).get(timeout=60)
        except Exception as error:
            raise CommandError(f"The Celery worker did not answer: {error}") from error
        if answer != "pong":
            raise CommandError(f"The Celery worker answered {answer!r}.")
