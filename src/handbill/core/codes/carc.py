"""What a remittance says and what the biller does next: adjustment reasons (CARC), adjustment
groups (CAS01) and claim statuses (CLP02), in our own words (reference §6.1-§6.3).

The X12 code lists change several times a year and the official wording is theirs; this table
holds the codes a hands-on practice meets, explained for the person working the denial. An 835
will carry codes we do not list: those get a generic entry (``known`` False), never an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class AdjustmentGroup(StrEnum):
    """CAS01: who carries an adjustment."""

    CO = "CO"  # contractual obligation
    PR = "PR"  # patient responsibility
    OA = "OA"  # other adjustment
    PI = "PI"  # payer-initiated reduction


@dataclass(frozen=True, slots=True)
class GroupInfo:
    group: AdjustmentGroup
    name: str
    who_owes: str


GROUPS: dict[AdjustmentGroup, GroupInfo] = {
    AdjustmentGroup.CO: GroupInfo(
        AdjustmentGroup.CO, "Contractual obligation",
        "The provider writes it off and may not bill the patient for it",
    ),
    AdjustmentGroup.PR: GroupInfo(
        AdjustmentGroup.PR, "Patient responsibility",
        "The patient owes it (deductible, coinsurance, copay, or a non-covered service the "
        "patient agreed in writing to pay)",
    ),
    AdjustmentGroup.OA: GroupInfo(
        AdjustmentGroup.OA, "Other adjustment",
        "Neither contractual nor the patient's; read the reason code (also used for exact "
        "duplicates)",
    ),
    AdjustmentGroup.PI: GroupInfo(
        AdjustmentGroup.PI, "Payer-initiated reduction",
        "The provider, unless the contract or an appeal says otherwise; never the patient",
    ),
}


def group(code: str) -> GroupInfo:
    """The adjustment group for CAS01; raises ValueError naming the four valid groups."""
    text = code.strip().upper() if isinstance(code, str) else ""
    try:
        return GROUPS[AdjustmentGroup(text)]
    except ValueError:
        raise ValueError(
            f"{code!r} is not an adjustment group: CAS01 is CO, PR, OA or PI"
        ) from None


@dataclass(frozen=True, slots=True)
class Carc:
    code: str
    meaning: str
    next_step: str
    usual_group: AdjustmentGroup | None
    known: bool = True


_C, _P, _O = AdjustmentGroup.CO, AdjustmentGroup.PR, AdjustmentGroup.OA

_CARCS: tuple[Carc, ...] = (
    Carc("1", "Deductible: the patient has not met the plan's deductible yet",
         "Bill the patient the amount; nothing to fix on the claim", _P),
    Carc("2", "Coinsurance: the patient's percentage share",
         "Bill the patient, or the secondary coverage if there is one", _P),
    Carc("3", "Copay: the patient's fixed share per visit",
         "Collect from the patient (ideally at the visit)", _P),
    Carc("4", "The procedure code does not fit the modifier, or a required modifier is missing",
         "Check the modifiers (GP, 59/X{EPSU}) against the payer's policy, correct the line "
         "and resubmit as a corrected claim", _C),
    Carc("16", "The claim lacks information needed to process it; a remark code (RARC) says "
               "what is missing",
         "Read the RARC, add the missing item and resubmit; no appeal needed", _C),
    Carc("18", "Exact duplicate of a claim or line already received",
         "Do not resubmit; find the original claim and follow that one up", _O),
    Carc("27", "The service was after the patient's coverage ended",
         "Verify eligibility for the date of service; bill another coverage or the patient", _P),
    Carc("29", "The payer's time limit for filing has passed",
         "Appeal only with proof of timely filing (an earlier acceptance report); otherwise "
         "write it off: in network, the patient may not be billed for a late claim", _C),
    Carc("45", "The charge is above the fee schedule or contracted maximum",
         "Write off the difference under CO; no action unless the allowed amount is wrong "
         "for the contract (PR here means out of network: the patient may owe it)", _C),
    Carc("50", "The payer does not consider the service medically necessary",
         "Check diagnosis codes and documentation (prescription, goals, progress); appeal "
         "with the notes, or bill the patient only with a signed waiver", _C),
    Carc("96", "Non-covered charge; a remark code (RARC) usually says why",
         "Read the RARC and the plan's coverage; bill the patient if the plan allows it, "
         "otherwise write it off", _C),
    Carc("97", "Paid as part of another service on the same claim or day (bundled)",
         "Check the NCCI pair: if the services were separate (another body region or time "
         "block) and documented so, add 59 or XS to the column-2 code and resubmit", _C),
    Carc("109", "Not covered by this payer: another payer or plan should receive the claim",
         "Confirm the patient's coverage and send the claim to the right payer", _C),
    Carc("119", "The benefit maximum for the period is reached (e.g. the yearly visit limit)",
         "Check the visit count and the plan year; bill the patient if the plan allows, and "
         "track remaining visits before the next booking", _P),
    Carc("170", "The payer does not pay this service when this provider type performs or "
                "bills it",
         "Payer does not pay this provider type; check the policy, bill the patient if allowed "
         "or drop the code", _C),
    Carc("197", "Precertification, authorization or notification was missing",
         "Get the authorization (a retro-authorization if the payer grants them) and "
         "resubmit with its number; otherwise write off", _C),
    Carc("204", "The service is not covered under the patient's current plan",
         "Confirm the plan's massage/therapy benefit; bill the patient if allowed", _P),
    Carc("234", "This procedure is not paid separately; a remark code (RARC) says more",
         "Read the RARC; usually bundled into another code that day (e.g. 97010)", _C),
    Carc("236", "This procedure, or this procedure with its modifier, is not compatible with "
                "another on the same day (NCCI or state workers' comp rules)",
         "Check the NCCI pair and the modifier; add 59/XS only when the note documents a "
         "separate region or time block, then resubmit", _C),
    Carc("242", "Services not provided by network or primary care providers",
         "Check the provider's network status with this plan; the patient may owe it under "
         "out-of-network benefits", _C),
)

CARCS: dict[str, Carc] = {entry.code: entry for entry in _CARCS}

_CARC_SHAPE = re.compile(r"^(?:[0-9]{1,3}|[A-Z][0-9]{1,2})$")


def carc(code: str) -> Carc:
    """The entry for a claim adjustment reason code; a code we do not list (or text that is
    not a code) gets a generic entry saying so, never an exception."""
    text = code.strip().upper() if isinstance(code, str) else ""
    # "045" and "45" are the same code.
    normalized = (text.lstrip("0") or text) if text.isdigit() else text
    entry = CARCS.get(normalized)
    if entry is not None:
        return entry
    if not _CARC_SHAPE.match(normalized):
        return Carc(
            normalized, f"{code!r} is not shaped like a claim adjustment reason code",
            "CARCs are 1-3 digits (45) or a letter and digits (A1, P2); check the 835", None,
            known=False,
        )
    return Carc(
        normalized, f"CARC {normalized} is not in Handbill's table",
        "Look the code up in the current X12 CARC list and read any remark code (RARC) on "
        "the same line", None, known=False,
    )


class ClaimStatus(StrEnum):
    """CLP02 in the 835 (reference §6.1)."""

    PRIMARY = "1"
    SECONDARY = "2"
    TERTIARY = "3"
    DENIED = "4"
    PRIMARY_FORWARDED = "19"
    SECONDARY_FORWARDED = "20"
    TERTIARY_FORWARDED = "21"
    REVERSAL = "22"
    NOT_OUR_CLAIM_FORWARDED = "23"
    PREDETERMINATION = "25"


@dataclass(frozen=True, slots=True)
class ClaimStatusInfo:
    code: str
    meaning: str
    next_step: str
    known: bool = True


CLAIM_STATUSES: dict[str, ClaimStatusInfo] = {
    info.code: info
    for info in (
        ClaimStatusInfo("1", "Processed as primary",
                        "Post the payment; bill any secondary coverage, then the patient"),
        ClaimStatusInfo("2", "Processed as secondary",
                        "Post the payment; bill the patient any remaining responsibility"),
        ClaimStatusInfo("3", "Processed as tertiary", "Post the payment; bill the patient"),
        ClaimStatusInfo("4", "Denied",
                        "Read the adjustment reasons: correct and resubmit, appeal, or bill "
                        "the patient where allowed"),
        ClaimStatusInfo("19", "Processed as primary and forwarded to another payer",
                        "Post the payment; do not bill the secondary yourself, it has the "
                        "claim (crossover)"),
        ClaimStatusInfo("20", "Processed as secondary and forwarded to another payer",
                        "Post the payment; wait for the next payer's remittance"),
        ClaimStatusInfo("21", "Processed as tertiary and forwarded to another payer",
                        "Post the payment; wait for the next payer's remittance"),
        ClaimStatusInfo("22", "Reversal of an earlier payment",
                        "Post the reversal against the original payment; a corrected claim "
                        "often follows in the same or a later remittance"),
        ClaimStatusInfo("23", "Not this payer's claim; forwarded to another payer",
                        "Watch for the other payer's response; confirm the patient's "
                        "coverage"),
        ClaimStatusInfo("25", "Predetermination: priced only, no payment",
                        "Nothing to post; keep the pricing for the treatment plan"),
    )
}


def claim_status(code: str) -> ClaimStatusInfo:
    """The entry for CLP02; an unlisted value gets a generic entry, never an exception."""
    text = code.strip() if isinstance(code, str) else ""
    info = CLAIM_STATUSES.get(text)
    if info is not None:
        return info
    return ClaimStatusInfo(
        text, f"Claim status {text!r} is not in Handbill's table",
        "Check CLP02 against the X12 835 claim status codes", known=False,
    )
