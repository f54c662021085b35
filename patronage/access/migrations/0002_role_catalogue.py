from django.db import migrations


def load(apps, schema_editor):
    from patronage.access.catalogue import sync

    sync(apps.get_model("access", "Role"))


class Migration(migrations.Migration):
    dependencies = [("access", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
