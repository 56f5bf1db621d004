from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "functions_ui.audit"
    label = "audit"
    verbose_name = "Audit trail"
