from django.db import migrations


def load_default_codes(apps, schema_editor):
    from patronage.accounts.defaults import DEFAULT_CODES

    entry = apps.get_model("accounts", "CodeTableEntry")
    for table, codes in DEFAULT_CODES.items():
        for order, (code, description, record_types) in enumerate(codes):
            entry.objects.get_or_create(
                table=table,
                code=code,
                defaults={"description": description, "record_types": record_types, "sort_order": order},
            )
    apps.get_model("accounts", "UserManagementSettings").objects.get_or_create(pk=1)


def byte_order_name_tokens(apps, schema_editor):
    # The name search asks for prefixes as ranges [word, next-word); that is exact only in
    # code-point order, which SQLite's default BINARY collation already gives.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            'ALTER TABLE accounts_usernametoken ALTER COLUMN token TYPE varchar(64) COLLATE "C"'
        )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [
        migrations.RunPython(load_default_codes, migrations.RunPython.noop),
        migrations.RunPython(byte_order_name_tokens, migrations.RunPython.noop),
    ]
