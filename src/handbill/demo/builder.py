"""The demo practice: a synthetic clinic with three months of history to land in.

Cedar Street Massage Therapy has two locations, an owner, a biller, a front desk and three
therapists, payers from the shipped policy profiles, 60 patients with their coverages and
prescriptions, three months of signed notes, and a claim for every signed note. The older
claims went out in weekly batches to the payer sandbox and its answers were read and posted
(:mod:`handbill.demo.money`), so there are payments, patient balances, denials and rejections
as real use would leave them. Everything is made up (see ``names`` and ``notes``) and
everything is written through the same actions a person would use, so the audit trail, the
ledger and the claim history are what real use would leave.

A handful of realistic mistakes are planted on purpose, so a new user sees the scrubber at
work: a note without a medical-necessity statement, massage and manual therapy on the same
region, a code the payer does not pay massage therapists for, a visit past the yearly cap, an
authorization that runs out, an expired prescription, a claim found too late to file, an
unsigned note, an unspecified-side diagnosis, an auto claim without its claim number, a
therapist whose licence lapsed and one whose credentialing is pending. :data:`PLANTED` lists
the rule each one trips.

The same seed and ``as_of`` always give the same practice. Dates are relative to ``as_of``
(visits fall in the 91 days before it); ``at`` is the moment of the build, used for the
claims the biller builds "today". Nothing reads the clock here.
"""

from __future__ import annotations

import random
import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from handbill.audit.models import AuditEvent
from handbill.audit.record import record
from handbill.claims import actions as claim_actions
from handbill.claims.models import Claim, ClaimFinding
from handbill.core.codes.npi import check_digit
from handbill.demo import names
from handbill.demo.notes import COMPLAINTS, EVERYDAY, TECHNIQUES, Complaint, write_note
from handbill.ledger import posting
from handbill.patients import actions as patient_actions
from handbill.patients.models import Authorization, Coverage, Patient, Relationship
from handbill.policies.actions import load_shipped_policies
from handbill.practice.models import (
    EnrollmentStatus,
    FeeScheduleEntry,
    Location,
    Membership,
    Payer,
    PayerEnrollment,
    Practice,
    Provider,
    Role,
)
from handbill.visits import actions as visit_actions
from handbill.visits.models import Visit

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

DEMO_SLUG = "cedar-street-demo"
PRACTICE_NAME = "Cedar Street Massage Therapy"
# A demo password, printed by ``handbill demo``; never use the demo users for real data.
DEMO_PASSWORD = "handbill-demo-2026"  # noqa: S105
DEFAULT_SEED = 2026
EMAIL_DOMAIN = "demo.handbill.test"
ZONE = ZoneInfo("America/Los_Angeles")

PATIENT_COUNT = 60
PERIOD_DAYS = 91  # thirteen weeks of visits before as_of
REVIEW_DAYS = 7  # claims of the last week wait in draft for the biller's review

# The practice's charge per unit, in cents (above what any shipped payer allows).
FEES: dict[str, int] = {
    "97124": 4000,
    "97140": 4400,
    "97112": 4600,
    "97110": 4200,
    "97530": 4500,
    "97010": 1800,
}

EVERGREEN = "evergreen-health-ppo"
CASCADE = "cascade-mutual"
RAINIER = "rainier-uniform-plan"
SILVERLINE = "silverline-medicare-advantage"
MEDICARE = "original-medicare"
AUTO_PIP = "pacific-auto-pip"
WORKERS_COMP = "columbia-workers-comp"

# The mistakes planted in the demo and the rule (scrubber or claim builder) that reports each.
PLANTED: dict[str, str] = {
    "no medical-necessity statement": "note.medical_necessity",
    "97124 and 97140 on the same region, no distinction": "ncci.ptp",
    "a 6-minute manual therapy service (0 units)": "build.zero_units",
    "97010 on a Medicare Advantage claim": "build.bundled_not_billed",
    "97140 for a payer that pays massage therapists for 97124 only": "provider.code_allowed",
    "a visit past the plan's yearly visit cap": "limits.visit_cap",
    "a claim found after the 90-day filing limit": "limits.timely_filing",
    "pain in unspecified shoulder (M25.519)": "diagnosis.laterality",
    "auto coverage without the carrier's claim number": "pc.claim_fields",
    "visits after the therapist's licence expired": "provider.license",
    "credentialing still pending with the payer": "provider.enrollment",
    "billing a coverage that has ended": "coverage.active",
    "workers' comp authorization used up": "authorization.remaining",
    "expired prescription": "referral.on_file",
    "a note copied forward from the last visit": "note.copy_forward",
    "a massage therapist billed to Original Medicare": "provider.medicare_lmt",
}

# Findings the biller overrides (once each, unless OVERRIDE_TIMES says more) with the reason
# she gives; the payer sandbox denies those claims, as the scrubber warned.
OVERRIDDEN: dict[str, str] = {
    "provider.code_allowed": "The patient's plan booklet lists manual therapy; sending to get "
    "the payer's answer in writing",
    "ncci.ptp": "The therapist treated the two regions in separate blocks; sending with the "
    "note",
    "limits.visit_cap": "The patient says the plan added visits this year; sending so the "
    "payer decides",
}

OVERRIDE_TIMES = {"limits.visit_cap": 2}
# Patients whose coverage was entered with a member ID the payer does not know.
MEMBER_TYPOS = 2

# Owner, biller, front desk: (role, first name, last name, e-mail local part).
STAFF: tuple[tuple[Role, str, str, str], ...] = (
    (Role.OWNER, "Nell", "Ashworth", "owner"),
    (Role.BILLER, "Ramona", "Fenwick", "biller"),
    (Role.FRONT_DESK, "Theo", "Lockhart", "frontdesk"),
)


class DemoError(ValueError):
    """The demo cannot be built as asked; the message says why."""


class DemoExistsError(DemoError):
    pass


def clearinghouse_folder(slug: str) -> Path:
    """Where the demo's outbox clearinghouse keeps a practice's files: ``outbox`` for the 837s
    it sends and ``inbox`` beside it for the answers (the outbox transport's rule), one folder
    per practice so two practices never read each other's answers."""
    return Path(settings.VAR_DIR) / "clearinghouse" / slug


