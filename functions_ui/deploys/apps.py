from django.apps import AppConfig


class DeploysConfig(AppConfig):
    name = "functions_ui.deploys"
    label = "deploys"
    verbose_name = "Deploys and instances"
