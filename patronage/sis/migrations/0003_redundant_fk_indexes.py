"""Drop foreign-key indexes that a composite index leading with the same column makes
redundant: each cost a write per row (imports write millions) and served no query.

Only the indexes go: Django's own AlterField would rebuild the table on SQLite (losing the
audit trail's append-only triggers) and re-validate the constraint on PostgreSQL.
"""

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
