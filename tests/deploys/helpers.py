"""Factory functions and code samples for the deploys tests."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime

from catalog.models import ResourceType
from functions_ui.deploys import instances
from functions_ui.deploys.deliveries import deliveries_drain
from functions_ui.deploys.models import SourceRun, WebhookRequest
from functions_ui.deploys.sources import sources_drain
from tests.factories import make_function, make_setting, make_workspace
from versioning.selectors import latest_version

T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)
JSON = {"Content-Type": "application/json"}

SOURCE_CODE = """
async function onRequest(request, settings) {
  const body = request.json();
  console.log('token is ' + settings.apiKey);
  Segment.track({ event: body.event || 'Webhook', userId: body.userId || 'u1',
                  properties: { keys: Object.keys(body).join(','), n: body.n || 0 } });
}
"""
DESTINATION_CODE = """
async function onTrack(event, settings) {
  console.log('delivering', event.event, settings.apiKey);
}
"""
INSERT_CODE = """
async function onTrack(event, settings) {
  if (event.event === 'Drop me') throw new DropEvent('not wanted');
  event.properties = { ...event.properties, enriched: true };
  return event;
}
"""


def make_source(*, workspace, name="Webhook source", code=SOURCE_CODE, sensitive=True, **kwargs):
    function = make_function(
        workspace=workspace, resource_type=ResourceType.SOURCE, code=code, **kwargs
    )
    make_setting(function=function, name="apiKey", sensitive=sensitive, required=True)
    instance = instances.source_instance_create(
        function=function, user=None, name=name, raw_settings={"apiKey": "sk_live_secret123"}
    )
    return function, instance


def make_destination(*, workspace, sources, code=DESTINATION_CODE, name="Warehouse"):
    function = make_function(workspace=workspace, resource_type=ResourceType.DESTINATION, code=code)
    make_setting(function=function, name="apiKey", sensitive=True)
    instance = instances.destination_instance_create(
        function=function,
        user=None,
        name=name,
        raw_settings={"apiKey": "dest_secret_456"},
        source_ids=[s.public_id for s in sources],
    )
    return function, instance


def make_insert(*, workspace, destination, code=INSERT_CODE, enabled=True):
    function = make_function(
        workspace=workspace, resource_type=ResourceType.INSERT_DESTINATION, code=code
    )
    instance = instances.insert_instance_create(
        function=function,
        user=None,
        name="Enricher",
        raw_settings={},
        destination_id=destination.public_id,
        enabled=enabled,
    )
    return function, instance


def latest(function):
    return latest_version(function=function)


def save_code(instance, code):
    """Save and switch an instance's function to new code, as a deploy would."""
    from versioning.services import version_save

    version = version_save(function=instance.function, user=None, code=code, base_version_id=None)
    instance.version = version
    instance.save(update_fields=["version"])
    return version


def post(instance, body, *, request_id=None, now=T0, headers=JSON, query="") -> str:
    """Store a webhook request as intake would, received at `now`; returns its request id."""
    request_id = request_id or uuid.uuid4().hex
    WebhookRequest.objects.create(
        instance=instance,
        workspace_id=instance.function.workspace_id,
        request_id=request_id,
        body=body if isinstance(body, str) else json.dumps(body),
        headers=headers,
        query=query,
        received_at=now,
        available_at=now,
    )
    return request_id


def drain_sources(workspace_id, *, now=T0, seed=0) -> int:
    return sources_drain(workspace_id=workspace_id, now=now, rng=random.Random(seed))


def drain_deliveries(workspace_id, *, now=T0, seed=1) -> int:
    return deliveries_drain(workspace_id=workspace_id, now=now, rng=random.Random(seed))


def run_source(instance, body, *, now=T0, **kwargs) -> SourceRun | None:
    """Post one request and drain the source stage: the request's run (None: nothing ran)."""
    request_id = post(instance, body, now=now, **kwargs)
    drain_sources(instance.function.workspace_id, now=now)
    return SourceRun.objects.filter(request_id=request_id).first()


def deploy_now(function, version, instance_ids=None):
    """Start a deploy and run it in place, as its Celery task would."""
    from functions_ui.deploys import services

    deploy = services.deploy_start(
        function=function, version=version, user=None, instance_ids=instance_ids
    )
    return services.deploy_execute(deploy_id=deploy.pk)


def make_pipelines(count: int, workspace) -> list:
    """`count` workspaces (the first the one given), each with a source wired to a destination:
    (workspace, source) pairs."""
    made = []
    for n in range(count):
        owner = workspace if n == 0 else make_workspace(slug=f"ws{n}", name=f"WS {n}")
        _, source = make_source(workspace=owner)
        make_destination(workspace=owner, sources=[source])
        made.append((owner, source))
    return made
