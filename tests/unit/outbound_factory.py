"""Sample outbound batches for the 837P tests: synthetic people, made-up payers, valid NPIs.

``claim()`` is a clean original claim where the patient is the subscriber; each test changes
one thing with ``dataclasses.replace`` or the keyword arguments below. Names and addresses are
upper case already and ZIP codes are digits only, so a written-then-read claim compares equal
to the one that went in.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from handbill.core.money import Cents
from handbill.core.outbound import (
    Address,
    Adjustment,
    Batch,
    BillingProvider,
    ClaimGroup,
    ControlNumbers,
    Facility,
    LineAdjudication,
    OutClaim,
    OutLine,
    Patient,
    Payer,
    PayerResponsibility,
    PersonName,
    PriorPayer,
    ProviderRef,
    Receiver,
    RelatedCause,
    Submitter,
    Subscriber,
    TaxIdQualifier,
)

PACIFIC = timezone(timedelta(hours=-8))
CREATED_AT = datetime(2026, 11, 23, 9, 30, tzinfo=PACIFIC)
DOS = date(2026, 11, 16)

# Valid check digits (reference §9.1) — none of them belongs to a real provider we know of.
CLINIC_NPI = "1234567893"
THERAPIST_NPI = "1245319599"
REFERRING_NPI = "1679576722"
SECOND_CLINIC_NPI = "1003000126"
FACILITY_NPI = "1497758544"

CLINIC_ADDRESS = Address("100 MAIN ST", "ANYTOWN", "WA", "981010001", "SUITE 2")


def submitter() -> Submitter:
    return Submitter("EXAMPLE MASSAGE CLINIC", "SUBMIT01", "BILLING OFFICE", "5555550100")


def receiver() -> Receiver:
    return Receiver("EXAMPLE CLEARINGHOUSE", "RECV01")


def clinic(**changes: Any) -> BillingProvider:
    base = BillingProvider(
        npi=CLINIC_NPI, tax_id="123456789", tax_id_qualifier=TaxIdQualifier.EIN,
        taxonomy="225700000X", address=CLINIC_ADDRESS,
        organization_name="EXAMPLE MASSAGE CLINIC", phone="5555550100",
        contact_name="FRONT DESK",
    )
    return replace(base, **changes)


def solo_therapist(**changes: Any) -> BillingProvider:
    base = BillingProvider(
        npi=THERAPIST_NPI, tax_id="987654321", tax_id_qualifier=TaxIdQualifier.SSN,
        taxonomy="225700000X", address=Address("7 BIRCH LN", "SEATTLE", "WA", "981220002"),
        person=PersonName("SMITH", "ANNA", "M"),
    )
    return replace(base, **changes)


def payer(**changes: Any) -> Payer:
    return replace(Payer("EXAMPLE HEALTH PLAN", "PAYER01"), **changes)


def subscriber(**changes: Any) -> Subscriber:
    base = Subscriber(
        name=PersonName("DOE", "JANE", "Q"), member_id="MEM123456",
        birth_date=date(1980, 1, 1), sex="F",
        address=Address("1 ELM ST", "ANYTOWN", "WA", "98101"),
        responsibility=PayerResponsibility.PRIMARY, claim_filing_indicator="CI",
        group_number="GRP123",
    )
    return replace(base, **changes)


def line(number: int = 1, **changes: Any) -> OutLine:
    base = OutLine(
        number=number, code="97124", modifiers=("GP",), charge=Cents(12000), units=2,
        pointers=(1,), date_of_service=DOS, control_number=f"C1-{number}",
    )
    return replace(base, **changes)


def claim(claim_id: str = "C1", **changes: Any) -> OutClaim:
    lines = (
        line(1, control_number=f"{claim_id}-1"),
        line(2, code="97140", modifiers=("GP", "59"), charge=Cents(7050), units=1,
             pointers=(2, 1), control_number=f"{claim_id}-2"),
    )
    base = OutClaim(
        claim_id=claim_id, total_charge=Cents(19050), place_of_service="11", frequency="1",
        diagnoses=("M62.830", "M54.2"), lines=lines, subscriber=subscriber(), payer=payer(),
    )
    result = replace(base, **changes)
    if "lines" in changes and "total_charge" not in changes:
        result = replace(result, total_charge=Cents(sum(x.charge.value for x in result.lines)))
    return result


def child_patient(**changes: Any) -> Patient:
    base = Patient(
        name=PersonName("DOE", "TIMMY"), birth_date=date(2012, 6, 30), sex="M",
        address=Address("1 ELM ST", "ANYTOWN", "WA", "98101"), relationship="19",
    )
    return replace(base, **changes)


def referring() -> ProviderRef:
    return ProviderRef(PersonName("JONES", "ROBERT"), REFERRING_NPI)


def rendering() -> ProviderRef:
    return ProviderRef(PersonName("SMITH", "ANNA"), THERAPIST_NPI, taxonomy="225700000X")


def facility() -> Facility:
    return Facility("EXAMPLE SPORTS CENTER",
                    Address("55 STADIUM WAY", "ANYTOWN", "WA", "981010077"), FACILITY_NPI)


def auto_claim(claim_id: str = "AUTO1") -> OutClaim:
    return claim(
        claim_id,
        subscriber=subscriber(claim_filing_indicator="AM", group_number=""),
        payer=payer(name="EXAMPLE AUTO INSURANCE", payer_id="AUTO01"),
        related_causes=(RelatedCause.AUTO_ACCIDENT,), accident_state="WA",
        accident_date=date(2026, 10, 2), onset_date=date(2026, 10, 2),
        property_casualty_claim_number="PC-778899",
        diagnoses=("S13.4XXA", "M54.2"),
    )


def workers_comp_claim(claim_id: str = "WC1") -> OutClaim:
    return claim(
        claim_id,
        subscriber=subscriber(claim_filing_indicator="WC", group_number="",
                              plan_name="STATE FUND"),
        payer=payer(name="EXAMPLE WORKERS COMP", payer_id="WCOMP1"),
        related_causes=(RelatedCause.EMPLOYMENT,), onset_date=date(2026, 9, 14),
        property_casualty_claim_number="WC2026-0042",
    )


def primary_adjudication(base: OutClaim) -> PriorPayer:
    """The primary payer paid 80% of each line; the rest is coinsurance (PR 2)."""
    adjudications = []
    for item in base.lines:
        paid = Cents(item.charge.value * 8 // 10)
        adjudications.append(LineAdjudication(
            control_number=item.control_number, payer_id="PRIME1", code=item.code,
            modifiers=item.modifiers, paid=paid, units=item.units,
            adjustments=(Adjustment("PR", "2", item.charge - paid),),
            adjudicated_on=date(2026, 11, 20),
        ))
    return PriorPayer(
        payer=Payer("PRIME HEALTH", "PRIME1"),
        subscriber=subscriber(member_id="PRM998877", group_number="PG77"),
        paid=Cents(sum(a.paid.value for a in adjudications)),
        claim_adjustments=(), adjudicated_on=date(2026, 11, 20),
        payer_claim_number="PRIME-CCN-1", line_adjudications=tuple(adjudications),
        remaining_patient_liability=Cents(sum(
            a.amount.value for item in adjudications for a in item.adjustments
            if a.group == "PR")),
    )


def secondary_claim(claim_id: str = "SEC1") -> OutClaim:
    base = claim(claim_id, subscriber=subscriber(
        responsibility=PayerResponsibility.SECONDARY, member_id="SEC5555"))
    return replace(base, prior_payers=(primary_adjudication(base),))


def batch(*groups: ClaimGroup, **changes: Any) -> Batch:
    if not groups:
        groups = (ClaimGroup(clinic(), (claim(),)),)
    base = Batch(
        submitter=submitter(), receiver=receiver(), groups=groups,
        control=ControlNumbers(interchange=101, group=101, first_transaction=1),
        created_at=CREATED_AT, batch_id="BATCH0001",
    )
    return replace(base, **changes)


def one_claim_batch(out_claim: OutClaim, billing: BillingProvider | None = None,
                    **changes: Any) -> Batch:
    return batch(ClaimGroup(billing or clinic(), (out_claim,)), **changes)


def synthetic_claims(count: int, *, start: int = 1) -> list[OutClaim]:
    """Many distinct claims for the batching tests and the benchmark (deterministic)."""
    result = []
    for n in range(start, start + count):
        member = f"M{n % 997:06d}"
        sub = subscriber(member_id=member, name=PersonName("DOE", f"PAT{n % 997}"))
        changes: dict[str, Any] = {"subscriber": sub}
        if n % 3 == 0:
            changes["patient"] = child_patient(name=PersonName("DOE", f"KID{n % 991}"))
        result.append(claim(f"CL{n:07d}", **changes))
    return result


def utc_batch() -> Batch:
    return batch(created_at=datetime(2026, 11, 23, 17, 30, tzinfo=UTC))
