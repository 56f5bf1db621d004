"""Every route × every actor: the status a read and a write get.

The table below must name every URL pattern of the project (named routes by name, unnamed
ones, like the public API's, by their path). A route added without an entry fails
`test_every_route_has_an_entry`: decide who may read and write it, and write it down here.

Columns, in order: Workspace Owner, Functions Admin, Functions Read-only, Source Admin, a
member with no role, a member (owner) of another workspace, and an anonymous visitor.
"login" means a redirect to the login page. Web routes use the session; API routes send a
Bearer token of the actor's own workspace (anonymous sends none).

Each write answered 403 must also have left an "access.denied" audit event.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from catalog.models import ResourceType
from functions_ui.audit.models import AuditAction, AuditEvent
from functions_ui.editor import models as editor_models
from functions_ui.permissions.models import Role
from functions_ui.workspaces.models import Membership
from tests.factories import make_function, make_member, make_setting, make_user, make_workspace
from versioning.services import version_save

pytestmark = pytest.mark.django_db

ACTORS = (
    "owner",
    "functions_admin",
    "functions_read_only",
    "source_admin",
    "member",
    "outsider",
    "anonymous",
)
ROLES = {
    "owner": Role.WORKSPACE_OWNER,
    "functions_admin": Role.FUNCTIONS_ADMIN,
    "functions_read_only": Role.FUNCTIONS_READ_ONLY,
    "source_admin": Role.SOURCE_ADMIN,
    "member": None,
}
LOGIN = "login"


def row(spec: str) -> dict[str, int | str]:
    """ "200 200 403 403 404 404 login" -> {actor: expected}, in ACTORS order."""
    values = spec.split()
    assert len(values) == len(ACTORS), spec
    return {
        actor: value if value == LOGIN else int(value)
        for actor, value in zip(ACTORS, values, strict=True)
    }


def every(status: int | str) -> dict[str, int | str]:
    return row(" ".join([str(status)] * len(ACTORS)))


# Shorthands for the common answers.
READ = row("200 200 200 200 404 404 login")  # viewing a function
EDIT = row("302 302 403 403 404 404 login")  # changing a function, then redirected
EDIT_200 = row("200 200 403 403 404 404 login")  # changing a function, answered in place
CREATE = row("200 200 403 403 403 404 login")  # workspace-wide: create functions
OWNER_ONLY = row("200 403 403 403 403 404 login")
OWNER_ONLY_302 = row("302 403 403 403 403 404 login")
CONNECT = row("302 403 403 302 404 404 login")  # instances: owners and Source Admins
NOT_ALLOWED = every(405)


@dataclass
class World:
    workspace: Any
    other_workspace: Any
    users: dict[str, Any]
    function: Any  # a destination, with a setting, a saved payload and two versions
    source_function: Any
    setting: Any
    payload: Any
    v1: Any
    v2: Any
    webhook: Any
    target_membership: Any  # a read-only member the members routes act on
    source_instance: Any = None
    destination_instance: Any = None
    deploy: Any = None
    api_token: Any = None
    extra: dict = field(default_factory=dict)


def build_world() -> World:
    workspace = make_workspace(slug="acme")
    other = make_workspace(slug="globex")
    users = {actor: make_member(workspace=workspace, role=role) for actor, role in ROLES.items()}
    users["outsider"] = make_member(workspace=other, role=Role.WORKSPACE_OWNER)
    make_function(workspace=other, display_name="Theirs")
    owner = users["owner"]
    function = make_function(workspace=workspace, display_name="Billing", user=owner)
    setting = make_setting(function=function, name="region")
    v1 = function.versions.get(number=1)
    v2 = version_save(
        function=function, user=owner, code=function.code + "\n// v2\n", base_version_id=None
    )
    source_function = make_function(
        workspace=workspace, display_name="Hooks", resource_type=ResourceType.SOURCE, user=owner
    )
    payload = editor_models.SavedPayload.objects.create(
        function=function,
        name="Sample",
        kind=editor_models.PayloadKind.EVENT,
        data={"type": "track"},
    )
    webhook = editor_models.TestWebhook.objects.create(function=function)
    target = make_member(workspace=workspace, role=Role.FUNCTIONS_READ_ONLY)
    make_user(username="newcomer")
    world = World(
        workspace=workspace,
        other_workspace=other,
        users=users,
        function=function,
        source_function=source_function,
        setting=setting,
        payload=payload,
        v1=v1,
        v2=v2,
        webhook=webhook,
        target_membership=Membership.objects.get(workspace=workspace, user=target),
    )
    _build_deploys(world)
    _build_api(world)
    return world


def _build_deploys(world: World) -> None:
    try:
        from functions_ui.deploys import instances, services
    except ImportError:  # the deploys app is not installed
        return
    owner = world.users["owner"]
    world.source_instance = instances.source_instance_create(
        function=world.source_function, user=owner, name="Website", raw_settings={}
    )
    world.destination_instance = instances.destination_instance_create(
        function=world.function,
        user=owner,
        name="Warehouse",
        raw_settings={},
        source_ids=[world.source_instance.public_id],
    )
    world.deploy = services.deploy_start(function=world.function, version=world.v2, user=owner)


def _build_api(world: World) -> None:
    try:
        from functions_ui.api.services import api_token_create
    except ImportError:  # the API app is not installed
        return
    world.api_token, _ = api_token_create(
        workspace=world.workspace, user=world.users["owner"], description="matrix"
    )


def bearer(world: World, actor: str) -> dict[str, str]:
    """An Authorization header for the actor, made inside the actor's savepoint."""
    if actor == "anonymous":
        return {}
    from functions_ui.api.services import api_token_create

    workspace = world.other_workspace if actor == "outsider" else world.workspace
    _, raw = api_token_create(workspace=workspace, user=world.users[actor], description=actor)
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


