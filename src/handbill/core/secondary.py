"""A secondary claim from the primary payer's answer: loops 2320/2330 and 2430 as values.

When the primary's 835 leaves the patient something to pay (deductible, coinsurance, copay) and
the patient has a second plan, that plan is billed the same lines with the primary's
adjudication attached, so it can coordinate benefits: what the primary paid (AMT*D), each
adjustment it made at claim and line level (CAS), what it left the patient (AMT*EAF), and when
(DTP*573). This module turns the primary's remittance, read back from our records as plain
values, into the writer's :class:`~handbill.core.outbound.PriorPayer`, and refuses with the
reason when the remittance cannot support a secondary claim. The claim stores the result as
JSON (``prior_payer_to_json``) so the 837 sent later says exactly what the biller saw.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from handbill.core.money import Cents
from handbill.core.outbound import (
    Address,
    Adjustment,
    LineAdjudication,
    Payer,
    PayerResponsibility,
    PersonName,
    PriorPayer,
    Subscriber,
)

# CLP02 values that are an adjudication a secondary payer can coordinate with.
ADJUDICATED = frozenset({"1", "2", "3", "19", "20", "21"})

# SBR05 when Medicare pays second (the Medicare Secondary Payer type): why another plan pays
# first. Without one, Medicare cannot process the claim as secondary.
MSP_TYPES: dict[str, str] = {
    "12": "working aged: the patient or spouse has employer group coverage",
    "13": "end-stage renal disease within the coordination period",
    "14": "no-fault insurance, including auto, pays first",
    "15": "workers' compensation pays first",
    "16": "a public health service or other federal agency pays first",
    "41": "black lung",
    "42": "veterans' administration",
    "43": "disability: a large group health plan pays first",
    "47": "other liability insurance pays first",
}

MEDICARE_FILING_INDICATORS = frozenset({"MA", "MB"})


class SecondaryError(ValueError):
    """The primary's answer cannot support a secondary claim; the message says why."""


@dataclass(frozen=True, slots=True)
class RemittedLine:
    """One SVC of the primary's 835, matched to one of our primary claim's lines."""

    line_number: int  # our primary claim's line it paid
    code: str
    modifiers: tuple[str, ...]
    units: int
    charge: Cents
    paid: Cents
    adjustments: tuple[Adjustment, ...]


@dataclass(frozen=True, slots=True)
class PrimaryRemittance:
    """The primary payer's last word on the claim (its CLP and SVCs)."""

    status: str  # CLP02
    charge: Cents
    paid: Cents
    patient_responsibility: Cents  # CLP05
    payer_claim_number: str  # CLP07
    adjudicated_on: date  # the payment's date (BPR16), else when we received it
    claim_adjustments: tuple[Adjustment, ...]
    lines: tuple[RemittedLine, ...]
    unmatched_lines: int = 0


def patient_share(remit: PrimaryRemittance) -> Cents:
    """What the primary left the patient: every PR adjustment, claim and line level."""
    total = Cents(0)
    for adjustment in remit.claim_adjustments:
        if adjustment.group == "PR":
            total = total + adjustment.amount
    for line in remit.lines:
        for adjustment in line.adjustments:
            if adjustment.group == "PR":
                total = total + adjustment.amount
    return total


def secondary_problems(remit: PrimaryRemittance, *, total_charge: Cents,
                       line_numbers: Sequence[int]) -> list[str]:
    """Why this remittance cannot be the primary's adjudication on a secondary claim."""
    problems: list[str] = []
    if remit.status not in ADJUDICATED:
        problems.append(
            f"the primary's last answer has status CLP02 {remit.status}, not an adjudication; "
            "a secondary is billed after the primary paid or applied the patient's share")
    if remit.charge != total_charge:
        problems.append(
            f"the primary adjudicated a charge of {remit.charge} but the claim totals "
            f"{total_charge}; the other payer's loop would not balance. Correct the primary "
            "claim first")
    share = patient_share(remit)
    if share.value <= 0:
        problems.append(
            "the primary left nothing to the patient (no PR adjustment), so there is nothing "
            "for a secondary plan to consider")
    if remit.unmatched_lines:
        problems.append(
            f"{remit.unmatched_lines} of the primary's paid lines match none of our lines; "
            "match them on the remittance first")
    seen = [line.line_number for line in remit.lines]
    missing = sorted(set(line_numbers) - set(seen))
    if remit.lines and missing:
        problems.append(
            "the primary's remittance says nothing about line(s) "
            + ", ".join(str(n) for n in missing) + "; every line needs its adjudication")
    return problems


