from django.db import migrations


def load_catalogue(apps, schema_editor):
    from patronage.access.catalogue import sync

    sync(apps.get_model("access", "Role"))


class Migration(migrations.Migration):
    """User Administrators grant only user-management roles (they hold no fulfillment
    functions, and nobody grants more than they hold)."""

    dependencies = [("access", "0004_sign_in_security")]

    operations = [migrations.RunPython(load_catalogue, migrations.RunPython.noop)]
