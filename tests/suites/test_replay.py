"""Replay: an instance's real events through a candidate version; nothing is delivered."""

from __future__ import annotations

import pytest

from functions_ui.deploys.models import Delivery, RunStatus
from functions_ui.permissions.models import Role
from functions_ui.suites import behaviour
from tests.deploys.helpers import drain_deliveries, make_destination, make_source, run_source
from tests.html import text_of
from versioning.services import version_save

pytestmark = pytest.mark.django_db

# v2 refuses orders under 10 and renames a logged field.
CANDIDATE = """async function onTrack(event, settings) {
  if (event.properties.n < 3) throw new ValidationError('too small');
  console.log('delivering', event.event, settings.apiKey);
}"""


@pytest.fixture
def delivered(workspace):
    _, source = make_source(workspace=workspace)
    function, destination = make_destination(workspace=workspace, sources=[source])
    for n in range(6):
        run_source(source, {"event": "Order", "n": n})
    drain_deliveries(workspace.pk)
    assert Delivery.objects.filter(status=RunStatus.DELIVERED).count() == 6
    candidate = version_save(function=function, user=None, code=CANDIDATE, base_version_id=None)
    return source, destination, candidate


def test_replay_sorts_real_events_into_same_different_and_newly_failing(delivered):
    _, destination, candidate = delivered
    result = behaviour.replay(instance=destination, candidate_code=candidate.code, limit=1000)
    assert len(result.comparisons) == 6
    assert (result.same, len(result.different), result.newly_failing) == (3, 3, 3)
    failing = result.different[0]
    assert failing.right["outcome"]["error"] == "ValidationError: too small"
    # The instance's own settings, masked; and nothing new was delivered.
    assert all("dest_secret_456" not in str(c.left) for c in result.comparisons)
    assert Delivery.objects.count() == 6


def test_replay_of_a_source_runs_its_last_requests(delivered):
    source, _, _ = delivered
    code = source.version.code.replace("body.event || 'Webhook'", "'Renamed'")
    result = behaviour.replay(instance=source, candidate_code=code, limit=4)
    assert len(result.comparisons) == 4
    assert all(c.differs == ("events",) for c in result.comparisons)


def test_the_instance_page_replays_with_a_summary(delivered, client, login_as):
    _, destination, candidate = delivered
    login_as(Role.FUNCTIONS_READ_ONLY)
    page = client.get(
        f"/w/{destination.function.workspace.slug}/instances/{destination.public_id}/"
    )
    assert "Replay real events" in text_of(page.content.decode())
    response = client.get(
        f"/w/{destination.function.workspace.slug}/instances/{destination.public_id}/replay/",
        {"version": candidate.id, "count": "5"},
        HTTP_HX_REQUEST="true",
    )
    text = text_of(response.content.decode())
    assert "The last 5 events: v1 (runs here) against v2" in text
    html = response.content.decode()
    # The newest five are n = 5 down to 1; the candidate refuses 2 and 1.
    assert '<td data-replay="newly-failing">2</td>' in html
    assert '<td data-replay="same">3</td>' in html
    assert "dest_secret_456" not in response.content.decode()
