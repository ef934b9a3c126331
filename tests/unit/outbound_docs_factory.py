"""Synthetic outbound claims for the printed-document tests (no real people; NPIs have valid
check digits; phone numbers are in the 555-01xx fiction range)."""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from pypdf import PdfReader

from handbill.core.money import Cents, total
from handbill.core.outbound import (
    Address,
    BillingProvider,
    Facility,
    OtherCoverage,
    OutClaim,
    OutLine,
    Patient,
    Payer,
    PayerResponsibility,
    PersonName,
    PriorPayer,
    ProviderRef,
    RelatedCause,
    Subscriber,
    TaxIdQualifier,
)

BILLING_NPI = "1234567893"
THERAPIST_NPI = "9876543213"
REFERRING_NPI = "1245319599"
FIRST_DAY = date(2026, 3, 2)

PRACTICE_ADDRESS = Address(
    line1="1200 Example Ave", line2="Suite 4", city="Portland", state="OR",
    postal_code="972011234",
)


def billing_provider(**changes: Any) -> BillingProvider:
    provider = BillingProvider(
        npi=BILLING_NPI,
        tax_id="123456789",
        tax_id_qualifier=TaxIdQualifier.EIN,
        taxonomy="225700000X",
        address=PRACTICE_ADDRESS,
        organization_name="Alder Street Bodywork LLC",
        phone="5035550100",
        contact_name="Billing office",
    )
    return replace(provider, **changes)


def therapist(**changes: Any) -> ProviderRef:
    ref = ProviderRef(
        name=PersonName(last="Fernwood", first="Robin", middle="Kay"),
        npi=THERAPIST_NPI,
        taxonomy="225700000X",
        qualifier="82",
        credentials="LMT",
        license_number="MA60012345",
        license_state="OR",
    )
    return replace(ref, **changes)


def referring(**changes: Any) -> ProviderRef:
    ref = ProviderRef(
        name=PersonName(last="Example", first="Pat", middle="J"),
        npi=REFERRING_NPI,
        qualifier="DN",
        credentials="MD",
    )
    return replace(ref, **changes)


def payer(**changes: Any) -> Payer:
    value = Payer(
        name="Evergreen Mutual Health",
        payer_id="EVG01",
        address=Address(
            line1="PO Box 4400", city="Salem", state="OR", postal_code="97309"
        ),
        program="group",
    )
    return replace(value, **changes)


def subscriber(**changes: Any) -> Subscriber:
    value = Subscriber(
        name=PersonName(last="Lindqvist", first="Marta", middle="Ann"),
        member_id="EVG123456789",
        birth_date=date(1984, 7, 19),
        sex="F",
        address=Address(
            line1="77 Birch Lane", city="Beaverton", state="OR", postal_code="97005"
        ),
        responsibility=PayerResponsibility.PRIMARY,
        claim_filing_indicator="CI",
        group_number="GRP-4410",
        plan_name="Evergreen PPO Gold",
        phone="5035550142",
    )
    return replace(value, **changes)


def line(number: int, **changes: Any) -> OutLine:
    codes = ("97124", "97140", "97112", "97110", "97530", "97124", "97140", "97112")
    code = codes[(number - 1) % len(codes)]
    value = OutLine(
        number=number,
        code=code,
        modifiers=("GP",),
        charge=Cents(9000 + 1025 * number),
        units=1 + number % 3,
        pointers=(1, 2) if number % 2 else (2,),
        date_of_service=FIRST_DAY + timedelta(days=7 * ((number - 1) // 2)),
        control_number=f"HB0000012-{number}",
        label="",
    )
    return replace(value, **changes)


def claim(*, line_count: int = 2, **changes: Any) -> OutClaim:
    given = changes.pop("lines", None)
    lines = tuple(given) if given is not None else tuple(
        line(n) for n in range(1, line_count + 1)
    )
    value = OutClaim(
        claim_id="HB0000012",
        total_charge=total(item.charge for item in lines),
        place_of_service="11",
        frequency="1",
        diagnoses=("M54.50", "M62.830", "S13.4XXA"),
        lines=lines,
        subscriber=subscriber(),
        payer=payer(),
        patient_account_number="P000417",
        prior_authorization="PA-77812",
        onset_date=date(2026, 1, 12),
        referring=referring(),
        rendering=therapist(),
    )
    return replace(value, **changes)


def dependent_claim(**changes: Any) -> OutClaim:
    """A child on her parent's plan, with a second plan (box 9) and a separate facility."""
    child = Patient(
        name=PersonName(last="Lindqvist", first="Nora"),
        birth_date=date(2012, 4, 3),
        sex="F",
        address=Address(line1="77 Birch Lane", city="Beaverton", state="OR",
                        postal_code="97005"),
        relationship="19",
        phone="5035550142",
    )
    second = OtherCoverage(
        payer=Payer(name="Cascade Health Plan", payer_id="CSC77", program="group"),
        subscriber=subscriber(
            name=PersonName(last="Lindqvist", first="Erik", middle="T"),
            member_id="CSC-889900",
            group_number="",
            plan_name="Cascade Silver",
            sex="M",
            birth_date=date(1982, 11, 2),
        ),
        relationship="19",
    )
    facility = Facility(
        name="Riverside Wellness Studio",
        address=Address(line1="15 Quay St", city="Portland", state="OR",
                        postal_code="97209"),
        npi="1245319599",
    )
    return claim(patient=child, other_coverage=(second,), facility=facility, **changes)


def auto_claim(**changes: Any) -> OutClaim:
    return claim(
        payer=payer(name="Granite Auto Insurance", payer_id="GRN55", program="other"),
        subscriber=subscriber(claim_filing_indicator="AM", group_number="", plan_name=""),
        related_causes=(RelatedCause.AUTO_ACCIDENT,),
        accident_state="WA",
        accident_date=date(2026, 1, 9),
        onset_date=None,
        property_casualty_claim_number="AUTO-2026-55501",
        **changes,
    )


def secondary_claim(**changes: Any) -> OutClaim:
    primary_payer = payer(name="First Cedar Health", payer_id="FCH10")
    prior = PriorPayer(
        payer=primary_payer,
        subscriber=subscriber(member_id="FCH-1000-22", plan_name="First Cedar Bronze"),
        paid=Cents(6150),
        claim_adjustments=(),
        adjudicated_on=date(2026, 3, 20),
        payer_claim_number="FCH-CLM-0091",
    )
    return claim(
        subscriber=subscriber(responsibility=PayerResponsibility.SECONDARY),
        prior_payers=(prior,),
        patient_paid=Cents(2000),
        **changes,
    )


# --------------------------------------------------------------------------------------------
# Reading the PDFs back


@dataclass(frozen=True)
class TextRun:
    """One piece of text as drawn: its origin (left end of the baseline) in points from the
    page's top-left corner, and its font size."""

    text: str
    x: float
    y: float
    size: float


def text_runs(pdf: bytes) -> list[list[TextRun]]:
    """Every text run of every page, with positions, read back through pypdf."""
    reader = PdfReader(io.BytesIO(pdf))
    pages: list[list[TextRun]] = []
    for page in reader.pages:
        height = float(page.mediabox.height)
        runs: list[TextRun] = []

        def visit(text: str, cm: list[float], tm: list[float], _font: Any, size: float,
                  runs: list[TextRun] = runs, height: float = height) -> None:
            if not text.strip():
                return
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            runs.append(TextRun(text.strip(), round(x, 2), round(height - y, 2), size))

        page.extract_text(visitor_text=visit)
        pages.append(runs)
    return pages


def page_count(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)
