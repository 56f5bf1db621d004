"""Give every function created before versioning its version 1, labelled LATEST."""

from django.db import migrations

SCHEMA_KEYS = ("name", "label", "description", "type", "required", "sensitive")


def backfill(apps, schema_editor):
    from versioning.ids import new_version_id

    Function = apps.get_model("catalog", "Function")
    FunctionSetting = apps.get_model("catalog", "FunctionSetting")
    Version = apps.get_model("versioning", "Version")
    VersionLabel = apps.get_model("versioning", "VersionLabel")
    for function in Function.objects.filter(versions__isnull=True).iterator():
        schema = [
            dict(zip(SCHEMA_KEYS, values))
            for values in FunctionSetting.objects.filter(function=function)
            .order_by("position", "id")
            .values_list(*SCHEMA_KEYS)
        ]
        author = function.updated_by or function.created_by
        version = Version.objects.create(
            id=new_version_id(function.updated_at.timestamp()),
            function=function,
            number=1,
            code=function.code,
            settings_schema=schema,
            author=author,
            author_name=author.username if author else "",
            created_at=function.updated_at,
            note="Created",
        )
        VersionLabel.objects.create(function=function, label="LATEST", version=version)


class Migration(migrations.Migration):
    dependencies = [("versioning", "0001_initial")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
