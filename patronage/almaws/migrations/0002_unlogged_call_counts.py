"""The call counters of the governance thresholds as an UNLOGGED table on PostgreSQL.

Every API call upserts its key's two counter rows. In a logged table each of those commits
waits for a WAL flush while holding the rows' lock, so all calls of one key queue behind the
disk (bench/api.py: 3 ms a call on a busy machine, most of an answer's time). The counters
are worth nothing after a crash — a restart begins a new second anyway, and a day's count
starting again is the price — so PostgreSQL keeps them out of the WAL. SQLite has no such
tables and keeps its own.
"""

from django.db import migrations

TABLE = "almaws_apicallcount"


def unlogged(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} SET UNLOGGED")


def logged(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} SET LOGGED")


class Migration(migrations.Migration):
    dependencies = [("almaws", "0001_initial")]

    operations = [migrations.RunPython(unlogged, logged)]
