from django.db import migrations


def load_catalogue(apps, schema_editor):
    from patronage.access.catalogue import sync

    sync(apps.get_model("access", "Role"))


class Migration(migrations.Migration):
    """SIS imports, bulk updates and exports for User Administrators (bulk updates also for
    User Managers)."""

    dependencies = [("access", "0007_privacy_and_audit_permissions")]

    operations = [migrations.RunPython(load_catalogue, migrations.RunPython.noop)]
