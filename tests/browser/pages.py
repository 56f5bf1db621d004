"""A workspace with something on every main page, and those pages' URLs: what the whole-product
checks (accessibility, phones) walk through."""

from __future__ import annotations

from functions_ui.editor.models import SavedPayload
from functions_ui.permissions.models import Role
from tests.deploys.helpers import drain_deliveries, make_destination, make_source, run_source
from tests.factories import make_function, make_member, make_user
from versioning.services import version_save


def main_pages(workspace) -> dict[str, str]:
    """Seed the workspace (an owner named "owner", a source feeding a destination with a
    delivered event, two versions, a saved payload, a 120-character name) and name its pages."""
    owner = make_user(username="owner")
    make_member(workspace=workspace, role=Role.WORKSPACE_OWNER, user=owner)
    make_function(workspace=workspace, display_name="A" * 120)  # a long name without spaces
    _, shop = make_source(workspace=workspace, name="Shop hooks")
    function, warehouse = make_destination(workspace=workspace, sources=[shop], name="Warehouse")
    SavedPayload.objects.create(
        function=function, name="order", kind="event", data={"type": "track", "event": "A"}
    )
    run_source(shop, {"event": "Order Completed", "userId": "user-with-a-long-identifier-1234"})
    drain_deliveries(workspace.pk)
    version_save(function=function, user=None, code=function.code + "\n// v2", base_version_id=None)
    base = f"/w/{workspace.slug}"
    return {
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
