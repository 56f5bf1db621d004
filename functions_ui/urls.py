"""The dashboard's URL map: each app's URLs under its own namespace."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from functions_ui import views
from functions_ui.editor import views as editor_views

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
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
    # A function's test webhook is public: its unguessable token is the credential.
    path("hooks/test/<str:token>/", editor_views.webhook_capture, name="webhook_capture"),
]
