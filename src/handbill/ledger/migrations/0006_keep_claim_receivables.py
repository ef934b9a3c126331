"""Triggers that keep ``ledger_claimreceivable`` equal to the receivable legs, and the backfill.

Each leg posted to a receivable account (A/R insurance, A/R patient) adds its debit minus
credit to the row of its account and claim, in the statement that inserts the leg: a posting,
a reversal, an 835 in bulk (COPY on PostgreSQL) and an import all go through it, and a rolled
back posting takes its receivable change with it. Legs are append-only, so inserts are the
only change there is to follow.

- PostgreSQL: one statement-level trigger reads the statement's new legs (a transition table)
  and upserts one row per account and claim, in a fixed order so two postings touching the
  same claims lock them in the same order. A second trigger refuses writes to the table that
  do not come from a trigger (``pg_trigger_depth``); 0008 puts it on the daily totals too.
- SQLite: a row trigger does the same upsert per leg (SQLite has no statement triggers); the
  model refuses writes in Python.

The backfill sums the legs already there, before the triggers exist.
"""

# The SQL is built from a constant list of account kinds, never from input.
# ruff: noqa: S608
from django.db import migrations

RECEIVABLE_KINDS = "('ar_insurance', 'ar_patient')"

BACKFILL = f"""
INSERT INTO ledger_claimreceivable (practice_id, account_id, claim_ref, balance_cents, first_date)
SELECT a.practice_id, l.account_id, l.claim_ref, SUM(l.debit_cents) - SUM(l.credit_cents),
       MIN(t.effective_date)
  FROM ledger_leg l
  JOIN ledger_account a ON a.id = l.account_id AND a.kind IN {RECEIVABLE_KINDS}
  JOIN ledger_ledgertransaction t ON t.id = l.transaction_id
 GROUP BY a.practice_id, l.account_id, l.claim_ref
"""

POSTGRESQL_FORWARD = [
    f"""
CREATE FUNCTION ledger_keep_receivables() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ledger_claimreceivable AS r
           (practice_id, account_id, claim_ref, balance_cents, first_date)
    SELECT a.practice_id, l.account_id, l.claim_ref,
           SUM(l.debit_cents) - SUM(l.credit_cents), MIN(t.effective_date)
      FROM new_rows l
      JOIN ledger_account a ON a.id = l.account_id AND a.kind IN {RECEIVABLE_KINDS}
      JOIN ledger_ledgertransaction t ON t.id = l.transaction_id
     GROUP BY a.practice_id, l.account_id, l.claim_ref
     ORDER BY l.account_id, l.claim_ref
    ON CONFLICT (account_id, claim_ref) DO UPDATE
       SET balance_cents = r.balance_cents + EXCLUDED.balance_cents,
           first_date = LEAST(r.first_date, EXCLUDED.first_date);
    RETURN NULL;
END
$$;
""",
    """
CREATE TRIGGER ledger_leg_keep_receivables
    AFTER INSERT ON ledger_leg
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_keep_receivables();
""",
    """
CREATE FUNCTION ledger_receivable_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Depth 1 is a statement on this table itself; the leg trigger's upsert runs at 2.
    IF pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION '% is kept by the ledger''s triggers from the legs; post a ledger '
            'transaction instead of writing it', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;
""",
    """
CREATE TRIGGER ledger_receivable_guard
    BEFORE INSERT OR UPDATE OR DELETE ON ledger_claimreceivable
    FOR EACH ROW EXECUTE FUNCTION ledger_receivable_guard();
""",
]

POSTGRESQL_BACKWARD = [
    "DROP TRIGGER IF EXISTS ledger_receivable_guard ON ledger_claimreceivable",
    "DROP FUNCTION IF EXISTS ledger_receivable_guard()",
    "DROP TRIGGER IF EXISTS ledger_leg_keep_receivables ON ledger_leg",
    "DROP FUNCTION IF EXISTS ledger_keep_receivables()",
    "DELETE FROM ledger_claimreceivable",
]

SQLITE_FORWARD = [
    f"""
CREATE TRIGGER ledger_leg_keep_receivables
AFTER INSERT ON ledger_leg
FOR EACH ROW
WHEN NEW.account_id IN (SELECT id FROM ledger_account WHERE kind IN {RECEIVABLE_KINDS})
BEGIN
    INSERT INTO ledger_claimreceivable
           (practice_id, account_id, claim_ref, balance_cents, first_date)
    VALUES (NEW.practice_id, NEW.account_id, NEW.claim_ref, NEW.debit_cents - NEW.credit_cents,
            (SELECT effective_date FROM ledger_ledgertransaction WHERE id = NEW.transaction_id))
    ON CONFLICT (account_id, claim_ref) DO UPDATE
       SET balance_cents = balance_cents + excluded.balance_cents,
           first_date = MIN(first_date, excluded.first_date);
END
""",
]

SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS ledger_leg_keep_receivables",
    "DELETE FROM ledger_claimreceivable",
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
            # No parameters: the SQL runs as written (its RAISE holds a literal %).
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ("ledger", "0005_claim_receivable"),
    ]

    operations = [
        migrations.RunPython(
            _run(POSTGRESQL_FORWARD, SQLITE_FORWARD, backfill=True),
            _run(POSTGRESQL_BACKWARD, SQLITE_BACKWARD, backfill=False),
            elidable=False,
        ),
    ]
