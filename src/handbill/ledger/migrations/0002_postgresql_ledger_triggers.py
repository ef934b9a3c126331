"""PostgreSQL guards for the ledger, checked by the database itself.

- At commit, every transaction that gained legs must have at least two, debits equal to
  credits, and every leg (and its account) in the transaction's practice. The triggers are
  deferred because legs are inserted one statement after their transaction.
- Transactions and legs refuse UPDATE and DELETE: corrections are reversing transactions.

SQLite has no deferred triggers; there the posting functions are the only guard. The SQL
lives here rather than in app code so this migration keeps meaning what it meant.
"""

from django.db import migrations

FORWARD = r"""
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

CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are append-only; post a reversing transaction instead', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;

CREATE TRIGGER ledger_leg_append_only
    BEFORE UPDATE OR DELETE ON ledger_leg
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

CREATE TRIGGER ledger_transaction_append_only
    BEFORE UPDATE OR DELETE ON ledger_ledgertransaction
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS ledger_transaction_append_only ON ledger_ledgertransaction;
DROP TRIGGER IF EXISTS ledger_leg_append_only ON ledger_leg;
DROP FUNCTION IF EXISTS ledger_refuse_change();
DROP TRIGGER IF EXISTS ledger_transaction_balanced ON ledger_ledgertransaction;
DROP TRIGGER IF EXISTS ledger_leg_balanced ON ledger_leg;
DROP FUNCTION IF EXISTS ledger_check_balanced();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            # No parameters: the SQL holds literal % signs for RAISE messages.
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ("ledger", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(_on_postgresql(FORWARD), _on_postgresql(BACKWARD), elidable=False),
    ]
