"""The double-entry ledger: postings, refusals, reversals, idempotency and the DB guards."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handbill.audit.models import AuditEvent
from handbill.core.money import Cents
from handbill.ledger import balances, posting
from handbill.ledger.balances import (
    account_balance,
    claim_balance,
    patient_balance,
    payer_receivable,
    trial_balance,
)
from handbill.ledger.models import (
    Account,
    AccountKind,
    ClaimReceivable,
    DailyTotal,
    LedgerTransaction,
    Leg,
    TransactionKind,
)
from handbill.ledger.posting import (
    LedgerError,
    account_for,
    credit,
    debit,
    post,
    post_charge,
    post_contractual_adjustment,
    post_insurance_payment,
    post_patient_payment,
    post_provider_adjustment,
    post_refund,
    post_transfer_to_patient,
    post_transfer_to_payer,
    post_write_off,
    reverse,
)
from handbill.practice.models import Payer, PayerType, Practice

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="deferred constraint triggers exist only on PostgreSQL; SQLite relies on post()",
)

AT = datetime.fromisoformat("2026-11-23T17:00:00+00:00")
DAY = date(2026, 11, 23)


# --- set-up ---------------------------------------------------------------------------------


def make_practice(slug: str = "calm-hands") -> Practice:
    return Practice.objects.create(
        legal_name=f"{slug.title()} Massage LLC", slug=slug, billing_npi="1234567893",
        tax_id="123456789", address_line1="1 Main St", city="Portland", state="OR",
        postal_code="97201", created_at=AT,
    )


def make_payer(practice: Practice, name: str, payer_id: str) -> Payer:
    return Payer.objects.create(
        practice=practice, name=name, payer_id=payer_id, payer_type=PayerType.COMMERCIAL,
        claim_filing_indicator="CI",
    )


@pytest.fixture
def practice() -> Practice:
    return make_practice()


@pytest.fixture
def payer(practice: Practice) -> Payer:
    return make_payer(practice, "Evergreen Health Plan", "EVG01")


@pytest.fixture
def second_payer(practice: Practice) -> Payer:
    return make_payer(practice, "Cascade Auto Insurance", "CAS02")


@pytest.fixture
def biller() -> AbstractBaseUser:
    user: AbstractBaseUser = get_user_model().objects.create_user(username="biller")
    return user


def when(biller: AbstractBaseUser | None = None) -> dict[str, Any]:
    return {"effective_date": DAY, "at": AT, "by": biller}


def counts() -> tuple[int, int, int, int]:
    return (
        LedgerTransaction.objects.count(), Leg.objects.count(), AuditEvent.objects.count(),
        Account.objects.count(),
    )


def legs_of(txn: LedgerTransaction) -> list[tuple[str, str, int]]:
    """(account kind, side, cents) of each leg, in posting order."""
    return [
        (leg.account.kind, leg.side.value, leg.amount_cents)
        for leg in txn.legs.select_related("account").order_by("pk")
    ]


# --- every helper posts one balanced transaction to the right accounts -----------------------


HELPERS: list[tuple[str, Callable[..., LedgerTransaction], dict[str, Any], list[Any]]] = [
    ("charge", post_charge, {"payer": True},
     [("ar_insurance", "debit"), ("charges", "credit")]),
    ("self-pay charge", post_charge, {"payer": None},
     [("ar_patient", "debit"), ("charges", "credit")]),
    ("insurance payment", post_insurance_payment, {"payer": True},
     [("cash", "debit"), ("ar_insurance", "credit")]),
    ("contractual adjustment", post_contractual_adjustment, {"payer": True},
     [("contractual_adjustment", "debit"), ("ar_insurance", "credit")]),
    ("transfer to patient", post_transfer_to_patient, {"payer": True},
     [("ar_patient", "debit"), ("ar_insurance", "credit")]),
    ("patient payment", post_patient_payment, {},
     [("cash", "debit"), ("ar_patient", "credit")]),
    ("write-off of insurance A/R", post_write_off, {"payer": True},
     [("write_off", "debit"), ("ar_insurance", "credit")]),
    ("write-off of patient A/R", post_write_off, {"payer": None},
     [("write_off", "debit"), ("ar_patient", "credit")]),
    ("refund to payer", post_refund, {"payer": True},
     [("ar_insurance", "debit"), ("cash", "credit")]),
    ("refund to patient", post_refund, {"payer": None},
     [("ar_patient", "debit"), ("cash", "credit")]),
]


@pytest.mark.parametrize(
    ("helper", "extra", "expected"), [h[1:] for h in HELPERS], ids=[h[0] for h in HELPERS]
)
def test_each_helper_posts_a_balanced_pair(
    practice: Practice, payer: Payer, biller: AbstractBaseUser,
    helper: Callable[..., LedgerTransaction], extra: dict[str, Any], expected: list[Any],
) -> None:
    kwargs = {k: (payer if v is True else v) for k, v in extra.items()}
    txn = helper(practice=practice, amount=Cents(4250), claim_ref="C0001", patient_ref="P1",
                 line_ref="C0001-1", **kwargs, **when(biller))

    assert [(kind, side) for kind, side, _ in legs_of(txn)] == expected
    assert {cents for _, _, cents in legs_of(txn)} == {4250}
    assert set(txn.legs.values_list("claim_ref", "line_ref", "patient_ref")) == {
        ("C0001", "C0001-1", "P1")
    }
    assert txn.created_by == biller and txn.occurred_at == AT and txn.effective_date == DAY
    assert trial_balance(practice).is_balanced
    insurance_legs = txn.legs.filter(account__kind=AccountKind.AR_INSURANCE)
    assert all(leg.account.payer == payer for leg in insurance_legs)


def test_transfer_to_a_secondary_payer(
    practice: Practice, payer: Payer, second_payer: Payer
) -> None:
    post_charge(practice=practice, payer=payer, amount=Cents(19000), claim_ref="C1",
                patient_ref="P1", **when())
    post_transfer_to_payer(practice=practice, from_payer=payer, to_payer=second_payer,
                           amount=Cents(2500), claim_ref="C1", patient_ref="P1", **when())

    receivable = payer_receivable(practice)
    assert receivable == {payer.pk: Cents(16500), second_payer.pk: Cents(2500)}
    assert claim_balance(practice, "C1") == Cents(19000)
    with pytest.raises(LedgerError, match="two different payers"):
        post_transfer_to_payer(practice=practice, from_payer=payer, to_payer=payer,
                               amount=Cents(1), claim_ref="C1", patient_ref="P1", **when())


def test_transfer_from_the_patient_to_a_payer(practice: Practice, payer: Payer) -> None:
    post_charge(practice=practice, payer=None, amount=Cents(9000), claim_ref="C2",
                patient_ref="P2", **when())
    post_transfer_to_payer(practice=practice, from_payer=None, to_payer=payer,
                           amount=Cents(9000), claim_ref="C2", patient_ref="P2", **when())
    assert patient_balance(practice, "P2") == Cents(0)
    assert payer_receivable(practice) == {payer.pk: Cents(9000)}


def test_provider_adjustments_follow_the_plb_sign(practice: Practice, payer: Payer) -> None:
    # Interest added to the payment: PLB04 negative, reason L6.
    interest = post_provider_adjustment(practice=practice, payer=payer, amount=Cents(-150),
                                        reason_code="l6", reference="PCN0001", **when())
    # An overpayment recovered from this payment: PLB04 positive, reason WO.
    recovery = post_provider_adjustment(practice=practice, payer=payer, amount=Cents(3000),
                                        reason_code="WO", reference="OLD-CLAIM", **when())
    # Any other money added goes to the adjustment account, not to interest.
    other = post_provider_adjustment(practice=practice, payer=payer, amount=Cents(-200),
                                     reason_code="CS", **when())

    assert legs_of(interest) == [("cash", "debit", 150), ("interest", "credit", 150)]
    assert legs_of(recovery) == [("provider_adjustment", "debit", 3000), ("cash", "credit", 3000)]
    assert legs_of(other) == [("cash", "debit", 200), ("provider_adjustment", "credit", 200)]
    assert interest.memo == "PLB L6 PCN0001"
    assert interest.legs.get(account__kind="interest").account.payer == payer
    assert account_balance(account_for(practice, AccountKind.CASH)) == Cents(150 - 3000 + 200)
    with pytest.raises(LedgerError, match="zero changes nothing"):
        post_provider_adjustment(practice=practice, payer=payer, amount=Cents(0),
                                 reason_code="WO", **when())
    with pytest.raises(LedgerError, match="PLB reason code"):
        post_provider_adjustment(practice=practice, payer=payer, amount=Cents(5),
                                 reason_code=" ", **when())


def test_the_reference_remit_posts_to_a_zero_claim_balance(
    practice: Practice, payer: Payer
) -> None:
    """The synthetic 835 of the domain reference §6.5, posted line by line."""
    source = ("remittance.era", "demo-835")
    refs = {"claim_ref": "PCN0001", "patient_ref": "P7"}
    post_charge(practice=practice, payer=payer, amount=Cents(12000), line_ref="1", **refs,
                **when())
    post_charge(practice=practice, payer=payer, amount=Cents(7000), line_ref="2", **refs,
                **when())
    post_insurance_payment(practice=practice, payer=payer, amount=Cents(7500), line_ref="1",
                           source=source, **refs, **when())
    post_contractual_adjustment(practice=practice, payer=payer, amount=Cents(2000),
                                line_ref="1", source=source, **refs, **when())
    post_transfer_to_patient(practice=practice, payer=payer, amount=Cents(2500), line_ref="1",
                             source=source, **refs, **when())
    post_contractual_adjustment(practice=practice, payer=payer, amount=Cents(7000),
                                line_ref="2", source=source, **refs, **when())
    post_provider_adjustment(practice=practice, payer=payer, amount=Cents(-150),
                             reason_code="L6", reference="PCN0001", source=source, **when())

    assert claim_balance(practice, "PCN0001") == Cents(2500)  # the patient's copay
    assert claim_balance(practice, "PCN0001", kinds=[AccountKind.AR_INSURANCE]) == Cents(0)
    assert claim_balance(practice, "PCN0001", line_ref="2") == Cents(0)
    assert patient_balance(practice, "P7") == Cents(2500)

    post_patient_payment(practice=practice, amount=Cents(2500), patient_ref="P7",
                         claim_ref="PCN0001", line_ref="1", **when())

    assert claim_balance(practice, "PCN0001") == Cents(0)
    assert account_balance(account_for(practice, AccountKind.CASH)) == Cents(7650 + 2500)
    assert account_balance(account_for(practice, AccountKind.CHARGES)) == Cents(19000)
    assert account_balance(
        account_for(practice, AccountKind.CONTRACTUAL_ADJUSTMENT, payer)
    ) == Cents(9000)
    tb = trial_balance(practice)
    assert tb.is_balanced and tb.total_debits == tb.total_credits
    assert {row.account.kind: row.balance for row in tb.rows}[AccountKind.INTEREST] == Cents(150)


# --- refusals write nothing -------------------------------------------------------------------


def test_unbalanced_zero_negative_and_non_cents_amounts_are_refused(
    practice: Practice,
) -> None:
    ar = account_for(practice, AccountKind.AR_PATIENT)
    revenue = account_for(practice, AccountKind.CHARGES)
    before = counts()
    cases: list[tuple[list[posting.LegSpec], str]] = [
        ([debit(ar, Cents(100)), credit(revenue, Cents(99))], "do not equal"),
        ([debit(ar, Cents(0)), credit(revenue, Cents(0))], "more than zero"),
        ([debit(ar, Cents(-5)), credit(revenue, Cents(-5))], "more than zero"),
        ([debit(ar, 1.0), credit(revenue, 1.0)], "not float"),  # type: ignore[arg-type]
        ([debit(ar, 100), credit(revenue, 100)], "not int"),  # type: ignore[arg-type]
        ([debit(ar, Decimal(1)), credit(revenue, Decimal(1))], "not Decimal"),  # type: ignore[arg-type]
        ([debit(ar, Cents(100))], "at least two legs"),
        ([], "at least two legs"),
        ([debit(ar, Cents(1)), debit(revenue, Cents(1))], "at least one credit"),
    ]
    for legs, message in cases:
        with pytest.raises(LedgerError, match=message):
            post(practice=practice, kind=TransactionKind.CHARGE, legs=legs, memo="x",
                 **when())
    assert counts() == before


@pytest.mark.parametrize("amount", [Cents(0), Cents(-100), 12.5, 100, Decimal("1.00")])
def test_a_helper_refusing_an_amount_leaves_no_accounts_behind(
    practice: Practice, payer: Payer, amount: Any
) -> None:
    with pytest.raises(LedgerError, match="amount must be"):
        post_charge(practice=practice, payer=payer, amount=amount, claim_ref="C1",
                    patient_ref="P1", **when())
    assert counts() == (0, 0, 0, 0)


def test_time_and_dates_must_be_the_right_types(practice: Practice) -> None:
    naive = datetime(2026, 11, 23, 9, 0)  # noqa: DTZ001 - the point of the test
    base = {"practice": practice, "payer": None, "amount": Cents(1), "claim_ref": "C",
            "patient_ref": "P", "by": None}
    with pytest.raises(LedgerError, match="timezone-aware"):
        post_charge(**base, at=naive, effective_date=DAY)
    with pytest.raises(LedgerError, match="not a datetime"):
        post_charge(**base, at=AT, effective_date=AT)
    with pytest.raises(LedgerError, match="effective_date must be a date"):
        post_charge(**base, at=AT, effective_date="2026-11-23")
    assert counts() == (0, 0, 0, 0)


def test_bad_kinds_refs_keys_and_sources_are_refused(practice: Practice) -> None:
    ar = account_for(practice, AccountKind.AR_PATIENT)
    revenue = account_for(practice, AccountKind.CHARGES)
    good = [debit(ar, Cents(1)), credit(revenue, Cents(1))]
    base: dict[str, Any] = {"practice": practice, "memo": "", **when()}
    with pytest.raises(LedgerError, match="not a transaction kind"):
        post(kind="bonus", legs=good, **base)
    with pytest.raises(LedgerError, match="reverse"):
        post(kind=TransactionKind.REVERSAL, legs=good, **base)
    with pytest.raises(LedgerError, match="idempotency_key must be"):
        post(kind="charge", legs=good, idempotency_key="", **base)
    with pytest.raises(LedgerError, match="both a type and an id"):
        post(kind="charge", legs=good, source=("claim", ""), **base)
    with pytest.raises(LedgerError, match="at most 64 fit"):
        post(kind="charge", legs=[debit(ar, Cents(1), claim_ref="C" * 65),
                                  credit(revenue, Cents(1))], **base)
    with pytest.raises(LedgerError, match="list of LegSpec"):
        post(kind="charge", legs=good[0], **base)  # type: ignore[arg-type]
    with pytest.raises(LedgerError, match="not an account kind"):
        account_for(practice, "petty_cash")
    assert LedgerTransaction.objects.count() == 0


def test_an_account_of_another_practice_is_refused(practice: Practice, payer: Payer) -> None:
    other = make_practice("other-clinic")
    other_payer = make_payer(other, "Evergreen Health Plan", "EVG01")
    theirs = account_for(other, AccountKind.CASH)
    ours = account_for(practice, AccountKind.AR_PATIENT)
    before = counts()

    with pytest.raises(LedgerError, match="leg 1: account Cash .* belongs to another practice"):
        post(practice=practice, kind="patient_payment", memo="",
             legs=[debit(theirs, Cents(500)), credit(ours, Cents(500))], **when())
    with pytest.raises(LedgerError, match="payer Evergreen Health Plan belongs to another"):
        post_charge(practice=practice, payer=other_payer, amount=Cents(1), claim_ref="C",
                    patient_ref="P", **when())
    assert counts() == before


def test_account_for_gets_or_creates_one_account_per_kind_and_payer(
    practice: Practice, payer: Payer, second_payer: Payer
) -> None:
    first = account_for(practice, AccountKind.AR_INSURANCE, payer)
    assert account_for(practice, "ar_insurance", payer) == first
    assert account_for(practice, AccountKind.AR_INSURANCE, second_payer) != first
    assert first.name == "A/R insurance — Evergreen Health Plan"
    assert first.normal_side == "debit"
    assert account_for(practice, AccountKind.CHARGES).normal_side == "credit"
    assert account_for(practice, AccountKind.CASH) == account_for(practice, AccountKind.CASH)
    with pytest.raises(LedgerError, match="kept per payer"):
        account_for(practice, AccountKind.AR_INSURANCE)
    with pytest.raises(LedgerError, match="one account per practice"):
        account_for(practice, AccountKind.CASH, payer)


# --- idempotency ------------------------------------------------------------------------------


def test_the_same_idempotency_key_posts_once(
    practice: Practice, payer: Payer, biller: AbstractBaseUser
) -> None:
    kwargs = {"practice": practice, "payer": payer, "amount": Cents(7500),
              "claim_ref": "C1", "patient_ref": "P1", "source": ("remittance.era", 12),
              "idempotency_key": "era-12:clp-1"}
    first = post_insurance_payment(**kwargs, **when(biller))
    before = counts()
    # The same file posted again a week later by someone else: the same transaction back.
    again = post_insurance_payment(**kwargs, effective_date=DAY, at=AT + timedelta(days=7),
                                   by=None, memo="re-posted")

    assert again.pk == first.pk
    assert counts() == before
    assert first.source_type == "remittance.era" and first.source_id == "12"


def test_reusing_a_key_for_different_content_is_refused(practice: Practice, payer: Payer) -> None:
    kwargs = {"practice": practice, "payer": payer, "claim_ref": "C1", "patient_ref": "P1",
              "idempotency_key": "era-12:clp-1"}
    post_insurance_payment(amount=Cents(7500), **kwargs, **when())
    before = counts()
    with pytest.raises(LedgerError, match="already used for transaction #\\d+ .*legs"):
        post_insurance_payment(amount=Cents(7600), **kwargs, **when())
    with pytest.raises(LedgerError, match="kind insurance_payment vs contractual_adjustment"):
        post_contractual_adjustment(amount=Cents(7500), **kwargs, **when())
    assert counts() == before


def test_idempotency_keys_are_per_practice(practice: Practice, payer: Payer) -> None:
    other = make_practice("other-clinic")
    refs = {"amount": Cents(100), "claim_ref": "C", "patient_ref": "P", "idempotency_key": "k"}
    ours = post_charge(practice=practice, payer=None, **refs, **when())
    theirs = post_charge(practice=other, payer=None, **refs, **when())
    assert ours.pk != theirs.pk


def test_the_database_refuses_a_duplicate_key(practice: Practice) -> None:
    post_charge(practice=practice, payer=None, amount=Cents(1), claim_ref="C", patient_ref="P",
                idempotency_key="k", **when())
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerTransaction.objects.create(practice=practice, kind="charge", occurred_at=AT,
                                         effective_date=DAY, idempotency_key="k")


# --- reversals --------------------------------------------------------------------------------


def test_a_reversal_nets_to_zero_and_happens_once(
    practice: Practice, payer: Payer, biller: AbstractBaseUser
) -> None:
    post_charge(practice=practice, payer=payer, amount=Cents(19000), claim_ref="C1",
                patient_ref="P1", **when())
    payment = post_insurance_payment(practice=practice, payer=payer, amount=Cents(7500),
                                     claim_ref="C1", patient_ref="P1", line_ref="1", **when())
    later = AT + timedelta(days=30)

    reversal = reverse(payment, by=biller, at=later, reason="posted to the wrong claim")

    assert reversal.kind == TransactionKind.REVERSAL and reversal.reverses == payment
    assert payment.reversed_by == reversal
    # Same accounts and refs, sides swapped.
    assert legs_of(reversal) == [("cash", "credit", 7500), ("ar_insurance", "debit", 7500)]
    assert set(reversal.legs.values_list("claim_ref", "line_ref")) == {("C1", "1")}
    assert claim_balance(practice, "C1") == Cents(19000)
    assert account_balance(account_for(practice, AccountKind.CASH)) == Cents(0)
    # The correction counts in the period it was made (the practice is in Los Angeles).
    assert reversal.effective_date == date(2026, 12, 23)
    assert reversal.memo == f"Reversal of #{payment.pk}: posted to the wrong claim"
    event = AuditEvent.objects.get(action="ledger.reverse")
    assert event.detail["reverses"] == payment.pk and event.actor == biller

    before = counts()
    with pytest.raises(LedgerError, match="already been reversed"):
        reverse(payment, by=biller, at=later, reason="again")
    with pytest.raises(LedgerError, match="itself a reversal"):
        reverse(reversal, by=biller, at=later, reason="undo the undo")
    with pytest.raises(LedgerError, match="needs a reason"):
        reverse(payment, by=biller, at=later, reason="  ")
    assert counts() == before


def test_a_reversal_uses_the_local_date_of_the_practice(practice: Practice) -> None:
    charge = post_charge(practice=practice, payer=None, amount=Cents(1), claim_ref="C",
                         patient_ref="P", **when())
    # 02:00 UTC on 24 November is still the 23rd in Los Angeles.
    reversal = reverse(charge, by=None, at=datetime.fromisoformat("2026-11-24T02:00:00+00:00"),
                       reason="duplicate")
    assert reversal.effective_date == date(2026, 11, 23)


def test_a_reversal_with_a_used_key_returns_the_first_reversal(practice: Practice) -> None:
    charge = post_charge(practice=practice, payer=None, amount=Cents(1), claim_ref="C",
                         patient_ref="P", **when())
    first = reverse(charge, by=None, at=AT, reason="CLP02 22", idempotency_key="era-9:rev")
    again = reverse(charge, by=None, at=AT, reason="CLP02 22", idempotency_key="era-9:rev")
    assert again.pk == first.pk
    with pytest.raises(LedgerError, match="already been reversed"):
        reverse(charge, by=None, at=AT, reason="CLP02 22", idempotency_key="era-10:rev")


def test_the_database_refuses_a_second_reversal_and_a_reversal_without_target(
    practice: Practice,
) -> None:
    charge = post_charge(practice=practice, payer=None, amount=Cents(1), claim_ref="C",
                         patient_ref="P", **when())
    reverse(charge, by=None, at=AT, reason="duplicate")
    common = {"practice": practice, "occurred_at": AT, "effective_date": DAY}
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerTransaction.objects.create(kind="reversal", reverses=charge, **common)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerTransaction.objects.create(kind="reversal", **common)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerTransaction.objects.create(kind="charge", source_type="claim", **common)


# --- append-only ------------------------------------------------------------------------------


def test_transactions_and_legs_cannot_be_changed_or_deleted(practice: Practice) -> None:
    txn = post_charge(practice=practice, payer=None, amount=Cents(100), claim_ref="C",
                      patient_ref="P", **when())
    leg = txn.legs.first()
    assert leg is not None

    txn.memo = "edited"
    with pytest.raises(ValueError, match="append-only"):
        txn.save()
    leg.debit_cents = 1
    with pytest.raises(ValueError, match="append-only"):
        leg.save()
    with pytest.raises(ValueError, match="cannot be deleted"):
        txn.delete()
    with pytest.raises(ValueError, match="cannot be deleted"):
        leg.delete()
    with pytest.raises(ValueError, match="append-only"):
        LedgerTransaction.objects.filter(pk=txn.pk).update(memo="edited")
    with pytest.raises(ValueError, match="cannot be deleted"):
        Leg.objects.all().delete()
    with pytest.raises(ValueError, match="append-only"):
        Leg.objects.bulk_update([leg], ["debit_cents"])

    assert LedgerTransaction.objects.get().memo == ""
    assert sorted(Leg.objects.values_list("debit_cents", "credit_cents")) == [(0, 100), (100, 0)]


@on_postgresql
def test_postgresql_refuses_raw_updates_and_deletes(practice: Practice) -> None:
    txn = post_charge(practice=practice, payer=None, amount=Cents(100), claim_ref="C",
                      patient_ref="P", **when())
    for sql in (
        "UPDATE ledger_leg SET debit_cents = debit_cents WHERE transaction_id = %s",
        "DELETE FROM ledger_leg WHERE transaction_id = %s",
        "UPDATE ledger_ledgertransaction SET memo = 'edited' WHERE id = %s",
    ):
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, [txn.pk])
    assert Leg.objects.count() == 2


# --- audit in the same transaction ------------------------------------------------------------


def test_every_posting_leaves_an_audit_row(
    practice: Practice, payer: Payer, biller: AbstractBaseUser
) -> None:
    txn = post_charge(practice=practice, payer=payer, amount=Cents(19000), claim_ref="C1",
                      patient_ref="P1", idempotency_key="claim-C1", **when(biller))
    event = AuditEvent.objects.get()
    assert event.action == "ledger.post"
    assert (event.object_type, event.object_id) == ("ledger.ledgertransaction", str(txn.pk))
    assert event.practice == practice and event.actor == biller and event.occurred_at == AT
    assert event.detail == {"kind": "charge", "total_cents": 19000, "effective_date":
                            "2026-11-23", "legs": 2, "idempotency_key": "claim-C1"}


def test_rolling_back_the_caller_removes_posting_and_audit_together(
    practice: Practice, payer: Payer
) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        post_charge(practice=practice, payer=payer, amount=Cents(100), claim_ref="C",
                    patient_ref="P", **when())
        assert counts()[:3] == (1, 2, 1)
        raise RuntimeError("the claim action failed after posting")
    assert counts() == (0, 0, 0, 0)


def test_a_failing_audit_write_leaves_no_posting(
    practice: Practice, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**_: Any) -> None:
        raise RuntimeError("audit table unavailable")

    monkeypatch.setattr(posting, "record", broken)
    with pytest.raises(RuntimeError, match="audit table"):
        post_charge(practice=practice, payer=None, amount=Cents(100), claim_ref="C",
                    patient_ref="P", **when())
    assert counts() == (0, 0, 0, 0)


# --- database constraints, tested directly -----------------------------------------------------


def test_a_leg_must_be_positive_on_exactly_one_side(practice: Practice) -> None:
    txn = post_charge(practice=practice, payer=None, amount=Cents(100), claim_ref="C",
                      patient_ref="P", **when())
    account = account_for(practice, AccountKind.CASH)
    for debit_cents, credit_cents in [(100, 100), (0, 0), (-100, 0), (0, -100), (-5, 5)]:
        with pytest.raises(IntegrityError), transaction.atomic():
            Leg.objects.create(transaction=txn, practice=practice, account=account,
                               debit_cents=debit_cents, credit_cents=credit_cents)
    assert Leg.objects.count() == 2


def test_account_rows_are_constrained_by_kind(practice: Practice, payer: Payer) -> None:
    rows = [
        {"kind": "ar_insurance", "payer": None, "normal_side": "debit"},  # needs a payer
        {"kind": "cash", "payer": payer, "normal_side": "debit"},  # one per practice
        {"kind": "charges", "payer": None, "normal_side": "debit"},  # revenue is a credit
    ]
    for row in rows:
        with pytest.raises(IntegrityError), transaction.atomic():
            Account.objects.create(practice=practice, name="x", **row)
    account_for(practice, AccountKind.CASH)
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.create(practice=practice, name="Cash 2", kind="cash",
                               normal_side="debit")
    account_for(practice, AccountKind.AR_INSURANCE, payer)
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.create(practice=practice, name="dup", kind="ar_insurance", payer=payer,
                               normal_side="debit")


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_postgresql_refuses_an_unbalanced_transaction_at_commit(practice: Practice) -> None:
    cash = account_for(practice, AccountKind.CASH)
    ar = account_for(practice, AccountKind.AR_PATIENT)

    with pytest.raises(IntegrityError, match="does not balance"), transaction.atomic():
        txn = LedgerTransaction.objects.create(practice=practice, kind="patient_payment",
                                               occurred_at=AT, effective_date=DAY)
        Leg.objects.bulk_create([
            Leg(transaction=txn, practice=practice, account=cash, debit_cents=500),
            Leg(transaction=txn, practice=practice, account=ar, credit_cents=400),
        ])
        # Still inside the transaction: the check waits for commit.
        assert Leg.objects.count() == 2

    with pytest.raises(IntegrityError, match="does not balance"), transaction.atomic():
        LedgerTransaction.objects.create(practice=practice, kind="charge", occurred_at=AT,
                                         effective_date=DAY)

    with pytest.raises(IntegrityError, match="another practice"), transaction.atomic():
        other = make_practice("other-clinic")
        theirs = account_for(other, AccountKind.CASH)
        txn = LedgerTransaction.objects.create(practice=practice, kind="patient_payment",
                                               occurred_at=AT, effective_date=DAY)
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO ledger_leg (transaction_id, practice_id, account_id, debit_cents,"
                " credit_cents, claim_ref, line_ref, patient_ref)"
                " VALUES (%s, %s, %s, 500, 0, '', '', ''), (%s, %s, %s, 0, 500, '', '', '')",
                [txn.pk, practice.pk, theirs.pk, txn.pk, practice.pk, ar.pk],
            )

    assert (LedgerTransaction.objects.count(), Leg.objects.count()) == (0, 0)
    # The posting function's legs pass the same check.
    post_patient_payment(practice=practice, amount=Cents(500), patient_ref="P", **when())
    assert LedgerTransaction.objects.count() == 1


# --- balances ---------------------------------------------------------------------------------


def test_balances_as_of_a_date(practice: Practice, payer: Payer) -> None:
    refs = {"claim_ref": "C1", "patient_ref": "P1"}
    post_charge(practice=practice, payer=payer, amount=Cents(10000), effective_date=DAY,
                at=AT, by=None, **refs)
    post_insurance_payment(practice=practice, payer=payer, amount=Cents(6000),
                           effective_date=DAY + timedelta(days=20), at=AT, by=None, **refs)
    assert claim_balance(practice, "C1", as_of=DAY) == Cents(10000)
    assert claim_balance(practice, "C1", as_of=DAY + timedelta(days=20)) == Cents(4000)
    assert claim_balance(practice, "C1") == Cents(4000)
    assert claim_balance(practice, "nope") == Cents(0)
    assert account_balance(account_for(practice, AccountKind.CASH), as_of=DAY) == Cents(0)
    assert len(trial_balance(practice, as_of=DAY).rows) == 2
    assert patient_balance(practice, "P1", kinds=balances.RECEIVABLE_KINDS) == Cents(4000)


def test_balances_stay_inside_the_practice(practice: Practice) -> None:
    other = make_practice("other-clinic")
    post_charge(practice=other, payer=None, amount=Cents(999), claim_ref="C1",
                patient_ref="P1", **when())
    assert claim_balance(practice, "C1") == Cents(0)
    assert patient_balance(practice, "P1") == Cents(0)
    assert trial_balance(practice).rows == ()


def test_an_overpayment_shows_as_a_credit_balance_until_refunded(
    practice: Practice, payer: Payer
) -> None:
    refs = {"practice": practice, "payer": payer, "claim_ref": "C1", "patient_ref": "P1"}
    post_charge(amount=Cents(5000), **refs, **when())
    post_insurance_payment(amount=Cents(5500), **refs, **when())
    assert claim_balance(practice, "C1") == Cents(-500)
    post_refund(amount=Cents(500), **refs, **when())
    assert claim_balance(practice, "C1") == Cents(0)


# --- property: random histories always balance -------------------------------------------------

amounts = st.integers(min_value=1, max_value=500_000).map(Cents)
claim_no = st.integers(min_value=0, max_value=2)
payer_no = st.integers(min_value=0, max_value=1)
operations = st.one_of(
    st.tuples(st.just("charge"), claim_no, payer_no, amounts),
    st.tuples(st.just("self_pay_charge"), claim_no, st.none(), amounts),
    st.tuples(st.just("insurance_payment"), claim_no, payer_no, amounts),
    st.tuples(st.just("contractual"), claim_no, payer_no, amounts),
    st.tuples(st.just("to_patient"), claim_no, payer_no, amounts),
    st.tuples(st.just("patient_payment"), claim_no, st.none(), amounts),
    st.tuples(st.just("write_off"), claim_no, st.one_of(st.none(), payer_no), amounts),
    st.tuples(st.just("refund"), claim_no, st.one_of(st.none(), payer_no), amounts),
    st.tuples(st.just("reverse"), st.integers(min_value=0, max_value=30), st.none(), st.none()),
)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=st.lists(operations, min_size=1, max_size=14))
def test_any_history_keeps_the_books_balanced(
    practice: Practice, payer: Payer, second_payer: Payer,
    history: list[tuple[str, int, int | None, Cents | None]],
) -> None:
    payers = [payer, second_payer]
    # Each example runs in a savepoint that is rolled back, so examples do not see each other.
    with transaction.atomic():
        # Expected A/R effect of each posted transaction: {(claim, "ins"/payer or "pat"): cents}
        effects: list[tuple[LedgerTransaction, dict[tuple[str, Any], int]]] = []
        reversed_ids: set[int] = set()
        for op, number, payer_index, amount in history:
            if op == "reverse":
                if not effects:
                    continue
                target, effect = effects[number % len(effects)]
                if target.kind == TransactionKind.REVERSAL or target.pk in reversed_ids:
                    with pytest.raises(LedgerError):
                        reverse(target, by=None, at=AT, reason="property test")
                    continue
                reversal = reverse(target, by=None, at=AT, reason="property test")
                reversed_ids.add(target.pk)
                effects.append((reversal, {key: -value for key, value in effect.items()}))
                continue
            assert amount is not None
            claim = f"C{number}"
            who = payers[payer_index] if payer_index is not None else None
            ins = ("ins", who.pk if who is not None else None)
            owed_by = (claim, ins) if who is not None else (claim, ("pat", None))
            common = {"practice": practice, "amount": amount, "claim_ref": claim,
                      "patient_ref": "P1", **when()}
            value = amount.value
            if op in ("charge", "self_pay_charge"):
                txn = post_charge(payer=who, **common)
                effect = {owed_by: value}
            elif op == "insurance_payment":
                txn = post_insurance_payment(payer=who, **common)
                effect = {owed_by: -value}
            elif op == "contractual":
                txn = post_contractual_adjustment(payer=who, **common)
                effect = {owed_by: -value}
            elif op == "to_patient":
                txn = post_transfer_to_patient(payer=who, **common)
                effect = {owed_by: -value, (claim, ("pat", None)): value}
            elif op == "patient_payment":
                txn = post_patient_payment(**common)
                effect = {owed_by: -value}
            elif op == "write_off":
                txn = post_write_off(payer=who, **common)
                effect = {owed_by: -value}
            else:
                txn = post_refund(payer=who, **common)
                effect = {owed_by: value}
            effects.append((txn, effect))

        expected: defaultdict[tuple[str, Any], int] = defaultdict(int)
        for _, effect in effects:
            for key, value in effect.items():
                expected[key] += value

        tb = trial_balance(practice)
        assert tb.is_balanced
        # The rows the triggers keep agree with the legs: A/R claim by claim, and each
        # account's totals day by day.
        assert balances.receivable_drift(practice) == []
        assert balances.daily_total_drift(practice) == []
        kept: defaultdict[str, int] = defaultdict(int)
        for row in balances.open_receivables(practice):
            kept[row.claim_ref] += row.balance_cents
        for number in range(3):
            claim = f"C{number}"
            assert kept.get(claim, 0) == sum(v for (c, _), v in expected.items() if c == claim)
        for number in range(3):
            claim = f"C{number}"
            owed = sum(v for (c, _), v in expected.items() if c == claim)
            assert claim_balance(practice, claim) == Cents(owed)
            patient_owed = expected[(claim, ("pat", None))]
            assert claim_balance(practice, claim, kinds=[AccountKind.AR_PATIENT]) == Cents(
                patient_owed
            )
        for p in payers:
            owed = sum(v for (_, key), v in expected.items() if key == ("ins", p.pk))
            assert payer_receivable(practice).get(p.pk, Cents(0)) == Cents(owed)
        # Revenue less everything that reduced it equals what is still owed plus cash kept.
        by_kind: defaultdict[str, Cents] = defaultdict(Cents.zero)
        for row in tb.rows:
            by_kind[row.account.kind] = by_kind[row.account.kind] + row.balance
        receivable = by_kind[AccountKind.AR_INSURANCE] + by_kind[AccountKind.AR_PATIENT]
        assert (
            by_kind[AccountKind.CHARGES]
            - by_kind[AccountKind.CONTRACTUAL_ADJUSTMENT]
            - by_kind[AccountKind.WRITE_OFF]
        ) == receivable + by_kind[AccountKind.CASH]
        transaction.set_rollback(True)


# --- the receivable rows the leg triggers keep ------------------------------------------------


def receivables(practice: Practice) -> dict[tuple[str, str], tuple[int, date]]:
    """{(account kind, claim): (balance, first date)} of every kept row."""
    return {
        (row.account.kind, row.claim_ref): (row.balance_cents, row.first_date)
        for row in ClaimReceivable.objects.filter(practice=practice).select_related("account")
    }


def test_receivable_rows_follow_charges_payments_transfers_and_reversals(
    practice: Practice, payer: Payer
) -> None:
    common = {"practice": practice, "claim_ref": "HB1", "patient_ref": "P1", "at": AT,
              "by": None}
    post_charge(payer=payer, amount=Cents(19000), effective_date=DAY, **common)
    paid = post_insurance_payment(payer=payer, amount=Cents(12000),
                                  effective_date=DAY + timedelta(days=20), **common)
    post_transfer_to_patient(payer=payer, amount=Cents(3000),
                             effective_date=DAY + timedelta(days=20), **common)
    post_charge(payer=None, amount=Cents(9000), claim_ref="HB2", patient_ref="P1",
                practice=practice, effective_date=DAY - timedelta(days=3), at=AT, by=None)
    # Cash and charges are not receivables: no rows for them.
    assert receivables(practice) == {
        ("ar_insurance", "HB1"): (19000 - 12000 - 3000, DAY),
        ("ar_patient", "HB1"): (3000, DAY + timedelta(days=20)),
        ("ar_patient", "HB2"): (9000, DAY - timedelta(days=3)),
    }
    reverse(paid, by=None, at=AT + timedelta(days=30), reason="posted to the wrong claim")
    assert receivables(practice)[("ar_insurance", "HB1")] == (16000, DAY)
    post_insurance_payment(payer=payer, amount=Cents(16000), effective_date=DAY, **common)
    post_patient_payment(amount=Cents(3000), effective_date=DAY, **common)
    # Settled rows stay (with 0) but are not open.
    assert receivables(practice)[("ar_insurance", "HB1")][0] == 0
    assert [(r.claim_ref, r.balance_cents) for r in balances.open_receivables(practice)] == [
        ("HB2", 9000)]
    assert list(balances.open_receivables(practice, [AccountKind.AR_INSURANCE])) == []
    assert balances.receivable_drift(practice) == []


def test_receivable_rows_stay_inside_their_practice(practice: Practice, payer: Payer) -> None:
    other = make_practice("other-hands")
    for who in (practice, other):
        post_charge(practice=who, payer=None, amount=Cents(5000), claim_ref="HB1",
                    patient_ref="P1", **when())
    assert [r.balance_cents for r in balances.open_receivables(practice)] == [5000]
    assert [r.balance_cents for r in balances.open_receivables(other)] == [5000]


def test_a_rolled_back_posting_takes_its_receivable_change_with_it(
    practice: Practice, payer: Payer
) -> None:
    post_charge(practice=practice, payer=payer, amount=Cents(10000), claim_ref="HB1",
                patient_ref="P1", **when())
    with pytest.raises(RuntimeError), transaction.atomic():
        post_insurance_payment(practice=practice, payer=payer, amount=Cents(10000),
                               claim_ref="HB1", patient_ref="P1", **when())
        assert receivables(practice)[("ar_insurance", "HB1")][0] == 0
        raise RuntimeError("the 835 failed half-way")
    assert receivables(practice)[("ar_insurance", "HB1")][0] == 10000
    assert balances.receivable_drift(practice) == []


def test_post_many_keeps_the_receivable_rows(practice: Practice, payer: Payer) -> None:
    ar = account_for(practice, AccountKind.AR_INSURANCE, payer)
    cash = account_for(practice, AccountKind.CASH)
    charges = account_for(practice, AccountKind.CHARGES)
    entries = []
    for number in range(50):
        claim = f"HB{number}"
        entries.append(posting.Entry(TransactionKind.CHARGE, [
            debit(ar, Cents(10000), claim_ref=claim), credit(charges, Cents(10000),
                                                             claim_ref=claim)], "", DAY))
        entries.append(posting.Entry(TransactionKind.INSURANCE_PAYMENT, [
            debit(cash, Cents(100 * number), claim_ref=claim) if number else
            debit(cash, Cents(1), claim_ref=claim),
            credit(ar, Cents(100 * number or 1), claim_ref=claim)], "", DAY))
    posting.post_many(practice=practice, entries=entries, at=AT, by=None)
    kept = receivables(practice)
    assert kept[("ar_insurance", "HB0")] == (9999, DAY)
    assert kept[("ar_insurance", "HB49")] == (10000 - 4900, DAY)
    assert len(kept) == 50
    assert balances.receivable_drift(practice) == []
    assert balances.daily_total_drift(practice) == []
    cash_day = DailyTotal.objects.get(account=cash)
    assert (cash_day.effective_date, cash_day.kind, cash_day.debit_cents) == (
        DAY, TransactionKind.INSURANCE_PAYMENT, 1 + sum(100 * n for n in range(1, 50)))


@pytest.mark.parametrize("model", [ClaimReceivable, DailyTotal])
def test_kept_rows_refuse_writes_from_python(practice: Practice, model: Any) -> None:
    post_charge(practice=practice, payer=None, amount=Cents(100), claim_ref="C",
                patient_ref="P", **when())
    row = model.objects.first()
    before = list(model.objects.values_list())
    for attempt in (
        row.save,
        row.delete,
        lambda: model.objects.update(practice=practice),
        lambda: model.objects.all().delete(),
        lambda: model.objects.bulk_create([row]),
    ):
        with pytest.raises(ValueError, match="kept by the ledger's triggers"):
            attempt()
    assert list(model.objects.values_list()) == before


@on_postgresql
def test_postgresql_refuses_raw_writes_to_receivable_rows(practice: Practice) -> None:
    post_charge(practice=practice, payer=None, amount=Cents(100), claim_ref="C",
                patient_ref="P", **when())
    for sql in (
        "UPDATE ledger_claimreceivable SET balance_cents = 0",
        "DELETE FROM ledger_claimreceivable",
        "INSERT INTO ledger_claimreceivable (practice_id, account_id, claim_ref, "
        "balance_cents, first_date) SELECT practice_id, account_id, 'D', 1, first_date "
        "FROM ledger_claimreceivable",
        "UPDATE ledger_dailytotal SET debit_cents = 0",
        "DELETE FROM ledger_dailytotal",
    ):
        with pytest.raises(Exception, match="kept by the ledger"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql)
    assert ClaimReceivable.objects.get().balance_cents == 100
    assert DailyTotal.objects.count() == 2
    assert balances.daily_total_drift(practice) == []


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_the_rows_from_the_legs_already_posted() -> None:
    """Unapplying the triggers' migrations empties the rows and stops the triggers; legs
    posted then are summed by the backfills when they are applied again."""
    from django.core.management import call_command

    practice = make_practice("backfill")
    payer = make_payer(practice, "Evergreen Health Plan", "EVG01")
    post_charge(practice=practice, payer=payer, amount=Cents(19000), claim_ref="HB1",
                patient_ref="P1", **when())
    call_command("migrate", "ledger", "0005", verbosity=0)
    try:
        assert ClaimReceivable.objects.count() == 0
        post_insurance_payment(practice=practice, payer=payer, amount=Cents(4000),
                               claim_ref="HB1", patient_ref="P1",
                               effective_date=DAY + timedelta(days=9), at=AT, by=None)
        post_charge(practice=practice, payer=None, amount=Cents(700), claim_ref="HB2",
                    patient_ref="P1", **when())
        assert ClaimReceivable.objects.count() == 0
    finally:
        call_command("migrate", "ledger", verbosity=0)
    assert receivables(practice) == {
        ("ar_insurance", "HB1"): (15000, DAY),
        ("ar_patient", "HB2"): (700, DAY),
    }
    post_patient_payment(practice=practice, amount=Cents(700), claim_ref="HB2",
                         patient_ref="P1", **when())
    assert receivables(practice)[("ar_patient", "HB2")] == (0, DAY)
    assert balances.receivable_drift(practice) == []
    assert balances.daily_total_drift(practice) == []
    cash = DailyTotal.objects.get(account__kind=AccountKind.CASH,
                                  kind=TransactionKind.INSURANCE_PAYMENT)
    assert (cash.effective_date, cash.debit_cents) == (DAY + timedelta(days=9), 4000)
