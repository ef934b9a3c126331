"""The demo's money loop: claims out to the payer sandbox and the money back on the books.

The biller sends the ready claims in a batch every Tuesday afternoon through the demo's
outbox clearinghouse (the same ``submit_claims`` action the Submit page uses). The payer
sandbox answers each file like the payers would: the 999 and the 277CA arrive the next
morning, the 835s two to three weeks later. Each arrival is fetched from the inbox and
processed (``fetch_inbox``, ``process_inbox``), and every 835 is posted: the clean ones by
the inbox processing, the rest by the biller after a look at the plan (``commit_posting``).
Most patients then pay what the payer passed on to them within two weeks; the rest still owe
it.
What has not "arrived" by the moment of the build is simply not written yet, so the latest
claims are still waiting on the payer and the A/R has an age.

Everything happens in time order on a clock made from ``as_of`` and ``at``, and every random
choice comes from the seed, so the same seed on the same day gives the same books.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from handbill.claims.models import Claim
from handbill.core.money import Cents
from handbill.core.policy import read_shipped_policies
from handbill.ledger import posting
from handbill.patients.actions import CoverageInput, update_coverage
from handbill.practice.models import Practice
from handbill.remittance import actions as remittance
from handbill.remittance.models import ClaimPayment, EraFile, EraStatus
from handbill.sandbox import adjudicate
from handbill.submissions import actions as submissions
from handbill.submissions.models import Clearinghouse

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

SEND_WEEKDAY = 1  # Tuesday: the biller's batch day
SEND_HOUR = 16
ACK_HOUR = 8  # the 999 and 277CA are in the inbox the next morning
ERA_HOUR = 9
ERA_DAYS = (12, 21)  # days from the batch to its 835s, inclusive range
PATIENTS_WHO_PAY = 0.85  # share of patient balances paid after the statement
PATIENT_PAYS_DAYS = (3, 14)


@dataclass(frozen=True, slots=True)
class _Arrival:
    """Answer files that appear in the inbox at ``at``."""

    at: datetime
    files: dict[str, str]
    # Patients paying what the payer passed on to them: (claim, patient account, cents).
    payments: tuple[tuple[str, str, int], ...] = ()


class MoneyLoop:
    def __init__(
        self,
        *,
        practice: Practice,
        clearinghouse: Clearinghouse,
        biller: AbstractBaseUser,
        front_desk: AbstractBaseUser,
        claims: list[Claim],
        ready_at: dict[int, datetime],
        as_of: date,
        at: datetime,
        seed: int,
        member_fixes: dict[int, str],
    ) -> None:
        self.practice = practice
        self.house = clearinghouse
        self.biller = biller
        self.front_desk = front_desk
        self.claims = sorted(claims, key=lambda c: (ready_at[c.pk], c.pk))
        self.ready_at = ready_at
        self.as_of = as_of
        self.at = at
        self.seed = seed
        # Synthetic data, not security: a seeded generator makes the demo repeatable.
        self.rng = random.Random(seed * 7919 + 5)  # noqa: S311
        self.zone = ZoneInfo(practice.timezone)
        self.policies = {p.payer_id: p for p in read_shipped_policies() if p.payer_id}
        self.inbox = Path(clearinghouse.outbox_path).parent / "inbox"
        self.history: dict[str, int] = {}
        self.pending: list[_Arrival] = []
        self.member_fixes = dict(member_fixes)
        self.billed: set[int] = set()  # claim payments whose patient share was billed

    def run(self) -> None:
        queue = list(self.claims)
        for sent in self._batch_days():
            self._deliver(before=sent)
            batch = [c for c in queue if self.ready_at[c.pk] < sent]
            if not batch:
                continue
            queue = [c for c in queue if self.ready_at[c.pk] >= sent]
            self._send(batch, sent)
        self._deliver(before=self.at)

    # -- time --

    def _batch_days(self) -> Iterator[datetime]:
        """Every Tuesday afternoon of the history, up to the day before the build."""
        if not self.claims:
            return
        day = self.ready_at[self.claims[0].pk].astimezone(self.zone).date()
        while day.weekday() != SEND_WEEKDAY:
            day += timedelta(days=1)
        while day < self.as_of:
            yield datetime.combine(day, time(SEND_HOUR), tzinfo=self.zone)
            day += timedelta(days=7)

    def _when(self, day: date, hour: int) -> datetime:
        return datetime.combine(day, time(hour), tzinfo=self.zone)

    # -- the loop --

    def _send(self, claims: list[Claim], sent: datetime) -> None:
        batch = submissions.submit_claims(
            practice=self.practice, claims=claims, clearinghouse=self.house, by=self.biller,
            at=sent,
        )
        stem = batch.file_name.rsplit(".", 1)[0]
        received = sent.date()
        acks = adjudicate(batch.x12, policies=self.policies, as_of=received, seed=self.seed,
                          payer_history=self.history)
        ack_files = {name: text for name, text in acks.files(stem).items()
                     if not name.endswith(".835")}
        self.pending.append(_Arrival(self._when(received + timedelta(days=1), ACK_HOUR),
                                     ack_files))
        paid_on = received + timedelta(days=self.rng.randint(*ERA_DAYS))
        # The payer adjudicates on the day it pays; the visit caps count what it paid before.
        answer = adjudicate(batch.x12, policies=self.policies, as_of=paid_on, seed=self.seed,
                            payer_history=self.history)
        for outcome in answer.claims:
            if outcome.visit_number is not None:
                member = outcome.member_id.strip().upper()
                self.history[member] = max(self.history.get(member, 0), outcome.visit_number)
        era_files = {name: text for name, text in answer.files(stem).items()
                     if name.endswith(".835")}
        if era_files:
            self.pending.append(_Arrival(self._when(paid_on, ERA_HOUR), era_files))

    def _deliver(self, *, before: datetime) -> None:
        """Put every answer due before ``before`` in the inbox, in order, and read it."""
        while True:
            due = [a for a in self.pending if a.at < before]
            if not due:
                return
            # One at a time: reading an 835 schedules the patients' payments that follow it.
            arrival = min(due, key=lambda a: a.at)
            self.pending.remove(arrival)
            if arrival.payments:
                self._patients_pay(arrival)
                continue
            self.inbox.mkdir(parents=True, exist_ok=True)
            for name, text in arrival.files.items():
                (self.inbox / name).write_text(text, encoding="utf-8")
            submissions.fetch_inbox(practice=self.practice, clearinghouse=self.house,
                                    by=self.biller, at=arrival.at)
            remittance.process_inbox(practice=self.practice, by=self.biller, at=arrival.at)
            self._fix_member_ids(arrival.at + timedelta(minutes=20))
            # The biller looks at what the inbox left for her and posts it the same morning.
            looked = arrival.at + timedelta(minutes=30)
            for era in EraFile.objects.filter(practice=self.practice,
                                              status=EraStatus.PLANNED).order_by("pk"):
                remittance.commit_posting(era=era, by=self.biller, at=looked)
            self._bills_to_patients(arrival.at)

    def _bills_to_patients(self, received: datetime) -> None:
        """Most patients pay what the payer passed on to them (copay, coinsurance, deductible)
        within a few weeks of the statement; the rest still owe it at the build."""
        owed = (
            ClaimPayment.objects.filter(
                practice=self.practice, era__inbox_file__received_at=received,
                patient_responsibility_cents__gt=0, claim__isnull=False,
            )
            .exclude(pk__in=self.billed)
            .order_by("pk")
            .values_list("pk", "claim__number", "claim__patient__account_number",
                         "patient_responsibility_cents")
        )
        for pk, claim_ref, patient_ref, cents in owed:
            # Two batches' 835s can arrive in the same minute: each bill goes out once.
            self.billed.add(pk)
            if self.rng.random() >= PATIENTS_WHO_PAY:
                continue
            paid_at = received + timedelta(days=self.rng.randint(*PATIENT_PAYS_DAYS), hours=3)
            self.pending.append(_Arrival(paid_at, {}, ((claim_ref, patient_ref, cents),)))

    def _patients_pay(self, arrival: _Arrival) -> None:
        for claim_ref, patient_ref, cents in arrival.payments:
            posting.post_patient_payment(
                practice=self.practice, amount=Cents(cents), patient_ref=patient_ref,
                claim_ref=claim_ref, effective_date=arrival.at.astimezone(self.zone).date(),
                at=arrival.at, by=self.front_desk,
                memo=f"Patient payment on {claim_ref} after the statement",
            )

    def _fix_member_ids(self, at: datetime) -> None:
        """After a rejection for an unknown member, the front desk calls the patient and
        enters the ID from the card; the rejected claims wait for the biller to send again."""
        rejected = Claim.objects.filter(
            practice=self.practice, status="rejected", patient_id__in=list(self.member_fixes)
        ).select_related("coverage__payer")
        for claim in rejected:
            member_id = self.member_fixes.pop(claim.patient_id, None)
            coverage = claim.coverage
            if member_id is None or coverage is None:
                continue
            data = CoverageInput(**{
                f.name: getattr(coverage, f.name) for f in fields(CoverageInput)
                if f.name != "extra"
            })
            update_coverage(coverage=coverage, payer=coverage.payer,
                            data=replace(data, member_id=member_id), by=self.front_desk, at=at)
