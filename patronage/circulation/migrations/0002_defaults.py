from django.db import migrations


def load_defaults(apps, schema_editor):
    from patronage.circulation.defaults import FEE_TYPES, WAIVE_REASONS

    FeeType = apps.get_model("circulation", "FeeType")
    for code, description, manual, library_scope, vat, credit in FEE_TYPES:
        FeeType.objects.get_or_create(
            code=code,
            defaults={
                "description": description,
                "manual_creation": manual,
                "library_scope": library_scope,
                "vat_rate": vat,
                "is_credit": credit,
            },
        )
    WaiveReason = apps.get_model("circulation", "WaiveReason")
    for code, description in WAIVE_REASONS:
        WaiveReason.objects.get_or_create(code=code, defaults={"description": description})


class Migration(migrations.Migration):
    dependencies = [("circulation", "0001_initial")]

    operations = [migrations.RunPython(load_defaults, migrations.RunPython.noop)]
