"""Give OrgUnit.path the byte-order "C" collation on PostgreSQL.

Subtree queries are half-open ranges on `path` ("/1/2/" <= path < "/1/20"). Under a
linguistic collation such as glibc en_US.UTF-8 the "/" separator is ignored at the
first comparison level, so "/1/2/5/" could sort after "/1/20" and a subtree would
silently lose rows. SQLite always compares with BINARY, so only PostgreSQL needs this.
Kept out of the model state on purpose: SQLite has no "C" collation.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('ALTER TABLE branches_orgunit ALTER COLUMN path TYPE varchar(255) COLLATE "C";')


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('ALTER TABLE branches_orgunit ALTER COLUMN path TYPE varchar(255) COLLATE "default";')


class Migration(migrations.Migration):
    dependencies = [("branches", "0002_auditevent_append_only")]
    operations = [migrations.RunPython(forwards, backwards)]
