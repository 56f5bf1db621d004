"""Demo data for local use: a workspace, one user per role and a few functions.

The passwords are for a laptop, never for a server anyone else can reach.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from catalog.models import Function, FunctionSetting, ResourceType, SettingType
from catalog.services import function_create
from catalog.starters import STARTERS
from functions_ui.permissions.models import Role
from functions_ui.workspaces.models import Workspace
from functions_ui.workspaces.services import membership_grant, workspace_create

DEMO_WORKSPACE_SLUG = "acme"


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str


DEMO_USERS = (
    DemoUser("owner", Role.WORKSPACE_OWNER),
    DemoUser("functions-admin", Role.FUNCTIONS_ADMIN),
    DemoUser("functions-readonly", Role.FUNCTIONS_READ_ONLY),
    DemoUser("source-admin", Role.SOURCE_ADMIN),
)

DEMO_FUNCTIONS = (
    (
        "Zendesk Tickets",
        ResourceType.SOURCE,
        "source-webhook-to-track",
        "Turns Zendesk ticket webhooks into track events.",
    ),
    (
        "Typeform Responses",
        ResourceType.SOURCE,
        "source-default",
        "Receives survey responses and records them as events.",
    ),
    (
        "Internal Analytics API",
        ResourceType.DESTINATION,
        "destination-default",
        "Forwards track events to our internal analytics collector.",
    ),
    (
        "Data Lake Batches",
        ResourceType.DESTINATION,
        "destination-batch",
        "Sends events to the data lake in batches of twenty.",
    ),
    (
        "PII Scrubber",
        ResourceType.INSERT_DESTINATION,
        "insert-drop-internal",
        "Drops test users and strips e-mail addresses before events leave.",
    ),
)


@transaction.atomic
def seed_demo(*, password: str) -> Workspace:
    """Create the demo workspace, users and functions that are missing; change nothing else."""
    user_model = get_user_model()
    workspace = Workspace.objects.filter(slug=DEMO_WORKSPACE_SLUG).first() or workspace_create(
        slug=DEMO_WORKSPACE_SLUG, name="Acme Inc."
    )
    second = Workspace.objects.filter(slug="globex").first() or workspace_create(
        slug="globex", name="Globex Corporation"
    )
    users = {}
    for demo in DEMO_USERS:
        user = user_model.objects.filter(username=demo.username).first()
        if user is None:
            user = user_model.objects.create_user(username=demo.username, password=password)
        membership_grant(workspace=workspace, user=user, roles=[demo.role])
        users[demo.username] = user
    # The owner also belongs to a second workspace, to show the workspace switch.
    membership_grant(workspace=second, user=users["owner"], roles=[Role.WORKSPACE_OWNER])

    starters = {starter.slug: starter for starter in STARTERS}
    author = users["functions-admin"]
    for name, resource_type, starter_slug, description in DEMO_FUNCTIONS:
        if Function.objects.filter(workspace=workspace, display_name=name).exists():
            continue
        function = function_create(
            workspace=workspace,
            user=author,
            resource_type=resource_type,
            display_name=name,
            description=description,
            code=starters[starter_slug].code,
        )
        if resource_type != ResourceType.INSERT_DESTINATION:
            FunctionSetting.objects.create(
                function=function,
                position=0,
                name="apiKey",
                label="API Key",
                description="Key for the remote API.",
                type=SettingType.STRING,
                required=True,
                sensitive=True,
            )
    return workspace
