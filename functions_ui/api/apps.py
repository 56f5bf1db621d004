from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "functions_ui.api"
    label = "api"
    verbose_name = "Public API"
