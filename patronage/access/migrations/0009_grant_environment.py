from django.db import migrations, models


def load_catalogue(apps, schema_editor):
    from patronage.access.catalogue import sync

    sync(apps.get_model("access", "Role"))


class Migration(migrations.Migration):
    """Grants carry the environment they are for (production or the training sandbox); the
    catalogue gains the access-governance permissions (role requests, directory, separations,
    acknowledgement report)."""

    dependencies = [("access", "0008_catalogue_sis_permissions")]

    operations = [
        migrations.AddField(
            model_name="rolegrant",
            name="environment",
            field=models.CharField(
                choices=[("production", "Production"), ("sandbox", "Sandbox")],
                default="production",
                max_length=10,
            ),
        ),
        migrations.RunPython(load_catalogue, migrations.RunPython.noop),
    ]