def find_demo() -> Practice | None:
    return Practice.objects.filter(slug=DEMO_SLUG).first()


@transaction.atomic
def build_demo(*, as_of: date, at: datetime, seed: int = DEFAULT_SEED) -> Practice:
    """Create the demo practice with its history up to ``as_of``; all of it or nothing."""
    if at.tzinfo is None:
        raise DemoError("the build time must be timezone-aware")
    if at.astimezone(ZONE).date() < as_of:
        raise DemoError(
            f"as_of {as_of.isoformat()} is after the build time {at.isoformat()}; the demo's "
            "history must end before it is built"
        )
    if find_demo() is not None:
        raise DemoExistsError(
            f"the demo practice ({DEMO_SLUG}) already exists; retire it first to rebuild"
        )
    # Files left by a build that was rolled back (no practice owns them): start clean.
    shutil.rmtree(clearinghouse_folder(DEMO_SLUG), ignore_errors=True)
    return _Builder(as_of=as_of, at=at, seed=seed).build()


@transaction.atomic
def retire_demo(*, at: datetime) -> Practice | None:
    """Take the demo practice out of use so a new one can be built.

    Its rows stay: the ledger and the audit trail are append-only (PostgreSQL triggers refuse
    deletes too), so a practice that has posted charges cannot be deleted without breaking
    them. Retiring renames it, frees the slug and removes every membership, so no user sees
    it any more; the demo users are given the new practice.
    """
    practice = Practice.objects.select_for_update().filter(slug=DEMO_SLUG).first()
    if practice is None:
        return None
    stamp = at.astimezone(ZONE)
    members = Membership.objects.filter(practice=practice)
    removed = members.count()
    members.delete()
    Practice.objects.filter(pk=practice.pk).update(
        slug=f"{DEMO_SLUG}-retired-{practice.pk}",
        legal_name=f"{PRACTICE_NAME} (retired demo, {stamp:%Y-%m-%d %H:%M})"[:120],
    )
    practice.refresh_from_db()
    _move_clearinghouse_files(practice)
    record(
        action="demo.retire", at=at, by=None, practice=practice, target=practice,
        memberships_removed=removed,
    )
    return practice


def _move_clearinghouse_files(practice: Practice) -> None:
    """The retired practice keeps its files under its new name, so the new demo practice
    starts with an empty inbox; its clearinghouse rows follow the folder."""
    from handbill.submissions.models import Clearinghouse

    old, new = clearinghouse_folder(DEMO_SLUG), clearinghouse_folder(practice.slug)
    houses = Clearinghouse.objects.filter(practice=practice, outbox_path__startswith=str(old))
    for house in houses:
        house.outbox_path = str(new / Path(house.outbox_path).relative_to(old))
        house.save(update_fields=["outbox_path"])
    if old.exists() and not new.exists():
        old.rename(new)


def summarize(practice: Practice) -> dict[str, Any]:
    """What the demo practice holds, for the command's JSON output and the tests."""
    claims = Claim.objects.filter(practice=practice)
    visits = Visit.objects.filter(practice=practice)
    statuses = Counter(claims.values_list("status", flat=True))
    findings = Counter(
        ClaimFinding.objects.filter(claim__practice=practice).values_list("rule", flat=True)
    )
    blocked = {
        claim_id
        for claim_id in ClaimFinding.objects.filter(
            claim__practice=practice, claim__status="draft", severity="blocking"
        ).values_list("claim_id", flat=True)
    }
    dates = sorted(visits.values_list("date_of_service", flat=True))
    built = (
        AuditEvent.objects.filter(practice=practice, action="demo.build")
        .order_by("-occurred_at")
        .values_list("detail", flat=True)
        .first()
    ) or {}
    users = [
        {
            "email": m.user.get_username(),
            "role": m.role,
            "provider": str(m.provider) if m.provider else None,
        }
        for m in Membership.objects.filter(practice=practice)
        .select_related("user", "provider")
        .order_by("pk")
    ]
    return {
        "practice": {
            "id": practice.pk,
            "name": practice.legal_name,
            "slug": practice.slug,
            "billing_npi": practice.billing_npi,
            "tax_id": practice.tax_id,
        },
        "seed": built.get("seed"),
        "as_of": built.get("as_of"),
        "sign_in": {"password": DEMO_PASSWORD, "users": users},
        "counts": {
            "locations": practice.locations.count(),
            "providers": practice.providers.count(),
            "payers": practice.payers.count(),
            "patients": Patient.objects.filter(practice=practice).count(),
            "coverages": Coverage.objects.filter(practice=practice).count(),
            "secondary_coverages": Coverage.objects.filter(practice=practice, order=2).count(),
            "authorizations": Authorization.objects.filter(practice=practice).count(),
            "visits": len(dates),
            "signed_visits": visits.filter(signed_at__isnull=False).count(),
            "unsigned_visits": visits.filter(signed_at__isnull=True).count(),
            "claims": claims.count(),
            "claims_with_blocking_findings": len(blocked),
        },
        "visit_dates": {
            "first": dates[0].isoformat() if dates else None,
            "last": dates[-1].isoformat() if dates else None,
        },
        "claims_by_status": dict(sorted(statuses.items())),
        "findings_by_rule": dict(sorted(findings.items())),
    }


# --- planning ------------------------------------------------------------------------------


@dataclass
class _Plan:
    """One patient: who pays, what hurts, who treats, when they come, what goes wrong."""

    number: int
    profile: str | None  # primary payer's policy profile; None = self-pay
    complaint: str
    therapist: int  # index into the three therapists
    start_offset: int = 0  # days after the period start of the first visit
    weeks: int = 0  # 0 = not seen in the period
    weekdays: tuple[int, ...] = (1,)
    visit_limit: int | None = None
    # Visit number (1-based; -1 = the last visit) → planted mistake.
    defects: dict[int, str] = field(default_factory=dict)
    special: str = ""
    # The front desk typed a temporary ID from the enrolment letter; the payer's front door
    # rejects the claims until the ID on the card is entered.
    member_typo: bool = False
    secondary: str | None = None
    dependent: str = ""  # "19" child or "01" spouse on someone else's plan
    visits: list[date] = field(default_factory=list)

    @property
    def twice_weekly(self) -> bool:
        return len(self.weekdays) > 1


