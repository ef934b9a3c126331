"""The audit trail refuses UPDATE and DELETE in the database itself, on SQLite and PostgreSQL.

Handbill never edits or deletes an audit row (the model refuses too); these triggers make the
database refuse it for any client, so a bug or a hand-typed query cannot rewrite history.
PostgreSQL also refuses TRUNCATE. Only the test suite lifts the guard, for the instant it
empties the database between tests (tests/conftest.py explains how); the SQL lives here and
the suite reads it from this module, so the two cannot drift.

A later migration that alters this table on SQLite rebuilds the table and so loses these
triggers: such a migration must create them again (tests/integration/test_audit.py fails
when they are missing).
"""

from django.db import migrations

MESSAGE = "audit events are append-only: write a new event instead"

SQLITE_FORWARD = [
    f"""CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_auditevent
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS audit_event_no_update",
    "DROP TRIGGER IF EXISTS audit_event_no_delete",
]

POSTGRESQL_FORWARD = [
    f"""CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
END
$$""",
    """CREATE TRIGGER audit_event_append_only
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()""",
    """CREATE TRIGGER audit_event_no_truncate
    BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()""",
]
POSTGRESQL_BACKWARD = [
    "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent",
    "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent",
]
# The function stays when only the triggers are lifted (the test flush); the migration's
# reverse drops it too.
POSTGRESQL_DROP_FUNCTION = "DROP FUNCTION IF EXISTS audit_refuse_change()"

FORWARD = {"sqlite": SQLITE_FORWARD, "postgresql": POSTGRESQL_FORWARD}
BACKWARD = {"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRESQL_BACKWARD}


def _run(statements: dict[str, list[str]], extra: str = ""):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for sql in statements.get(vendor, []):
            # No parameters: the SQL holds literal % and $ signs.
            schema_editor.execute(sql, params=None)
        if extra and vendor == "postgresql":
            schema_editor.execute(extra, params=None)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0002_patient_source_channel"),
    ]

    operations = [
        migrations.RunPython(_run(FORWARD), _run(BACKWARD, POSTGRESQL_DROP_FUNCTION)),
    ]
