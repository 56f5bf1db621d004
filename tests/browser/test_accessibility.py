"""axe-core (installed from npm by the project's setup) on every main page: no serious or
critical accessibility violation."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from functions_ui.editor.models import SavedPayload
from functions_ui.permissions.models import Role
from tests.deploys.helpers import drain_deliveries, make_destination, make_source, run_source
from tests.factories import make_member, make_user
from versioning.services import version_save

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"


def violations(page) -> list[str]:
    """The serious and critical violations axe finds on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async () => (await axe.run(document, { resultTypes: ['violations'] })).violations
            .filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3)
              .map(n => n.target.join(' ')).join(', ')}`)"""
    )
    return list(found)


def test_every_main_page_has_no_serious_accessibility_violation(page, log_in, workspace):
    owner = make_user(username="owner")
    make_member(workspace=workspace, role=Role.WORKSPACE_OWNER, user=owner)
    source_fn, shop = make_source(workspace=workspace, name="Shop hooks")
    function, warehouse = make_destination(workspace=workspace, sources=[shop], name="Warehouse")
    SavedPayload.objects.create(
        function=function, name="order", kind="event", data={"type": "track", "event": "A"}
    )
    run_source(shop, {"event": "Order"})
    drain_deliveries(workspace.pk)
    version_save(function=function, user=None, code=function.code + "\n// v2", base_version_id=None)
    log_in("owner")
    base = f"/w/{workspace.slug}"
    pages = {
        "catalog": f"{base}/functions/",
        "function": function.get_absolute_url(),
        "editor": f"{base}/functions/{function.public_id}/edit/",
        "history": f"{base}/functions/{function.public_id}/versions/",
        "compare": f"{base}/functions/{function.public_id}/versions/compare/",
        "deploys": f"{base}/functions/{function.public_id}/deploys/",
        "source instance": f"{base}/instances/{shop.public_id}/",
        "destination instance": f"{base}/instances/{warehouse.public_id}/",
        "create": f"{base}/functions/new/",
        "members": f"{base}/members/",
        "audit": f"{base}/audit/",
        "api tokens": f"{base}/settings/api-tokens/",
        "settings": f"{base}/settings/health/",
    }
    found = {}
    for name, url in pages.items():
        page.goto(url)
        page.wait_for_load_state("networkidle")
        problems = violations(page)
        if problems:
            found[name] = problems
    assert found == {}, "\n".join(f"{name}: {'; '.join(p)}" for name, p in found.items())
