"""Make the audit log append-only in the database itself (R14).

UPDATE is refused on every backend. DELETE is refused on PostgreSQL; on SQLite the
test runner's flush uses DELETE, so there the ORM guard (AuditEventQuerySet) refuses it.
TRUNCATE (test flush on PostgreSQL) stays possible for the database owner.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(
            "CREATE TRIGGER IF NOT EXISTS branches_auditevent_no_update BEFORE UPDATE ON branches_auditevent "
            "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;"
        )
    elif vendor == "postgresql":
        schema_editor.execute(
            """
            CREATE OR REPLACE FUNCTION branches_auditevent_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'audit log is append-only'; END;
            $$ LANGUAGE plpgsql;
            """
        )
        schema_editor.execute(
            "CREATE TRIGGER branches_auditevent_no_change BEFORE UPDATE OR DELETE ON branches_auditevent "
            "FOR EACH ROW EXECUTE FUNCTION branches_auditevent_append_only();"
        )


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS branches_auditevent_no_update;")
    elif vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS branches_auditevent_no_change ON branches_auditevent;")
        schema_editor.execute("DROP FUNCTION IF EXISTS branches_auditevent_append_only();")


class Migration(migrations.Migration):
    dependencies = [("branches", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