# The table -----------------------------------------------------------------------------------

Kwargs = Callable[[World], dict]
Data = Callable[[World], dict]


def ws(w: World) -> dict:
    return {"workspace_slug": w.workspace.slug}


def fn(w: World) -> dict:
    return {**ws(w), "function_id": w.function.public_id}


def src_fn(w: World) -> dict:
    return {**ws(w), "function_id": w.source_function.public_id}


def no_kwargs(w: World) -> dict:
    return {}


@dataclass(frozen=True)
class Entry:
    """How to call a route, and what each actor gets for each method."""

    kwargs: Kwargs = no_kwargs
    # method -> {actor: status}; every route names GET and at least one write method.
    expect: dict[str, dict[str, int | str]] = field(default_factory=dict)
    data: Data | None = None
    query: str = ""
    api: bool = False
    json: bool = False  # send the write's data as a JSON body
    # Readies a real part the route needs (say, Redis), given pytest's `request`.
    prepare: Callable[[Any], None] | None = None
    # For unnamed routes (the API's): the path, built from the world.
    path: Callable[[World], str] | None = None


def web(kwargs: Kwargs, get, post, **options) -> Entry:
    return Entry(kwargs=kwargs, expect={"GET": get, "POST": post}, **options)


def api(path: Callable[[World], str], data: Data | None = None, query: str = "", **expect) -> Entry:
    return Entry(path=path, expect=expect, data=data, query=query, api=True)


def queue_accepts_webhooks(request) -> None:
    """Webhooks are queued in the session's real Redis (a public route: any caller may)."""
    request.getfixturevalue("celery_on_redis")


def setting_kw(w: World) -> dict:
    return {**fn(w), "setting_id": w.setting.pk}


def payload_kw(w: World) -> dict:
    return {**fn(w), "payload_id": w.payload.pk}


def member_kw(w: World) -> dict:
    return {**ws(w), "membership_id": w.target_membership.pk}


