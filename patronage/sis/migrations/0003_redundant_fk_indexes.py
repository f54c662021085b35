"""Drop a foreign-key index that a composite index makes redundant (only the index: see
patronage/audit/migrations/0006_redundant_fk_indexes.py for why not AlterField)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sis", "0002_bulk_update_saved_searches"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "sis_importitem_run_id_e9007548"',
                    reverse_sql='CREATE INDEX "sis_importitem_run_id_e9007548" ON "sis_importitem" ("run_id")',
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="importitem",
                    name="run",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="items",
                        to="sis.importrun",
                    ),
                ),
            ],
        ),
    ]
