"""837P professional claims, 005010X222A1: write a batch, read one back, check one.

``write_837(batch)`` turns the outbound claim values (``handbill.core.outbound``) into one
interchange for one receiver: a 2000A loop per billing provider, a 2000B per subscriber and
payer, a 2000C per patient who is not the subscriber, and the claims under them (reference
§5). Every claim is checked first (:func:`validate_claim`); if any claim of the batch has a
problem, nothing is written and the error lists every problem of every claim, so a biller can
fix them in one pass.

``read_837(transaction)`` reads a tokenised transaction set back into the same values
(``p837_read``), ``check_837(transaction)`` lists implementation-guide problems a structural
check misses (``p837_check``), and the pre-checks and the IG's limits live in ``p837_rules``;
this module is the one to import.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from handbill.core.outbound import (
    Address,
    Adjustment,
    Batch,
    BillingProvider,
    LineAdjudication,
    OutboundError,
    OutClaim,
    OutLine,
    Patient,
    Payer,
    PersonName,
    PriorPayer,
    ProviderRef,
    Subscriber,
)
from handbill.x12.p837_check import check_837
from handbill.x12.p837_read import (
    RawSegment,
    SegmentSource,
    Transaction837,
    X12ReadError,
    billing_summary,
    claim_summary,
    read_837,
)
from handbill.x12.p837_rules import (
    MAX_CLAIMS_PER_HL,
    X222A1,
    batch_problems,
    billing_provider_problems,
    claim_problems,
    diagnosis_for_x12,
    digits,
    phone_number,
    postal_code,
    validate_claim,
)
from handbill.x12.writer import (
    Composite,
    Element,
    GroupHeader,
    InterchangeHeader,
    X12Writer,
    clean_text,
    x12_date,
    x12_time,
)

__all__ = [
    "RawSegment",
    "SegmentSource",
    "Transaction837",
    "X12ReadError",
    "batch_problems",
    "billing_provider_problems",
    "billing_summary",
    "check_837",
    "claim_problems",
    "claim_summary",
    "read_837",
    "validate_claim",
    "write_837",
]


def write_837(batch: Batch) -> str:
    """The batch as one 837P interchange, or OutboundError listing every problem."""
    problems = batch_problems(batch)
    if problems:
        count = len(problems)
        raise OutboundError(
            f"the 837P batch {batch.batch_id!r} was not written: {count} problem"
            f"{'s' if count != 1 else ''} to fix first:\n" + "\n".join(problems)
        )
    writer = X12Writer()
    created = batch.created_at
    writer.begin_interchange(InterchangeHeader(
        sender_id=batch.submitter.etin.strip(), receiver_id=batch.receiver.etin.strip(),
        control_number=batch.control.interchange, created_at=created,
        sender_qualifier=batch.sender_qualifier, receiver_qualifier=batch.receiver_qualifier,
        production=batch.production,
    ))
    writer.begin_group(GroupHeader(
        functional_id="HC", sender_code=batch.submitter.etin.strip(),
        receiver_code=batch.receiver.etin.strip(), control_number=batch.control.group,
        created_at=created, version=X222A1,
    ))
    for offset, chunk in enumerate(_transaction_chunks(batch)):
        writer.begin_transaction("837", batch.control.first_transaction + offset, X222A1)
        _write_header(writer, batch)
        hl = _HlCounter()
        for billing, claims in chunk:
            _write_billing_provider(writer, billing, claims, hl)
        writer.end_transaction()
    writer.end_group()
    writer.end_interchange()
    return writer.getvalue()


def _transaction_chunks(
    batch: Batch,
) -> Iterator[list[tuple[BillingProvider, list[OutClaim]]]]:
    """Claims split into transaction sets of at most ``claims_per_transaction``, in order."""
    limit = batch.claims_per_transaction
    chunk: list[tuple[BillingProvider, list[OutClaim]]] = []
    room = limit
    for group in batch.groups:
        claims = list(group.claims)
        while claims:
            if room == 0:
                yield chunk
                chunk, room = [], limit
            taken, claims = claims[:room], claims[room:]
            chunk.append((group.billing, taken))
            room -= len(taken)
    if chunk:
        yield chunk


class _HlCounter:
    def __init__(self) -> None:
        self.last = 0

    def next(self) -> str:
        self.last += 1
        return str(self.last)


def _up(value: str) -> str:
    return clean_text(value)


def _write_header(w: X12Writer, batch: Batch) -> None:
    created = batch.created_at
    w.segment("BHT", "0019", "00", batch.batch_id.strip(), x12_date(created.date()),
              x12_time(created), "CH")
    w.segment("NM1", "41", "2", _up(batch.submitter.name), "", "", "", "", "46",
              batch.submitter.etin.strip())
    w.segment("PER", "IC", _up(batch.submitter.contact_name), "TE",
              phone_number(batch.submitter.phone))
    w.segment("NM1", "40", "2", _up(batch.receiver.name), "", "", "", "", "46",
              batch.receiver.etin.strip())


def _person_nm1(w: X12Writer, entity: str, name: PersonName, qualifier: str = "",
                identifier: str = "") -> None:
    w.segment("NM1", entity, "1", _up(name.last), _up(name.first), _up(name.middle), "",
              _up(name.suffix), qualifier, identifier)


def _address(w: X12Writer, address: Address) -> None:
    w.segment("N3", _up(address.line1), _up(address.line2))
    w.segment("N4", _up(address.city), _up(address.state), postal_code(address.postal_code))


@dataclass
class _SubscriberBlock:
    subscriber: Subscriber
    payer: Payer
    casualty_claim_number: str  # REF*Y4 in 2010BA when the subscriber is the patient
    own_claims: list[OutClaim] = field(default_factory=list)
    patients: dict[tuple[Patient, str], list[OutClaim]] = field(default_factory=dict)


def _subscriber_blocks(claims: Iterable[OutClaim]) -> list[_SubscriberBlock]:
    """Claims of the same subscriber and payer share one 2000B, in first-seen order.

    Claims where the subscriber is the patient and claims for her dependants go in separate
    2000B loops, so a 2000B either carries claims itself (HL04 0) or only 2000C children.
    """
    blocks: dict[tuple[Any, ...], _SubscriberBlock] = {}
    for claim in claims:
        own = claim.patient is None
        y4 = claim.property_casualty_claim_number.strip() if own else ""
        key = (claim.subscriber, claim.payer, own, y4)
        block = blocks.get(key)
        if block is None:
            block = blocks[key] = _SubscriberBlock(claim.subscriber, claim.payer, y4)
        if claim.patient is None:
            block.own_claims.append(claim)
        else:
            patient_key = (claim.patient, claim.property_casualty_claim_number.strip())
            block.patients.setdefault(patient_key, []).append(claim)
    return list(blocks.values())


def _chunks(claims: list[OutClaim], size: int) -> Iterator[list[OutClaim]]:
    for start in range(0, len(claims), size):
        yield claims[start:start + size]


def _write_billing_provider(w: X12Writer, billing: BillingProvider, claims: list[OutClaim],
                            hl: _HlCounter) -> None:
    billing_hl = hl.next()
    w.segment("HL", billing_hl, "", "20", "1")
    if billing.taxonomy.strip():
        w.segment("PRV", "BI", "PXC", billing.taxonomy.strip().upper())
    if billing.person is None:
        w.segment("NM1", "85", "2", _up(billing.organization_name), "", "", "", "", "XX",
                  billing.npi.strip())
    else:
        _person_nm1(w, "85", billing.person, "XX", billing.npi.strip())
    _address(w, billing.address)
    w.segment("REF", billing.tax_id_qualifier.value, digits(billing.tax_id))
    if billing.phone.strip():
        w.segment("PER", "IC", _up(billing.contact_name), "TE", phone_number(billing.phone))
    if billing.pay_to_address is not None:
        w.segment("NM1", "87", "2")
        _address(w, billing.pay_to_address)
    adjudications = _LineAdjudications()
    for block in _subscriber_blocks(claims):
        for chunk in _chunks(block.own_claims, MAX_CLAIMS_PER_HL):
            subscriber_hl = hl.next()
            w.segment("HL", subscriber_hl, billing_hl, "22", "0")
            _write_subscriber(w, block, patient_is_subscriber=True)
            for claim in chunk:
                _write_claim(w, claim, billing, adjudications)
        if block.patients:
            subscriber_hl = hl.next()
            w.segment("HL", subscriber_hl, billing_hl, "22", "1")
            _write_subscriber(w, block, patient_is_subscriber=False)
            for (patient, y4), patient_claims in block.patients.items():
                for chunk in _chunks(patient_claims, MAX_CLAIMS_PER_HL):
                    w.segment("HL", hl.next(), subscriber_hl, "23", "0")
                    _write_patient(w, patient, y4)
                    for claim in chunk:
                        _write_claim(w, claim, billing, adjudications)


def _write_subscriber(w: X12Writer, block: _SubscriberBlock, *,
                      patient_is_subscriber: bool) -> None:
    sub = block.subscriber
    group_number = sub.group_number.strip()
    # SBR04 (group or plan name) only when there is no group number (IG note on SBR04).
    plan_name = "" if group_number else _up(sub.plan_name)
    w.segment("SBR", sub.responsibility.value, "18" if patient_is_subscriber else "",
              group_number, plan_name, sub.insurance_type_code, "", "", "",
              sub.claim_filing_indicator)
    _person_nm1(w, "IL", sub.name, "MI", sub.member_id.strip())
    if sub.address is not None:
        _address(w, sub.address)
    if patient_is_subscriber and sub.birth_date is not None:
        w.segment("DMG", "D8", x12_date(sub.birth_date), sub.sex)
    if block.casualty_claim_number:
        w.segment("REF", "Y4", block.casualty_claim_number)
    _write_payer(w, "PR", block.payer)


def _write_payer(w: X12Writer, entity: str, payer: Payer) -> None:
    w.segment("NM1", entity, "2", _up(payer.name), "", "", "", "", "PI", payer.payer_id.strip())
    if payer.address is not None:
        _address(w, payer.address)


def _write_patient(w: X12Writer, patient: Patient, casualty_claim_number: str) -> None:
    w.segment("PAT", patient.relationship)
    _person_nm1(w, "QC", patient.name)
    _address(w, patient.address)
    w.segment("DMG", "D8", x12_date(patient.birth_date), patient.sex)
    if casualty_claim_number:
        w.segment("REF", "Y4", casualty_claim_number)


class _LineAdjudications:
    """Loop 2430 entries of the claim being written, by line control number."""

    def __init__(self) -> None:
        self.by_line: dict[str, list[LineAdjudication]] = {}

    def load(self, claim: OutClaim) -> None:
        self.by_line = {}
        for prior in claim.prior_payers:
            for adjudication in prior.line_adjudications:
                key = adjudication.control_number.strip()
                self.by_line.setdefault(key, []).append(adjudication)


def _write_claim(w: X12Writer, claim: OutClaim, billing: BillingProvider,
                 adjudications: _LineAdjudications) -> None:
    causes = [cause.value for cause in claim.related_causes]
    related: Composite = ()
    if causes:
        state = claim.accident_state.strip().upper() if "AA" in causes else ""
        related = (causes[0], causes[1] if len(causes) > 1 else "", "", state)
    w.segment(
        "CLM", claim.claim_id.strip(), claim.total_charge.to_x12(), "", "",
        (claim.place_of_service, "B", claim.frequency),
        "Y" if claim.signature_on_file else "N",
        "A" if claim.assignment_accepted else "C",
        "Y" if claim.assignment_accepted else "N",
        "Y", "", related,
    )
    if claim.onset_date is not None:
        w.segment("DTP", "431", "D8", x12_date(claim.onset_date))
    if claim.accident_date is not None:
        w.segment("DTP", "439", "D8", x12_date(claim.accident_date))
    if claim.patient_paid.value > 0:
        w.segment("AMT", "F5", claim.patient_paid.to_x12())
    if claim.referral_number.strip():
        w.segment("REF", "9F", claim.referral_number.strip())
    if claim.prior_authorization.strip():
        w.segment("REF", "G1", claim.prior_authorization.strip())
    if claim.payer_claim_number.strip():
        w.segment("REF", "F8", claim.payer_claim_number.strip())
    codes: list[Element] = []
    for position, code in enumerate(claim.diagnoses):
        codes.append(("ABK" if position == 0 else "ABF", diagnosis_for_x12(code)))
    w.segment("HI", *codes)
    referring = claim.referring
    if referring is not None and referring.qualifier in ("DN", "P3"):
        _person_nm1(w, referring.qualifier, referring.name, "XX", referring.npi.strip())
    rendering = claim.rendering
    if rendering is not None and rendering.npi.strip() != billing.npi.strip():
        _person_nm1(w, "82", rendering.name, "XX", rendering.npi.strip())
        if rendering.taxonomy.strip():
            w.segment("PRV", "PE", "PXC", rendering.taxonomy.strip().upper())
    facility = claim.facility
    if facility is not None and facility.address != billing.address:
        w.segment("NM1", "77", "2", _up(facility.name), "", "", "", "",
                  "XX" if facility.npi.strip() else "", facility.npi.strip())
        _address(w, facility.address)
    for prior in claim.prior_payers:
        _write_prior_payer(w, claim, prior)
    adjudications.load(claim)
    ordering = referring if referring is not None and referring.qualifier == "DK" else None
    for line in claim.lines:
        _write_line(w, claim, line, ordering, adjudications.by_line.get(
            line.control_number.strip(), ()))


def _write_prior_payer(w: X12Writer, claim: OutClaim, prior: PriorPayer) -> None:
    sub = prior.subscriber
    group_number = sub.group_number.strip()
    w.segment("SBR", sub.responsibility.value, prior.relationship, group_number,
              "" if group_number else _up(sub.plan_name), sub.insurance_type_code, "", "", "",
              sub.claim_filing_indicator)
    _write_adjustments(w, prior.claim_adjustments)
    w.segment("AMT", "D", prior.paid.to_x12())
    if prior.remaining_patient_liability is not None:
        w.segment("AMT", "EAF", prior.remaining_patient_liability.to_x12())
    assigned = "Y" if claim.assignment_accepted else "N"
    w.segment("OI", "", "", assigned, "", "", "Y")
    _person_nm1(w, "IL", sub.name, "MI", sub.member_id.strip())
    if sub.address is not None:
        _address(w, sub.address)
    _write_payer(w, "PR", prior.payer)
    # The claim-level date goes out only when no line carries its own (IG note on 2330B DTP).
    if not prior.line_adjudications:
        w.segment("DTP", "573", "D8", x12_date(prior.adjudicated_on))
    if prior.payer_claim_number.strip():
        w.segment("REF", "F8", prior.payer_claim_number.strip())


def _write_adjustments(w: X12Writer, adjustments: Sequence[Adjustment]) -> None:
    by_group: dict[str, list[Adjustment]] = {}
    for adjustment in adjustments:
        by_group.setdefault(adjustment.group, []).append(adjustment)
    for group, items in by_group.items():
        elements: list[Element] = [group]
        for item in items:
            quantity = "" if item.quantity is None else str(item.quantity)
            elements.extend((item.reason, item.amount.to_x12(), quantity))
        w.segment("CAS", *elements)


def _write_line(w: X12Writer, claim: OutClaim, line: OutLine, ordering: ProviderRef | None,
                adjudications: Sequence[LineAdjudication]) -> None:
    w.segment("LX", str(line.number))
    procedure: Composite = ("HC", line.code.strip().upper(),
                            *(m.strip().upper() for m in line.modifiers))
    place = line.place_of_service
    if place == claim.place_of_service:
        place = ""
    w.segment("SV1", procedure, line.charge.to_x12(), "UN", str(line.units), place, "",
              tuple(str(pointer) for pointer in line.pointers))
    end = line.date_of_service_end
    if end is None or end == line.date_of_service:
        w.segment("DTP", "472", "D8", x12_date(line.date_of_service))
    else:
        w.segment("DTP", "472", "RD8", f"{x12_date(line.date_of_service)}-{x12_date(end)}")
    w.segment("REF", "6R", line.control_number.strip())
    if ordering is not None:
        _person_nm1(w, "DK", ordering.name, "XX", ordering.npi.strip())
    for adjudication in adjudications:
        paid_procedure: Composite = ("HC", adjudication.code.strip().upper(),
                                     *(m.strip().upper() for m in adjudication.modifiers))
        w.segment("SVD", adjudication.payer_id.strip(), adjudication.paid.to_x12(),
                  paid_procedure, "", str(adjudication.units))
        _write_adjustments(w, adjudication.adjustments)
        w.segment("DTP", "573", "D8", x12_date(adjudication.adjudicated_on))

