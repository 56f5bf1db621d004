"""Standalone runner for a function file against a fixture.

    python -m functions_ui.runtime.cli HANDLER.js --type T --payload F [--settings S]

Same behaviour and output as `manage.py run_function`, but `--settings` is free to mean the
function-settings JSON file here (manage.py reserves it for the Django settings module).
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "functions_ui.settings")
    import django
    from django.core.management import call_command

    django.setup()
    args = list(sys.argv[1:] if argv is None else argv)
    args = ["--settings-file" if a == "--settings" else a for a in args]
    args = [
        ("--settings-file=" + a.split("=", 1)[1]) if a.startswith("--settings=") else a
        for a in args
    ]
    call_command("run_function", *args)


if __name__ == "__main__":
    main()
