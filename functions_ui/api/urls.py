"""The public API under /api/v1/ (Segment's paths), its OpenAPI document and docs page, and
the owners' token page under a workspace."""

from __future__ import annotations

from django.urls import path, re_path

from functions_ui.api import views
from functions_ui.api.endpoint import endpoint, unknown_route
from functions_ui.api.routes import django_path, routes_by_path

# One view per path, serving the methods its routes name; the OpenAPI document lists the same.
api_v1_patterns = [
    *(
        path(django_path(route_path), endpoint(routes))
        for route_path, routes in routes_by_path().items()
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