def instance_kw(w: World) -> dict:
    return {**ws(w), "instance_id": w.source_instance.public_id}


def destination_kw(w: World) -> dict:
    return {**ws(w), "instance_id": w.destination_instance.public_id}


def api_fn(w: World) -> str:
    return f"/api/v1/functions/{w.function.public_id}"


# API writes on instances: owners and Source Admins (Segment's "instance.connect").
API_CONNECT = row("200 403 403 200 404 404 401")


@dataclass(frozen=True)
class InsertWorld:
    function_id: str  # an insert function, as Segment's clients send it: without ifnd_
    instance_id: str  # its instance, before the world's destination instance
    spare_destination_id: str  # a destination instance with no insert function yet


def insert_world(w: World) -> InsertWorld:
    """The insert function's objects, made on first use in an actor's savepoint (and made
    again once a savepoint's rollback took them away)."""
    from functions_ui.deploys import instances
    from functions_ui.deploys.models import InsertInstance

    made = w.extra.get("insert")
    if made and InsertInstance.objects.filter(public_id=made.instance_id).exists():
        return made
    owner = w.users["owner"]
    function = make_function(
        workspace=w.workspace,
        display_name="Enricher",
        resource_type=ResourceType.INSERT_DESTINATION,
        user=owner,
    )
    instance = instances.insert_instance_create(
        function=function,
        user=owner,
        name="Enrich",
        raw_settings={},
        destination_id=w.destination_instance.public_id,
        enabled=True,
    )
    spare = instances.destination_instance_create(
        function=w.function,
        user=owner,
        name="Spare",
        raw_settings={},
        source_ids=[w.source_instance.public_id],
    )
    w.extra["insert"] = InsertWorld(function.catalog_id, instance.public_id, spare.public_id)
    return w.extra["insert"]


