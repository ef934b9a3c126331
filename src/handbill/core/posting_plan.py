"""The posting plan: what an 835 will do to our claims and the ledger, before anything is written.

A biller previews this plan, then commits it. Everything here is pure: the remittance comes in
as the 835 reader's values (read through the protocols below; ``handbill.remittance.reading``
is the one adapter), our claims as plain values (:class:`OurClaim`), and the plan says, per
claim and line:

**Matching.** CLP01 is our claim number (CLM01). Lines match on REF*6R, our line item control
number. When the payer dropped the REF, a line matches on code + modifiers + units + date of
service and the plan says so; when the payer also dropped or changed a modifier it matches on
code + units + date, and when it changed the units, on code + date + charge — both flagged as
warnings, because those are the matches that can be wrong (OpenEMR's known failure).
Something that matches nothing is listed with the reason; its money is never guessed onto
a claim.

**Ledger effects** (DESIGN.md §3), one two-leg transaction per claim and effect, kept per
claim as the charge is (the line detail — which line, which reason — is on the remittance rows):

- payment: cash ← A/R insurance of the claim's payer (CLP04);
- CO/PI with a contract reason (45 fee schedule, 42, 59, 94, 131, 144, 237, 253, 24):
  contractual adjustment ← A/R insurance;
- PR (deductible 1, coinsurance 2, copay 3, or any other PR reason): A/R patient ← A/R
  insurance, with the reasons in the memo;
- CO/PI with any other reason is a **denial**: nothing is written off. The amount stays on
  the payer's A/R and the claim goes to the denial worklist, because a denial is fixed,
  appealed or written off by a person (auto-writing-off denials hides them);
- OA-23 (the prior payer's adjudication, on a secondary remittance) is already on the books:
  no entry. Any other OA (and the retired CR group) stays on the payer's A/R for review;
- CLP02 = 22 reversals and negative amounts become the mirror entries (flagged ``takeback``:
  at commit they reverse the earlier posting they mirror, when it is found);
- an unmatched claim's payment goes to unapplied credits (the deposit still reconciles);
- PLB provider-level adjustments post at the payment level, signed as in PLB04: L6 interest
  (negative) is interest income; WO recoupments, FB forward balances, 72 returns and the rest
  go to the payer's provider-level adjustment account, annotated with the claim they cite.

**Claim status.** CLP02 = 4 → denied. Otherwise: nothing left on the payer → paid; some
lines denied but something paid or moved to the patient → partially paid; nothing paid →
denied. A reversal alone leaves the status (there is no "reversed" claim state) and says so;
a reversal followed by a new adjudication of the same claim ends in that adjudication's
status. CLP02 = 23 and 25 post nothing but are listed.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, NamedTuple, Protocol

from handbill.core.claim_status import TRANSITIONS, ClaimStatus
from handbill.core.codes.carc import carc
from handbill.core.money import Cents

# --------------------------------------------------------------------------------------------
# What comes in: the remittance …
#
# The planner reads the 835 reader's values as they are (an 835 of 10,000 claims holds some
# 100,000 of them, and copying each costs more than planning it). These protocols name the
# fields it reads; ``handbill.remittance.reading`` is where the reader's types are checked
# against them, and the ``Remit*`` dataclasses below build the same shapes by hand.
# --------------------------------------------------------------------------------------------


class AdjustmentLike(Protocol):
    @property
    def group(self) -> str: ...  # CAS01: CO, PR, OA, PI
    @property
    def reason(self) -> str: ...  # CARC
    @property
    def amount(self) -> Cents: ...  # signed as in the file; negative in reversals
    @property
    def quantity(self) -> str: ...


class LineLike(Protocol):
    @property
    def code(self) -> str: ...  # SVC01-2 as adjudicated
    @property
    def modifiers(self) -> tuple[str, ...]: ...
    @property
    def charge(self) -> Cents: ...  # SVC02
    @property
    def paid(self) -> Cents: ...  # SVC03
    @property
    def units(self) -> Decimal: ...  # SVC05 (1 when absent)
    @property
    def original_code(self) -> str: ...  # SVC06-2: what we billed, when the payer changed it
    @property
    def original_modifiers(self) -> tuple[str, ...]: ...
    @property
    def original_units(self) -> Decimal | None: ...  # SVC07
    @property
    def service_date(self) -> date | None: ...  # DTM*472
    @property
    def control_number(self) -> str: ...  # REF*6R
    @property
    def allowed(self) -> Cents | None: ...  # AMT*B6
    @property
    def adjustments(self) -> Sequence[AdjustmentLike]: ...
    @property
    def remarks(self) -> tuple[str, ...]: ...  # LQ*HE


class ClaimLike(Protocol):
    @property
    def claim_id(self) -> str: ...  # CLP01 = our CLM01
    @property
    def status(self) -> str: ...  # CLP02
    @property
    def charge(self) -> Cents: ...  # CLP03
    @property
    def paid(self) -> Cents: ...  # CLP04
    @property
    def patient_responsibility(self) -> Cents: ...  # CLP05
    @property
    def payer_claim_number(self) -> str: ...  # CLP07
    @property
    def adjustments(self) -> Sequence[AdjustmentLike]: ...  # claim-level CAS
    @property
    def lines(self) -> Sequence[LineLike]: ...
    @property
    def statement_from(self) -> date | None: ...  # DTM*232: the date when a line has none
    @property
    def remarks(self) -> tuple[str, ...]: ...  # MOA


class ProviderAdjustmentLike(Protocol):
    @property
    def provider_id(self) -> str: ...
    @property
    def fiscal_period_date(self) -> date | None: ...
    @property
    def reason(self) -> str: ...  # PLB03-1
    @property
    def reference(self) -> str: ...  # PLB03-2
    @property
    def amount(self) -> Cents: ...  # PLB04: positive reduces the payment, negative adds to it


@dataclass(frozen=True, slots=True)
class RemitAdjustment:
    group: str
    reason: str
    amount: Cents
    quantity: str = ""


@dataclass(frozen=True, slots=True)
class RemitLine:
    code: str
    modifiers: tuple[str, ...]
    charge: Cents
    paid: Cents
    units: Decimal = Decimal(1)
    original_code: str = ""
    original_modifiers: tuple[str, ...] = ()
    original_units: Decimal | None = None
    service_date: date | None = None
    control_number: str = ""
    allowed: Cents | None = None
    adjustments: tuple[RemitAdjustment, ...] = ()
    remarks: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RemitClaim:
    claim_id: str
    status: str
    charge: Cents
    paid: Cents
    patient_responsibility: Cents
    payer_claim_number: str = ""
    adjustments: tuple[RemitAdjustment, ...] = ()
    lines: tuple[RemitLine, ...] = ()
    statement_from: date | None = None
    remarks: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RemitProviderAdjustment:
    reason: str
    reference: str
    amount: Cents
    provider_id: str = ""
    fiscal_period_date: date | None = None


@dataclass(frozen=True, slots=True)
class Remit:
    trace: str  # TRN02
    payer_identifier: str  # TRN03 (or the payer's id): with the trace, names the payment
    payer_name: str
    amount: Cents  # BPR02, negative for a debit
    method: str  # BPR04
    payment_date: date | None  # BPR16 (else DTM*405)
    claims: Sequence[ClaimLike]
    provider_adjustments: Sequence[ProviderAdjustmentLike] = ()


def billed_code(line: LineLike) -> str:
    return line.original_code or line.code


def billed_modifiers(line: LineLike) -> tuple[str, ...]:
    return line.original_modifiers if line.original_code else line.modifiers


def billed_units(line: LineLike) -> Decimal:
    return line.original_units if line.original_units is not None else line.units


def line_label(line: LineLike) -> str:
    mods = ":".join(line.modifiers)
    return f"{line.code}{'-' + mods if mods else ''} x{line.units}"


# … and our claims, as plain values.


@dataclass(frozen=True, slots=True)
class OurLine:
    key: int  # database id
    control_number: str  # REF*6R we sent
    code: str
    modifiers: tuple[str, ...]
    units: int
    charge: Cents
    service_date: date


@dataclass(frozen=True, slots=True)
class OurClaim:
    key: int
    number: str  # CLM01
    status: str  # ClaimStatus value
    patient_ref: str  # the patient's account number, as the ledger keys it
    payer_key: int | None  # who the claim was billed to (its A/R account)
    lines: tuple[OurLine, ...]


# --------------------------------------------------------------------------------------------
# What goes out
# --------------------------------------------------------------------------------------------


class MatchedBy(StrEnum):
    CONTROL_NUMBER = "control_number"
    CODE_FALLBACK = "code_fallback"
    UNMATCHED = "unmatched"


class Effect(StrEnum):
    """What one CAS amount does to the books."""

    CONTRACTUAL = "contractual"  # written down under the contract
    PATIENT = "patient"  # moved to the patient's account
    DENIED = "denied"  # stays on the payer's A/R; to the denial worklist
    REVIEW = "review"  # stays on the payer's A/R; a biller decides (OA, CR)
    PRIOR_PAYER = "prior_payer"  # OA-23: the earlier payer's part, already on the books


class Outcome(StrEnum):
    PAID = "paid"
    PARTIALLY_PAID = "partially_paid"
    DENIED = "denied"
    REVERSED = "reversed"
    NOT_POSTED = "not_posted"  # CLP02 23 (forwarded) or 25 (predetermination)
    UNMATCHED = "unmatched"


# Ledger account kinds and transaction kinds, as the ledger app names them (the integration
# tests check these strings against handbill.ledger.models).
CASH = "cash"
AR_INSURANCE = "ar_insurance"
AR_PATIENT = "ar_patient"
CONTRACTUAL_ADJUSTMENT = "contractual_adjustment"
UNAPPLIED = "unapplied"
INTEREST = "interest"
PROVIDER_ADJUSTMENT = "provider_adjustment"

INSURANCE_PAYMENT = "insurance_payment"
TRANSFER_TO_PATIENT = "transfer_to_patient"
PROVIDER_ADJUSTMENT_KIND = "provider_adjustment"

DEBIT = "debit"
CREDIT = "credit"

# CO/PI reasons that are the contract's price, not a refusal: written down automatically.
CONTRACTUAL_REASONS = frozenset({
    "24",  # covered by a capitation agreement
    "42",  # above the fee schedule / maximum allowable (older code for 45)
    "45",  # above the fee schedule or contracted maximum
    "59",  # multiple or concurrent procedure reduction
    "94",  # processed in excess of charges
    "131",  # claim-specific negotiated discount
    "144",  # incentive adjustment (usually negative: adds to the payment)
    "237",  # legislated or regulatory penalty
    "253",  # sequestration
})
PRIOR_PAYER_REASON = "23"
PATIENT_LABELS = {"1": "deductible", "2": "coinsurance", "3": "copay"}

# PLB03-1 reasons a biller meets most, in our words.
PLB_REASONS = {
    "L6": "interest on a late payment",
    "WO": "overpayment recovery (recoupment)",
    "FB": "forwarding balance carried between payments",
    "72": "authorized return (money sent back)",
    "CS": "adjustment",
    "50": "late charge",
    "J1": "non-reimbursable",
    "B2": "rebate",
    "WU": "unspecified recovery",
    "IR": "tax withholding",
    "AP": "acceleration of benefits",
    "C5": "temporary allowance",
    "BD": "bad debt adjustment",
    "L3": "penalty",
    "90": "early payment allowance",
}
_INTEREST_REASON = "L6"
_NOT_POSTED_STATUSES = frozenset({"23", "25"})
_REVERSAL_STATUS = "22"
_DENIED_STATUS = "4"
# Claims that were never sent cannot be paid; a remittance naming one names something else.
_NEVER_SENT = frozenset({ClaimStatus.DRAFT.value, ClaimStatus.VOID.value})
_KEY_LIMIT = 128


# The plan's items are NamedTuples rather than frozen dataclasses: a large remittance builds
# hundreds of thousands of them, and a tuple is several times cheaper to make.


class PlannedAdjustment(NamedTuple):
    group: str
    reason: str
    amount: Cents
    quantity: str
    effect: Effect
    label: str  # the reason in words

    def as_dict(self) -> dict[str, Any]:
        return {"group": self.group, "reason": self.reason, "amount": str(self.amount),
                "effect": self.effect.value, "label": self.label}


class PlannedLine(NamedTuple):
    position: int  # 0-based among the claim's SVCs
    remit: LineLike
    line_key: int | None
    control_number: str  # our line's REF*6R, "" when unmatched
    matched_by: MatchedBy
    adjustments: tuple[PlannedAdjustment, ...]
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        r = self.remit
        return {
            "code": r.code, "modifiers": list(r.modifiers), "units": str(r.units),
            "charge": str(r.charge), "paid": str(r.paid),
            "remit_control_number": r.control_number,
            "matched_line": self.control_number or None, "matched_by": self.matched_by.value,
            "allowed": str(r.allowed) if r.allowed is not None else None,
            "adjustments": [a.as_dict() for a in self.adjustments],
            "remarks": list(r.remarks), "notes": list(self.notes),
        }


class PlannedLeg(NamedTuple):
    account: str  # a ledger account kind
    side: str  # DEBIT or CREDIT
    amount: Cents  # positive
    payer_key: int | None  # the payer of a per-payer account

    def as_dict(self) -> dict[str, Any]:
        return {"account": self.account, "side": self.side, "amount": str(self.amount)}


class PlannedEntry(NamedTuple):
    """One ledger transaction the commit will write: two legs, at the claim's level."""

    kind: str  # a ledger transaction kind
    key: str  # idempotency key: trace + payer + CLP01 (+ status, occurrence) + effect
    memo: str
    legs: tuple[PlannedLeg, ...]
    claim_ref: str = ""
    patient_ref: str = ""
    # The mirror of an earlier posting (CLP02 22, a negative amount): reversed when found.
    takeback: bool = False

    @property
    def amount(self) -> Cents:
        return Cents(sum(leg.amount.value for leg in self.legs if leg.side == DEBIT))

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "amount": str(self.amount), "memo": self.memo,
                "takeback": self.takeback, "legs": [leg.as_dict() for leg in self.legs]}


