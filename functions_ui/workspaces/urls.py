from django.urls import path

from functions_ui.workspaces import views

app_name = "workspaces"
urlpatterns = [
    path("", views.workspace_pick, name="pick"),
    path("w/<slug:workspace_slug>/settings/health/", views.health_settings, name="health"),
    path("w/<slug:workspace_slug>/settings/deploys/", views.deploy_settings, name="deploys"),
]
