"""Accounts, transactions and legs: a double-entry ledger in integer cents.

Balances are sums of legs. Transactions and legs are append-only: a correction is a new
reversing transaction (see :func:`handbill.ledger.posting.reverse`). The only write path is
:mod:`handbill.ledger.posting`; the model API refuses updates and deletes, and on PostgreSQL
triggers refuse them too and check at commit that every transaction balances.

Two sums are also kept as rows, because the busiest pages need them over a long history:
:class:`ClaimReceivable`, what each receivable account is owed on each claim, and
:class:`DailyTotal`, each account's debits and credits per ledger day and transaction kind.
Database triggers on the leg table keep them (migrations 0006 and 0008), in the statement that
inserts the legs, so they cannot disagree with the legs; nothing in Python writes them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from handbill.ledger.rules import Side

# Claim ids (CLM01, at most 38), line control numbers (REF*6R, at most 50) and our patient ids
# all fit; the posting functions refuse longer values because SQLite would not.
REF_MAX_LENGTH = 64
SIDE_CHOICES = [(side.value, side.value.title()) for side in Side]


class AccountKind(models.TextChoices):
    # Gross charges billed, before anything a payer cuts: revenue.
    CHARGES = "charges", "Charges"
    # What a payer still owes on submitted claims; one account per payer.
    AR_INSURANCE = "ar_insurance", "A/R insurance"
    # What patients owe: copays, coinsurance, deductibles, self-pay visits.
    AR_PATIENT = "ar_patient", "A/R patient"
    # The part of a charge a network contract says we may not collect (CAS group CO).
    CONTRACTUAL_ADJUSTMENT = "contractual_adjustment", "Contractual adjustment"
    # Balances the practice decided not to collect: small balances, bad debt, late filing.
    WRITE_OFF = "write_off", "Write-off"
    # Money deposited: checks, EFTs, card payments.
    CASH = "cash", "Cash"
    # Money received that is not owed to us yet, or is owed back (prepayments, overpayments).
    UNAPPLIED = "unapplied", "Unapplied credits"
    # Prompt-pay interest a payer adds at the provider level (PLB reason L6).
    INTEREST = "interest", "Interest income"
    # Other provider-level amounts on an 835 (PLB): recoveries, forwarding balances, fees.
    PROVIDER_ADJUSTMENT = "provider_adjustment", "Provider-level adjustment"


NORMAL_SIDE: dict[str, Side] = {
    AccountKind.CHARGES: Side.CREDIT,
    AccountKind.AR_INSURANCE: Side.DEBIT,
    AccountKind.AR_PATIENT: Side.DEBIT,
    AccountKind.CONTRACTUAL_ADJUSTMENT: Side.DEBIT,
    AccountKind.WRITE_OFF: Side.DEBIT,
    AccountKind.CASH: Side.DEBIT,
    AccountKind.UNAPPLIED: Side.CREDIT,
    AccountKind.INTEREST: Side.CREDIT,
    AccountKind.PROVIDER_ADJUSTMENT: Side.DEBIT,
}

# Which kinds are kept per payer: A/R insurance always; amounts a payer causes may be.
PAYER_REQUIRED = frozenset({AccountKind.AR_INSURANCE})
PAYER_OPTIONAL = frozenset(
    {
        AccountKind.CONTRACTUAL_ADJUSTMENT,
        AccountKind.UNAPPLIED,
        AccountKind.INTEREST,
        AccountKind.PROVIDER_ADJUSTMENT,
    }
)
PAYER_FORBIDDEN = frozenset(AccountKind) - PAYER_REQUIRED - PAYER_OPTIONAL

# What is still owed on a claim or by a patient: the two receivable kinds.
RECEIVABLE_KINDS = (AccountKind.AR_INSURANCE, AccountKind.AR_PATIENT)


class Account(models.Model):
    practice = models.ForeignKey(
        "practice.Practice", on_delete=models.PROTECT, related_name="ledger_accounts"
    )
    kind = models.CharField(max_length=32, choices=AccountKind.choices)
    payer = models.ForeignKey(
        "practice.Payer", null=True, blank=True, on_delete=models.PROTECT,
        related_name="ledger_accounts",
    )
    name = models.CharField(max_length=120)
    # Which side increases the balance; reports show balances on this side.
    normal_side = models.CharField(max_length=6, choices=SIDE_CHOICES)

    class Meta:
        constraints = [
            # NULL payers are distinct in SQL unique indexes, so the payer-less accounts need
            # their own constraint to stay one per kind.
            models.UniqueConstraint(
                fields=["practice", "kind", "payer"],
                condition=models.Q(payer__isnull=False),
                name="ledger_account_per_payer",
            ),
            models.UniqueConstraint(
                fields=["practice", "kind"],
                condition=models.Q(payer__isnull=True),
                name="ledger_account_per_kind",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=sorted(PAYER_REQUIRED), payer__isnull=False)
                | models.Q(kind__in=sorted(PAYER_OPTIONAL))
                | models.Q(kind__in=sorted(PAYER_FORBIDDEN), payer__isnull=True),
                name="ledger_account_payer_by_kind",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    kind__in=[k for k, s in NORMAL_SIDE.items() if s is Side.DEBIT],
                    normal_side=Side.DEBIT.value,
                )
                | models.Q(
                    kind__in=[k for k, s in NORMAL_SIDE.items() if s is Side.CREDIT],
                    normal_side=Side.CREDIT.value,
                ),
                name="ledger_account_normal_side_by_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TransactionKind(models.TextChoices):
    CHARGE = "charge", "Charge"
    INSURANCE_PAYMENT = "insurance_payment", "Insurance payment"
    CONTRACTUAL_ADJUSTMENT = "contractual_adjustment", "Contractual adjustment"
    TRANSFER_TO_PATIENT = "transfer_to_patient", "Transfer to patient responsibility"
    TRANSFER_TO_PAYER = "transfer_to_payer", "Transfer to another payer"
    PATIENT_PAYMENT = "patient_payment", "Patient payment"
    WRITE_OFF = "write_off", "Write-off"
    REFUND = "refund", "Refund"
    PROVIDER_ADJUSTMENT = "provider_adjustment", "Provider-level adjustment"
    REVERSAL = "reversal", "Reversal"


class AppendOnlyQuerySet(models.QuerySet):
    """Queries that can read and insert but never change or remove ledger rows."""

    def update(self, **kwargs: Any) -> int:
        raise ValueError("ledger rows are append-only; post a reversing transaction instead")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ValueError("ledger rows cannot be deleted; post a reversing transaction instead")

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        raise ValueError("ledger rows are append-only; post a reversing transaction instead")


class AppendOnly(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError(
                f"{self._meta.verbose_name} rows are append-only; post a reversing "
                "transaction instead"
            )
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError(
            f"{self._meta.verbose_name} rows cannot be deleted; post a reversing transaction "
            "instead"
        )


class LedgerTransaction(AppendOnly):
    practice = models.ForeignKey(
        "practice.Practice", on_delete=models.PROTECT, related_name="ledger_transactions"
    )
    kind = models.CharField(max_length=32, choices=TransactionKind.choices)
    memo = models.CharField(max_length=200, blank=True)
    # When it was recorded, and the accounting date it counts on (deposit date, service date).
    occurred_at = models.DateTimeField()
    effective_date = models.DateField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    # What caused it ("claim", "remittance.claimpayment", …) as plain text, so the ledger does
    # not depend on the apps that post to it.
    source_type = models.CharField(max_length=64, blank=True)
    source_id = models.CharField(max_length=64, blank=True)
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    # Set by batch posting (an 835 file, a claim line) so doing the same work twice is a no-op.
    # NULL, not "", means "no key": the unique constraint below only covers keys that exist.
    idempotency_key = models.CharField(  # noqa: DJ001
        max_length=128, null=True, blank=True
    )

    class Meta:
        verbose_name = "ledger transaction"
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="ledger_transaction_idempotency_key_per_practice",
            ),
            models.CheckConstraint(
                condition=~models.Q(idempotency_key=""),
                name="ledger_transaction_idempotency_key_not_blank",
            ),
            models.CheckConstraint(
                condition=models.Q(kind=TransactionKind.REVERSAL, reverses__isnull=False)
                | (~models.Q(kind=TransactionKind.REVERSAL) & models.Q(reverses__isnull=True)),
                name="ledger_transaction_reversal_points_back",
            ),
            models.CheckConstraint(
                condition=models.Q(source_type="", source_id="")
                | (~models.Q(source_type="") & ~models.Q(source_id="")),
                name="ledger_transaction_source_complete",
            ),
        ]
        indexes = [
            models.Index(fields=["practice", "effective_date"]),
            models.Index(fields=["source_type", "source_id"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} {self.effective_date}"


class Leg(AppendOnly):
    """One side of a transaction: a positive amount debited or credited to one account."""

    transaction = models.ForeignKey(
        LedgerTransaction, on_delete=models.PROTECT, related_name="legs"
    )
    # Copied from the transaction so per-claim and per-patient sums stay inside one practice
    # without a join; PostgreSQL checks it matches at commit.
    practice = models.ForeignKey("practice.Practice", on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="legs")
    debit_cents = models.BigIntegerField(default=0)
    credit_cents = models.BigIntegerField(default=0)
    claim_ref = models.CharField(max_length=REF_MAX_LENGTH, blank=True)
    line_ref = models.CharField(max_length=REF_MAX_LENGTH, blank=True)
    patient_ref = models.CharField(max_length=REF_MAX_LENGTH, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(debit_cents__gt=0, credit_cents=0)
                | models.Q(debit_cents=0, credit_cents__gt=0),
                name="ledger_leg_one_side_positive",
            ),
        ]
        indexes = [
            models.Index(fields=["practice", "claim_ref"]),
            models.Index(fields=["practice", "patient_ref"]),
            # A/R per account and claim (the dashboard's aging) read from the index alone,
            # in claim order, on SQLite and PostgreSQL alike.
            models.Index(
                fields=["account", "claim_ref", "debit_cents", "credit_cents", "transaction"],
                name="ledger_leg_account_claim_cover",
            ),
        ]

    def __str__(self) -> str:
        side = f"Dr {self.debit_cents}" if self.debit_cents else f"Cr {self.credit_cents}"
        return f"{side} {self.account}"

    @property
    def side(self) -> Side:
        return Side.DEBIT if self.debit_cents else Side.CREDIT

    @property
    def amount_cents(self) -> int:
        return self.debit_cents or self.credit_cents


KEPT_BY_TRIGGERS = "these rows are kept by the ledger's triggers from the legs; post legs instead"


class ReadOnlyQuerySet(models.QuerySet):
    """Queries that can only read: the rows are written by database triggers."""

    def update(self, **kwargs: Any) -> int:
        raise ValueError(KEPT_BY_TRIGGERS)

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ValueError(KEPT_BY_TRIGGERS)

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> Any:
        raise ValueError(KEPT_BY_TRIGGERS)

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        raise ValueError(KEPT_BY_TRIGGERS)


class KeptByTriggers(models.Model):
    objects = ReadOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        raise ValueError(KEPT_BY_TRIGGERS)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError(KEPT_BY_TRIGGERS)


class ClaimReceivable(KeptByTriggers):
    """What one receivable account (a payer's A/R, or the patients') is owed on one claim.

    It is the sum of that account's legs for the claim, debits minus credits, kept by triggers
    on the leg table in the same statement as the legs (migration 0006): aging, the work
    queues and the dashboard read the open claims here instead of summing every leg a practice
    ever posted. Legs with no claim (``claim_ref`` "") share one row per account.
    ``first_date`` is the earliest ledger date among those legs, the age of a balance that
    names no claim of ours.
    """

    practice = models.ForeignKey("practice.Practice", on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="receivables")
    claim_ref = models.CharField(max_length=REF_MAX_LENGTH, blank=True)
    balance_cents = models.BigIntegerField()
    first_date = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "claim_ref"], name="ledger_receivable_per_account_claim"
            ),
        ]
        indexes = [
            # The open claims of a practice: a few thousand rows of a ledger of millions.
            models.Index(
                fields=["practice", "claim_ref"],
                condition=~models.Q(balance_cents=0),
                name="ledger_receivable_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.claim_ref or '(no claim)'} {self.balance_cents} on {self.account}"


class DailyTotal(KeptByTriggers):
    """One account's debits and credits on one ledger day from one kind of transaction.

    The sum of the legs of that account whose transaction has that kind and effective date,
    kept by triggers on the leg table (migration 0008): period figures (charges and payments
    in the last 30 days, payments by month) read a row per account and day instead of every
    leg of the period.
    """

    practice = models.ForeignKey("practice.Practice", on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="daily_totals")
    effective_date = models.DateField()
    kind = models.CharField(max_length=32, choices=TransactionKind.choices)
    debit_cents = models.BigIntegerField()
    credit_cents = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "effective_date", "kind"], name="ledger_daily_total_per_key"
            ),
        ]
        indexes = [models.Index(fields=["practice", "effective_date"])]

    def __str__(self) -> str:
        return f"{self.effective_date} {self.kind} Dr {self.debit_cents} Cr {self.credit_cents}"
