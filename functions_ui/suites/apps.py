from django.apps import AppConfig


class SuitesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "functions_ui.suites"
    label = "suites"
    verbose_name = "Test suites and behaviour"
