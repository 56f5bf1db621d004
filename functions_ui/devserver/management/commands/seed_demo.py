"""Create the demo workspace `acme` with one user per role; safe to run again."""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand

from functions_ui.devserver.demo import DEMO_USERS, seed_demo
from functions_ui.permissions.models import Role


class Command(BaseCommand):
    help = (
        "Create demo data for local use (idempotent). Password from DEMO_PASSWORD, default 'demo'."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--logins-only", action="store_true", help="print the demo logins, create nothing"
        )

    def handle(self, *args, **options) -> None:
        password = os.environ.get("DEMO_PASSWORD", "demo")
        if not options["logins_only"]:
            workspace = seed_demo(password=password)
            self.stdout.write(
                f"Demo workspace “{workspace.name}” (/w/{workspace.slug}/functions/)."
            )
        self.stdout.write("Demo logins — local use only, never on a shared server:")
        for user in DEMO_USERS:
            self.stdout.write(
                f"  {user.username:<20} password: {password:<10} role: {Role(user.role).label}"
            )
