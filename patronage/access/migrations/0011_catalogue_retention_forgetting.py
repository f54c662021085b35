from django.db import migrations


def load_catalogue(apps, schema_editor):
    from patronage.access.catalogue import sync

    sync(apps.get_model("access", "Role"))


class Migration(migrations.Migration):
    """The Privacy Officer (and the General System Administrator) gain retention and the right
    to be forgotten."""

    dependencies = [("access", "0010_catalogue_personal_data")]

    operations = [migrations.RunPython(load_catalogue, migrations.RunPython.noop)]
