"""Print a new API token for scripts: `manage.py create_api_token --workspace SLUG --user NAME`."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from functions_ui.api.services import api_token_create
from functions_ui.workspaces.models import Workspace


class Command(BaseCommand):
    help = "Create a Public API token acting as a member of a workspace, and print it once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", required=True, help="the workspace's slug")
        parser.add_argument("--user", required=True, help="the member the token acts as")
        parser.add_argument("--description", default="", help="what the token is for")

    def handle(self, *args: Any, **options: Any) -> None:
        workspace = Workspace.objects.filter(slug=options["workspace"]).first()
        if workspace is None:
            raise CommandError(f"No workspace with the slug {options['workspace']!r}.")
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"No user named {options['user']!r}.")
        try:
            _, raw = api_token_create(
                workspace=workspace,
                user=user,
                description=options["description"] or "created with create_api_token",
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        # The secret alone on stdout, so that scripts can capture it.
        self.stdout.write(raw)
