"""The dashboard's URL map: each app's URLs under its own namespace."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from functions_ui import views
from functions_ui.api import urls as api_urls
from functions_ui.deploys import webhooks as deploy_webhooks
from functions_ui.editor import views as editor_views
from functions_ui.permissions.passwords import PasswordChange
from functions_ui.suites import urls as suites_urls

urlpatterns = [
    # A source instance's webhook: public, its unguessable token the credential. First in the
    # list because every webhook pays for each pattern tried before the one that matches.
    path("hooks/<str:token>", deploy_webhooks.webhook, name="instance_webhook"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/password/", PasswordChange.as_view(), name="password_change"),
    path("healthz", views.healthz, name="healthz"),
    path("", include("functions_ui.workspaces.urls")),
    path("w/<slug:workspace_slug>/functions/", include("catalog.urls")),
    path(
        "w/<slug:workspace_slug>/functions/<str:function_id>/versions/",
        include("versioning.urls"),
    ),
    path(
        "w/<slug:workspace_slug>/functions/<str:function_id>/edit/",
        include("functions_ui.editor.urls"),
    ),
    path(
        "w/<slug:workspace_slug>/functions/<str:function_id>/",
        include("functions_ui.suites.urls"),
    ),
    path(
        "w/<slug:workspace_slug>/",
        include((suites_urls.instance_patterns, "suites_instances")),
    ),
    path("w/<slug:workspace_slug>/members/", include("functions_ui.permissions.urls")),
    path("w/<slug:workspace_slug>/audit/", include("functions_ui.audit.urls")),
    # The public API: token-authenticated JSON, every answer in Segment's envelope.
    path("api/v1/", include(api_urls.api_v1_patterns)),
    path("api/", include((api_urls.site_patterns, "api"))),
    path(
        "w/<slug:workspace_slug>/settings/api-tokens/",
        include((api_urls.token_patterns, "api_tokens")),
    ),
    # A function's test webhook is public: its unguessable token is the credential.
    path("hooks/test/<str:token>/", editor_views.webhook_capture, name="webhook_capture"),
    path("w/<slug:workspace_slug>/", include("functions_ui.deploys.urls")),
]
