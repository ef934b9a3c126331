"""Plain values that describe one visit and its claim, for the pure claim builder and the
scrubber.

The Django side reads its rows and hands these snapshots to the core; the core never sees a
model. Everything a rule needs is here, including history the database computed (visits used
this year, earlier notes, earlier denials), so every rule is a function of values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum

from handbill.core.eligibility import EligibilitySummary
from handbill.core.money import Cents
from handbill.core.policy import PayerPolicy


class Severity(StrEnum):
    BLOCKING = "blocking"  # stops the claim from becoming ready unless overridden with a reason
    WARNING = "warning"  # worth a look; does not stop the claim
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Finding:
    """One scrub result, with the fix in plain words."""

    rule: str  # stable id, e.g. "note.signed", "units.supported", "ncci.ptp"
    severity: Severity
    message: str
    fix: str
    line: int | None = None  # claim line number (1-based) when the finding is about one line
    code: str | None = None


@dataclass(frozen=True, slots=True)
class ServiceEntry:
    """One documented service in the note."""

    code: str
    minutes: int
    technique: str = ""
    body_region: str = ""
    # When the therapist recorded a start time, separate time blocks can be shown (XU/59).
    start_time: time | None = None


@dataclass(frozen=True, slots=True)
class Note:
    date_of_service: date
    signed_at: datetime | None
    subjective: str
    objective: str
    assessment: str
    plan: str
    # Why the treatment is needed, tied to the diagnoses (an auditor's first question).
    medical_necessity: str
    response_to_treatment: str
    diagnoses: tuple[str, ...]  # ICD-10-CM codes in the order the therapist ranked them
    entries: tuple[ServiceEntry, ...]

    @property
    def signed(self) -> bool:
        return self.signed_at is not None

    @property
    def text(self) -> str:
        return "\n".join(
            (
                self.subjective,
                self.objective,
                self.assessment,
                self.plan,
                self.medical_necessity,
                self.response_to_treatment,
            )
        )


@dataclass(frozen=True, slots=True)
class ClaimLine:
    number: int  # 1-based
    code: str
    units: int
    modifiers: tuple[str, ...]
    pointers: tuple[int, ...]  # 1-based positions in Claim.diagnoses, at most 4
    charge: Cents
    minutes: int  # documented minutes behind the line (0 for untimed codes)
    rationale: str
    body_region: str = ""
    control_number: str = ""  # REF*6R, echoed back in the 835


@dataclass(frozen=True, slots=True)
class Coverage:
    payer_name: str
    payer_type: str  # handbill.practice.models.PayerType values
    order: int  # 1 primary, 2 secondary, 3 tertiary
    member_id: str
    start_date: date
    end_date: date | None
    # Property & casualty (auto/PIP, workers' comp) fields.
    claim_number: str = ""
    accident_date: date | None = None
    accident_state: str = ""

    def active_on(self, on: date) -> bool:
        return self.start_date <= on and (self.end_date is None or on < self.end_date)


class AuthorizationKind(StrEnum):
    AUTHORIZATION = "authorization"
    PRESCRIPTION = "prescription"
    REFERRAL = "referral"


@dataclass(frozen=True, slots=True)
class Authorization:
    """An authorization, prescription or referral, with what claims have used of it so far
    (computed from other claims, excluding the one being checked)."""

    kind: AuthorizationKind
    number: str
    start_date: date
    end_date: date | None
    codes: frozenset[str]  # empty = any code
    visits_allowed: int | None
    units_allowed: Mapping[str, int]
    dollars_allowed: Cents | None
    visits_used: int = 0
    units_used: Mapping[str, int] = field(default_factory=dict)
    dollars_used: Cents = Cents(0)
    referring_provider_name: str = ""
    referring_provider_npi: str = ""

    def active_on(self, on: date) -> bool:
        return self.start_date <= on and (self.end_date is None or on < self.end_date)


@dataclass(frozen=True, slots=True)
class Provider:
    name: str
    npi: str
    taxonomy: str
    license_state: str
    license_expires_date: date | None
    # Credentialing status with this claim's payer on the date of service, or None if none.
    enrollment_status: str | None


@dataclass(frozen=True, slots=True)
class PriorClaimLine:
    """A line of another claim for the same patient (for duplicate checks)."""

    claim_id: str
    date_of_service: date
    code: str
    status: str


@dataclass(frozen=True, slots=True)
class PriorDenial:
    code: str
    reason: str  # CARC
    date_of_service: date


@dataclass(frozen=True, slots=True)
class History:
    visits_this_year: int = 0  # visits billed to this coverage in the benefit year, before this
    prior_lines: tuple[PriorClaimLine, ...] = ()
    earlier_notes: tuple[str, ...] = ()  # text of this patient's most recent earlier notes
    denials: tuple[PriorDenial, ...] = ()  # this payer's earlier denials in the practice


@dataclass(frozen=True, slots=True)
class Claim:
    """Everything the scrubber reads about one claim."""

    claim_id: str
    date_of_service: date
    place_of_service: str
    diagnoses: tuple[str, ...]
    lines: tuple[ClaimLine, ...]
    note: Note
    coverage: Coverage | None  # None: self-pay
    policy: PayerPolicy | None
    provider: Provider
    practice_state: str
    authorizations: tuple[Authorization, ...] = ()
    history: History = field(default_factory=History)
    frequency: str = "1"
    # A secondary (or tertiary) claim: the claim id of the earlier payer's claim for the same
    # visit, whose lines it bills again by design (not a duplicate).
    secondary_to: str = ""
    # The latest answered eligibility check of the claim's coverage (None: never checked).
    eligibility: EligibilitySummary | None = None

    @property
    def total_charge(self) -> Cents:
        amount = Cents(0)
        for line in self.lines:
            amount = amount + line.charge
        return amount
