"""The name-search tokens carry the user's sort key, indexed after the token.

"The first 25 matches in name order" is then read from one index range, in order, instead of
visiting every matching user row: at a million patrons a two-letter prefix matches tens of
thousands (bench/lookup.py). Portable: the same operations on SQLite and PostgreSQL.
"""

from django.db import migrations, models


def copy_sort_names(apps, schema_editor):
    # One set-based UPDATE (a correlated subquery both engines run), not a loop over users.
    schema_editor.execute(
        "UPDATE accounts_usernametoken SET sort_name = ("
        "SELECT u.sort_name FROM accounts_user u WHERE u.id = accounts_usernametoken.user_id)"
    )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_defaults_and_name_index")]

    operations = [
        migrations.AddField(
            model_name="usernametoken",
            name="sort_name",
            field=models.CharField(blank=True, default="", editable=False, max_length=520),
        ),
        migrations.RunPython(copy_sort_names, migrations.RunPython.noop),
        migrations.RemoveIndex(model_name="usernametoken", name="name_token_lookup"),
        migrations.AddIndex(
            model_name="usernametoken",
            index=models.Index(
                fields=["token", "sort_name", "user"], name="name_token_sorted"
            ),
        ),
    ]
