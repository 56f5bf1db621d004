from django.apps import AppConfig


class RuntimeConfig(AppConfig):
    name = "functions_ui.runtime"
    label = "runtime"
    verbose_name = "JavaScript runtime"
