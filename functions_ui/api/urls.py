"""The public API under /api/v1/ (Segment's paths), its OpenAPI document and docs page, and
the owners' token page under a workspace."""

from __future__ import annotations

from django.urls import path, re_path

from functions_ui.api import views
from functions_ui.api.endpoint import endpoint, unknown_route

FUNCTION = "functions/<str:function_id>"

# Path -> view, each view serving the methods it names; the OpenAPI document lists the same.
api_v1_patterns = [
    path("functions", endpoint(GET=views.function_list, POST=views.function_create)),
    path(
        FUNCTION,
        endpoint(GET=views.function_get, PATCH=views.function_update, DELETE=views.function_delete),
    ),
    path(f"{FUNCTION}/deploy", endpoint(POST=views.function_deploy)),
    path(f"{FUNCTION}/deploys/<str:deploy_id>", endpoint(GET=views.deploy_get)),
    path(
        f"{FUNCTION}/instances",
        endpoint(GET=views.instance_list, POST=views.instance_create),
    ),
    path(
        f"{FUNCTION}/instances/<str:instance_id>",
        endpoint(GET=views.instance_get, PATCH=views.instance_update, DELETE=views.instance_delete),
    ),
    path(
        f"{FUNCTION}/versions",
        endpoint(GET=views.version_list, POST=views.version_restore),
    ),
    path(f"{FUNCTION}/versions/<str:version_id>", endpoint(GET=views.version_get)),
    path(
        f"{FUNCTION}/versions/<str:base_id>/compare/<str:target_id>",
        endpoint(GET=views.version_compare),
    ),
    # Segment's own paths for insert function instances (its alpha API).
    path(
        "insert-function-instances",
        endpoint(GET=views.insert_instance_list, POST=views.insert_instance_create),
    ),
    path(
        "insert-function-instances/<str:instance_id>",
        endpoint(
            GET=views.insert_instance_get,
            PATCH=views.insert_instance_update,
            DELETE=views.insert_instance_delete,
        ),
    ),
    re_path(r"^(?P<rest>.*)$", unknown_route),
]

site_patterns = [
    path("openapi.json", views.openapi_json, name="openapi"),
    path("docs/", views.api_docs, name="docs"),
]

token_patterns = [
    path("", views.token_list, name="list"),
    path("<int:token_id>/revoke/", views.token_revoke, name="revoke"),
]
