"""Working what comes back: the next step for each rejection and denial, A/R aging, the
timely-filing clock, underpayments, money at risk, and denial → rule feedback.

Pure values in, values out; the clock is ``as_of``. The Django side
(``handbill.followup.queries``) reads the stored remittances, acknowledgements, claims and
policies and asks here what each one means and what a biller does next.

**Aging counts from the date of service**, not from the day the claim was sent: the payer's
timely-filing limit runs from the date of service too, so one number says both how old the
money is and how close the claim is to being unbillable; and a claim that is rejected and sent
again keeps its age (resending it does not make the money younger, and aging by submission
would hide exactly the claims that bounce).

**Money at risk** orders the follow-up queue::

    score = balance_cents × (30 + min(age_days, 180)) × deadline_factor // 30

that is, the open balance weighted by its age in months (one extra "balance" per 30 days,
capped at six months, beyond which older money is all equally urgent) and tripled when the
filing deadline is two weeks away or less (doubled within 30 days). A missed deadline does
not raise the weight: the claim can then only be appealed with proof, and the queue should
first save the money that can still be saved.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from handbill.core.codes import carc as carc_codes
from handbill.core.codes import cpt
from handbill.core.codes import rarc as rarc_codes
from handbill.core.codes.modifiers import X_MODIFIERS
from handbill.core.money import Cents, total
from handbill.core.policy import MASSAGE_THERAPIST, ModifierStyle, PayerPolicy

# --------------------------------------------------------------------------------------------
# Next steps
# --------------------------------------------------------------------------------------------


class WorkKind(StrEnum):
    """Which worklist an item belongs on."""

    REJECTION = "rejections"  # 999 / 277CA: never reached adjudication
    DENIAL = "denials"  # adjudicated, nothing (or less) paid for a reason
    UNDERPAID = "underpaid"  # paid below the policy's fee schedule
    TIMELY = "timely"  # not yet with the payer and the filing limit is near or past
    FOLLOWUP = "followup"  # open A/R, ordered by money at risk


class StepAction(StrEnum):
    """What the biller does; the web page turns these into buttons or links."""

    NEW_ORIGINAL = "new_original"  # fix the field, send again as frequency 1
    CORRECTED_CLAIM = "corrected_claim"  # replacement (frequency 7) with REF*F8
    APPEAL = "appeal"
    BILL_PATIENT = "bill_patient"
    BILL_OTHER_PAYER = "bill_other_payer"
    WRITE_OFF = "write_off"
    CALL_PAYER = "call_payer"
    REVIEW = "review"  # read the codes: no rule in the table fits


@dataclass(frozen=True, slots=True)
class NextStep:
    """One reason a claim or line needs a person, in plain words, and what to do."""

    codes: str  # "CO-197", "CO-236 N20", "999 R", "277CA A7:21"
    meaning: str  # what the payer or clearinghouse said, in plain words
    step: str  # what to do next
    action: StepAction
    known: bool = True


@dataclass(frozen=True, slots=True)
class _Rule:
    action: StepAction
    step: str


# Keyed by CARC (any group not listed in _GROUP_RULES). Our words; reference §6.3.
_CARC_RULES: Mapping[str, _Rule] = {
    "4": _Rule(StepAction.CORRECTED_CLAIM,
               "Add the modifier the payer wants (GP on therapy codes, or the right 59/X "
               "modifier), then send a corrected claim (frequency 7)"),
    "16": _Rule(StepAction.CORRECTED_CLAIM,
                "Read the remark code for what is missing, add it and send a corrected claim "
                "(frequency 7); no appeal is needed"),
    "18": _Rule(StepAction.REVIEW,
                "Do not resubmit: find the original claim for this service and follow that "
                "one up instead"),
    "27": _Rule(StepAction.BILL_OTHER_PAYER,
                "Check eligibility on the date of service; bill the coverage in force that day, "
                "or the patient when there was none"),
    "29": _Rule(StepAction.APPEAL,
                "Timely filing: appeal with proof of earlier submission (the 999/277CA "
                "acceptance or the clearinghouse report); without proof, write it off — an "
                "in-network patient may not be billed for a late claim"),
    "50": _Rule(StepAction.APPEAL,
                "Appeal with the notes: diagnosis, prescription, goals and progress; bill the "
                "patient only with a signed waiver"),
    "96": _Rule(StepAction.WRITE_OFF,
                "Not covered: bill the patient only with a signed waiver, otherwise write it "
                "off and stop billing this code to this payer"),
    "97": _Rule(StepAction.CORRECTED_CLAIM,
                "Bundled: check modifier 59/XS on the column-2 code and the note's body "
                "regions; if the note documents a separate region or time block, send a "
                "corrected claim with the modifier, otherwise write it off"),
    "109": _Rule(StepAction.BILL_OTHER_PAYER,
                 "Not this payer's claim: confirm the patient's coverage and send the claim to "
                 "the right payer"),
    "119": _Rule(StepAction.WRITE_OFF,
                 "Benefit maximum reached: check the visit count and plan year; write off "
                 "under CO, and track remaining visits before the next booking"),
    "170": _Rule(StepAction.WRITE_OFF,
                 "This payer does not pay this provider type for the code: bill the patient "
                 "only with a signed waiver, otherwise write it off and drop the code for "
                 "this payer"),
    "197": _Rule(StepAction.CORRECTED_CLAIM,
                 "Attach the authorization number (get a retro-authorization if the payer "
                 "grants them) and resubmit as a corrected claim; otherwise write it off"),
    "204": _Rule(StepAction.BILL_PATIENT,
                 "Not covered by the patient's plan: bill the patient if allowed"),
    "234": _Rule(StepAction.CORRECTED_CLAIM,
                 "Not paid separately: check modifier 59/XS and the note's body regions; "
                 "resubmit with the modifier only if the services were truly separate"),
    "236": _Rule(StepAction.CORRECTED_CLAIM,
                 "NCCI pair: check modifier 59/XS on the column-2 code and the note's body "
                 "regions; add the modifier only where the note documents a separate region "
                 "or time block, then send a corrected claim"),
    "242": _Rule(StepAction.CALL_PAYER,
                 "Check the provider's network status with this plan; appeal if the provider "
                 "was in network on the date of service"),
}

# Group-specific rules win over the CARC rule: the same reason means different work when the
# patient owes it (PR) and when the practice does (CO).
_GROUP_RULES: Mapping[tuple[str, str], _Rule] = {
    ("PR", "1"): _Rule(StepAction.BILL_PATIENT,
                       "Deductible: bill the patient (or the secondary coverage first)"),
    ("PR", "2"): _Rule(StepAction.BILL_PATIENT,
                       "Coinsurance: bill the secondary coverage if there is one, else the "
                       "patient"),
    ("PR", "3"): _Rule(StepAction.BILL_PATIENT, "Copay: collect from the patient"),
    ("PR", "27"): _Rule(StepAction.BILL_PATIENT,
                        "Coverage had ended: bill the patient, or a coverage in force that "
                        "day"),
    ("PR", "96"): _Rule(StepAction.BILL_PATIENT,
                        "Non-covered and the patient's to pay: bill the patient"),
    ("PR", "119"): _Rule(StepAction.BILL_PATIENT,
                         "Benefit maximum reached: bill the patient, and tell them before the "
                         "next visit"),
    ("PR", "170"): _Rule(StepAction.BILL_PATIENT,
                         "Not paid to this provider type and the patient's to pay: bill the "
                         "patient"),
    ("PR", "204"): _Rule(StepAction.BILL_PATIENT,
                         "Not covered by the patient's plan: bill the patient"),
    ("PR", "242"): _Rule(StepAction.BILL_PATIENT,
                         "Out of network: the patient owes it under out-of-network benefits"),
    ("OA", "18"): _Rule(StepAction.REVIEW,
                        "Exact duplicate: do not resubmit; follow the original claim up"),
}

# Adjustments that are no one's work: the contract's fee-schedule cut and what an earlier
# payer already paid (a secondary remittance).
NOT_WORK: frozenset[tuple[str, str]] = frozenset({
    ("CO", "45"), ("PI", "45"), ("OA", "23"),
})

# RARCs that change the step whatever the CARC says.
_RARC_OVERRIDES: Mapping[str, _Rule] = {
    "MA130": _Rule(StepAction.NEW_ORIGINAL,
                   "Unprocessable, with no appeal rights: fix what the other remark codes "
                   "name and send a new claim (frequency 1), not a corrected one"),
}


def _normal_reason(reason: str) -> str:
    text = reason.strip().upper()
    return (text.lstrip("0") or text) if text.isdigit() else text


def is_work(group: str, reason: str) -> bool:
    """Whether an adjustment needs a person (CO-45 and OA-23 do not)."""
    return (group.strip().upper(), _normal_reason(reason)) not in NOT_WORK


def next_step(group: str, reason: str, remarks: Sequence[str] = ()) -> NextStep:
    """The next step for one CAS adjustment (group and CARC) with its remark codes.

    Never raises: a code Handbill does not list gets the code table's generic words and the
    REVIEW action.
    """
    grp = group.strip().upper()
    code = _normal_reason(reason)
    entry = carc_codes.carc(code)
    notes = [rarc_codes.rarc(r) for r in remarks if r.strip()]
    rule = None
    for note in notes:
        rule = _RARC_OVERRIDES.get(note.code)
        if rule is not None:
            break
    if rule is None:
        rule = _GROUP_RULES.get((grp, code))
    if rule is None and grp == "PR":
        rule = _Rule(StepAction.BILL_PATIENT,
                     "The payer put this on the patient: bill the patient")
    if rule is None:
        rule = _CARC_RULES.get(code)
    known = rule is not None and entry.known
    if rule is None:
        rule = _Rule(StepAction.REVIEW, entry.next_step)
    who = ""
    try:
        who = carc_codes.group(grp).who_owes
    except ValueError:
        pass
    meaning = entry.meaning
    if who:
        meaning = f"{meaning}. {who}"
    for note in notes:
        meaning = f"{meaning}. {note.code}: {note.meaning}"
    shown = " ".join([f"{grp}-{code}", *(n.code for n in notes)])
    return NextStep(shown, meaning, rule.step, rule.action, known)


# 277CA categories that reject a claim before adjudication (reference §7.2).
REJECTING_CATEGORIES: Mapping[str, str] = {
    "A3": "Returned as unprocessable",
    "A6": "Rejected for missing information",
    "A7": "Rejected for invalid information",
    "A8": "Rejected for a relational field in error",
}
# IK5 codes that reject a transaction set (reference §7.1).
REJECTING_999: frozenset[str] = frozenset({"R", "M", "W", "X"})

_RESEND = ("Fix the field named here, then send the claim again as a new original "
           "(frequency 1), not a corrected claim: it never reached adjudication, and the "
           "timely-filing clock kept running")


def rejection_step(kind: str, code: str, message: str = "") -> NextStep:
    """The next step for a 999 (``kind`` "999", ``code`` the IK5) or 277CA (``kind``
    "277ca", ``code`` the STC01 composite such as "A7:21:85") rejection, or (``kind``
    "claim") a claim marked rejected with only a note to go on."""
    said = message.strip()
    if kind == "999":
        status = code.strip().upper()[:1]
        meaning = ("The clearinghouse rejected the file's transaction set: it broke an X12 "
                   "or implementation-guide rule, so no claim in it reached the payer")
        known = status in REJECTING_999
        shown = f"999 {status or '?'}"
    elif kind == "claim":
        # Marked rejected without an acknowledgement on file (by hand, or an import).
        meaning = "The claim was rejected before adjudication"
        known = True
        shown = "Rejected"
    else:
        category = code.strip().upper().split(":")[0]
        words = REJECTING_CATEGORIES.get(category)
        known = words is not None
        meaning = (f"{words} by the payer's front end: the claim never reached "
                   "adjudication") if words else f"277CA category {category or '?'}"
        shown = f"277CA {code.strip()}"
    if said:
        meaning = f"{meaning}. It says: {said}"
    return NextStep(shown, meaning, _RESEND, StepAction.NEW_ORIGINAL, known)


def denied_claim_step() -> NextStep:
    """A claim denied (CLP02 = 4) with no line reason to go on."""
    info = carc_codes.claim_status("4")
    return NextStep("CLP02 4", info.meaning, info.next_step, StepAction.REVIEW)


# --------------------------------------------------------------------------------------------
# A/R aging
# --------------------------------------------------------------------------------------------

# (label, first day, last day) — the last bucket has no end.
BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-30", 0, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("91-120", 91, 120),
    (">120", 121, None),
)
BUCKET_LABELS: tuple[str, ...] = tuple(label for label, _first, _last in BUCKETS)


def bucket_of(age_days: int) -> str:
    """The aging bucket for an age in days (a date of service in the future counts as 0)."""
    age = max(0, age_days)
    for label, _first, last in BUCKETS:
        if last is None or age <= last:
            return label
    raise AssertionError("the last bucket has no end")  # pragma: no cover


def age_in_days(date_of_service: date, as_of: date) -> int:
    return max(0, (as_of - date_of_service).days)


@dataclass(frozen=True, slots=True)
class OpenBalance:
    """What one payer (or the patient, ``payer`` "") still owes on one claim."""

    claim: str
    payer: str
    date_of_service: date
    balance: Cents


@dataclass(frozen=True, slots=True)
class AgingRow:
    payer: str
    buckets: Mapping[str, Cents]
    total: Cents
    claims: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "payer": self.payer,
            "buckets": {label: str(self.buckets[label]) for label in BUCKET_LABELS},
            "total": str(self.total),
            "claims": self.claims,
        }


@dataclass(frozen=True, slots=True)
class AgingReport:
    as_of: date
    rows: tuple[AgingRow, ...]
    totals: Mapping[str, Cents]
    total: Cents
    # Credit balances (overpaid claims) are not aged: they are refunds to look at.
    credits: tuple[OpenBalance, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "aged_from": "date_of_service",
            "payers": [row.as_dict() for row in self.rows],
            "totals": {label: str(self.totals[label]) for label in BUCKET_LABELS},
            "total": str(self.total),
            "credit_balances": [
                {"claim": c.claim, "payer": c.payer, "balance": str(c.balance)}
                for c in self.credits
            ],
        }


def age_receivables(balances: Iterable[OpenBalance], *, as_of: date) -> AgingReport:
    """Open balances per payer and bucket, aged from the date of service (see module doc).

    Zero balances are left out; credit balances are listed apart, never netted against what
    is owed (that would hide both). Payers come largest total first.
    """
    sums: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(BUCKET_LABELS, 0))
    counts: dict[str, set[str]] = defaultdict(set)
    credits: list[OpenBalance] = []
    for item in balances:
        if item.balance.value < 0:
            credits.append(item)
            continue
        if not item.balance:
            continue
        label = bucket_of(age_in_days(item.date_of_service, as_of))
        sums[item.payer][label] += item.balance.value
        counts[item.payer].add(item.claim)
    rows = [
        AgingRow(payer, {k: Cents(v) for k, v in buckets.items()}, Cents(sum(buckets.values())),
                 len(counts[payer]))
        for payer, buckets in sums.items()
    ]
    rows.sort(key=lambda row: (-row.total.value, row.payer))
    totals = {label: total(row.buckets[label] for row in rows) for label in BUCKET_LABELS}
    return AgingReport(as_of, tuple(rows), totals, total(totals.values()),
                       tuple(sorted(credits, key=lambda c: (c.payer, c.claim))))


# --------------------------------------------------------------------------------------------
# Timely filing
# --------------------------------------------------------------------------------------------


class FilingState(StrEnum):
    OK = "ok"
    NEAR = "near"  # within the warning window
    PAST = "past"  # the limit has passed


DEFAULT_WARN_DAYS = 30


@dataclass(frozen=True, slots=True)
class FilingClock:
    deadline: date  # the last day the payer must receive the claim
    days_left: int  # negative once past
    state: FilingState

    @property
    def days_past(self) -> int:
        return max(0, -self.days_left)

    def as_dict(self) -> dict[str, Any]:
        return {"deadline": self.deadline.isoformat(), "days_left": self.days_left,
                "state": self.state.value}


def filing_clock(date_of_service: date, filing_days: int, *, as_of: date,
                 warn_days: int = DEFAULT_WARN_DAYS) -> FilingClock:
    """The countdown to the payer's timely-filing limit.

    The payer must receive the claim within ``filing_days`` of the date of service (the
    sandbox and most payers count it so), so the deadline is that many days after it.
    """
    if filing_days < 1:
        raise ValueError(f"a filing limit is at least one day, not {filing_days}")
    if warn_days < 0:
        raise ValueError(f"the warning window cannot be negative ({warn_days})")
    deadline = date_of_service + timedelta(days=filing_days)
    left = (deadline - as_of).days
    state = (FilingState.PAST if left < 0 else
             FilingState.NEAR if left <= warn_days else FilingState.OK)
    return FilingClock(deadline, left, state)


# --------------------------------------------------------------------------------------------
# Money at risk
# --------------------------------------------------------------------------------------------

AGE_CAP_DAYS = 180


def deadline_factor(days_left: int | None) -> int:
    """3 within two weeks of the filing deadline, 2 within 30 days, else 1 (also when past:
    see the module doc)."""
    if days_left is None or days_left < 0:
        return 1
    if days_left <= 14:
        return 3
    if days_left <= 30:
        return 2
    return 1


def money_at_risk(balance: Cents, age_days: int, days_left: int | None = None) -> int:
    """The follow-up queue's sort score (module doc): balance × age weight × deadline factor.

    An integer in cents-weighted units; zero or credit balances score 0.
    """
    if balance.value <= 0:
        return 0
    age = min(max(0, age_days), AGE_CAP_DAYS)
    return balance.value * (30 + age) * deadline_factor(days_left) // 30


# --------------------------------------------------------------------------------------------
# Underpayments
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PaidLine:
    """One adjudicated line, as the 835 left it."""

    claim: str
    line: str  # our line control number (REF*6R)
    code: str
    units_paid: int
    paid: Cents
    # AMT*B6 when the payer sent it; otherwise paid + patient share is what it allowed.
    allowed: Cents | None
    patient_share: Cents = Cents(0)

    @property
    def allowed_amount(self) -> Cents:
        return self.allowed if self.allowed is not None else self.paid + self.patient_share


@dataclass(frozen=True, slots=True)
class Underpayment:
    claim: str
    line: str
    code: str
    expected_allowed: Cents
    allowed: Cents
    difference: Cents  # expected − allowed, always positive

    def as_dict(self) -> dict[str, Any]:
        return {"claim": self.claim, "line": self.line, "code": self.code,
                "expected_allowed": str(self.expected_allowed), "allowed": str(self.allowed),
                "difference": str(self.difference)}


_NO_TOLERANCE = Cents(0)


def underpayment(line: PaidLine, policy: PayerPolicy | None, *,
                 tolerance: Cents = _NO_TOLERANCE) -> Underpayment | None:
    """The line when the payer allowed less than its fee schedule says (per unit × units
    paid), by more than ``tolerance``; None otherwise.

    What is compared is the allowed amount, not the payment: the patient's share comes out of
    the allowed amount, and a deductible is not an underpayment. A line with no units paid is
    a denial, not an underpayment; a code without a fee in the policy cannot be judged.
    """
    if policy is None or line.units_paid <= 0:
        return None
    fee = policy.expected_allowed(line.code)
    if fee is None:
        return None
    expected = fee * line.units_paid
    allowed = line.allowed_amount
    difference = expected - allowed
    if difference.value <= tolerance.value:
        return None
    return Underpayment(line.claim, line.line, line.code, expected, allowed, difference)


# --------------------------------------------------------------------------------------------
# Denial → rule feedback
# --------------------------------------------------------------------------------------------

DEFAULT_THRESHOLD = 3

# CARCs that say the payer does not pay for the code at all (for this provider type or plan).
NOT_COVERED = frozenset({"170", "96", "204"})
MISSING_AUTHORIZATION = frozenset({"197"})
BUNDLED = frozenset({"97", "236", "234"})
MODIFIER_MISSING = frozenset({"4"})
THERAPY_MODIFIERS = frozenset({"GP", "GO", "GN"})


@dataclass(frozen=True, slots=True)
class DenialEvent:
    """One denied line, as the follow-up side read it from the remittance."""

    payer: str  # a stable key for the payer (the Django side uses its id)
    claim: str
    line: str
    code: str
    group: str
    reason: str
    date_of_service: date
    modifiers: tuple[str, ...] = ()
    taxonomy: str = MASSAGE_THERAPIST
    # Other codes billed on the same claim and day (the column-1 partner of a bundling).
    with_codes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Proposal:
    """A payer-policy change that would have caught a repeated denial before submission."""

    payer: str
    code: str
    carc: str
    count: int
    # {"field": ..., "op": "add"|"remove"|"set", "value": ..., ["taxonomy": ...]}
    change: Mapping[str, Any]
    reason: str
    claims: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {"payer": self.payer, "code": self.code, "carc": self.carc, "count": self.count,
                "change": dict(self.change), "reason": self.reason,
                "claims": list(self.claims)}


def _most_common(values: Iterable[str]) -> str:
    counted: dict[str, int] = defaultdict(int)
    for value in values:
        counted[value] += 1
    return max(sorted(counted), key=lambda v: counted[v])


def _not_covered_change(code: str, taxonomy: str, policy: PayerPolicy) -> dict[str, Any] | None:
    if code == "97010":
        return ({"field": "bills_97010", "op": "set", "value": False}
                if policy.bills_97010 else None)
    if not policy.code_allowed(code, taxonomy):
        return None  # the policy already says so: the scrubber warned and was overridden
    return {"field": "allowed_codes", "op": "remove", "value": code, "taxonomy": taxonomy}


def _bundled_change(events: Sequence[DenialEvent], policy: PayerPolicy) -> dict[str, Any] | None:
    code = events[0].code
    if code == "97010":
        return ({"field": "bills_97010", "op": "set", "value": False}
                if policy.bills_97010 else None)
    x_used = [e for e in events if set(e.modifiers) & X_MODIFIERS]
    if policy.modifier_style is ModifierStyle.X_MODIFIERS and len(x_used) * 2 > len(events):
        # The lines carried XS/XE/XP/XU and were still denied: this payer takes only 59.
        return {"field": "modifier_style", "op": "set", "value": ModifierStyle.MODIFIER_59.value}
    bypass = X_MODIFIERS | {"59"}
    bare = [e for e in events if not set(e.modifiers) & bypass]
    partners = [p for e in bare for p in e.with_codes if p != code]
    if len(bare) * 2 <= len(events) or not partners:
        return None
    # Billed without a modifier next to the same partner, again and again: require one there.
    partner = _most_common(partners)
    if (code, partner) in policy.modifier_pairs:
        return None
    return {"field": "modifier_pairs", "op": "add", "value": [code, partner]}


def _therapy_change(events: Sequence[DenialEvent], policy: PayerPolicy) -> dict[str, Any] | None:
    if policy.therapy_modifier is not None:
        return None
    if any(set(e.modifiers) & THERAPY_MODIFIERS for e in events):
        return None
    return {"field": "therapy_modifier", "op": "set", "value": "GP"}


def _change_for(reason: str, events: Sequence[DenialEvent],
                policy: PayerPolicy) -> tuple[dict[str, Any], str] | None:
    code = events[0].code
    if reason in NOT_COVERED:
        taxonomy = _most_common(e.taxonomy for e in events)
        change = _not_covered_change(code, taxonomy, policy)
        why = (f"{policy.name} does not pay {code} (CARC {reason}); mark it not covered so the "
               "scrubber stops it before it is sent")
    elif reason in MISSING_AUTHORIZATION:
        change = (None if code in policy.prior_authorization_codes else
                  {"field": "prior_authorization_codes", "op": "add", "value": code})
        why = (f"{policy.name} wants an authorization for {code} (CARC 197); require one so a "
               "claim without it is held")
    elif reason in BUNDLED:
        change = _bundled_change(events, policy)
        partners = sorted({c for e in events for c in e.with_codes if c != code})
        with_text = f" with {', '.join(partners)}" if partners else ""
        why = (f"{policy.name} bundles {code}{with_text} (CARC {reason}) even with the "
               "modifier sent; follow its rule so the scrubber asks for the one it takes")
    elif reason in MODIFIER_MISSING:
        change = _therapy_change(events, policy)
        why = (f"{policy.name} wants a therapy modifier on {code} (CARC 4); require GP so the "
               "builder adds it")
    else:
        return None
    if change is None:
        return None
    return change, why


def propose_rules(
    denials: Iterable[DenialEvent],
    policies: Mapping[str, PayerPolicy],
    *,
    threshold: int = DEFAULT_THRESHOLD,
) -> list[Proposal]:
    """Policy changes for each (payer, code, CARC) denied at least ``threshold`` times.

    A line is counted once however many times it was denied. Nothing is proposed when the
    payer's policy already holds the rule, when the CARC says nothing a policy can hold, or
    when no policy is known for the payer. Sorted by count, most first.
    """
    if threshold < 1:
        raise ValueError(f"the threshold is at least 1, not {threshold}")
    grouped: dict[tuple[str, str, str], dict[tuple[str, str], DenialEvent]] = defaultdict(dict)
    for event in denials:
        key = (event.payer, event.code.strip().upper(), _normal_reason(event.reason))
        grouped[key].setdefault((event.claim, event.line), event)
    proposals: list[Proposal] = []
    for (payer, code, reason), by_line in grouped.items():
        if len(by_line) < threshold:
            continue
        policy = policies.get(payer)
        if policy is None:
            continue
        events = sorted(by_line.values(), key=lambda e: (e.date_of_service, e.claim, e.line))
        found = _change_for(reason, events, policy)
        if found is None:
            continue
        change, why = found
        claims = tuple(dict.fromkeys(e.claim for e in events))
        proposals.append(Proposal(payer, code, reason, len(by_line), change, why, claims))
    proposals.sort(key=lambda p: (-p.count, p.payer, p.code, p.carc))
    return proposals


class ChangeError(ValueError):
    """A proposed change that cannot be applied to these rules; the message says why."""


_CHANGEABLE = {
    "allowed_codes": "remove",
    "prior_authorization_codes": "add",
    "bills_97010": "set",
    "modifier_style": "set",
    "therapy_modifier": "set",
    "modifier_pairs": "add",
}


def apply_change(rules: Mapping[str, Any], change: Mapping[str, Any]) -> dict[str, Any]:
    """The stored rules (JSON shape, as ``policy.rules_of`` gives) with ``change`` applied.

    The result still has to pass ``policy_from_rules``; this only edits the table. Raises
    :class:`ChangeError` for a change of a shape it does not know.
    """
    name = change.get("field")
    op = change.get("op")
    value = change.get("value")
    if name not in _CHANGEABLE or _CHANGEABLE[name] != op:
        raise ChangeError(f"cannot apply {op!r} to {name!r}; known changes: "
                          + ", ".join(f"{op_} {field_}" for field_, op_ in _CHANGEABLE.items()))
    updated = dict(rules)
    if name == "allowed_codes":
        taxonomy = change.get("taxonomy") or MASSAGE_THERAPIST
        allowed = {k: list(v) for k, v in dict(updated.get("allowed_codes") or {}).items()}
        # A taxonomy not listed may bill any catalogue code: listing it means "all but this".
        current = allowed.get(taxonomy, sorted(cpt.CATALOGUE))
        allowed[taxonomy] = sorted(c for c in current if c != value)
        updated["allowed_codes"] = allowed
    elif name == "prior_authorization_codes":
        codes = set(updated.get("prior_authorization_codes") or [])
        codes.add(str(value))
        updated["prior_authorization_codes"] = sorted(codes)
    elif name == "modifier_pairs":
        if not (isinstance(value, list | tuple) and len(value) == 2):
            raise ChangeError(f"a modifier pair is [code, partner], not {value!r}")
        pairs = {tuple(pair) for pair in updated.get("modifier_pairs") or []}
        pairs.add((str(value[0]), str(value[1])))
        updated["modifier_pairs"] = [list(pair) for pair in sorted(pairs)]
    elif name == "bills_97010":
        updated["bills_97010"] = bool(value)
        if value is False:
            # The policy reader refuses 97010 listed or priced on a payer that does not pay it.
            updated["allowed_codes"] = {
                k: [c for c in v if c != "97010"]
                for k, v in dict(updated.get("allowed_codes") or {}).items()}
            fees = dict(updated.get("expected_allowed") or {})
            fees.pop("97010", None)
            updated["expected_allowed"] = fees
    else:
        updated[str(name)] = value
    return updated


def describe_change(change: Mapping[str, Any]) -> str:
    """The change in a biller's words."""
    name, op, value = change.get("field"), change.get("op"), change.get("value")
    if name == "allowed_codes":
        return (f"Stop billing {value} for provider type "
                f"{change.get('taxonomy') or MASSAGE_THERAPIST} (not covered)")
    if name == "prior_authorization_codes":
        return f"Require a prior authorization for {value}"
    if name == "bills_97010":
        return "Do not bill 97010 (hot/cold packs) to this payer"
    if name == "modifier_style":
        return "Use modifier 59 (not XS/XE/XP/XU) to bypass NCCI pairs"
    if name == "therapy_modifier":
        return f"Add {value} to always-therapy codes"
    if name == "modifier_pairs" and isinstance(value, list | tuple) and len(value) == 2:
        return f"Require 59/XS on {value[0]} when billed with {value[1]}"
    return f"{op} {name} = {value!r}"
