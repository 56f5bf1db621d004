"""The workspace's thresholds of the instances' health check: owners only, audited."""

from __future__ import annotations

import pytest

from functions_ui.audit.models import AuditEvent
from functions_ui.permissions.models import Role

pytestmark = pytest.mark.django_db


def test_owners_set_the_thresholds_and_the_change_is_audited(workspace, login_as, client):
    login_as(Role.WORKSPACE_OWNER)
    url = f"/w/{workspace.slug}/settings/health/"
    values = {
        "health_window_minutes": 10,
        "health_min_runs": 50,
        "health_degraded_percent": 10,
        "health_pause_percent": 5,
    }
    response = client.post(url, values)
    assert response.status_code == 422
    assert "Pausing needs at least" in response.content.decode()
    response = client.post(url, {**values, "health_pause_percent": 0})
    assert response.status_code == 302
    workspace.refresh_from_db()
    assert (workspace.health_window_minutes, workspace.health_pause_percent) == (10, 0)
    event = AuditEvent.objects.get(action="workspace.update")
    assert event.details["health_check"]["health_pause_percent"] == {"from": 75, "to": 0}