TABLE: dict[str, Entry] = {
    # Project-wide --------------------------------------------------------------------------
    "login": web(no_kwargs, every(200), every(200)),
    "logout": web(no_kwargs, NOT_ALLOWED, every(LOGIN)),
    # Everyone signed in may change their own password (a form with errors answers 200).
    "password_change": web(
        no_kwargs, row("200 200 200 200 200 200 login"), row("200 200 200 200 200 200 login")
    ),
    "healthz": web(no_kwargs, every(200), NOT_ALLOWED),
    "workspaces:pick": web(no_kwargs, row("302 302 302 302 302 302 login"), NOT_ALLOWED),
    # A function's test webhook: public, its token is the credential.
    "webhook_capture": web(
        lambda w: {"token": w.webhook.token},
        NOT_ALLOWED,
        every(200),
        data=lambda w: {"a": "1"},
        json=True,
    ),
    # Catalog -------------------------------------------------------------------------------
    "catalog:function_list": web(ws, row("200 200 200 200 200 404 login"), NOT_ALLOWED),
    "catalog:function_create": web(ws, CREATE, NOT_ALLOWED),
    "catalog:function_create_build": web(
        lambda w: {**ws(w), "type_slug": "destination"}, CREATE, CREATE
    ),
    "catalog:function_create_configure": web(
        lambda w: {**ws(w), "type_slug": "destination"},
        NOT_ALLOWED,
        row("302 302 403 403 403 404 login"),
        data=lambda w: {"create": "1", "display_name": "Matrix made", "code": "// hi"},
    ),
    "catalog:function_detail": web(fn, READ, NOT_ALLOWED),
    "catalog:function_delete": web(fn, row("200 200 403 403 404 404 login"), EDIT),
    # Versioning ----------------------------------------------------------------------------
    "versioning:history": web(fn, READ, NOT_ALLOWED),
    "versioning:compare": web(fn, READ, NOT_ALLOWED),
    "versioning:expand": web(fn, READ, NOT_ALLOWED, query="old_start=1&new_start=1&count=1"),
    "versioning:undo": web(fn, NOT_ALLOWED, EDIT),
    "versioning:restore": web(lambda w: {**fn(w), "version_id": w.v1.id}, READ, EDIT),
    # Editor --------------------------------------------------------------------------------
    "editor:edit": web(fn, READ, NOT_ALLOWED),
    "editor:save": web(fn, NOT_ALLOWED, EDIT, data=lambda w: {"code": "// matrix"}),
    "editor:run": web(fn, NOT_ALLOWED, EDIT_200),
    "editor:settings": web(fn, READ, NOT_ALLOWED),
    "editor:setting_add": web(
        fn, NOT_ALLOWED, EDIT, data=lambda w: {"label": "Matrix", "type": "STRING"}
    ),
    "editor:setting_name_preview": web(fn, READ, NOT_ALLOWED, query="label=API+Key"),
    # Without htmx the setting form lives on the editor page: GET redirects there.
    "editor:setting_edit": web(
        setting_kw, EDIT, EDIT, data=lambda w: {"label": "Area", "type": "STRING"}
    ),
    "editor:setting_delete": web(setting_kw, NOT_ALLOWED, EDIT),
    "editor:setting_move": web(setting_kw, NOT_ALLOWED, EDIT, data=lambda w: {"direction": "up"}),
    "editor:setting_test_value": web(setting_kw, NOT_ALLOWED, EDIT, data=lambda w: {"value": "eu"}),
    "editor:test_values": web(fn, READ, NOT_ALLOWED),
    "editor:sample_event": web(fn, READ, NOT_ALLOWED, query="type=identify"),
    "editor:header_row": web(fn, READ, NOT_ALLOWED),
    "editor:payload_save": web(
        fn, NOT_ALLOWED, EDIT_200, data=lambda w: {"name": "Mine", "data": '{"type": "track"}'}
    ),
    "editor:payload_load": web(payload_kw, READ, NOT_ALLOWED),
    "editor:starter_extras": web(
        lambda w: {**fn(w), "starter_slug": "destination-webhook-relay"}, NOT_ALLOWED, EDIT_200
    ),
    "editor:payload_delete": web(payload_kw, NOT_ALLOWED, EDIT_200),
    "editor:capture_poll": web(fn, row("204 204 403 403 404 404 login"), NOT_ALLOWED),
    "editor:test_webhook_create": web(src_fn, NOT_ALLOWED, EDIT_200),
    # Behaviour of versions (runs code in the sandbox, fetch mocked) --------------------------
    "suites:behaviour": web(fn, READ, NOT_ALLOWED),
    "suites_instances:replay": web(instance_kw, READ, NOT_ALLOWED),
    "suites:behaviour_draft": web(fn, NOT_ALLOWED, EDIT_200, data=lambda w: {"code": "// d"}),
    "suites:suite_check": web(fn, NOT_ALLOWED, EDIT_200, data=lambda w: {"code": "// d"}),
    "suites:expectation_capture": web(
        payload_kw, NOT_ALLOWED, EDIT_200, data=lambda w: {"code": "// d"}
    ),
    "suites:expectation_smoke": web(payload_kw, NOT_ALLOWED, EDIT_200),
    "suites:expectation_clear": web(payload_kw, NOT_ALLOWED, EDIT_200),
    # Anyone who may read a function may run its tests on a saved version (nothing changes).
    "suites:suite_run": web(lambda w: {**fn(w), "version_id": w.v1.id}, NOT_ALLOWED, READ),
    # Members and audit trail: owners only ---------------------------------------------------
    "members:list": web(ws, OWNER_ONLY, NOT_ALLOWED),
    "members:add": web(ws, NOT_ALLOWED, OWNER_ONLY_302, data=lambda w: {"username": "newcomer"}),
    "members:edit": web(
        member_kw, OWNER_ONLY, OWNER_ONLY_302, data=lambda w: {"role_source_admin": "on"}
    ),
    "members:remove": web(member_kw, OWNER_ONLY, OWNER_ONLY_302),
    "audit:event_list": web(ws, OWNER_ONLY, NOT_ALLOWED),
    # API tokens page: owners only ------------------------------------------------------------
    "api_tokens:list": web(ws, OWNER_ONLY, OWNER_ONLY, data=lambda w: {"description": "ci"}),
    "api_tokens:revoke": web(
        lambda w: {**ws(w), "token_id": w.api_token.pk}, NOT_ALLOWED, OWNER_ONLY_302
    ),
    "workspaces:health": web(
        ws,
        OWNER_ONLY,
        OWNER_ONLY_302,
        data=lambda w: {
            "health_window_minutes": 5,
            "health_min_runs": 20,
            "health_degraded_percent": 30,
            "health_pause_percent": 80,
        },
    ),
    "workspaces:deploys": web(
        ws, NOT_ALLOWED, OWNER_ONLY_302, data=lambda w: {"block_failing_deploys": "on"}
    ),
    "api:openapi": web(no_kwargs, every(200), NOT_ALLOWED),
    "api:docs": web(no_kwargs, every(200), NOT_ALLOWED),
    # Deploys and instances -------------------------------------------------------------------
    "deploys:function": web(fn, READ, NOT_ALLOWED),
    "deploys:deploy_create": web(fn, NOT_ALLOWED, CONNECT, data=lambda w: {"version": w.v2.id}),
    # Save & Deploy needs both Functions Admin (the save) and Source Admin (the deploy).
    "deploys:save_and_deploy": web(
        fn, NOT_ALLOWED, row("302 403 403 403 404 404 login"), data=lambda w: {"code": "// d"}
    ),
    "deploys:chooser": web(fn, READ, NOT_ALLOWED),
    "deploys:status": web(fn, READ, NOT_ALLOWED),
    "deploys:timeline": web(fn, READ, NOT_ALLOWED),
    "deploys:instances": web(fn, READ, NOT_ALLOWED),
    "deploys:connect": web(
        src_fn,
        row("200 403 403 200 404 404 login"),
        CONNECT,
        data=lambda w: {"name": "Second site"},
    ),
    "deploys:instance": web(instance_kw, READ, NOT_ALLOWED),
    "deploys:instance_settings": web(instance_kw, NOT_ALLOWED, CONNECT),
    "deploys:instance_rotate": web(instance_kw, NOT_ALLOWED, CONNECT),
    "deploys:instance_enable": web(instance_kw, NOT_ALLOWED, CONNECT),
    "deploys:instance_sources": web(
        destination_kw,
        NOT_ALLOWED,
        CONNECT,
        data=lambda w: {"sources": [w.source_instance.public_id]},
    ),
    "deploys:instance_delete": web(instance_kw, NOT_ALLOWED, CONNECT),
    "deploys:instance_resume": web(instance_kw, NOT_ALLOWED, CONNECT),
    "deploys:canary_start": web(
        instance_kw,
        NOT_ALLOWED,
        CONNECT,
        data=lambda w: {"version": w.source_instance.version_id, "percent": "10"},
    ),
    "deploys:canary_finish": web(instance_kw, NOT_ALLOWED, CONNECT, data=lambda w: {}),
    # A source instance's webhook: public, its token is the credential.
    "instance_webhook": web(
        lambda w: {"token": w.source_instance.webhook_token},
        NOT_ALLOWED,
        every(200),
        data=lambda w: {"a": "1"},
        json=True,
        prepare=queue_accepts_webhooks,
    ),
    # Public API: a Bearer token of the actor's own workspace ----------------------------------
    "api/v1/functions": api(
        lambda w: "/api/v1/functions",
        query="resourceType=DESTINATION",
        data=lambda w: {"displayName": "By API", "code": "// x", "resourceType": "DESTINATION"},
        GET=row("200 200 200 200 200 200 401"),
        # The outsider's token creates in their own workspace.
        POST=row("200 200 403 403 403 200 401"),
    ),
    "api/v1/functions/<str:function_id>": api(
        api_fn,
        data=lambda w: {"description": "via API"},
        GET=row("200 200 200 200 404 404 401"),
        PATCH=row("200 200 403 403 404 404 401"),
        DELETE=row("200 200 403 403 404 404 401"),
    ),
    "api/v1/functions/<str:function_id>/deploy": api(
        lambda w: api_fn(w) + "/deploy",
        data=lambda w: {},
        GET=every(405) | {"anonymous": 401},
        POST=row("200 403 403 200 404 404 401"),
    ),
    "api/v1/functions/<str:function_id>/deploys/<str:deploy_id>": api(
        lambda w: f"{api_fn(w)}/deploys/{w.deploy.pk}",
        GET=row("200 200 200 200 404 404 401"),
        POST=every(405) | {"anonymous": 401},
    ),
    "api/v1/functions/<str:function_id>/instances": api(
        lambda w: api_fn(w) + "/instances",
        data=lambda w: {"name": "By API", "sourceIds": [w.source_instance.public_id]},
        GET=row("200 200 200 200 404 404 401"),
        POST=API_CONNECT,
    ),
    "api/v1/functions/<str:function_id>/instances/<str:instance_id>": api(
        lambda w: f"{api_fn(w)}/instances/{w.destination_instance.public_id}",
        data=lambda w: {"name": "Renamed by API"},
        GET=row("200 200 200 200 404 404 401"),
        PATCH=API_CONNECT,
        DELETE=API_CONNECT,
    ),
    "api/v1/functions/<str:function_id>/metrics": api(
        lambda w: api_fn(w) + "/metrics",
        GET=row("200 200 200 200 404 404 401"),
        POST=every(405) | {"anonymous": 401},
    ),
    "api/v1/functions/<str:function_id>/instances/<str:instance_id>/metrics": api(
        lambda w: f"{api_fn(w)}/instances/{w.destination_instance.public_id}/metrics",
        GET=row("200 200 200 200 404 404 401"),
        POST=every(405) | {"anonymous": 401},
    ),
    "api/v1/functions/<str:function_id>/versions": api(
        lambda w: api_fn(w) + "/versions",
        data=lambda w: {"versionId": w.v1.id},
        GET=row("200 200 200 200 404 404 401"),
        POST=row("200 200 403 403 404 404 401"),
    ),
    "api/v1/functions/<str:function_id>/versions/<str:version_id>": api(
        lambda w: f"{api_fn(w)}/versions/{w.v1.id}",
        GET=row("200 200 200 200 404 404 401"),
        POST=every(405) | {"anonymous": 401},
    ),
    "api/v1/functions/<str:function_id>/versions/<str:base_version_id>"
    "/compare/<str:target_version_id>": api(
        lambda w: f"{api_fn(w)}/versions/{w.v2.id}/compare/{w.v1.id}",
        GET=row("200 200 200 200 404 404 401"),
        POST=every(405) | {"anonymous": 401},
    ),
    "api/v1/functions/<str:function_id>/versions/<str:version_id>/behaviour": api(
        lambda w: f"{api_fn(w)}/versions/{w.v2.id}/behaviour",
        data=lambda w: {"againstVersionId": w.v1.id, "payloads": [{"type": "track"}]},
        GET=every(405) | {"anonymous": 401},
        POST=row("200 200 200 200 404 404 401"),
    ),
    # Segment's paths for insert function instances.
    "api/v1/insert-function-instances": api(
        lambda w: f"/api/v1/insert-function-instances?functionId={insert_world(w).function_id}",
        data=lambda w: {
            "functionId": insert_world(w).function_id,
            "integrationId": insert_world(w).spare_destination_id,
            "name": "By API",
        },
        GET=row("200 200 200 200 404 404 401"),
        POST=API_CONNECT,
    ),
    "api/v1/insert-function-instances/<str:instance_id>": api(
        lambda w: f"/api/v1/insert-function-instances/{insert_world(w).instance_id}",
        data=lambda w: {"enabled": False},
        GET=row("200 200 200 200 404 404 401"),
        PATCH=API_CONNECT,
        DELETE=API_CONNECT,
    ),
    "api/v1/^(?P<rest>.*)$": api(
        lambda w: "/api/v1/no/such/route",
        GET=every(404),
        POST=every(404),
    ),
}


