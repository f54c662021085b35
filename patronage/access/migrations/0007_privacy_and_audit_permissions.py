from django.db import migrations


def load_catalogue(apps, schema_editor):
    from patronage.access.catalogue import sync

    sync(apps.get_model("access", "Role"))


class Migration(migrations.Migration):
    """Patron confidentiality: the access log, the legal-process register (Privacy Officer
    and the new General Counsel role), verifying and archiving the audit trail."""

    dependencies = [("access", "0006_catalogue_patron_services")]

    operations = [migrations.RunPython(load_catalogue, migrations.RunPython.noop)]
