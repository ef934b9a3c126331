"""Triggers that keep ``ledger_dailytotal`` equal to the legs, and the backfill.

Every leg adds its debit and credit to the row of its account, its transaction's effective
date and its transaction's kind, in the statement that inserts the leg (as 0006 does for the
receivables): postings, reversals, 835s in bulk and imports alike, and a rollback takes the
change with it.

- PostgreSQL: a statement-level trigger upserts one row per account, day and kind from the
  statement's new legs, in a fixed order. Two postings of one practice on the same day and
  kind wait for each other on that row until the first commits; practices never share a row.
  The guard of 0006 refuses writes that do not come from a trigger.
- SQLite: a row trigger per leg; the model refuses writes in Python.
"""

from django.db import migrations

BACKFILL = """
INSERT INTO ledger_dailytotal
       (practice_id, account_id, effective_date, kind, debit_cents, credit_cents)
SELECT l.practice_id, l.account_id, t.effective_date, t.kind, SUM(l.debit_cents),
       SUM(l.credit_cents)
  FROM ledger_leg l
  JOIN ledger_ledgertransaction t ON t.id = l.transaction_id
 GROUP BY l.practice_id, l.account_id, t.effective_date, t.kind
"""

POSTGRESQL_FORWARD = [
    """
CREATE FUNCTION ledger_keep_daily_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ledger_dailytotal AS d
           (practice_id, account_id, effective_date, kind, debit_cents, credit_cents)
    SELECT l.practice_id, l.account_id, t.effective_date, t.kind, SUM(l.debit_cents),
           SUM(l.credit_cents)
      FROM new_rows l
      JOIN ledger_ledgertransaction t ON t.id = l.transaction_id
     GROUP BY l.practice_id, l.account_id, t.effective_date, t.kind
     ORDER BY l.account_id, t.effective_date, t.kind
    ON CONFLICT (account_id, effective_date, kind) DO UPDATE
       SET debit_cents = d.debit_cents + EXCLUDED.debit_cents,
           credit_cents = d.credit_cents + EXCLUDED.credit_cents;
    RETURN NULL;
END
$$;
""",
    """
CREATE TRIGGER ledger_leg_keep_daily_totals
    AFTER INSERT ON ledger_leg
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_keep_daily_totals();
""",
    """
CREATE TRIGGER ledger_daily_total_guard
    BEFORE INSERT OR UPDATE OR DELETE ON ledger_dailytotal
    FOR EACH ROW EXECUTE FUNCTION ledger_receivable_guard();
""",
]

POSTGRESQL_BACKWARD = [
    "DROP TRIGGER IF EXISTS ledger_daily_total_guard ON ledger_dailytotal",
    "DROP TRIGGER IF EXISTS ledger_leg_keep_daily_totals ON ledger_leg",
    "DROP FUNCTION IF EXISTS ledger_keep_daily_totals()",
    "DELETE FROM ledger_dailytotal",
]

SQLITE_FORWARD = [
    """
CREATE TRIGGER ledger_leg_keep_daily_totals
AFTER INSERT ON ledger_leg
FOR EACH ROW
BEGIN
    INSERT INTO ledger_dailytotal
           (practice_id, account_id, effective_date, kind, debit_cents, credit_cents)
    SELECT NEW.practice_id, NEW.account_id, t.effective_date, t.kind, NEW.debit_cents,
           NEW.credit_cents
      FROM ledger_ledgertransaction t
     WHERE t.id = NEW.transaction_id
    ON CONFLICT (account_id, effective_date, kind) DO UPDATE
       SET debit_cents = debit_cents + excluded.debit_cents,
           credit_cents = credit_cents + excluded.credit_cents;
END
""",
]

SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS ledger_leg_keep_daily_totals",
    "DELETE FROM ledger_dailytotal",
]


def _run(postgresql: list[str], sqlite: list[str], *, backfill: bool):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if backfill:
            schema_editor.execute(BACKFILL, params=None)
        statements = postgresql if vendor == "postgresql" else sqlite if vendor == "sqlite" \
            else None
        if statements is None:
            raise RuntimeError(f"Handbill runs on SQLite or PostgreSQL, not {vendor}")
        for statement in statements:
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ("ledger", "0007_daily_total"),
    ]

    operations = [
        migrations.RunPython(
            _run(POSTGRESQL_FORWARD, SQLITE_FORWARD, backfill=True),
            _run(POSTGRESQL_BACKWARD, SQLITE_BACKWARD, backfill=False),
            elidable=False,
        ),
    ]
