from django.apps import AppConfig


class BenchConfig(AppConfig):
    name = "functions_ui.bench"
    label = "bench"
    verbose_name = "Benchmarks"
