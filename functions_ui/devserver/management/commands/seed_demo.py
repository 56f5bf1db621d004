"""Create the demo workspace `acme` with one user per role; safe to run again."""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand

from functions_ui.devserver.demo import seed_demo


class Command(BaseCommand):
    help = (
        "Create demo data for local use (idempotent). Password from DEMO_PASSWORD, default 'demo'."
    )

    def handle(self, *args, **options) -> None:
        password = os.environ.get("DEMO_PASSWORD", "demo")
        workspace, users = seed_demo(password=password)
        self.stdout.write(f"Demo workspace “{workspace.name}” (/w/{workspace.slug}/functions/).")
        self.stdout.write("Demo logins — local use only, never on a shared server:")
        for user in users:
            self.stdout.write(
                f"  {user.username:<20} password: {password:<10} role: {user.role.label}"
            )
