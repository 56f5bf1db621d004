from django.apps import AppConfig


class EditorConfig(AppConfig):
    name = "functions_ui.editor"
    label = "editor"
    verbose_name = "Function editor"
