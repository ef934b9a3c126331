"""PostgreSQL: the commit-time balance checks of 0002, run once per statement, not per row.

0002 checked a ledger transaction at commit once for the transaction row and once more for every
leg — an 835 of 10,000 claims queued some 70,000 identical checks. The guarantee stays the same:
at commit, every transaction that was inserted, or gained legs, in this database transaction
has at least two legs, debits equal to credits, and every leg (and its account) in the
transaction's practice. What changes is how the work is queued:

- a statement-level trigger on each table (with its transition table) records, in one row of
  ``ledger_pending_check``, the transaction ids the statement touched;
- a deferred constraint trigger on that row checks all those transactions at commit in one
  set-based query, then removes the row.

Rolling back (to a savepoint, or the whole transaction) removes the pending rows with the
ledger rows they describe. The append-only triggers of 0002 are unchanged. SQLite has no
deferred triggers; there the posting functions remain the only guard.
"""

from django.db import migrations

FORWARD = r"""
DROP TRIGGER IF EXISTS ledger_leg_balanced ON ledger_leg;
DROP TRIGGER IF EXISTS ledger_transaction_balanced ON ledger_ledgertransaction;
DROP FUNCTION IF EXISTS ledger_check_balanced();

CREATE TABLE ledger_pending_check (
    id bigserial PRIMARY KEY,
    transaction_ids bigint[] NOT NULL
);

CREATE FUNCTION ledger_queue_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'ledger_leg' THEN
        INSERT INTO ledger_pending_check (transaction_ids)
        SELECT array_agg(DISTINCT transaction_id) FROM new_rows HAVING count(*) > 0;
    ELSE
        INSERT INTO ledger_pending_check (transaction_ids)
        SELECT array_agg(id) FROM new_rows HAVING count(*) > 0;
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION ledger_check_pending() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad_id bigint;
    leg_count bigint;
    debits numeric;
    credits numeric;
BEGIN
    SELECT t.id, count(leg.id), coalesce(sum(leg.debit_cents), 0),
           coalesce(sum(leg.credit_cents), 0)
      INTO bad_id, leg_count, debits, credits
      FROM unnest(NEW.transaction_ids) AS t(id)
      LEFT JOIN ledger_leg AS leg ON leg.transaction_id = t.id
     GROUP BY t.id
    HAVING count(leg.id) < 2
        OR coalesce(sum(leg.debit_cents), 0) <> coalesce(sum(leg.credit_cents), 0)
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION
            'ledger transaction % does not balance: % legs, debits % cents, credits % cents',
            bad_id, leg_count, debits, credits
            USING ERRCODE = 'check_violation';
    END IF;
    SELECT txn.id INTO bad_id
      FROM unnest(NEW.transaction_ids) AS t(id)
      JOIN ledger_ledgertransaction AS txn ON txn.id = t.id
      JOIN ledger_leg AS leg ON leg.transaction_id = txn.id
      JOIN ledger_account AS account ON account.id = leg.account_id
     WHERE leg.practice_id <> txn.practice_id OR account.practice_id <> txn.practice_id
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger transaction % has a leg or account of another practice', bad_id
            USING ERRCODE = 'check_violation';
    END IF;
    DELETE FROM ledger_pending_check WHERE id = NEW.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER ledger_leg_queue_check
    AFTER INSERT ON ledger_leg
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_queue_check();

CREATE TRIGGER ledger_transaction_queue_check
    AFTER INSERT ON ledger_ledgertransaction
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_queue_check();

CREATE CONSTRAINT TRIGGER ledger_pending_checked
    AFTER INSERT ON ledger_pending_check
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_pending();
"""

# 0002's per-row checks, as they were.
BACKWARD = r"""
DROP TRIGGER IF EXISTS ledger_pending_checked ON ledger_pending_check;
DROP TRIGGER IF EXISTS ledger_transaction_queue_check ON ledger_ledgertransaction;
DROP TRIGGER IF EXISTS ledger_leg_queue_check ON ledger_leg;
DROP FUNCTION IF EXISTS ledger_check_pending();
DROP FUNCTION IF EXISTS ledger_queue_check();
DROP TABLE IF EXISTS ledger_pending_check;

CREATE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    txn_id bigint;
    leg_count integer;
    debits numeric;
    credits numeric;
BEGIN
    IF TG_TABLE_NAME = 'ledger_leg' THEN
        txn_id := NEW.transaction_id;
    ELSE
        txn_id := NEW.id;
    END IF;
    SELECT count(*), coalesce(sum(debit_cents), 0), coalesce(sum(credit_cents), 0)
      INTO leg_count, debits, credits
      FROM ledger_leg WHERE transaction_id = txn_id;
    IF leg_count < 2 OR debits <> credits THEN
        RAISE EXCEPTION
            'ledger transaction % does not balance: % legs, debits % cents, credits % cents',
            txn_id, leg_count, debits, credits
            USING ERRCODE = 'check_violation';
    END IF;
    IF EXISTS (
        SELECT 1
          FROM ledger_leg AS leg
          JOIN ledger_ledgertransaction AS txn ON txn.id = leg.transaction_id
          JOIN ledger_account AS account ON account.id = leg.account_id
         WHERE leg.transaction_id = txn_id
           AND (leg.practice_id <> txn.practice_id OR account.practice_id <> txn.practice_id)
    ) THEN
        RAISE EXCEPTION 'ledger transaction % has a leg or account of another practice', txn_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER ledger_leg_balanced
    AFTER INSERT ON ledger_leg
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced();

CREATE CONSTRAINT TRIGGER ledger_transaction_balanced
    AFTER INSERT ON ledger_ledgertransaction
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            # No parameters: the SQL holds literal % signs for RAISE messages.
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ("ledger", "0002_postgresql_ledger_triggers"),
    ]

    operations = [
        migrations.RunPython(_on_postgresql(FORWARD), _on_postgresql(BACKWARD), elidable=False),
    ]
