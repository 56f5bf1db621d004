"""Run every benchmark against a throwaway database and print one table."""

from __future__ import annotations

import importlib
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.test.utils import override_settings, setup_databases, teardown_databases

from functions_ui.bench.rows import BenchRow, format_table
from functions_ui.devserver.redis_server import RedisServer

# Each module exposes `run() -> list[BenchRow]`; later features add theirs here.
BENCH_MODULES = (
    "catalog.benchmarks",
    "versioning.benchmarks",
    "functions_ui.runtime.benchmarks",
    "functions_ui.api.benchmarks",
    "functions_ui.deploys.benchmarks",
    "functions_ui.deploys.scale_benchmarks",
    "functions_ui.deploys.metrics_benchmarks",
    "functions_ui.suites.benchmarks",
)


class Command(BaseCommand):
    help = "Measure speed and memory targets and print them as a table."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--only", help="run only modules whose name contains this text")

    def handle(self, *args, **options) -> None:
        rows: list[BenchRow] = []
        # A fresh test database keeps the developer's own data out of the figures, and a Redis of
        # its own serves as Django's cache, as in production.
        old_config = setup_databases(verbosity=0, interactive=False)
        redis_server = RedisServer().start()
        cache = {**settings.CACHES["default"], "LOCATION": redis_server.url}
        try:
            with override_settings(CACHES={"default": cache}):
                self._run(rows, options)
        finally:
            redis_server.stop()
            teardown_databases(old_config, verbosity=0)
        self.stdout.write(format_table(rows))
        missed = [r for r in rows if r.ok is False]
        if missed:
            self.stdout.write(f"\n{len(missed)} target(s) missed.")

    def _run(self, rows: list[BenchRow], options: dict) -> None:
        for module_name in BENCH_MODULES:
            if options["only"] and options["only"] not in module_name:
                continue
            started = time.perf_counter()
            module = importlib.import_module(module_name)
            rows.extend(module.run())
            took = time.perf_counter() - started
            self.stderr.write(f"{module_name}: done in {took:.1f} s")
