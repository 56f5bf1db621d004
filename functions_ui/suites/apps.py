from django.apps import AppConfig
from django.db import transaction
from django.db.models.signals import post_save


def _version_saved(sender, instance, created: bool, **kwargs) -> None:
    """Every save runs the function's test suite in the background, once the save commits."""
    from functions_ui.editor.models import SavedPayload
    from functions_ui.suites.tasks import suite_enqueue

    if not created:
        return
    if SavedPayload.objects.filter(function_id=instance.function_id, expect__isnull=False).exists():
        transaction.on_commit(lambda: suite_enqueue(instance.pk))


class SuitesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "functions_ui.suites"
    label = "suites"
    verbose_name = "Test suites and behaviour"

    def ready(self) -> None:
        # Versioning cannot know the layers above it: the suites listen for its saves.
        post_save.connect(_version_saved, sender="versioning.Version", dispatch_uid="suite-run")
