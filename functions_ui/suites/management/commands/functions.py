"""Functions as code: pull a workspace's functions into a folder, push them back, test them.

    python manage.py functions pull --workspace SLUG DIR
    python manage.py functions push --workspace SLUG DIR [--message TEXT] [--dry-run]
    python manage.py functions test DIR

`test` needs no database: it runs every test of every function in one process, prints a table
(each test with what it checked: "ran without error" for a test without expectations, "matched
N expectations" for one with them) and "N passed, N failed" last, and exits 1 when any test
fails (for CI).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from functions_ui.runtime import RuntimeUnavailable
from functions_ui.suites import folders


class Command(BaseCommand):
    help = "Pull, push and test functions kept as files (handler.js, function.json, tests/)."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        pull = commands.add_parser("pull", help="write a workspace's functions to a folder")
        pull.add_argument("--workspace", required=True, help="the workspace's slug")
        pull.add_argument("dir")
        push = commands.add_parser("push", help="create or update functions from a folder")
        push.add_argument("--workspace", required=True, help="the workspace's slug")
        push.add_argument("--message", default="", help="the note of each version saved")
        push.add_argument("--dry-run", action="store_true", help="show what would change")
        push.add_argument("dir")
        test = commands.add_parser("test", help="run every function's tests (no database)")
        test.add_argument("dir")

    def handle(self, *args: Any, **options: Any) -> None:
        root = Path(options["dir"])
        try:
            if options["action"] == "test":
                self._test(root)
                return
            from functions_ui.workspaces.models import Workspace

            workspace = Workspace.objects.filter(slug=options["workspace"]).first()
            if workspace is None:
                raise CommandError(f"No workspace {options['workspace']!r}.")
            if options["action"] == "pull":
                written = folders.pull(workspace=workspace, root=root)
                self.stdout.write(f"Wrote {len(written)} functions to {root}: {', '.join(written)}")
                return
            changes = folders.push(
                workspace=workspace,
                root=root,
                message=options["message"],
                dry_run=options["dry_run"],
            )
            for change in changes:
                self.stdout.write(change)
            prefix = "Would change" if options["dry_run"] else "Changed"
            self.stdout.write(f"{prefix}: {len(changes)}" if changes else "Nothing to change.")
        except folders.FolderError as error:
            raise CommandError(str(error)) from error
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        except RuntimeUnavailable as error:
            raise CommandError(f"The runtime is not available: {error}") from error

    def _test(self, root: Path) -> None:
        started = time.perf_counter()
        outcomes = folders.run_tests(root)
        took = time.perf_counter() - started
        width = max((len(f"{o.function}/{o.test}") for o in outcomes), default=10)
        checks = max((len(o.checked) for o in outcomes), default=10)
        for outcome in outcomes:
            name = f"{outcome.function}/{outcome.test}"
            if outcome.skipped:
                self.stdout.write(f'SKIP  {name:<{width}}  not a test ("expect": null)')
                continue
            verdict = "PASS" if outcome.passed else "FAIL"
            self.stdout.write(
                f"{verdict}  {name:<{width}}  {outcome.checked:<{checks}}"
                f"  {outcome.duration_ms:7.1f} ms"
            )
            for problem in outcome.problems:
                self.stdout.write(f"        {problem}")
        ran = [o for o in outcomes if not o.skipped]
        passed = sum(1 for o in ran if o.passed)
        failed = len(ran) - passed
        skipped = len(outcomes) - len(ran)
        rate = len(ran) / took if took else 0
        self.stdout.write(f"{len(ran)} tests in {took:.2f} s ({rate:.0f} per second)")
        self.stdout.write(
            f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else "")
        )
        if failed:
            sys.exit(1)
