from django.apps import AppConfig


class WorkspacesConfig(AppConfig):
    name = "functions_ui.workspaces"
    label = "workspaces"
