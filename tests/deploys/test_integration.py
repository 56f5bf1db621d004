"""End to end over a real Redis and real Celery worker subprocesses (no eager mode)."""

import pytest
import redis
from django.urls import reverse

from functions_ui.deploys.models import (
    Delivery,
    Deploy,
    DeployStatus,
    RunStatus,
    SourceEvent,
)
from functions_ui.deploys.services import deploy_start
from functions_ui.permissions.models import Role
from tests.deploys.helpers import (
    SOURCE_CODE,
    latest,
    make_destination,
    make_insert,
    make_source,
)
from tests.deploys.workers import eventually, wait_for_worker
from versioning.selectors import deployed_version
from versioning.services import version_save

pytestmark = pytest.mark.django_db(transaction=True)

ENRICHED_ONLY = """
async function onTrack(event, settings) {
  if (!event.properties.enriched) throw new ValidationError('the insert function did not run');
  console.log('delivered', event.event);
}
"""

# Patched into a worker: stop in the middle of a deploy (after it is claimed, before the
# switch), say so over Redis, and wait for a release that may never come. (redis-py's
# default socket timeout of 5 s would end that wait early and fail the deploy.)
STOP_MID_DEPLOY = """
import redis
from functions_ui.deploys import services
_check = services.deploy_check
def _stopping_check(*, version):
    problems = _check(version=version)
    client = redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=None)
    client.rpush("test:deploy-stopped", version.pk)
    client.blpop("test:deploy-release", timeout=0)
    return problems
services.deploy_check = _stopping_check
"""


def blocking_client(url: str) -> redis.Redis:
    """A client whose BLPOP waits as long as it asks: redis-py's default socket timeout (5 s)
    would cut a longer wait short with "Timeout reading from socket"."""
    return redis.Redis.from_url(url, socket_timeout=None)


def status_of(deploy):
    return Deploy.objects.get(pk=deploy.pk).status


def test_deploy_from_the_ui_and_a_webhook_through_the_whole_pipeline(
    client, login_as, workspace, start_worker
):
    start_worker()
    login_as(Role.WORKSPACE_OWNER)
    source_fn, source = make_source(workspace=workspace)
    dest_fn, destination = make_destination(workspace=workspace, sources=[source])
    make_insert(workspace=workspace, destination=destination)
    wait_for_worker()

    # Save & Deploy from the editor's endpoint: the worker switches the instance.
    response = client.post(
        reverse("deploys:save_and_deploy", args=[workspace.slug, dest_fn.public_id]),
        {"code": ENRICHED_ONLY, "target": "all"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    deploy = Deploy.objects.get(function=dest_fn)
    eventually(lambda: status_of(deploy) == DeployStatus.SUCCEEDED)
    destination.refresh_from_db()
    assert destination.version == latest(dest_fn) == deployed_version(function=dest_fn)

    # POST to the webhook -> onRequest -> event stored -> insert -> destination.
    hook = reverse("instance_webhook", args=[source.webhook_token])
    response = client.post(hook, {"event": "Order Placed", "userId": "u7"}, "application/json")
    assert response.status_code == 200
    delivery = eventually(lambda: Delivery.objects.filter(status=RunStatus.DELIVERED).first())
    event = SourceEvent.objects.get()
    assert event.payload["event"] == "Order Placed"
    assert delivery.event == event
    assert delivery.version == destination.version


def test_a_worker_killed_mid_deploy_completes_it_once_when_a_worker_returns(
    workspace, start_worker, celery_on_redis
):
    function, instance = make_source(workspace=workspace)
    v1 = latest(function)
    v2 = version_save(
        function=function, user=None, code=SOURCE_CODE + "// v2", base_version_id=None
    )
    stopping = start_worker("stopping", setup=STOP_MID_DEPLOY)
    deploy = deploy_start(function=function, version=v2, user=None)
    broker = blocking_client(celery_on_redis.url)
    assert broker.blpop("test:deploy-stopped", timeout=30) is not None

    stopping.kill()
    deploy.refresh_from_db()
    instance.refresh_from_db()
    assert (deploy.status, deploy.attempts) == (DeployStatus.RUNNING, 1)
    assert instance.version == v1  # nothing switched yet

    start_worker("returning", TEST_VISIBILITY_TIMEOUT="1")
    eventually(lambda: status_of(deploy) == DeployStatus.SUCCEEDED)
    wait_for_worker()  # the returning worker has nothing else queued
    deploy.refresh_from_db()
    instance.refresh_from_db()
    assert deploy.attempts == 2
    assert instance.version == v2
    assert deployed_version(function=function) == v2
    assert Deploy.objects.count() == 1


def test_two_deploys_of_one_function_run_one_after_the_other(
    workspace, start_worker, celery_on_redis
):
    function, instance = make_source(workspace=workspace)
    v2 = version_save(
        function=function, user=None, code=SOURCE_CODE + "// v2", base_version_id=None
    )
    v3 = version_save(
        function=function, user=None, code=SOURCE_CODE + "// v3", base_version_id=None
    )
    start_worker("slow", setup=STOP_MID_DEPLOY)
    first = deploy_start(function=function, version=v2, user=None)
    broker = blocking_client(celery_on_redis.url)
    assert broker.blpop("test:deploy-stopped", timeout=30) is not None

    start_worker("fast")
    second = deploy_start(function=function, version=v3, user=None)
    wait_for_worker()  # the free worker has taken the second deploy by now
    assert status_of(second) == DeployStatus.QUEUED  # held back while the first runs

    broker.rpush("test:deploy-release", "go")
    eventually(lambda: status_of(second) == DeployStatus.SUCCEEDED)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == DeployStatus.SUCCEEDED
    assert second.started_at >= first.finished_at
    instance.refresh_from_db()
    assert instance.version == v3
    assert deployed_version(function=function) == v3
