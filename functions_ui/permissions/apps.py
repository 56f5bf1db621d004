from django.apps import AppConfig


class PermissionsConfig(AppConfig):
    name = "functions_ui.permissions"
    label = "permissions"