def prior_payer(
    remit: PrimaryRemittance,
    *,
    payer: Payer,
    subscriber: Subscriber,
    relationship: str,
    controls: Mapping[int, str],
    total_charge: Cents,
) -> PriorPayer:
    """The primary's adjudication for the secondary claim's 2320/2330/2430 loops.

    ``controls`` maps each primary line number to the secondary claim's line control number
    (REF*6R), because 2430 attaches to the secondary's own lines. Raises SecondaryError.
    """
    problems = secondary_problems(remit, total_charge=total_charge,
                                  line_numbers=sorted(controls))
    if problems:
        raise SecondaryError("; ".join(problems))
    lines = tuple(
        LineAdjudication(
            control_number=controls[line.line_number],
            payer_id=payer.payer_id,
            code=line.code,
            modifiers=line.modifiers,
            paid=line.paid,
            units=line.units,
            adjustments=line.adjustments,
            adjudicated_on=remit.adjudicated_on,
        )
        for line in remit.lines
    )
    primary_subscriber = Subscriber(
        name=subscriber.name, member_id=subscriber.member_id, birth_date=subscriber.birth_date,
        sex=subscriber.sex, address=subscriber.address,
        responsibility=PayerResponsibility.PRIMARY,
        claim_filing_indicator=subscriber.claim_filing_indicator,
        group_number=subscriber.group_number, plan_name=subscriber.plan_name,
    )
    return PriorPayer(
        payer=payer,
        subscriber=primary_subscriber,
        paid=remit.paid,
        claim_adjustments=remit.claim_adjustments,
        adjudicated_on=remit.adjudicated_on,
        payer_claim_number=remit.payer_claim_number,
        relationship=relationship,
        line_adjudications=lines,
        remaining_patient_liability=patient_share(remit),
    )


def medicare_secondary_problem(filing_indicator: str, msp_type: str) -> str:
    """Empty when fine; else why Medicare cannot be billed as the secondary payer as asked."""
    if filing_indicator not in MEDICARE_FILING_INDICATORS:
        if msp_type:
            return (f"an MSP type ({msp_type}) is only for Medicare as the secondary payer; "
                    f"this payer files as {filing_indicator or 'unknown'}")
        return ""
    if not msp_type:
        listed = "; ".join(f"{code} {words}" for code, words in MSP_TYPES.items())
        return ("Medicare is the secondary payer here, so the claim needs the Medicare "
                "Secondary Payer type (SBR05) saying why the other plan pays first: "
                f"{listed}. Give it (--msp-type) or bill Medicare on paper with the MSP form")
    if msp_type not in MSP_TYPES:
        return (f"MSP type {msp_type!r} is not one of " + ", ".join(MSP_TYPES)
                + " (SBR05 for Medicare as the secondary payer)")
    return ""


# --- JSON, as the claim stores it ------------------------------------------------------------


def _adjustment_json(a: Adjustment) -> dict[str, Any]:
    return {"group": a.group, "reason": a.reason, "amount": a.amount.value,
            "quantity": a.quantity}


def _adjustment_from(data: Mapping[str, Any]) -> Adjustment:
    quantity = data.get("quantity")
    return Adjustment(str(data["group"]), str(data["reason"]), Cents(int(data["amount"])),
                      int(quantity) if quantity is not None else None)


def _address_json(a: Address | None) -> dict[str, str] | None:
    if a is None:
        return None
    return {"line1": a.line1, "line2": a.line2, "city": a.city, "state": a.state,
            "postal_code": a.postal_code}


