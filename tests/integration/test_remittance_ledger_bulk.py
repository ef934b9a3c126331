"""The ledger's bulk path (post_many) keeps post()'s invariants: balanced, audited, idempotent,
all or nothing."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection

from handbill.audit.models import AuditEvent
from handbill.core.money import Cents
from handbill.ledger import posting
from handbill.ledger.balances import trial_balance
from handbill.ledger.models import AccountKind, LedgerTransaction, Leg
from handbill.ledger.posting import Entry, LedgerError, credit, debit, post, post_many
from tests.conftest import FIXED_NOW
from tests.factories import records as f

DAY = date(2026, 11, 20)


def _setup() -> tuple[object, object, object]:
    practice = f.make_practice()
    payer = f.make_payer(practice)
    cash = posting.account_for(practice, AccountKind.CASH)
    ar = posting.account_for(practice, AccountKind.AR_INSURANCE, payer)
    return practice, cash, ar


def _entry(cash: object, ar: object, cents: int, key: str | None, *, claim: str = "HB1",
           skew: int = 0) -> Entry:
    return Entry(
        kind="insurance_payment",
        legs=[debit(cash, Cents(cents), claim_ref=claim),  # type: ignore[arg-type]
              credit(ar, Cents(cents + skew), claim_ref=claim, line_ref=f"{claim}-1")],  # type: ignore[arg-type]
        memo=f"Payment on {claim}", effective_date=DAY, source=("test", claim),
        idempotency_key=key,
    )


def _rows(txn: LedgerTransaction) -> list[tuple[int, int, int, str, str, str]]:
    return sorted((leg.account_id, leg.debit_cents, leg.credit_cents, leg.claim_ref,
                   leg.line_ref, leg.patient_ref) for leg in txn.legs.all())


@pytest.mark.django_db
def test_post_many_writes_what_post_would_with_its_audit_rows() -> None:
    practice, cash, ar = _setup()
    one = post(practice=practice, kind="insurance_payment",
               legs=_entry(cash, ar, 5000, None).legs, memo="Payment on HB1",
               effective_date=DAY, at=FIXED_NOW, by=None, source=("test", "HB1"),
               idempotency_key="k0")
    many = post_many(practice=practice, at=FIXED_NOW, by=None,
                     entries=[_entry(cash, ar, 5000, "k1"),
                              _entry(cash, ar, 700, "k2", claim="HB2"),
                              _entry(cash, ar, 900, None, claim="HB3")])
    txns = [LedgerTransaction.objects.get(pk=pk) for pk in many]
    assert [t.idempotency_key for t in txns] == ["k1", "k2", None]
    assert _rows(txns[0]) == _rows(one)
    assert [(t.memo, t.source_type, t.source_id, t.effective_date, t.occurred_at, t.kind)
            for t in txns[:1]] == [(one.memo, "test", "HB1", DAY, FIXED_NOW, one.kind)]
    assert all(t.practice_id == practice.pk for t in txns)
    single = AuditEvent.objects.get(object_id=str(one.pk), action="ledger.post")
    bulk = AuditEvent.objects.get(object_id=str(many[0]), action="ledger.post")
    assert bulk.detail == {**single.detail, "idempotency_key": "k1"}
    assert bulk.object_type == single.object_type == "ledger.ledgertransaction"
    assert bulk.occurred_at == single.occurred_at
    assert trial_balance(practice).is_balanced


@pytest.mark.django_db
def test_post_many_refuses_any_bad_entry_and_writes_nothing() -> None:
    practice, cash, ar = _setup()
    before = (LedgerTransaction.objects.count(), Leg.objects.count(), AuditEvent.objects.count())
    with pytest.raises(LedgerError, match=r"entry 2 .*do not equal"):
        post_many(practice=practice, at=FIXED_NOW, by=None,
                  entries=[_entry(cash, ar, 100, "a"), _entry(cash, ar, 100, "b", skew=1)])
    with pytest.raises(LedgerError, match="appears twice"):
        post_many(practice=practice, at=FIXED_NOW, by=None,
                  entries=[_entry(cash, ar, 100, "a"), _entry(cash, ar, 100, "a")])
    with pytest.raises(LedgerError, match="reverse"):
        post_many(practice=practice, at=FIXED_NOW, by=None,
                  entries=[Entry("reversal", [], "x", DAY)])
    other_cash = posting.account_for(f.make_practice(), AccountKind.CASH)
    with pytest.raises(LedgerError, match="another practice"):
        post_many(practice=practice, at=FIXED_NOW, by=None,
                  entries=[_entry(other_cash, ar, 100, "c")])
    assert (LedgerTransaction.objects.count(), Leg.objects.count(),
            AuditEvent.objects.count()) == before


@pytest.mark.django_db
def test_post_many_replays_keys_it_has_seen_and_refuses_changed_content() -> None:
    practice, cash, ar = _setup()
    first = post_many(practice=practice, at=FIXED_NOW, by=None,
                      entries=[_entry(cash, ar, 100, "a"), _entry(cash, ar, 200, "b")])
    count = LedgerTransaction.objects.count()
    again = post_many(practice=practice, at=FIXED_NOW, by=None,
                      entries=[_entry(cash, ar, 100, "a"), _entry(cash, ar, 200, "b"),
                               _entry(cash, ar, 300, "c")])
    assert again[:2] == first
    assert LedgerTransaction.objects.count() == count + 1
    with pytest.raises(LedgerError, match="different content"):
        post_many(practice=practice, at=FIXED_NOW, by=None,
                  entries=[_entry(cash, ar, 999, "a")])
    assert LedgerTransaction.objects.count() == count + 1


@pytest.mark.django_db(transaction=True)
def test_bulk_legs_pass_the_postgresql_balance_check_at_commit() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the deferred balance triggers exist only on PostgreSQL")
    practice, cash, ar = _setup()
    entries = [_entry(cash, ar, 100 + n, f"k{n}", claim=f"HB{n}") for n in range(2500)]
    post_many(practice=practice, at=FIXED_NOW, by=None, entries=entries)  # commits here
    assert Leg.objects.filter(practice=practice).count() == 5000
    assert trial_balance(practice).is_balanced


@pytest.mark.django_db(transaction=True)
def test_postgresql_checks_every_transaction_a_statement_touched() -> None:
    """The set-based commit checks (ledger migration 0003) catch what the per-row ones did."""
    if connection.vendor != "postgresql":
        pytest.skip("the deferred balance checks exist only on PostgreSQL")
    from django.db import IntegrityError, transaction

    practice, cash, ar = _setup()
    good = post_many(practice=practice, at=FIXED_NOW, by=None,
                     entries=[_entry(cash, ar, 100, f"ok{n}", claim=f"HB{n}") for n in range(3)])
    one_leg = ("INSERT INTO ledger_leg (transaction_id, practice_id, account_id, debit_cents, "
               "credit_cents, claim_ref, line_ref, patient_ref) VALUES "
               "(%s, %s, %s, %s, %s, '', '', '')")
    # A leg appended later to a committed, balanced transaction unbalances it: refused.
    with pytest.raises(IntegrityError, match=f"ledger transaction {good[1]} does not balance"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(one_leg, [good[1], practice.pk, cash.pk, 5, 0])
    # One bad transaction among many written in one statement: refused, and named.
    with pytest.raises(IntegrityError, match="does not balance"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO ledger_ledgertransaction (practice_id, kind, memo, occurred_at, "
                "effective_date, source_type, source_id) SELECT %s, 'charge', '', %s, %s, '', '' "
                "FROM generate_series(1, 50) RETURNING id", [practice.pk, FIXED_NOW, DAY])
            ids = [row[0] for row in cursor.fetchall()]
            values = []
            for n, txn in enumerate(ids):
                values += [(txn, practice.pk, cash.pk, 100, 0), (txn, practice.pk, ar.pk, 0,
                                                                 100 if n != 37 else 99)]
            cursor.executemany(one_leg, values)
    # A savepoint rolled back takes its pending checks with it; the rest commits.
    with transaction.atomic():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(one_leg, [good[0], practice.pk, cash.pk, 5, 0])
                raise RuntimeError("changed my mind")
        except RuntimeError:
            pass
        post_many(practice=practice, at=FIXED_NOW, by=None, entries=[_entry(cash, ar, 7, "x")])
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM ledger_pending_check")
        assert cursor.fetchone()[0] == 0
    assert LedgerTransaction.objects.count() == 4
    assert trial_balance(practice).is_balanced
