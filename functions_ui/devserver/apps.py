from django.apps import AppConfig


class DevserverConfig(AppConfig):
    name = "functions_ui.devserver"
    label = "devserver"
    verbose_name = "Local services for development and tests"
