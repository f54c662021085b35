"""Drop a foreign-key index that a composite index makes redundant (only the index: see
patronage/audit/migrations/0006_redundant_fk_indexes.py for why not AlterField)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_keep_loan_history"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "accounts_usernametoken_user_id_27738902"',
                    reverse_sql='CREATE INDEX "accounts_usernametoken_user_id_27738902" ON "accounts_usernametoken" ("user_id")',
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="usernametoken",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="name_tokens_set",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
    ]