def _address_from(data: Mapping[str, Any] | None) -> Address | None:
    if not data:
        return None
    return Address(line1=str(data["line1"]), city=str(data["city"]), state=str(data["state"]),
                   postal_code=str(data["postal_code"]), line2=str(data.get("line2", "")))


def prior_payer_to_json(prior: PriorPayer) -> dict[str, Any]:
    """Plain JSON (amounts in cents, dates ISO) that :func:`prior_payer_from_json` reads back."""
    sub = prior.subscriber
    return {
        "payer": {"name": prior.payer.name, "payer_id": prior.payer.payer_id,
                  "address": _address_json(prior.payer.address),
                  "program": prior.payer.program},
        "subscriber": {
            "last": sub.name.last, "first": sub.name.first, "middle": sub.name.middle,
            "suffix": sub.name.suffix, "member_id": sub.member_id,
            "birth_date": sub.birth_date.isoformat() if sub.birth_date else None,
            "sex": sub.sex, "address": _address_json(sub.address),
            "responsibility": sub.responsibility.value,
            "claim_filing_indicator": sub.claim_filing_indicator,
            "group_number": sub.group_number, "plan_name": sub.plan_name,
        },
        "paid": prior.paid.value,
        "claim_adjustments": [_adjustment_json(a) for a in prior.claim_adjustments],
        "adjudicated_on": prior.adjudicated_on.isoformat(),
        "payer_claim_number": prior.payer_claim_number,
        "relationship": prior.relationship,
        "remaining_patient_liability": (
            None if prior.remaining_patient_liability is None
            else prior.remaining_patient_liability.value),
        "lines": [
            {"control_number": a.control_number, "payer_id": a.payer_id, "code": a.code,
             "modifiers": list(a.modifiers), "paid": a.paid.value, "units": a.units,
             "adjustments": [_adjustment_json(x) for x in a.adjustments],
             "adjudicated_on": a.adjudicated_on.isoformat()}
            for a in prior.line_adjudications
        ],
    }


def prior_payer_from_json(data: Mapping[str, Any]) -> PriorPayer:
    payer = data["payer"]
    sub = data["subscriber"]
    remaining = data.get("remaining_patient_liability")
    birth = sub.get("birth_date")
    return PriorPayer(
        payer=Payer(name=str(payer["name"]), payer_id=str(payer["payer_id"]),
                    address=_address_from(payer.get("address")),
                    program=str(payer.get("program", "group"))),
        subscriber=Subscriber(
            name=PersonName(last=str(sub["last"]), first=str(sub.get("first", "")),
                            middle=str(sub.get("middle", "")),
                            suffix=str(sub.get("suffix", ""))),
            member_id=str(sub["member_id"]),
            birth_date=date.fromisoformat(birth) if birth else None,
            sex=str(sub.get("sex", "U")),
            address=_address_from(sub.get("address")),
            responsibility=PayerResponsibility(str(sub.get("responsibility", "P"))),
            claim_filing_indicator=str(sub["claim_filing_indicator"]),
            group_number=str(sub.get("group_number", "")),
            plan_name=str(sub.get("plan_name", "")),
        ),
        paid=Cents(int(data["paid"])),
        claim_adjustments=tuple(_adjustment_from(a) for a in data.get("claim_adjustments", ())),
        adjudicated_on=date.fromisoformat(str(data["adjudicated_on"])),
        payer_claim_number=str(data.get("payer_claim_number", "")),
        relationship=str(data.get("relationship", "18")),
        line_adjudications=tuple(
            LineAdjudication(
                control_number=str(a["control_number"]), payer_id=str(a["payer_id"]),
                code=str(a["code"]), modifiers=tuple(str(m) for m in a.get("modifiers", ())),
                paid=Cents(int(a["paid"])), units=int(a["units"]),
                adjustments=tuple(_adjustment_from(x) for x in a.get("adjustments", ())),
                adjudicated_on=date.fromisoformat(str(a["adjudicated_on"])),
            )
            for a in data.get("lines", ())
        ),
        remaining_patient_liability=None if remaining is None else Cents(int(remaining)),
    )
