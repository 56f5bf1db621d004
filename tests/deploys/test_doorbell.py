"""The doorbell's line of workspaces and its drains, on a real Redis (no worker: the drains run
here, in the test, as a worker would run them)."""

from __future__ import annotations

import base64
import json
import time

import pytest
import redis

from functions_ui.deploys import doorbell, sources
from functions_ui.deploys.models import Delivery, RunStatus, WebhookRequest
from tests.deploys.helpers import make_pipelines, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker(celery_on_redis) -> redis.Redis:
    return redis.Redis.from_url(celery_on_redis.url)


def line(broker: redis.Redis, stage: str = "sources") -> list[int]:
    return [int(v) for v in broker.lrange(f"fnui:line:{stage}", 0, -1)]


def drain_tokens_sent(broker: redis.Redis) -> list[str]:
    """The tokens of the drain tasks waiting in Celery's queue, oldest first."""
    sent = []
    for raw in reversed(broker.lrange("celery", 0, -1)):
        message = json.loads(raw)
        assert message["headers"]["task"] == "pipeline.sources_drain"
        args = json.loads(base64.b64decode(message["body"]))[0]
        sent.append(args[0])
    return sent


def alive_drains(broker: redis.Redis, stage: str = "sources") -> set[str]:
    return {v.decode() for v in broker.zrangebyscore(f"fnui:drains:{stage}", time.time(), "+inf")}


def test_a_workspace_waits_in_the_line_once_and_rings_one_drain(broker):
    for _ in range(5):
        assert doorbell.ring("sources", 7)
    assert line(broker) == [7]
    [token] = drain_tokens_sent(broker)
    assert alive_drains(broker) == {token}


def test_many_workspaces_wake_at_most_pipeline_drains_drains(broker, settings):
    settings.PIPELINE_DRAINS = 3
    for workspace_id in range(1, 11):
        doorbell.ring("sources", workspace_id)
    assert line(broker) == list(range(1, 11))
    assert len(drain_tokens_sent(broker)) == 3
    assert len(alive_drains(broker)) == 3


def test_a_lost_drain_is_replaced_when_its_token_lapses(broker, settings):
    doorbell.ring("sources", 7)
    [token] = drain_tokens_sent(broker)
    broker.delete("celery")
    # The worker running it died: its token is no longer renewed and lapses.
    broker.zadd("fnui:drains:sources", {token: time.time() - 1})
    # The sweep rings again for the workspace, still in the line with its flag set.
    doorbell.ring("sources", 7)
    assert line(broker) == [7]
    [follower] = drain_tokens_sent(broker)
    assert follower != token and alive_drains(broker) == {follower}


def test_a_drain_takes_half_of_the_waiting_workspaces(broker):
    for workspace_id in range(1, 11):
        doorbell.ring("sources", workspace_id)
    assert doorbell._take("sources", "t1", 64) == [1, 2, 3, 4, 5]
    assert doorbell._take("sources", "t2", 2) == [6, 7]
    assert doorbell._take("sources", "t3", 64) == [8, 9]
    assert doorbell._take("sources", "t3", 64) == [10]
    assert doorbell._take("sources", "t3", 64) == []


def test_one_drain_works_through_several_workspaces_in_shared_batches(broker, workspace):
    made = make_pipelines(3, workspace)
    for n, (owner, source) in enumerate(made):
        for k in range(n + 1):
            post(source, {"event": "A", "n": k})
        doorbell.ring("sources", owner.pk)
    token = drain_tokens_sent(broker)[0]
    asked: list[list[int]] = []

    def one_batch(workspace_ids: list[int]) -> dict[int, int]:
        asked.append(sorted(workspace_ids))
        return sources.sources_drain_many(workspace_ids=workspace_ids)

    assert doorbell.drain("sources", token, one_batch, 50) == 6
    a, b, c = sorted(owner.pk for owner, _ in made)
    # It takes half of the line (two), then the third joins them. Each workspace leaves after
    # two looks at its empty queue (the second after its flag was cleared).
    assert asked == [[a, b], [a, b, c], [a, b, c], [c]]
    assert Delivery.objects.filter(status=RunStatus.DELIVERED).count() == 6
    assert not WebhookRequest.objects.exists()
    assert line(broker) == []
    assert not [k for k in broker.keys("fnui:bell:sources:*") if not k.endswith(b":helper")]
    # Its place among the drains is free again (the other two rings' drains are still queued).
    assert token not in alive_drains(broker) and len(alive_drains(broker)) == 2


def test_at_its_deadline_a_drain_puts_workspaces_with_work_at_the_back_of_the_line(
    broker, workspace, monkeypatch, settings
):
    monkeypatch.setattr(doorbell, "DRAIN_SECONDS", 0.0)
    settings.PIPELINE_DRAINS = 1
    [(owner, source), (other, _)] = make_pipelines(2, workspace)
    post(source, {"event": "A"})
    doorbell.ring("sources", owner.pk)
    doorbell.ring("sources", other.pk)  # waits behind it, taken by the next drain
    [token] = drain_tokens_sent(broker)
    broker.delete("celery")
    # The line holds two: the drain takes one (half), runs one batch, and its time is up.
    assert doorbell.drain("sources", token, lambda ids: {ids[0]: 1}, 50) == 1
    assert line(broker) == [other.pk, owner.pk]
    # The drain handed over to a new one for the line it left.
    [follower] = drain_tokens_sent(broker)
    assert alive_drains(broker) == {follower}


def test_a_failed_batch_puts_its_workspaces_back_in_the_line(broker):
    doorbell.ring("sources", 7)
    [token] = drain_tokens_sent(broker)

    def failing(workspace_ids: list[int]) -> dict[int, int]:
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        doorbell.drain("sources", token, failing, 50)
    assert line(broker) == [7]
    assert token not in alive_drains(broker)


def test_a_full_batch_rings_a_helper_drain_for_the_same_workspace(broker, workspace, settings):
    settings.PIPELINE_SOURCE_BATCH = 2
    [(owner, source)] = make_pipelines(1, workspace)
    for n in range(5):
        post(source, {"event": "A", "n": n})
    doorbell.ring("sources", owner.pk)
    [token] = drain_tokens_sent(broker)
    seen_line = []

    def one_batch(workspace_ids: list[int]) -> dict[int, int]:
        seen_line.append(line(broker))
        return sources.sources_drain_many(workspace_ids=workspace_ids)

    doorbell.drain("sources", token, one_batch, 2)
    # After its first full batch, the workspace waited in the line again for a helper.
    assert seen_line[:2] == [[], [owner.pk]]
    assert not WebhookRequest.objects.exists()


def test_a_drain_goes_on_with_its_workspaces_when_the_broker_goes_away(
    broker, workspace, celery_on_redis
):
    [(owner, source)] = make_pipelines(1, workspace)
    post(source, {"event": "A"})
    doorbell.ring("sources", owner.pk)
    [token] = drain_tokens_sent(broker)
    batches = []

    def one_batch(workspace_ids: list[int]) -> dict[int, int]:
        batches.append(workspace_ids)
        claimed = sources.sources_drain_many(workspace_ids=workspace_ids)
        celery_on_redis.stop()  # the broker restarts: gone mid-drain
        return claimed

    try:
        assert doorbell.drain("sources", token, one_batch, 50) == 1
    finally:
        celery_on_redis.start()
    # It finished its workspace (the looks at its empty queue) without the broker.
    assert batches == [[owner.pk], [owner.pk], [owner.pk]]
    assert Delivery.objects.filter(status=RunStatus.DELIVERED).count() == 1
