"""The codes of an eligibility check (270/271, 005010X279A1), in our own words.

Service types (EQ01/EB03), eligibility and benefit codes (EB01), time periods (EB06),
quantity qualifiers (EB09) and rejection reasons (AAA03) with what the front desk does about
each. A 271 may carry codes this table does not name: they get a generic label, never an
error, except EB01, whose list is closed and decides what the answer means.

Service type BE is "massage therapy" in the 5010 code list (x12sdk's EQ/EB enums and three
independent code tables agree), although the domain reference (§7.3) says no massage code
exists; few payers answer for it, so Handbill asks for it beside 30, AE and PT.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# EQ01/EB03: the service types a hands-on practice asks about or meets in answers.
SERVICE_TYPES: Mapping[str, str] = {
    "1": "Medical care",
    "30": "Health benefit plan coverage",
    "33": "Chiropractic",
    "34": "Chiropractic office visits",
    "35": "Dental care",
    "47": "Hospital",
    "48": "Hospital inpatient",
    "50": "Hospital outpatient",
    "86": "Emergency services",
    "88": "Pharmacy",
    "98": "Office visit",
    "A0": "Outpatient visit",
    "A9": "Rehabilitation",
    "AC": "Rehabilitation, outpatient",
    "AD": "Occupational therapy",
    "AE": "Physical medicine",
    "AL": "Vision",
    "BE": "Massage therapy",
    "BG": "Cardiac rehabilitation",
    "MH": "Mental health",
    "PT": "Physical therapy",
    "UC": "Urgent care",
}

HEALTH_PLAN = "30"
PHYSICAL_MEDICINE = "AE"
MASSAGE_THERAPY = "BE"
PHYSICAL_THERAPY = "PT"
CHIROPRACTIC = "33"

# The benefit a massage visit is paid under, most telling first: most payers file massage by
# a therapist under physical medicine; a few answer for massage therapy itself.
THERAPY_SERVICE_TYPES: tuple[str, ...] = (
    PHYSICAL_MEDICINE, MASSAGE_THERAPY, PHYSICAL_THERAPY, CHIROPRACTIC,
)

# EB01, the complete 5010 list: a code outside it means the file is not a 271 we can trust.
BENEFIT_CODES: Mapping[str, str] = {
    "1": "Active coverage",
    "2": "Active, full risk capitation",
    "3": "Active, services capitated",
    "4": "Active, services capitated to the primary care provider",
    "5": "Active, pending investigation",
    "6": "Inactive",
    "7": "Inactive, pending eligibility update",
    "8": "Inactive, pending investigation",
    "A": "Coinsurance",
    "B": "Copay",
    "C": "Deductible",
    "CB": "Coverage basis",
    "D": "Benefit description",
    "E": "Exclusions",
    "F": "Limitations",
    "G": "Out-of-pocket maximum",
    "H": "Unlimited",
    "I": "Not covered",
    "J": "Cost containment",
    "K": "Reserve",
    "L": "Primary care provider",
    "M": "Pre-existing condition",
    "MC": "Managed care coordinator",
    "N": "Services restricted to the following provider",
    "O": "Not deemed a medical necessity",
    "P": "Benefit disclaimer",
    "Q": "Second surgical opinion required",
    "R": "Other or additional payer",
    "S": "Prior year history",
    "T": "Card reported lost or stolen",
    "U": "Contact the following entity for benefit information",
    "V": "Cannot process",
    "W": "Other source of data",
    "X": "Health care facility",
    "Y": "Spend down",
}

ACTIVE_CODES = frozenset({"1", "2", "3", "4", "5"})
INACTIVE_CODES = frozenset({"6", "7", "8"})
COINSURANCE, COPAY, DEDUCTIBLE, OUT_OF_POCKET, LIMITATION, NOT_COVERED = (
    "A", "B", "C", "G", "F", "I",
)

# EB06: the period an amount or count applies to, as words that finish a sentence.
TIME_PERIODS: Mapping[str, str] = {
    "6": "per hour",
    "7": "per day",
    "13": "per 24 hours",
    "21": "per year",
    "22": "this service year",
    "23": "this calendar year",
    "24": "year to date",
    "25": "per contract",
    "26": "per episode",
    "27": "per visit",
    "28": "outlier",
    "29": "remaining",
    "30": "exceeded",
    "31": "not exceeded",
    "32": "lifetime",
    "33": "lifetime remaining",
    "34": "per month",
    "35": "per week",
    "36": "per admission",
}
REMAINING = "29"
# Periods a yearly visit limit or deductible is counted over.
YEAR_PERIODS = frozenset({"21", "22", "23", "24", "25"})

# EB09 qualifiers that count visits.
VISIT_QUANTITIES = frozenset({"VS", "P6"})
QUANTITY_USED = "99"

# AAA01: Y means the request was valid and the answer is "no"; N means the request was not.
# AAA04: what the payer says to do next.
FOLLOW_UP_ACTIONS: Mapping[str, str] = {
    "C": "correct the request and send it again",
    "N": "do not send it again",
    "P": "send the original request again",
    "R": "it may be sent again",
    "S": "do not send it again; the payer asked a third party",
    "W": "wait 30 days and send it again",
    "X": "wait 10 days and send it again",
    "Y": "do not send it again; the payer will answer",
}


@dataclass(frozen=True, slots=True)
class RejectionReason:
    code: str
    words: str  # what went wrong, as the front desk would say it
    fix: str
    # The payer cannot tell who the patient is: a claim would be rejected the same way.
    identity: bool = False


def _reason(code: str, words: str, fix: str, *, identity: bool = False) -> RejectionReason:
    return RejectionReason(code, words, fix, identity)


_CHECK_CARD = "Compare the name, birth date and member ID with the insurance card"

REJECTION_REASONS: Mapping[str, RejectionReason] = {
    r.code: r
    for r in (
        _reason("04", "too many requests were sent for the payer to answer",
                "Send fewer checks at a time, then check again."),
        _reason("15", "information the payer needs is missing from the request",
                "Fill in the patient's and subscriber's name, birth date and member ID, then "
                "check again."),
        _reason("33", "the payer found errors in the request",
                "Check the patient's and subscriber's details and the date, then check again."),
        _reason("41", "this provider is not allowed to ask this payer about eligibility",
                "Ask the clearinghouse or the payer to enable eligibility checks for the "
                "practice's NPI."),
        _reason("42", "the payer's system could not answer just now",
                "Check again later; nothing is wrong with the request."),
        _reason("43", "the provider's NPI is missing or the payer does not accept it",
                "Check the practice's NPI in setup and that the payer has it on file."),
        _reason("44", "the provider's name is missing or does not match the payer's records",
                "Use the practice's name exactly as the payer has it (setup)."),
        _reason("45", "the provider's specialty is missing or not accepted",
                "Check the practice's taxonomy code in setup."),
        _reason("47", "the provider's state is missing or not accepted",
                "Check the practice's address in setup."),
        _reason("48", "the referring provider's ID is missing or not accepted",
                "Check the referring provider's NPI on the prescription or referral."),
        _reason("50", "this provider may not make eligibility inquiries with this payer",
                "Enrol the practice for electronic eligibility with the payer or the "
                "clearinghouse."),
        _reason("51", "the payer has no record of this provider",
                "Confirm the practice's credentialing and NPI with the payer."),
        _reason("52", "the date is outside the provider's enrolment with the plan",
                "Check the therapist's credentialing dates with this payer."),
        _reason("53", "the benefit asked about does not fit this provider type",
                "Call the payer to ask how massage by this provider type is covered."),
        _reason("56", "the payer does not accept the date asked about",
                "Check the visit date, then check again."),
        _reason("57", "the date of service is missing or not valid",
                "Check the visit date, then check again."),
        _reason("58", "the birth date is missing or not valid",
                f"{_CHECK_CARD}, then check again.", identity=True),
        _reason("60", "the birth date is after the date of service",
                "Correct the patient's or subscriber's birth date.", identity=True),
        _reason("61", "the payer has a date of death before the date of service",
                "Call the payer; do not treat under this coverage until it is resolved.",
                identity=True),
        _reason("62", "the date is outside the period the payer answers for",
                "Ask about a date nearer today (payers seldom answer far back or ahead)."),
        _reason("63", "the date of service is in the future",
                "Check again on or shortly before the visit date."),
        _reason("64", "the patient's ID is missing or not valid",
                f"{_CHECK_CARD}, then check again.", identity=True),
        _reason("65", "the patient's name is missing or not valid",
                "Enter the patient's name exactly as on the card, then check again.",
                identity=True),
        _reason("67", "the payer cannot find the patient",
                f"{_CHECK_CARD}; if they match, ask the patient for their current card.",
                identity=True),
        _reason("71", "the birth date does not match the payer's records",
                f"{_CHECK_CARD}, then check again.", identity=True),
        _reason("72", "the member ID is missing or not valid",
                "Copy the member ID exactly from the insurance card (with any letters in "
                "front, without spaces or dashes), then check again.", identity=True),
        _reason("73", "the subscriber's name is missing or not valid",
                "Enter the subscriber's name exactly as on the card, then check again.",
                identity=True),
        _reason("74", "the subscriber's sex is missing or not valid",
                "Correct the subscriber's sex, then check again.", identity=True),
        _reason("75", "the payer cannot find the subscriber",
                f"{_CHECK_CARD}; if they match, the patient may have a new plan: ask for the "
                "current card.", identity=True),
        _reason("76", "the payer has this member ID more than once",
                "Send the subscriber's birth date and full name with the member ID, or call "
                "the payer.", identity=True),
        _reason("77", "the payer found the subscriber but not this patient",
                "Check the patient's name, birth date and relationship to the subscriber.",
                identity=True),
        _reason("78", "the subscriber is not in the group or plan named",
                "Check the group number on the card, or leave it out, then check again.",
                identity=True),
        _reason("79", "the payer or clearinghouse does not recognise who sent the request",
                "Check the payer ID and the clearinghouse set-up."),
        _reason("80", "no answer came back; the request was ended",
                "Check again later."),
        _reason("T4", "the payer's name or ID is missing",
                "Set the payer's electronic payer ID in setup, then check again."),
    )
}


def service_type_label(code: str) -> str:
    return SERVICE_TYPES.get(code, f"service type {code}")


def rejection_reason(code: str) -> RejectionReason:
    """The reason for AAA03 ``code``; an unlisted code still gets words and a fix."""
    found = REJECTION_REASONS.get(code)
    if found is not None:
        return found
    return RejectionReason(
        code, f"the payer rejected the request (reason {code})",
        "Read the payer's reason code in the 271 and call the payer if it is unclear.",
    )
