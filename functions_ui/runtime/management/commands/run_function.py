"""Run a function file once against a fixture, like Segment's functions-library examples.

    python manage.py run_function handler.js --type source --payload webhook.json \
        [--settings-file s.json]

(`--settings` is taken by Django's own option in manage.py, so this command calls it
--settings-file; `python -m functions_ui.runtime.cli` accepts --settings as well.)

Prints one JSON object: {"status", "events", "objects", "result", "logs", "error", "fetches"};
with --mock-fetch every fetch is answered locally (--mock-status, --mock-body). Exits 0 when the
function ran (even if it threw), 2 for a missing file, invalid JSON or an unknown type.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from functions_ui.runtime.types import (
    FUNCTION_TYPES,
    MockResponse,
    RunOptions,
    RuntimeUnavailable,
)


class Command(BaseCommand):
    help = "Run a JavaScript function file against a JSON fixture and print the outcome as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("handler", help="path to the function's JavaScript file")
        parser.add_argument(
            "--type", dest="function_type", required=True, help="source, destination or insert"
        )
        parser.add_argument("--payload", required=True, help="fixture JSON file")
        # Django's manage.py reserves --settings for the settings module; see README.md.
        parser.add_argument(
            "--settings-file",
            "--function-settings",
            dest="settings_file",
            help="JSON file merged over the fixture's settings",
        )
        parser.add_argument("--timeout-ms", type=int, default=None)
        parser.add_argument(
            "--mock-fetch",
            action="store_true",
            help="answer every fetch here instead of sending it (see --mock-status, --mock-body)",
        )
        parser.add_argument("--mock-status", type=int, default=200)
        parser.add_argument("--mock-body", default="{}", help="the mocked responses' body (JSON)")

    def fail(self, message: str) -> None:
        sys.stderr.write(f"run_function: {message}\n")
        sys.exit(2)

    def read_json(self, path: str, what: str) -> Any:
        p = Path(path)
        if not p.is_file():
            self.fail(f"{what} file not found: {path}")
        try:
            return json.loads(p.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            self.fail(f"{what} file is not valid JSON ({path}): {exc}")
        return None

    def handle(self, *args: Any, **options: Any) -> None:
        from functions_ui.runtime.api import run_function

        function_type = options["function_type"]
        if function_type not in FUNCTION_TYPES:
            self.fail(f"unknown --type {function_type!r}; use one of {', '.join(FUNCTION_TYPES)}")
        handler = Path(options["handler"])
        if not handler.is_file():
            self.fail(f"handler file not found: {handler}")
        code = handler.read_text(encoding="utf-8")
        fixture = self.read_json(options["payload"], "payload")
        if not isinstance(fixture, dict):
            self.fail("payload file must contain a JSON object")
        settings = dict(fixture.get("settings") or {})
        if options["settings_file"]:
            extra = self.read_json(options["settings_file"], "settings")
            if not isinstance(extra, dict):
                self.fail("settings file must contain a JSON object")
            settings.update(extra)
        if function_type == "source":
            payload = fixture.get("payload", fixture.get("request", {}))
        else:
            if "event" not in fixture:
                self.fail('payload file for a destination or insert function needs an "event" key')
            payload = fixture["event"]
        try:
            result = run_function(
                code=code,
                function_type=function_type,
                payload=payload,
                settings=settings,
                options=RunOptions(
                    timeout_ms=options["timeout_ms"],
                    mock_fetch=options["mock_fetch"],
                    mock_response=MockResponse(
                        status=options["mock_status"], body=options["mock_body"]
                    ),
                ),
            )
        except RuntimeUnavailable as exc:
            sys.stderr.write(f"run_function: {exc}\n")
            sys.exit(3)
        error = None
        if result.error:
            error = {k: result.error.get(k) for k in ("name", "message", "stack")}
        out = {
            "status": result.status,
            "events": result.events,
            "objects": result.objects,
            "result": result.result,
            "logs": result.logs,
            "error": error,
            # Every outbound request: method, URL, request headers (credentials masked) and
            # body, and the response's status.
            "fetches": [
                {
                    "method": f.get("method"),
                    "url": f.get("url"),
                    "headers": f.get("request_headers", {}),
                    "body": f.get("request_body"),
                    "status": f.get("status"),
                    **({"error": f["error"]} if f.get("error") else {}),
                    **({"mocked": True} if f.get("mocked") else {}),
                }
                for f in result.fetches
            ],
        }
        self.stdout.write(json.dumps(out, ensure_ascii=False))