@dataclass
class _State:
    """What the builder remembers about one patient between visits."""

    plan: _Plan
    patient: Patient
    coverage: Coverage | None
    pain: int
    accident_date: date | None = None
    last_note: visit_actions.NoteInput | None = None


def _weekday_on_or_before(day: date) -> date:
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _next_weekday(day: date) -> date:
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _when(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=ZONE) + timedelta(minutes=minute)


class _Builder:
    def __init__(self, *, as_of: date, at: datetime, seed: int) -> None:
        # Synthetic data, not security: a seeded generator makes the demo repeatable.
        self.rng = random.Random(seed)  # noqa: S311
        self.seed = seed
        self.as_of = as_of
        self.at = at
        self.start = as_of - timedelta(days=PERIOD_DAYS)
        self.review_from = as_of - timedelta(days=REVIEW_DAYS)
        self.opened = _when(self.start - timedelta(days=730), 9)
        self._npis: set[str] = set()
        self._slots: Counter[tuple[int, date]] = Counter()
        self._ready: list[Claim] = []
        self._ready_at: dict[int, datetime] = {}
        self.member_fixes: dict[int, str] = {}  # patient id → the member ID on the card
        self._deferred: list[Visit] = []
        self._minute = 0
        self._overrides: Counter[frozenset[str]] = Counter()

    # -- the whole build, in the order a clinic would have done it --

    def build(self) -> Practice:
        self._practice()
        self._staff()
        self._payers()
        self._therapists()
        self._fees()
        plans = self._plans()
        states = [self._patient(plan) for plan in plans]
        self._visits(states)
        self._claims_found_today()
        self._claim_history()
        record(
            action="demo.build", at=self.at, by=None, practice=self.practice,
            target=self.practice, seed=self.seed, as_of=self.as_of.isoformat(),
        )
        return self.practice

    # -- setup --

    def _npi(self) -> str:
        while True:
            first_nine = "1" + "".join(str(self.rng.randint(0, 9)) for _ in range(8))
            npi = first_nine + str(check_digit(first_nine))
            if npi not in self._npis:
                self._npis.add(npi)
                return npi

    def _digits(self, count: int) -> str:
        return "".join(str(self.rng.randint(0, 9)) for _ in range(count))

    def _phone(self) -> str:
        return f"{self.rng.choice(names.AREA_CODES)}-555-01{self.rng.randint(0, 99):02d}"

    def _practice(self) -> None:
        self.practice = Practice.objects.create(
            legal_name=PRACTICE_NAME,
            slug=DEMO_SLUG,
            billing_npi=self._npi(),
            tax_id="91" + self._digits(7),  # 91: an IRS campus prefix used in Washington
            address_line1="1418 Cedar Street",
            city="Bellingham",
            state="WA",
            # ZIP+4: the 837 wants nine digits for the billing provider's address.
            postal_code="98225-4417",
            phone="360-555-0142",
            submitter_id="CSMT" + self._digits(6),
            created_at=self.opened,
        )
        record(action="practice.create", at=self.opened, by=None, practice=self.practice,
               target=self.practice, demo=True)
        self.locations = [
            Location.objects.create(
                practice=self.practice, name="Cedar Street", address_line1="1418 Cedar Street",
                city="Bellingham", state="WA", postal_code="98225-4417",
            ),
            Location.objects.create(
                practice=self.practice, name="Fairhaven Studio",
                address_line1="1207 Harris Avenue", address_line2="Suite 3",
                city="Bellingham", state="WA", postal_code="98225-6112",
            ),
        ]
        self._clearinghouse()

    def _user(self, email: str, first: str, last: str) -> AbstractBaseUser:
        users = get_user_model()
        user = users.objects.filter(username=email).first()
        if user is None:
            user = users.objects.create_user(
                username=email, email=email, password=DEMO_PASSWORD, first_name=first,
                last_name=last, date_joined=self.opened,
            )
        else:
            # Left over from a retired demo practice: same people, fresh password.
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        return user

    def _staff(self) -> None:
        by_role: dict[Role, AbstractBaseUser] = {}
        for role, first, last, local in STAFF:
            user = self._user(f"{local}@{EMAIL_DOMAIN}", first, last)
            Membership.objects.create(user=user, practice=self.practice, role=role)
            by_role[role] = user
        self.owner = by_role[Role.OWNER]
        self.biller = by_role[Role.BILLER]
        self.front_desk = by_role[Role.FRONT_DESK]

    def _payers(self) -> None:
        load_shipped_policies(practice=self.practice, by=self.owner, at=self.opened)
        self.payers = {p.policy_profile: p for p in Payer.objects.filter(practice=self.practice)}
        missing = {EVERGREEN, CASCADE, RAINIER, SILVERLINE, MEDICARE, AUTO_PIP, WORKERS_COMP}
        missing -= set(self.payers)
        if missing:
            raise DemoError(
                f"shipped payer profiles missing: {', '.join(sorted(missing))}; the demo "
                "needs them (src/handbill/core/data/policies)"
            )
        # Claims mailing addresses; payers usually take claims at a PO box.
        cities = (("Seattle", "98124"), ("Tacoma", "98401"), ("Spokane", "99220"))
        for _profile, payer in sorted(self.payers.items()):
            city, postal = self.rng.choice(cities)
            Payer.objects.filter(pk=payer.pk).update(
                address_line1=f"PO Box {self.rng.randint(1000, 49999)}", city=city, state="WA",
                postal_code=postal, phone=f"800-555-01{self.rng.randint(0, 99):02d}",
            )

    def _therapists(self) -> None:
        # The second therapist's licence lapsed in the middle of the period and the renewal
        # is not on file yet; the third joined recently and is still being credentialed with
        # Rainier.
        expiries = (
            self.as_of + timedelta(days=420),
            self.start + timedelta(days=46),
            self.as_of + timedelta(days=230),
        )
        self.licence_lapsed = expiries[1]
        # The owner took the second therapist off the schedule three working days later.
        last = self.licence_lapsed
        for _ in range(3):
            last = _next_weekday(last)
        self.lapsed_last_day = last
        joined = (self.opened.date(), self.opened.date() + timedelta(days=90),
                  self.start - timedelta(days=150))
        self.providers: list[Provider] = []
        self.therapist_users: list[AbstractBaseUser] = []
        for index, (first, last_name) in enumerate(names.THERAPISTS):
            provider = Provider.objects.create(
                practice=self.practice, first_name=first, last_name=last_name,
                credentials="LMT", npi=self._npi(), taxonomy="225700000X",
                license_number="MA6" + self._digits(7), license_state="WA",
                license_expires_date=expiries[index],
            )
            user = self._user(f"{first.lower()}.{last_name.lower()}@{EMAIL_DOMAIN}", first,
                              last_name)
            Membership.objects.create(user=user, practice=self.practice, role=Role.THERAPIST,
                                      provider=provider)
            self.providers.append(provider)
            self.therapist_users.append(user)
            for profile, payer in self.payers.items():
                if profile == MEDICARE:
                    continue  # Original Medicare does not enrol massage therapists
                pending = index == 2 and profile == RAINIER
                PayerEnrollment.objects.create(
                    practice=self.practice, provider=provider, payer=payer,
                    status=EnrollmentStatus.PENDING if pending else EnrollmentStatus.IN_NETWORK,
                    effective_date=joined[index],
                )

    def _fees(self) -> None:
        FeeScheduleEntry.objects.bulk_create(
            FeeScheduleEntry(practice=self.practice, code=code, charge_cents=cents)
            for code, cents in FEES.items()
        )

    # -- who comes in --

    def _plans(self) -> list[_Plan]:
        """The 60 patients: first the ones that carry a planted mistake, then ordinary ones."""
        special = [
            # Notes without a medical-necessity statement (visits 2 and 4).
            _Plan(0, EVERGREEN, "low_back", 2, 7, 8, (1,), defects={2: "no_necessity",
                                                                   4: "no_necessity"}),
            # 97124 and 97140 on the low back with nothing to tell them apart.
            _Plan(0, RAINIER, "low_back", 0, 3, 10, (2,), defects={3: "same_region",
                                                                 6: "same_region"}),
            # A 6-minute manual therapy add-on on the latest visit.
            _Plan(0, RAINIER, "neck", 0, 56, 6, (3,), defects={-1: "short_service"}),
            # Hot packs documented for Medicare Advantage patients.
            _Plan(0, SILVERLINE, "thoracic", 2, 35, 9, (4,), defects={-1: "hot_pack"}),
            _Plan(0, SILVERLINE, "fibromyalgia", 0, 49, 7, (2,), defects={-1: "hot_pack"}),
            # Manual therapy for a plan that pays massage therapists for massage only.
            _Plan(0, EVERGREEN, "neck", 2, 14, 7, (0,), defects={2: "code_not_paid",
                                                               5: "code_not_paid"}),
            # Twice a week on a 12-visit Medicare Advantage benefit: visits 13-14 are over.
            _Plan(0, SILVERLINE, "low_back", 0, 0, 7, (0, 3), visit_limit=14, special="ma_cap"),
            # The first visit's claim was missed and is found today, past Cascade's 90 days.
            _Plan(0, CASCADE, "thoracic", 2, 0, 12, (0,), special="late_first_claim"),
            # An unspecified side on the first two visits, then the therapist fixes the code.
            _Plan(0, EVERGREEN, "shoulder", 2, 21, 6, (2,), defects={1: "laterality",
                                                                   2: "laterality"}),
            # Auto coverage entered without the carrier's claim number.
            _Plan(0, AUTO_PIP, "whiplash", 2, 56, 4, (1,), special="no_claim_number"),
            _Plan(0, AUTO_PIP, "whiplash", 0, 5, 6, (1, 4), special="auto"),
            _Plan(0, AUTO_PIP, "lumbar_strain", 1, 35, 8, (0,), special="auto_oregon",
                  defects={-1: "short_service"}),
            # Workers' comp: the authorization for visits 7-12 runs out at visit 13.
            _Plan(0, WORKERS_COMP, "lumbar_strain", 0, 7, 7, (1, 4), visit_limit=14,
                  special="wc_authorization"),
            _Plan(0, WORKERS_COMP, "lumbar_strain", 2, 42, 6, (2,), special="wc"),
            # Rainier prescription that ended three weeks ago.
            _Plan(0, RAINIER, "sciatica", 0, 14, 11, (3,), special="prescription_expired"),
            # The new therapist's Rainier credentialing is still pending.
            _Plan(0, RAINIER, "neck", 2, 28, 4, (0,)),
            # Evergreen coverage ended eight weeks into the period; the new card is not in.
            _Plan(0, EVERGREEN, "low_back", 2, 14, 9, (4,), special="coverage_ended"),
            # Notes copied forward from the visit before (visit 4).
            _Plan(0, EVERGREEN, "neck", 1, 0, 7, (2,), defects={4: "copy_forward"}),
            _Plan(0, CASCADE, "low_back", 2, 7, 8, (3,), defects={4: "copy_forward"}),
            _Plan(0, RAINIER, "thoracic", 0, 10, 7, (1,), defects={4: "copy_forward"}),
            # Original Medicare on file for a massage therapy patient.
            _Plan(0, MEDICARE, "low_back", 2, 70, 2, (1,)),
        ]
        # Two of the second therapist's regulars are booked on the days she worked after her
        # licence lapsed.
        lapse = (self.licence_lapsed - self.start).days
        window = sorted({(self.licence_lapsed + timedelta(days=n)).weekday()
                         for n in range(1, (self.lapsed_last_day - self.licence_lapsed).days + 1)
                         if (self.licence_lapsed + timedelta(days=n)).weekday() < 5})
        special += [
            _Plan(0, CASCADE, "neck", 1, lapse - 28, 8, (window[0],)),
            _Plan(0, EVERGREEN, "thoracic", 1, lapse - 21, 6, (window[-1],)),
        ]
        fillers: list[str | None] = (
            [EVERGREEN] * 15 + [CASCADE] * 6 + [RAINIER] * 7 + [SILVERLINE] * 3 + [None] * 6
        )
        self.rng.shuffle(fillers)
        caps = {EVERGREEN: 17, CASCADE: 20, RAINIER: 13, SILVERLINE: 10, None: 20}
        plans = list(special)
        patterns = ((0,), (1,), (2,), (3,), (4,), (0, 3), (1, 4), (0, 2))
        for index, profile in enumerate(fillers):
            therapist = index % 3
            if profile == RAINIER and therapist == 2:
                therapist = index % 2  # the pending credentialing belongs to one patient only
            plan = _Plan(0, profile, self.rng.choice(EVERYDAY), therapist)
            if self.rng.random() < 0.85:
                plan.weekdays = self.rng.choice(patterns)
                plan.weeks = (
                    self.rng.randint(4, 8) if plan.twice_weekly else self.rng.randint(5, 14)
                )
                # Episodes already under way when the period starts, or still going on at its
                # end, keep the schedule as full in the first and last weeks as in the middle.
                plan.start_offset = self.rng.randint(1 - 7 * plan.weeks, PERIOD_DAYS - 1)
                plan.visit_limit = caps[profile]
            plans.append(plan)
        # Second coverages and dependents among the ordinary patients.
        evergreen = [p for p in plans[len(special):] if p.profile == EVERGREEN]
        evergreen[0].secondary = CASCADE
        evergreen[1].secondary = RAINIER
        for plan, relationship in zip(
            [p for p in plans[len(special):] if p.profile in (EVERGREEN, CASCADE, RAINIER)][2:7],
            (Relationship.CHILD, Relationship.CHILD, Relationship.SPOUSE, Relationship.CHILD,
             Relationship.SPOUSE),
            strict=True,
        ):
            plan.dependent = relationship
        for number, plan in enumerate(plans, start=1):
            plan.number = number
            plan.visits = self._schedule(plan)
        typos = [
            p for p in plans[len(special):]
            if p.profile in (EVERGREEN, CASCADE) and not p.secondary and not p.dependent
            and len(p.visits) >= 4 and p.visits[0] <= self.start + timedelta(days=35)
        ]
        for plan in typos[:MEMBER_TYPOS]:
            plan.member_typo = True
        if len(plans) != PATIENT_COUNT:
            raise DemoError(f"the demo plans {len(plans)} patients, not {PATIENT_COUNT}")
        return plans

    def _schedule(self, plan: _Plan) -> list[date]:
        if plan.weeks == 0:
            return []
        if plan.special == "late_first_claim":
            # 91-93 days before as_of: one day past Cascade's 90-day limit at least.
            first = _weekday_on_or_before(self.start)
            plan.weekdays = (first.weekday(),)
            begin = first
        elif plan.special == "ma_cap":
            begin = self._within_one_year(plan)
        else:
            begin = self.start + timedelta(days=plan.start_offset)
        earliest = min(begin, self.start)  # only the missed claim's visit is before the period
        if plan.special != "late_first_claim":
            earliest = self.start
        days: list[date] = []
        day = begin
        while day < begin + timedelta(weeks=plan.weeks) and day < self.as_of:
            if day.weekday() in plan.weekdays and day >= earliest:
                days.append(day)
            day += timedelta(days=1)
        if plan.visit_limit is not None:
            days = days[: plan.visit_limit]
        return days

    def _within_one_year(self, plan: _Plan) -> date:
        """Where the visit-cap patient's visits start so all of them count in one plan year
        (the cap is per calendar year); three a week when twice a week would not fit."""
        new_year = (date(self.as_of.year, 1, 1) - self.start).days
        if new_year <= 0 or new_year >= 7 * plan.weeks:
            return self.start  # no new year in the way
        if new_year + 7 * plan.weeks <= PERIOD_DAYS - REVIEW_DAYS:
            return date(self.as_of.year, 1, 1)
        plan.weekdays, plan.weeks = (0, 2, 4), 5
        if new_year >= 7 * plan.weeks:
            return self.start
        return date(self.as_of.year, 1, 1)

    # -- registration: patients, coverages, prescriptions, authorizations --

    def _person(self, plan: _Plan) -> dict[str, Any]:
        female = self.rng.random() < 0.62
        first = self.rng.choice(names.FEMALE_FIRST_NAMES if female else names.MALE_FIRST_NAMES)
        last = self.rng.choice(names.LAST_NAMES)
        if plan.dependent == Relationship.CHILD:
            age = self.rng.randint(16, 24)
        elif plan.profile in (SILVERLINE, MEDICARE):
            age = self.rng.randint(66, 82)
        else:
            age = self.rng.randint(24, 63)
        birth = self.as_of - timedelta(days=365 * age + self.rng.randint(0, 364))
        city, postal = self.rng.choice(names.CITIES)
        street = (
            f"{self.rng.randint(100, 4999)} {self.rng.choice(names.STREET_NAMES)} "
            f"{self.rng.choice(names.STREET_SUFFIXES)}"
        )
        return {
            "first": first, "last": last, "sex": "F" if female else "M", "birth": birth,
            "city": city, "postal": postal, "street": street,
        }

    def _patient(self, plan: _Plan) -> _State:
        person = self._person(plan)
        first_visit = plan.visits[0] if plan.visits else self.as_of - timedelta(days=30)
        registered = _when(first_visit - timedelta(days=self.rng.randint(3, 40)), 8,
                           self.rng.randint(0, 50))
        email = ""
        if self.rng.random() < 0.7:
            email = f"{person['first']}.{person['last']}{plan.number}@example.com".lower()
        patient = patient_actions.register_patient(
            practice=self.practice,
            data=patient_actions.PatientInput(
                account_number=f"CS{1000 + plan.number}",
                first_name=person["first"],
                middle_initial=self.rng.choice("ABCDEFGHJKLMNPRSTW") if self.rng.random() < 0.4
                else "",
                last_name=person["last"],
                birth_date=person["birth"],
                sex=person["sex"],
                address_line1=person["street"],
                city=person["city"],
                state="WA",
                postal_code=person["postal"],
                phone=self._phone(),
                email=email,
            ),
            by=self.front_desk,
            at=registered,
        )
        state = _State(plan=plan, patient=patient, coverage=None, pain=self.rng.randint(5, 8))
        if plan.profile is not None:
            state.coverage = self._coverage(state, plan.profile, person, registered, first_visit)
            self._authorizations(state, state.coverage, first_visit, registered)
        if plan.secondary is not None:
            self._secondary(state, plan.secondary, person, registered)
        return state

    def _member_id(self, profile: str) -> str:
        if profile == MEDICARE:
            # The shape of a Medicare Beneficiary Identifier (no S, L, O, I, B or Z).
            letters = "ACDEFGHJKMNPQRTUVWXY"
            pattern = "NAXNAXNAANN"
            return "".join(
                str(self.rng.randint(1 if i == 0 else 0, 9)) if kind == "N"
                else self.rng.choice(letters) if kind == "A"
                else self.rng.choice(letters + "0123456789")
                for i, kind in enumerate(pattern)
            )
        prefix = {EVERGREEN: "EVH", CASCADE: "CMH", RAINIER: "RUM", SILVERLINE: "SLV",
                  AUTO_PIP: "PMA", WORKERS_COMP: "CSWC"}[profile]
        return prefix + self._digits(9)

    def _coverage(
        self, state: _State, profile: str, person: dict[str, Any], registered: datetime,
        first_visit: date,
    ) -> Coverage:
        plan = state.plan
        payer = self.payers[profile]
        plan_start = date(self.start.year - self.rng.randint(0, 2), 1, 1)
        values: dict[str, Any] = {"order": 1, "member_id": self._member_id(profile),
                                  "start_date": plan_start}
        if profile in (EVERGREEN, CASCADE, RAINIER):
            values.update(
                group_number="G" + self._digits(6),
                plan_name={EVERGREEN: "Evergreen PPO 1000", CASCADE: "Cascade Choice",
                           RAINIER: "UMP Classic"}[profile],
                copay_cents=self.rng.choice((2000, 2500, 3000, 4000)),
            )
        elif profile == SILVERLINE:
            values.update(plan_name="Silverline Advantage HMO", copay_cents=2000)
        elif profile in (AUTO_PIP, WORKERS_COMP):
            accident = first_visit - timedelta(days=self.rng.randint(6, 21))
            state.accident_date = accident
            values.update(
                start_date=accident,
                accident_date=accident,
                accident_state="OR" if plan.special == "auto_oregon" else "WA",
                adjuster_name=self.rng.choice(names.ADJUSTERS),
                adjuster_phone=f"800-555-01{self.rng.randint(0, 99):02d}",
                claim_number=(
                    f"PA-{accident:%y}-{self._digits(6)}" if profile == AUTO_PIP
                    else f"{self.rng.choice('ABCDEFGHJK')}{self.rng.choice('ABCDEFGHJK')}"
                    f"{self._digits(5)}"
                ),
            )
            if profile == WORKERS_COMP:
                values["employer_name"] = self.rng.choice(names.EMPLOYERS)
        if plan.special == "coverage_ended":
            values["end_date"] = self.start + timedelta(days=56)
        if plan.dependent:
            values.update(self._subscriber(plan.dependent, person))
        at = registered + timedelta(minutes=4)
        if plan.member_typo:
            self.member_fixes[state.patient.pk] = values["member_id"]
            values["member_id"] = "X" + values["member_id"][1:]
        if plan.special == "no_claim_number":
            # Carried over from the clinic's old system before Handbill asked for the claim
            # number; add_coverage refuses this today, which is the point of the example.
            values["claim_number"] = ""
            coverage = Coverage.objects.create(
                practice=self.practice, patient=state.patient, payer=payer, **values
            )
            record(action="coverage.import", at=at, by=self.front_desk, practice=self.practice,
                   target=coverage, note="imported from the previous system")
            return coverage
        return patient_actions.add_coverage(
            patient=state.patient, payer=payer, data=patient_actions.CoverageInput(**values),
            by=self.front_desk, at=at,
        )

    def _subscriber(self, relationship: str, person: dict[str, Any]) -> dict[str, Any]:
        female = self.rng.random() < 0.5
        first = self.rng.choice(names.FEMALE_FIRST_NAMES if female else names.MALE_FIRST_NAMES)
        if relationship == Relationship.CHILD:
            birth = person["birth"] - timedelta(days=365 * self.rng.randint(26, 36))
            last = person["last"]
        else:
            birth = person["birth"] + timedelta(days=self.rng.randint(-2500, 2500))
            last = person["last"] if self.rng.random() < 0.6 else self.rng.choice(names.LAST_NAMES)
        return {
            "relationship": relationship,
            "subscriber_first_name": first,
            "subscriber_last_name": last,
            "subscriber_birth_date": birth,
            "subscriber_sex": "F" if female else "M",
        }

    def _secondary(
        self, state: _State, profile: str, person: dict[str, Any], registered: datetime
    ) -> None:
        patient_actions.add_coverage(
            patient=state.patient,
            payer=self.payers[profile],
            data=patient_actions.CoverageInput(
                order=2,
                member_id=self._member_id(profile),
                start_date=date(self.start.year, 1, 1),
                group_number="G" + self._digits(6),
                **self._subscriber(Relationship.SPOUSE, person),
            ),
            by=self.front_desk,
            at=registered + timedelta(minutes=6),
        )

    def _referrer(self) -> dict[str, str]:
        return {
            "referring_provider_name": self.rng.choice(names.REFERRING_PROVIDERS),
            "referring_provider_npi": self._npi(),
        }

    def _authorizations(
        self, state: _State, coverage: Coverage, first_visit: date, registered: datetime
    ) -> None:
        plan = state.plan
        profile = plan.profile
        at = registered + timedelta(minutes=8)
        written = first_visit - timedelta(days=self.rng.randint(3, 14))
        inputs: list[patient_actions.AuthorizationInput] = []
        if profile in (RAINIER, AUTO_PIP, WORKERS_COMP):
            end = written + timedelta(days=180)
            visits: int | None = 16
            if plan.special == "prescription_expired":
                end, visits = self.as_of - timedelta(days=21), None
            if profile == WORKERS_COMP:
                visits = None  # the attending provider's order; the fund counts visits
            codes = ("97010", "97112", "97124", "97140") if profile == AUTO_PIP else ()
            inputs.append(patient_actions.AuthorizationInput(
                kind="prescription", start_date=written, end_date=end, visits_allowed=visits,
                codes=codes, notes="Massage therapy 1-2 times a week", **self._referrer(),
            ))
        if profile == SILVERLINE:
            inputs.append(patient_actions.AuthorizationInput(
                kind="referral", start_date=written, end_date=written + timedelta(days=365),
                notes="Therapeutic massage for chronic pain (supplemental benefit)",
                **self._referrer(),
            ))
            inputs.append(patient_actions.AuthorizationInput(
                kind="authorization", number="SLV-PA-" + self._digits(7), start_date=written,
                end_date=written + timedelta(days=180), codes=("97124",),
                visits_allowed=20 if plan.special == "ma_cap" else 12,
            ))
        if plan.special == "wc_authorization" and len(plan.visits) >= 7:
            # Visits 1-6 need none; the fund authorized six more from the seventh.
            start = plan.visits[6]
            inputs.append(patient_actions.AuthorizationInput(
                kind="authorization", number="WC-" + self._digits(8), start_date=start,
                end_date=start + timedelta(days=90), codes=("97124",), visits_allowed=6,
                notes="Visits 7-12 authorized by the claim manager",
            ))
        for data in inputs:
            patient_actions.add_authorization(coverage=coverage, data=data,
                                              by=self.front_desk, at=at)

    # -- the visits --

    def _visits(self, states: list[_State]) -> None:
        planned = [
            (day, state.plan.therapist, state.plan.number, number, state)
            for state in states
            for number, day in enumerate(state.plan.visits, start=1)
        ]
        planned.sort(key=lambda item: item[:3])
        # The two latest ordinary visits are still waiting for the therapist's signature.
        unsigned = {
            (item[2], item[3])
            for item in sorted(
                (item for item in planned if not self._defect(item[4], item[3])
                 and not item[4].plan.special),
                key=lambda item: item[:3],
            )[-2:]
        }
        for day, _therapist, number, visit_number, state in planned:
            self._visit(state, day, visit_number, sign=(number, visit_number) not in unsigned)

    def _defect(self, state: _State, visit_number: int) -> str:
        defects = state.plan.defects
        if visit_number == len(state.plan.visits) and -1 in defects:
            return defects[-1]
        return defects.get(visit_number, "")

    def _therapist_for(self, state: _State, day: date) -> int:
        index = state.plan.therapist
        if index == 1 and day > self.lapsed_last_day:
            # The others took over the second therapist's patients; the third only where her
            # credentialing is complete.
            return 0 if state.plan.profile == RAINIER or state.plan.number % 2 else 2
        return index

    def _visit(self, state: _State, day: date, visit_number: int, *, sign: bool) -> None:
        plan = state.plan
        therapist = self._therapist_for(state, day)
        provider, user = self.providers[therapist], self.therapist_users[therapist]
        if therapist == 2:
            location = self.locations[day.weekday() % 2]
        else:
            location = self.locations[therapist]
        slot = self._slots[(therapist, day)]
        self._slots[(therapist, day)] += 1
        begins = _when(day, 9, 75 * slot + (60 if slot >= 3 else 0))
        defect = self._defect(state, visit_number)
        complaint = COMPLAINTS[plan.complaint]
        note = self._note(state, complaint, visit_number, defect)
        diagnoses = list(complaint.diagnoses)
        regions = complaint.regions
        if defect == "laterality":
            diagnoses = ["M25.519" if code == "M25.511" else code for code in diagnoses]
            regions = ("shoulder", regions[1])
        services = self._services(plan.profile, regions, defect, begins)
        visit = visit_actions.create_visit(
            practice=self.practice, patient=state.patient, provider=provider,
            date_of_service=day, note=note, diagnoses=diagnoses, services=services, by=user,
            at=begins, coverage=state.coverage, location=location,
        )
        if not sign:
            return
        visit = visit_actions.sign_visit(visit=visit, by=user, at=begins + timedelta(minutes=70))
        late = plan.special == "late_first_claim" and visit_number == 1
        if late or day >= self.review_from:
            self._deferred.append(visit)
            return
        self._minute += 1
        built = _when(_next_weekday(day), 10, self._minute % 300)
        self._claim(visit, built)

    def _note(
        self, state: _State, complaint: Complaint, visit_number: int, defect: str
    ) -> visit_actions.NoteInput:
        if defect == "copy_forward" and state.last_note is not None:
            return state.last_note
        previous = state.pain
        drop = self.rng.choice((0, 0, 1, 1, 1, 2))
        flare = 2 if self.rng.random() < 0.12 else 0
        state.pain = max(2, min(9, previous - drop + flare))
        weeks_left = max(state.plan.weeks - (visit_number // len(state.plan.weekdays)), 1)
        text = write_note(
            complaint, self.rng, pain=state.pain, previous_pain=previous,
            twice_weekly=state.plan.twice_weekly, weeks_left=weeks_left,
            accident_date=state.accident_date,
        )
        note = visit_actions.NoteInput(
            subjective=text.subjective,
            objective=text.objective,
            assessment=text.assessment,
            plan=text.plan,
            medical_necessity="" if defect == "no_necessity" else text.medical_necessity,
            response_to_treatment=text.response_to_treatment,
        )
        state.last_note = note
        return note

    def _services(
        self, profile: str | None, regions: tuple[str, str], defect: str, begins: datetime
    ) -> list[visit_actions.ServiceInput]:
        main, second = regions
        pick = self.rng.choice
        # (code, minutes, region) in the order the therapist worked.
        plan: list[tuple[str, int, str]]
        if defect == "same_region":
            plan = [("97124", 30, main), ("97140", 15, main)]
        elif defect == "code_not_paid":
            plan = [("97124", 38, main), ("97140", 15, second)]
        elif defect == "short_service":
            plan = [("97124", 38, main), ("97140", 6, second)]
        elif defect == "hot_pack":
            plan = [("97010", 10, main), ("97124", 38, main)]
        elif profile == EVERGREEN:
            plan = pick(([("97124", pick((38, 45, 53)), main)],
                         [("97124", 30, main), ("97124", pick((15, 23)), second)]))
        elif profile == CASCADE:
            plan = pick(([("97140", pick((30, 38)), main)],
                         [("97140", 30, main), ("97140", 15, second)]))
        elif profile == RAINIER:
            plan = pick(([("97124", 30, main), ("97140", pick((15, 23)), second)],
                         [("97124", pick((38, 45)), main)]))
        elif profile == SILVERLINE:
            plan = pick(([("97124", pick((30, 38, 45)), main)],
                         [("97124", 30, main), ("97124", 15, second)]))
        elif profile == AUTO_PIP:
            plan = [("97140", 23, main), ("97124", 30, second)]
            if self.rng.random() < 0.5:
                plan.insert(0, ("97010", 10, main))
            if self.rng.random() < 0.3:
                plan.append(("97112", 15, main))
        elif profile == WORKERS_COMP:
            plan = [("97124", pick((38, 45, 53)), main)]
        elif profile == MEDICARE:
            plan = [("97124", 45, main)]
        else:
            plan = pick(([("97124", pick((45, 60)), main)],
                         [("97124", 45, main), ("97110", 15, main)],
                         [("97124", 38, main), ("97530", 15, second)],
                         [("97124", 30, main), ("97140", 23, second)]))
        # Start times show separate time blocks, which would justify the pair on one region.
        timed = self.rng.random() < 0.4 and defect != "same_region"
        services: list[visit_actions.ServiceInput] = []
        clock = begins
        for code, minutes, region in plan:
            services.append(visit_actions.ServiceInput(
                code=code, minutes=minutes, technique=pick(TECHNIQUES[code]),
                body_region=region,
                start_time=clock.time() if timed else None,
            ))
            clock += timedelta(minutes=minutes)
        return services

    # -- claims --

    def _claim(self, visit: Visit, built: datetime, *, today: bool = False) -> None:
        claim = claim_actions.build_claim(visit=visit, by=self.biller, at=built)
        blocking = claim_actions.unresolved_blocking(claim)
        if blocking and not today and self._overridden(claim, blocking, built):
            blocking = []
        if blocking:
            return  # stays a draft on the biller's worklist
        ready_at = built + timedelta(minutes=2)
        try:
            claim = claim_actions.mark_ready(claim=claim, by=self.biller, at=ready_at)
        except claim_actions.BlockedError:
            return
        if claim.payer_id is None:
            # Self-pay: the patient paid at the desk and takes a superbill home.
            posting.post_patient_payment(
                practice=self.practice, amount=claim.total_charge,
                patient_ref=claim.patient.account_number, claim_ref=claim.number,
                effective_date=ready_at.date(), at=ready_at, by=self.front_desk,
                memo=f"Paid at the desk, superbill {claim.number}",
            )
        self._ready.append(claim)
        self._ready_at[claim.pk] = ready_at

    def _overridden(self, claim: Claim, blocking: list[ClaimFinding], at: datetime) -> bool:
        """The biller sends a few flagged claims anyway, with her reason, the way billers
        do; the payer then denies them, so the demo has denials to work."""
        rules = {finding.rule for finding in blocking}
        if not rules <= set(OVERRIDDEN):
            return False
        if self._overrides[frozenset(rules)] >= OVERRIDE_TIMES.get(min(rules), 1):
            return False
        self._overrides[frozenset(rules)] += 1
        for finding in blocking:
            claim_actions.override_finding(
                claim=claim, rule=finding.rule, line=finding.line,
                reason=OVERRIDDEN[finding.rule], by=self.biller, at=at + timedelta(minutes=1),
            )
        return True

    def _clearinghouse(self) -> None:
        """An outbox clearinghouse, so `handbill submit --all-ready` works on the demo at once."""
        from handbill.submissions.models import Clearinghouse, TransportKind

        house = Clearinghouse.objects.create(
            practice=self.practice,
            name="Demo outbox",
            receiver_id="HBSANDBOX",
            receiver_name="HANDBILL PAYER SANDBOX",
            submitter_etin=self.practice.submitter_id,
            transport=TransportKind.OUTBOX,
            outbox_path=str(clearinghouse_folder(self.practice.slug) / "outbox"),
            created_at=self.opened,
        )
        self.clearinghouse = house
        record(action="clearinghouse.add", at=self.opened, by=None, practice=self.practice,
               target=house, name=house.name, transport=house.transport, demo=True)

    def _claims_found_today(self) -> None:
        """Claims of the last week (and one missed one) are built this morning: the clean ones
        are ready to send, the ones with blocking findings wait on the biller's worklist."""
        morning = self.at - timedelta(hours=2)
        for visit in sorted(self._deferred, key=lambda v: (v.date_of_service, v.pk)):
            self._minute += 1
            self._claim(visit, morning + timedelta(seconds=self._minute), today=True)

    def _claim_history(self) -> None:
        """Send the older ready claims, let the payer sandbox answer, read and post what comes
        back (see :mod:`handbill.demo.money`)."""
        from handbill.demo.money import MoneyLoop

        insured = [c for c in self._ready if c.payer_id is not None]
        MoneyLoop(
            practice=self.practice, clearinghouse=self.clearinghouse, biller=self.biller,
            front_desk=self.front_desk, claims=insured, ready_at=self._ready_at,
            as_of=self.as_of, at=self.at, seed=self.seed, member_fixes=self.member_fixes,
        ).run()
