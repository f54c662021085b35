from django.db import migrations

# The first role catalogue was loaded here; migration 0003 replaced it with the full
# catalogue of seed 001 (and retires roles it no longer has), so this step does nothing.


class Migration(migrations.Migration):
    dependencies = [("access", "0001_initial")]

    operations = []
