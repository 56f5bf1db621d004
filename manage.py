#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "functions_ui.settings")
    from django.core.management import execute_from_command_line

    argv = sys.argv
    if argv[1:2] == ["run_function"]:
        # `run_function --settings FILE.json` takes the function's settings, as Segment's
        # fixtures do; Django would read --settings as its own settings module.
        argv = [
            "--settings-file" + arg[len("--settings") :] if arg.startswith("--settings") else arg
            for arg in argv
        ]
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