# The route list ------------------------------------------------------------------------------


def _walk(patterns, prefix: str = "", namespace: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}{pattern.name}" if pattern.name else prefix + str(pattern.pattern)


def route_keys() -> list[str]:
    """Every URL pattern of the project: its name, or its full path when it has none."""
    return list(_walk(get_resolver().url_patterns))


def test_every_route_has_an_entry():
    missing = [key for key in route_keys() if key not in TABLE]
    assert missing == [], (
        "Routes without an entry in tests/permissions/test_matrix.py TABLE (say who may read "
        f"and write them): {missing}"
    )


def test_every_entry_is_a_route():
    keys = set(route_keys())
    assert [key for key in TABLE if key not in keys] == []


def test_every_entry_checks_a_read_and_a_write():
    for key, entry in TABLE.items():
        assert "GET" in entry.expect, key
        assert set(entry.expect) - {"GET"}, key
        for expected in entry.expect.values():
            assert set(expected) == set(ACTORS), key


# The check -----------------------------------------------------------------------------------


def _url(entry: Entry, key: str, world: World) -> str:
    url = entry.path(world) if entry.path else reverse(key, kwargs=entry.kwargs(world))
    return f"{url}?{entry.query}" if entry.query else url


def _call(entry: Entry, key: str, method: str, actor: str, world: World):
    client = Client()
    headers: dict[str, str] = {}
    if entry.api:
        headers = bearer(world, actor)
    elif actor != "anonymous":
        client.force_login(world.users[actor])
    url = _url(entry, key, world)
    data = entry.data(world) if entry.data and method != "GET" else {}
    if entry.api or entry.json:
        if method in ("POST", "PATCH", "PUT"):
            body = json.dumps(data)
            return client.generic(
                method, url, data=body, content_type="application/json", **headers
            )
        return client.generic(method, url, **headers)
    call = getattr(client, method.lower())
    return call(url, data) if data else call(url)