@dataclass(frozen=True, slots=True)
class PlannedClaim:
    position: int  # 0-based among the remittance's CLPs
    remit: ClaimLike
    claim_key: int | None
    claim_number: str  # ours; "" when unmatched
    outcome: Outcome
    occurrence: int  # 1 for the first CLP with this CLP01 and CLP02, 2 for the next …
    lines: tuple[PlannedLine, ...]
    adjustments: tuple[PlannedAdjustment, ...]  # claim level
    entries: tuple[PlannedEntry, ...]
    totals: dict[Effect, int]  # cents per effect, claim and line adjustments together
    unmatched_reason: str = ""
    notes: tuple[str, ...] = ()

    def effect_total(self, effect: Effect) -> Cents:
        return Cents(self.totals.get(effect, 0))

    def as_dict(self) -> dict[str, Any]:
        r = self.remit
        return {
            "id": r.claim_id, "status": r.status, "claim": self.claim_number or None,
            "outcome": self.outcome.value, "charge": str(r.charge), "paid": str(r.paid),
            "patient_responsibility": str(r.patient_responsibility),
            "payer_claim_number": r.payer_claim_number,
            "to_patient": str(self.effect_total(Effect.PATIENT)),
            "contractual": str(self.effect_total(Effect.CONTRACTUAL)),
            "denied": str(self.effect_total(Effect.DENIED)),
            "review": str(self.effect_total(Effect.REVIEW)),
            "adjustments": [a.as_dict() for a in self.adjustments],
            "lines": [line.as_dict() for line in self.lines],
            "entries": [e.as_dict() for e in self.entries],
            "unmatched_reason": self.unmatched_reason or None, "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True)
class PlannedProviderAdjustment:
    position: int
    remit: ProviderAdjustmentLike
    label: str
    entry: PlannedEntry | None
    claim_number: str = ""  # our claim the reference names, when it names one

    def as_dict(self) -> dict[str, Any]:
        r = self.remit
        return {"reason": r.reason, "label": self.label, "reference": r.reference,
                "amount": str(r.amount), "claim": self.claim_number or None,
                "entry": self.entry.as_dict() if self.entry else None}


@dataclass(frozen=True, slots=True)
class StatusMove:
    claim_key: int
    claim_number: str
    from_status: str
    to_status: str
    note: str


@dataclass(frozen=True, slots=True)
class Unmatched:
    claim_id: str  # CLP01
    line: str  # the SVC's label, "" for a whole claim
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"claim": self.claim_id, "line": self.line or None, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class PostingPlan:
    trace: str
    payer_identifier: str
    payer_name: str
    amount: Cents
    method: str
    effective_date: date
    claims: tuple[PlannedClaim, ...]
    provider_adjustments: tuple[PlannedProviderAdjustment, ...]
    moves: tuple[StatusMove, ...]
    unmatched: tuple[Unmatched, ...]
    warnings: tuple[str, ...]

    @property
    def entries(self) -> tuple[PlannedEntry, ...]:
        found = [entry for claim in self.claims for entry in claim.entries]
        found.extend(p.entry for p in self.provider_adjustments if p.entry is not None)
        return tuple(found)

    @property
    def clean(self) -> bool:
        """Nothing a person must look at first: safe to post without a preview."""
        return not self.unmatched and not self.warnings

    def totals(self) -> dict[str, Cents]:
        sums: dict[str, int] = defaultdict(int)
        for claim in self.claims:
            if claim.outcome is Outcome.UNMATCHED:
                sums["unapplied"] += claim.remit.paid.value
                continue
            sums["paid"] += claim.remit.paid.value
            for effect, cents in claim.totals.items():
                sums[effect.value] += cents
        for adjustment in self.provider_adjustments:
            key = "interest" if adjustment.remit.reason == _INTEREST_REASON else "provider"
            sums[key] += adjustment.remit.amount.value
        names = ("paid", "unapplied", *(e.value for e in Effect), "interest", "provider")
        return {name: Cents(sums[name]) for name in names}

    def summary(self, *, limit: int | None = None) -> dict[str, Any]:
        """The headline: payment, counts, totals, what did not match and the warnings."""
        outcomes: dict[str, int] = defaultdict(int)
        fallback = entries = 0
        for claim in self.claims:
            outcomes[claim.outcome.value] += 1
            entries += len(claim.entries)
            fallback += sum(1 for line in claim.lines
                            if line.matched_by is MatchedBy.CODE_FALLBACK)
        entries += sum(1 for p in self.provider_adjustments if p.entry is not None)
        return {
            "payment": {"trace": self.trace, "payer": self.payer_identifier,
                        "payer_name": self.payer_name, "amount": str(self.amount),
                        "method": self.method, "date": self.effective_date.isoformat()},
            "summary": {"claims": len(self.claims), "outcomes": dict(outcomes),
                        "lines_matched_by_fallback": fallback, "entries": entries,
                        "status_changes": len(self.moves), "unmatched": len(self.unmatched),
                        "warnings": len(self.warnings), "clean": self.clean},
            "totals": {name: str(amount) for name, amount in self.totals().items()},
            "unmatched": [u.as_dict() for u in self.unmatched[:limit]],
            "warnings": list(self.warnings[:limit]),
        }

    def as_dict(self) -> dict[str, Any]:
        """The whole preview: the summary, then every claim, line, entry and status change."""
        return {
            **self.summary(),
            "claims": [claim.as_dict() for claim in self.claims],
            "provider_adjustments": [p.as_dict() for p in self.provider_adjustments],
            "status_changes": [
                {"claim": m.claim_number, "from": m.from_status, "to": m.to_status,
                 "note": m.note} for m in self.moves],
        }


# --------------------------------------------------------------------------------------------
# Adjustments
# --------------------------------------------------------------------------------------------


def _reason(code: str) -> str:
    text = code.strip().upper()
    return (text.lstrip("0") or text) if text.isdigit() else text


def effect_of(group: str, reason: str) -> Effect:
    """What a CAS group and reason do to the books (see the module docstring)."""
    code = _reason(reason)
    match group.strip().upper():
        case "PR":
            return Effect.PATIENT
        case "CO" | "PI":
            return Effect.CONTRACTUAL if code in CONTRACTUAL_REASONS else Effect.DENIED
        case "OA":
            return Effect.PRIOR_PAYER if code == PRIOR_PAYER_REASON else Effect.REVIEW
        case _:
            return Effect.REVIEW


def _label(group: str, reason: str, effect: Effect) -> str:
    code = _reason(reason)
    if effect is Effect.PATIENT and code in PATIENT_LABELS:
        return PATIENT_LABELS[code]
    return f"{group}-{code}: {carc(code).meaning}"


# A remittance repeats the same few group/reason pairs thousands of times.
_LABELS: dict[tuple[str, str], tuple[Effect, str]] = {}


def plan_adjustments(adjustments: Iterable[AdjustmentLike]) -> tuple[PlannedAdjustment, ...]:
    planned = []
    for a in adjustments:
        known = _LABELS.get((a.group, a.reason))
        if known is None:
            effect = effect_of(a.group, a.reason)
            known = _LABELS[(a.group, a.reason)] = (effect, _label(a.group, a.reason, effect))
        planned.append(PlannedAdjustment(a.group, a.reason, a.amount, a.quantity, *known))
    return tuple(planned)


# --------------------------------------------------------------------------------------------
# Matching lines
# --------------------------------------------------------------------------------------------


def _same_modifiers(a: Sequence[str], b: Sequence[str]) -> bool:
    return sorted(m.upper() for m in a) == sorted(m.upper() for m in b)


def _fallback(
    remit: LineLike, day: date | None, candidates: list[OurLine]
) -> tuple[OurLine | None, str, bool]:
    """The best unused line for an SVC without a usable REF*6R: (line, note, doubtful)."""
    code = billed_code(remit).upper()
    units = billed_units(remit)
    modifiers = billed_modifiers(remit)
    same_day = [
        line for line in candidates
        if line.code.upper() == code and (day is None or line.service_date == day)
    ]
    when = "" if day is not None else " (no service date on the line or claim)"
    tiers: tuple[tuple[str, bool, Callable[[OurLine], bool]], ...] = (
        ("code, modifiers, units and date", False,
         lambda line: line.units == units and _same_modifiers(line.modifiers, modifiers)),
        ("code, units and date; the payer dropped or changed the modifier", True,
         lambda line: line.units == units),
        ("code, date and charge; the payer changed the units", True,
         lambda line: line.charge == remit.charge),
    )
    for how, doubtful, test in tiers:
        found = [line for line in same_day if test(line)]
        if not found:
            continue
        # Prefer the line billed at this charge; otherwise the first unused one in order.
        chosen = next((line for line in found if line.charge == remit.charge), found[0])
        note = f"no REF*6R from the payer: matched line {chosen.control_number} by {how}{when}"
        if doubtful and modifiers != chosen.modifiers:
            billed = "-".join((chosen.code, *chosen.modifiers))
            paid = "-".join((remit.code, *remit.modifiers))
            note += f" (billed {billed}, remitted {paid})"
        if len(found) > 1:
            note += f"; {len(found)} lines fit, took the first unused"
            doubtful = True
        return chosen, note, doubtful
    return None, "", False


def _match_lines(
    remit: ClaimLike, ours: OurClaim
) -> tuple[list[tuple[OurLine | None, MatchedBy, str]], list[str]]:
    """Per SVC: the line it pays, how it matched, and a note; plus warnings for the claim."""
    by_control = {line.control_number: line for line in ours.lines}
    results: list[tuple[OurLine | None, MatchedBy, str]] = []
    warnings: list[str] = []
    used: set[int] = set()
    pending: list[int] = []
    for index, line in enumerate(remit.lines):
        found = by_control.get(line.control_number) if line.control_number else None
        if found is None:
            results.append((None, MatchedBy.UNMATCHED, ""))
            pending.append(index)
            continue
        note = ""
        if found.code.upper() != billed_code(line).upper():
            note = (f"REF*6R {line.control_number} names our {found.code} line but the payer "
                    f"remitted {billed_code(line)}")
            warnings.append(f"claim {ours.number}: {note}")
        used.add(found.key)
        results.append((found, MatchedBy.CONTROL_NUMBER, note))
    for index in pending:
        line = remit.lines[index]
        candidates = [ol for ol in ours.lines if ol.key not in used]
        chosen, note, doubtful = _fallback(line, line.service_date or remit.statement_from,
                                           candidates)
        if line.control_number:
            prefix = f"REF*6R {line.control_number} is not a line of claim {ours.number}"
            note = f"{prefix}; {note}" if chosen else prefix
            doubtful = True
        if chosen is None:
            results[index] = (None, MatchedBy.UNMATCHED, note)
            continue
        used.add(chosen.key)
        results[index] = (chosen, MatchedBy.CODE_FALLBACK, note)
        if doubtful:
            warnings.append(f"claim {ours.number} line {index + 1} ({line_label(line)}): {note}")
    return results, warnings


# --------------------------------------------------------------------------------------------
# Entries
# --------------------------------------------------------------------------------------------


def idempotency_key(*parts: str) -> str:
    """A ledger idempotency key from its parts; hashed when it would not fit 128 characters."""
    key = ":".join(parts)
    if len(key) <= _KEY_LIMIT:
        return key
    return "835:sha256:" + hashlib.sha256(key.encode()).hexdigest()


KeyParts = tuple[str, ...]


def _pair(
    kind: str, key: str, memo: str, debit: tuple[str, int | None],
    credit: tuple[str, int | None], signed: int, *, claim_ref: str, patient_ref: str,
    reversal: bool,
) -> PlannedEntry | None:
    """A two-leg entry of ``signed`` cents; a negative amount swaps the sides (a takeback)."""
    if not signed:
        return None
    amount = Cents(abs(signed))
    if signed < 0:
        debit, credit = credit, debit
    legs = (PlannedLeg(debit[0], DEBIT, amount, debit[1]),
            PlannedLeg(credit[0], CREDIT, amount, credit[1]))
    return PlannedEntry(kind, key, memo[:200], legs, claim_ref[:64], patient_ref,
                        reversal or signed < 0)


def _money_words(parts: dict[str, int]) -> str:
    return ", ".join(f"{label} {Cents(amount)}" for label, amount in parts.items() if amount)


_CONTRACTUAL, _PATIENT = Effect.CONTRACTUAL, Effect.PATIENT


def _effect_totals(
    adjustments: Sequence[PlannedAdjustment], lines: Sequence[PlannedLine]
) -> tuple[dict[Effect, int], dict[str, int]]:
    """Cents per effect over the claim and its lines, and the patient's share per reason."""
    totals: dict[Effect, int] = defaultdict(int)
    patient: dict[str, int] = defaultdict(int)
    for group in (adjustments, *(line.adjustments for line in lines)):
        for a in group:
            totals[a.effect] += a.amount.value
            if a.effect is _PATIENT:
                patient[a.label] += a.amount.value
    return dict(totals), dict(patient)


def _claim_entries(
    remit: ClaimLike, ours: OurClaim, totals: dict[Effect, int],
    patient_reasons: dict[str, int], key: KeyParts,
) -> tuple[PlannedEntry, ...]:
    # Legs are kept per claim, as the charge is: the line detail lives on the remittance
    # rows, and a per-line leg would only restate it against a charge that has no lines.
    payer = ours.payer_key
    reversal = remit.status == _REVERSAL_STATUS
    verb = "Reversal of payment" if reversal else "Payment"

    def pair(kind: str, suffix: str, memo: str, debit: tuple[str, int | None],
             signed: int) -> PlannedEntry | None:
        return _pair(kind, idempotency_key(*key, suffix), memo, debit, (AR_INSURANCE, payer),
                     signed, claim_ref=ours.number, patient_ref=ours.patient_ref,
                     reversal=reversal)

    entries = (
        pair(INSURANCE_PAYMENT, "pay", f"{verb} {remit.paid} on claim {ours.number}",
             (CASH, None), remit.paid.value),
        pair(CONTRACTUAL_ADJUSTMENT, "co", f"Contractual adjustment on claim {ours.number}",
             (CONTRACTUAL_ADJUSTMENT, payer), totals.get(_CONTRACTUAL, 0)),
        pair(TRANSFER_TO_PATIENT, "pr", f"Patient responsibility on claim {ours.number}: "
             f"{_money_words(patient_reasons)}", (AR_PATIENT, None), totals.get(_PATIENT, 0)),
    )
    return tuple(e for e in entries if e is not None)


def _unapplied_entry(
    remit: ClaimLike, era_payer: int | None, key: KeyParts, why: str
) -> PlannedEntry | None:
    return _pair(INSURANCE_PAYMENT, idempotency_key(*key, "unapplied"),
                 f"Unapplied {remit.paid} for CLP01 {remit.claim_id}: {why}", (CASH, None),
                 (UNAPPLIED, era_payer), remit.paid.value, claim_ref=remit.claim_id,
                 patient_ref="", reversal=remit.status == _REVERSAL_STATUS)


def _provider_entry(
    adjustment: ProviderAdjustmentLike, era_payer: int | None, key: str, label: str
) -> PlannedEntry | None:
    reason = adjustment.reason.strip().upper()
    memo = f"PLB {reason} {adjustment.reference}".strip() + f": {label}"
    amount = adjustment.amount.value
    # Signed as PLB04: positive took money out of the payment, negative added to it. As in
    # ledger.posting.post_provider_adjustment, only added interest (L6) is income.
    if amount > 0:
        entry = _pair(PROVIDER_ADJUSTMENT_KIND, key, memo, (PROVIDER_ADJUSTMENT, era_payer),
                      (CASH, None), amount, claim_ref="", patient_ref="", reversal=False)
    else:
        credit_account = INTEREST if reason == _INTEREST_REASON else PROVIDER_ADJUSTMENT
        entry = _pair(PROVIDER_ADJUSTMENT_KIND, key, memo, (CASH, None),
                      (credit_account, era_payer), -amount, claim_ref="", patient_ref="",
                      reversal=False)
    return entry._replace(takeback=False) if entry is not None else None


# --------------------------------------------------------------------------------------------
# Outcomes
# --------------------------------------------------------------------------------------------


def _outcome(remit: ClaimLike, totals: dict[Effect, int]) -> Outcome:
    if remit.status == _REVERSAL_STATUS:
        return Outcome.REVERSED
    if remit.status in _NOT_POSTED_STATUSES:
        return Outcome.NOT_POSTED
    if remit.status == _DENIED_STATUS:
        return Outcome.DENIED
    held = totals.get(Effect.DENIED, 0) + totals.get(Effect.REVIEW, 0)
    if held <= 0:
        return Outcome.PAID
    if remit.paid.value > 0 or totals.get(_PATIENT, 0) > 0:
        return Outcome.PARTIALLY_PAID
    return Outcome.DENIED


_OUTCOME_STATUS = {
    Outcome.PAID: ClaimStatus.PAID,
    Outcome.PARTIALLY_PAID: ClaimStatus.PARTIALLY_PAID,
    Outcome.DENIED: ClaimStatus.DENIED,
}


def _moves(claims: Sequence[PlannedClaim], ours: dict[str, OurClaim], trace: str,
           warnings: list[str]) -> tuple[StatusMove, ...]:
    final: dict[str, PlannedClaim] = {}
    reversed_only: set[str] = set()
    for planned in claims:
        if planned.claim_key is None:
            continue
        if planned.outcome in _OUTCOME_STATUS:
            final[planned.claim_number] = planned
        elif planned.outcome is Outcome.REVERSED:
            reversed_only.add(planned.claim_number)
    moves = []
    for number in sorted(reversed_only):
        if number not in final:
            warnings.append(
                f"claim {number}: the payer reversed its earlier payment and has not "
                "re-adjudicated the claim in this remittance; its status stays "
                f"{ours[number].status} and the balance is back on the payer — expect a "
                "corrected remittance")
    for number, planned in final.items():
        claim = ours[number]
        target = _OUTCOME_STATUS[planned.outcome]
        if claim.status == target.value:
            continue
        if target not in TRANSITIONS.get(ClaimStatus(claim.status), frozenset()):
            warnings.append(
                f"claim {number} is {claim.status}; the remittance says {target.value} but "
                "that is not a move a claim can make, so its status is left as it is")
            continue
        remit = planned.remit
        note = (f"835 trace {trace}: CLP02 {remit.status}, charge {remit.charge}, "
                f"paid {remit.paid}, patient {remit.patient_responsibility}")
        moves.append(StatusMove(claim.key, number, claim.status, target.value, note))
    return tuple(moves)


# --------------------------------------------------------------------------------------------
# The plan
# --------------------------------------------------------------------------------------------


def build_plan(
    remit: Remit,
    claims: Iterable[OurClaim],
    *,
    era_payer_key: int | None,
    default_date: date,
    aliases: Mapping[str, str] | None = None,
) -> PostingPlan:
    """The posting plan for one 835 payment against our claims.

    ``claims`` are the practice's claims the remittance may name (by CLP01 and by PLB
    reference); extra ones are harmless. ``era_payer_key`` is the payer this payment comes
    from when known (for unapplied money and PLB accounts). ``default_date`` is the
    accounting date when the file carries no payment date. ``aliases`` maps a CLP01 that
    names none of our claims to the claim number a biller chose for it (a payer that mangled
    our claim number); that claim then matches as if the payer had sent its number.
    """
    ours = {claim.number: claim for claim in claims}
    chosen = aliases or {}
    by_payer_number: dict[str, OurClaim] = {}
    base = f"835:{remit.payer_identifier}:{remit.trace}"
    seen: dict[tuple[str, str], int] = defaultdict(int)
    planned_claims: list[PlannedClaim] = []
    unmatched: list[Unmatched] = []
    warnings: list[str] = []
    for position, rc in enumerate(remit.claims):
        seen[(rc.claim_id, rc.status)] += 1
        occurrence = seen[(rc.claim_id, rc.status)]
        key = (base, rc.claim_id, rc.status, str(occurrence))
        alias = chosen.get(rc.claim_id) if rc.claim_id not in ours else None
        planned = _plan_claim(position, rc, ours.get(alias or rc.claim_id), occurrence, key,
                              era_payer_key, unmatched, warnings)
        if alias and planned.claim_key is not None:
            planned = dataclasses.replace(planned, notes=(
                f"CLP01 {rc.claim_id} names no claim of ours; matched by hand to claim "
                f"{planned.claim_number}", *planned.notes))
        planned_claims.append(planned)
        if planned.claim_key is not None and rc.payer_claim_number:
            by_payer_number[rc.payer_claim_number] = ours[planned.claim_number]
    for claim in ours.values():
        by_payer_number.setdefault(claim.number, claim)
    provider = []
    for position, adjustment in enumerate(remit.provider_adjustments):
        reason = adjustment.reason.strip().upper()
        label = PLB_REASONS.get(reason, f"provider-level adjustment {reason}")
        reference = adjustment.reference.strip()
        cited = by_payer_number.get(reference) or ours.get(reference)
        entry = _provider_entry(adjustment, era_payer_key,
                                idempotency_key(base, "plb", str(position + 1), reason), label)
        provider.append(PlannedProviderAdjustment(position, adjustment, label, entry,
                                                  cited.number if cited else ""))
        if reason != _INTEREST_REASON and adjustment.amount.value:
            where = f" citing claim {cited.number}" if cited else (
                f" citing {reference!r}" if reference else "")
            warnings.append(
                f"PLB {reason} {adjustment.amount}{where}: {label}; posted at the payment "
                "level — move it to the claim it concerns if it belongs to one")
    if era_payer_key is None and (
            remit.provider_adjustments or any(c.outcome is Outcome.UNMATCHED
                                              for c in planned_claims)):
        warnings.append(
            f"the payer {remit.payer_name or remit.payer_identifier!r} is not one of the "
            "practice's payers; unapplied money and provider-level adjustments go to "
            "practice-wide accounts")
    for pc in planned_claims:
        if pc.claim_key is None:
            continue
        billed_to = ours[pc.claim_number].payer_key
        if era_payer_key is not None and billed_to is not None and billed_to != era_payer_key:
            warnings.append(
                f"claim {pc.claim_number} was billed to another payer than the one sending "
                "this payment; it is posted against the payer it was billed to")
    moves = _moves(planned_claims, ours, remit.trace, warnings)
    return PostingPlan(
        trace=remit.trace, payer_identifier=remit.payer_identifier,
        payer_name=remit.payer_name, amount=remit.amount, method=remit.method,
        effective_date=remit.payment_date or default_date,
        claims=tuple(planned_claims), provider_adjustments=tuple(provider), moves=moves,
        unmatched=tuple(unmatched), warnings=tuple(warnings),
    )


def _plan_claim(
    position: int, rc: ClaimLike, ours: OurClaim | None, occurrence: int, key: KeyParts,
    era_payer_key: int | None, unmatched: list[Unmatched], warnings: list[str],
) -> PlannedClaim:
    adjustments = plan_adjustments(rc.adjustments)
    why = ""
    if ours is None:
        why = f"no claim {rc.claim_id!r} in this practice (CLP01 is our claim number)"
    elif ours.status in _NEVER_SENT:
        why = f"claim {rc.claim_id} is {ours.status} and was never sent"
    elif ours.payer_key is None:
        why = f"claim {rc.claim_id} is self-pay; no payer was billed"
    if ours is None or why:
        lines = tuple(
            PlannedLine(i, line, None, "", MatchedBy.UNMATCHED, plan_adjustments(line.adjustments))
            for i, line in enumerate(rc.lines))
        totals, _patient = _effect_totals(adjustments, lines)
        unmatched.append(Unmatched(rc.claim_id, "", why + "; its payment waits in unapplied "
                                   "credits" if rc.paid.value else why))
        entry = _unapplied_entry(rc, era_payer_key, key, why)
        return PlannedClaim(position, rc, None, "", Outcome.UNMATCHED, occurrence, lines,
                            adjustments, (entry,) if entry else (), totals, why)
    matches, match_warnings = _match_lines(rc, ours)
    warnings.extend(match_warnings)
    lines_list = []
    for index, (line, (found, how, note)) in enumerate(zip(rc.lines, matches, strict=True)):
        if found is None:
            reason = note or (f"no line of claim {ours.number} has REF*6R "
                              f"{line.control_number!r} or code {billed_code(line)} on that "
                              "date")
            unmatched.append(Unmatched(rc.claim_id, line_label(line),
                                       reason + "; its money is posted to the claim"))
        lines_list.append(PlannedLine(
            index, line, found.key if found else None, found.control_number if found else "",
            how, plan_adjustments(line.adjustments), (note,) if note else ()))
    lines = tuple(lines_list)
    totals, patient_reasons = _effect_totals(adjustments, lines)
    notes: list[str] = []
    if rc.status not in (_REVERSAL_STATUS, *_NOT_POSTED_STATUSES) and rc.lines:
        matched = {line.line_key for line in lines}
        missing = [ol.control_number for ol in ours.lines if ol.key not in matched]
        if missing:
            notes.append(f"lines not in this remittance: {', '.join(missing)}")
    outcome = _outcome(rc, totals)
    if outcome is Outcome.NOT_POSTED:
        notes.append(f"CLP02 {rc.status}: nothing to post for this claim")
        entries: tuple[PlannedEntry, ...] = ()
        if rc.paid.value:
            entry = _unapplied_entry(rc, era_payer_key, key, f"CLP02 {rc.status} with a payment")
            entries = (entry,) if entry else ()
            warnings.append(f"claim {ours.number}: CLP02 {rc.status} should pay nothing but "
                            f"pays {rc.paid}; held in unapplied credits")
    else:
        entries = _claim_entries(rc, ours, totals, patient_reasons, key)
    return PlannedClaim(position, rc, ours.key, ours.number, outcome, occurrence, lines,
                        adjustments, entries, totals, "", tuple(notes))


__all__ = [
    "CONTRACTUAL_REASONS",
    "AdjustmentLike",
    "ClaimLike",
    "LineLike",
    "ProviderAdjustmentLike",
    "billed_code",
    "billed_modifiers",
    "billed_units",
    "line_label",
    "Effect",
    "MatchedBy",
    "OurClaim",
    "OurLine",
    "Outcome",
    "PlannedAdjustment",
    "PlannedClaim",
    "PlannedEntry",
    "PlannedLeg",
    "PlannedLine",
    "PlannedProviderAdjustment",
    "PostingPlan",
    "Remit",
    "RemitAdjustment",
    "RemitClaim",
    "RemitLine",
    "RemitProviderAdjustment",
    "StatusMove",
    "Unmatched",
    "build_plan",
    "effect_of",
    "idempotency_key",
    "plan_adjustments",
]
