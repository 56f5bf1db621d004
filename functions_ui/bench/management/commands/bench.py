"""Run every benchmark against a throwaway database and print one table."""

from __future__ import annotations

import importlib
import time

from django.core.management.base import BaseCommand
from django.test.utils import setup_databases, teardown_databases

from functions_ui.bench.rows import BenchRow, format_table

# Each module exposes `run() -> list[BenchRow]`; later features add theirs here.
BENCH_MODULES = (
    "catalog.benchmarks",
    "versioning.benchmarks",
    "functions_ui.runtime.benchmarks",
    "functions_ui.api.benchmarks",
    "functions_ui.deploys.benchmarks",
)


class Command(BaseCommand):
    help = "Measure speed and memory targets and print them as a table."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--only", help="run only modules whose name contains this text")

    def handle(self, *args, **options) -> None:
        rows: list[BenchRow] = []
        # A fresh test database keeps the developer's own data out of the figures.
        old_config = setup_databases(verbosity=0, interactive=False)
        try:
            for module_name in BENCH_MODULES:
                if options["only"] and options["only"] not in module_name:
                    continue
                started = time.perf_counter()
                module = importlib.import_module(module_name)
                rows.extend(module.run())
                took = time.perf_counter() - started
                self.stderr.write(f"{module_name}: done in {took:.1f} s")
        finally:
            teardown_databases(old_config, verbosity=0)
        self.stdout.write(format_table(rows))
        missed = [r for r in rows if r.ok is False]
        if missed:
            self.stdout.write(f"\n{len(missed)} target(s) missed.")
