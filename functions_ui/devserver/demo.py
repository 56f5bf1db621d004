"""Demo data for local use: a workspace, one user per role and a few functions.

The passwords are for a laptop, never for a server anyone else can reach.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from catalog.models import Function, ResourceType
from catalog.services import function_create
from catalog.starters import STARTERS
from functions_ui.deploys.instances import (
    destination_instance_create,
    insert_instance_create,
    source_instance_create,
)
from functions_ui.deploys.models import SourceInstance
from functions_ui.deploys.services import deploy_execute, deploy_start
from functions_ui.editor.services import payload_save
from functions_ui.permissions.models import Role
from functions_ui.runtime import RuntimeUnavailable
from functions_ui.suites.services import expectation_capture
from functions_ui.workspaces.models import Workspace
from functions_ui.workspaces.services import membership_grant, workspace_create
from versioning.selectors import latest_version

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


API_KEY = {
    "name": "apiKey",
    "label": "API Key",
    "description": "Key for the remote API.",
    "type": "STRING",
    "required": True,
    "sensitive": True,
}


def _seed_instances(functions: dict[str, Function], *, owner) -> None:
    """A connected pipeline: a source, a destination fed by it, an insert in front of it."""
    source_fn = functions["Zendesk Tickets"]
    if SourceInstance.objects.filter(function=source_fn).exists():
        return
    source = source_instance_create(
        function=source_fn,
        user=owner,
        name="Zendesk production",
        raw_settings={"apiKey": "demo-zendesk-key"},
    )
    destination = destination_instance_create(
        function=functions["Internal Analytics API"],
        user=owner,
        name="Analytics collector",
        raw_settings={"apiKey": "demo-analytics-key"},
        source_ids=[source.public_id],
    )
    insert_instance_create(
        function=functions["PII Scrubber"],
        user=owner,
        name="PII Scrubber",
        raw_settings={},
        destination_id=destination.public_id,
        enabled=True,
    )
    # Deployed as a person would deploy them, so that every label and the timeline agree.
    for name in ("Zendesk Tickets", "Internal Analytics API", "PII Scrubber"):
        version = latest_version(function=functions[name])
        assert version is not None
        deploy = deploy_start(function=functions[name], version=version, user=owner)
        deploy_execute(deploy_id=deploy.pk)


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
    functions = {}
    for name, resource_type, starter_slug, description in DEMO_FUNCTIONS:
        function = Function.objects.filter(workspace=workspace, display_name=name).first()
        if function is None:
            function = function_create(
                workspace=workspace,
                user=author,
                resource_type=resource_type,
                display_name=name,
                description=description,
                code=starters[starter_slug].code,
                settings=[] if resource_type == ResourceType.INSERT_DESTINATION else [API_KEY],
            )
        functions[name] = function
    _seed_instances(functions, owner=users["owner"])
    _seed_tests(functions["PII Scrubber"], author=author)
    return workspace


# The scrubber's test suite: saved payloads with the outputs they must give.
SCRUBBER_TESTS = (
    (
        "Test user is dropped",
        {"type": "track", "event": "Signed Up", "userId": "test-42", "properties": {}},
    ),
    (
        "E-mail is removed",
        {
            "type": "track",
            "event": "Order Completed",
            "userId": "u-7",
            "properties": {"total": 42, "email": "ann@example.com"},
        },
    ),
)


def _seed_tests(function: Function, *, author) -> None:
    """Give the demo insert function a passing test suite (its expectations from real runs)."""
    if function.saved_payloads.exists():
        return
    for name, event in SCRUBBER_TESTS:
        payload = payload_save(function=function, user=author, name=name, kind="event", data=event)
        try:
            expectation_capture(payload=payload, code=function.code)
        except RuntimeUnavailable:
            return  # without Node.js the payloads stay plain inputs