def _answer(response) -> int | str:
    if response.status_code == 302 and response["Location"].startswith(reverse("login")):
        return LOGIN
    return response.status_code


CASES = [(key, method) for key, entry in TABLE.items() for method in entry.expect]


@pytest.mark.parametrize(("key", "method"), CASES, ids=[f"{k} {m}" for k, m in CASES])
def test_route_answers_each_actor_as_declared(key, method, request):
    entry = TABLE[key]
    if entry.prepare:
        entry.prepare(request)
    world = build_world()
    got: dict[str, int | str] = {}
    unaudited: list[str] = []
    for actor in ACTORS:
        savepoint = transaction.savepoint()
        try:
            got[actor] = _answer(_call(entry, key, method, actor, world))
            if method != "GET" and got[actor] == 403:
                denied = AuditEvent.objects.filter(
                    workspace=world.workspace, action=AuditAction.ACCESS_DENIED
                )
                if not denied.exists():
                    unaudited.append(actor)
        finally:
            transaction.savepoint_rollback(savepoint)
    expected = entry.expect[method]
    wrong = {a: f"expected {expected[a]}, got {got[a]}" for a in ACTORS if got[a] != expected[a]}
    assert wrong == {}, f"{method} {key}"
    assert unaudited == [], f"{method} {key}: 403 without an access.denied audit event"
