"""Claim-level front-end edits: what the 277CA rejects before adjudication.

Each edit is a small function of the claim (and the payer's policy) that returns the claim
status to report, in the X12 claim status codes, with our own words for STC12. A rejected
claim never reaches the 835; the biller fixes it and sends a new original (reference §7.2).

Status codes used (X12 external code list 508): 116 claim submitted to the wrong payer; 164
the entity's contract/member number (entity IL, the subscriber); 33 subscriber and subscriber
ID not found; 562 the entity's NPI (entity 85 billing, 82 rendering); 187 date(s) of service;
178 submitted charges; 252 authorization/certification number; 629 property and casualty
claim number.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from handbill.core.codes.npi import is_valid_npi
from handbill.core.money import total
from handbill.core.outbound import BillingProvider, OutClaim
from handbill.core.policy import PayerPolicy, PayerType, PolicyFile

# Medicare Beneficiary Identifier: 11 characters, digit 1-9 first, never S, L, O, I, B or Z.
_MBI_LETTER = "AC-HJKMNP-RT-Y"
_MBI = re.compile(
    rf"^[1-9][{_MBI_LETTER}][{_MBI_LETTER}0-9][0-9][{_MBI_LETTER}][{_MBI_LETTER}0-9][0-9]"
    rf"[{_MBI_LETTER}]{{2}}[0-9]{{2}}$"
)
# Every other sandbox payer: 6 to 20 letters and digits.
_MEMBER_ID = re.compile(r"^[A-Z0-9]{6,20}$")


@dataclass(frozen=True, slots=True)
class Rejection:
    """One reason the front door turned a claim away (one STC of the 277CA)."""

    category: str  # A6 missing information, A7 invalid information
    code: str  # claim status code
    message: str  # our own words, for the biller
    entity: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"category": self.category, "code": self.code, "entity": self.entity,
                "message": self.message}


@dataclass(frozen=True, slots=True)
class Reception:
    """What the front door needs to know about one claim."""

    claim: OutClaim
    billing: BillingProvider
    policy_file: PolicyFile | None
    as_of: date

    @property
    def first_date(self) -> date:
        return min(line.date_of_service for line in self.claim.lines)

    @property
    def last_date(self) -> date:
        return max(line.date_of_service_end or line.date_of_service
                   for line in self.claim.lines)

    @property
    def policy(self) -> PayerPolicy | None:
        if self.policy_file is None:
            return None
        return self.policy_file.version_on(self.first_date)


Edit = Callable[[Reception], Rejection | None]


def unknown_payer(r: Reception) -> Rejection | None:
    if r.policy_file is not None:
        return None
    payer = r.claim.payer
    return Rejection("A7", "116", f"payer ID {payer.payer_id} ({payer.name}) is not a payer "
                     "the sandbox knows: check the payer ID on the coverage")


def no_plan_on_date(r: Reception) -> Rejection | None:
    if r.policy_file is None or r.policy is not None:
        return None
    return Rejection("A7", "187", f"{r.policy_file.payer_name} had no benefit plan in force "
                     f"on {r.first_date.isoformat()}: check the date of service and coverage")


def billing_npi(r: Reception) -> Rejection | None:
    if is_valid_npi(r.billing.npi):
        return None
    return Rejection("A7", "562", f"billing provider NPI {r.billing.npi} is not a valid NPI",
                     entity="85")


def rendering_npi(r: Reception) -> Rejection | None:
    rendering = r.claim.rendering
    if rendering is None or is_valid_npi(rendering.npi):
        return None
    return Rejection("A7", "562", f"rendering provider NPI {rendering.npi} is not a valid NPI",
                     entity="82")


def member_id(r: Reception) -> Rejection | None:
    """The member ID must have the payer's shape; an ID starting with X is never on file."""
    if r.policy_file is None:
        return None
    member = r.claim.subscriber.member_id.strip().upper()
    medicare = r.policy_file.payer_type == PayerType.MEDICARE
    shape = _MBI if medicare else _MEMBER_ID
    if not shape.match(member):
        wanted = ("an 11-character Medicare Beneficiary Identifier" if medicare
                  else "6 to 20 letters and digits")
        return Rejection("A7", "164", f"member ID {member or '(empty)'} is not in "
                         f"{r.policy_file.payer_name}'s format ({wanted}): copy it from the "
                         "card", entity="IL")
    if member.startswith("X"):
        return Rejection("A7", "33", f"no subscriber with member ID {member} at "
                         f"{r.policy_file.payer_name}: check the card and the spelling of "
                         "the name")
    return None


def future_service(r: Reception) -> Rejection | None:
    if r.last_date <= r.as_of:
        return None
    return Rejection("A7", "187", f"date of service {r.last_date.isoformat()} is after the "
                     f"day the claim was received ({r.as_of.isoformat()}): bill after the visit")


def charges_add_up(r: Reception) -> Rejection | None:
    lines = total(line.charge for line in r.claim.lines)
    if lines == r.claim.total_charge:
        return None
    return Rejection("A7", "178", f"the claim total {r.claim.total_charge} is not the sum of "
                     f"its lines ({lines})")


def authorization_from_first_visit(r: Reception) -> Rejection | None:
    policy = r.policy
    if policy is None or policy.authorization_after_visits != 0:
        return None
    if r.claim.prior_authorization.strip():
        return None
    return Rejection("A6", "252", f"{policy.name} needs an authorization number from the "
                     "first visit (REF*G1): add the authorization and send a new claim")


def casualty_claim_number(r: Reception) -> Rejection | None:
    policy = r.policy
    if policy is None or not policy.requires_claim_number:
        return None
    if r.claim.property_casualty_claim_number.strip():
        return None
    return Rejection("A6", "629", f"{policy.name} needs the carrier's claim number (REF*Y4) "
                     "on every bill")


EDITS: tuple[Edit, ...] = (
    unknown_payer, no_plan_on_date, billing_npi, rendering_npi, member_id, future_service,
    charges_add_up, authorization_from_first_visit, casualty_claim_number,
)


def rejections(reception: Reception) -> tuple[Rejection, ...]:
    """Every front-end problem of the claim, in the order the edits run; empty: accepted."""
    return tuple(found for edit in EDITS if (found := edit(reception)) is not None)


def policy_for(claim: OutClaim, policies: Mapping[str, PolicyFile]) -> PolicyFile | None:
    return policies.get(claim.payer.payer_id.strip().upper())
