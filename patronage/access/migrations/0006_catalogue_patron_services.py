from django.db import migrations


def load_catalogue(apps, schema_editor):
    from patronage.access.catalogue import sync

    sync(apps.get_model("access", "Role"))


class Migration(migrations.Migration):
    """Patron services (issue 7): the fines and fees, loans, items and proxies permissions."""

    dependencies = [("access", "0005_catalogue_user_administrator_grants")]

    operations = [migrations.RunPython(load_catalogue, migrations.RunPython.noop)]
