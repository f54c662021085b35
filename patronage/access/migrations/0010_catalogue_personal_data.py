from django.db import migrations


def load_catalogue(apps, schema_editor):
    from patronage.access.catalogue import sync

    sync(apps.get_model("access", "Role"))


class Migration(migrations.Migration):
    """The personal-data export (User Manager, User Administrator, Privacy Officer) and the
    Personal Information Letter (every circulation-desk role, seed 002, and user managers)."""

    dependencies = [("access", "0009_grant_environment")]

    operations = [migrations.RunPython(load_catalogue, migrations.RunPython.noop)]
