"""277CA health care claim acknowledgment, 005010X214: writing one from typed values.

The 277CA is the front door's answer, claim by claim, before adjudication: accepted into the
payer's system (A1/A2, with the payer's claim number) or rejected (A3/A6/A7/A8) with a claim
status code saying what to fix (reference §7.2). Handbill writes it only in its payer sandbox.

Structure (HL levels): 20 information source (the payer or clearinghouse answering), 21
information receiver (the submitter), 19 billing provider, PT patient with one claim each.
The accepted/rejected counts and amounts at the receiver and provider levels are computed
here from the claims.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from handbill.core.money import Cents, total
from handbill.core.outbound import OutboundError, PersonName
from handbill.x12.writer import (
    Composite,
    GroupHeader,
    InterchangeHeader,
    X12Writer,
    clean_text,
    x12_date,
)

X214 = "005010X214"

ACCEPTED_CATEGORIES = frozenset({"A1", "A2"})
REJECTED_CATEGORIES = frozenset({"A3", "A6", "A7", "A8"})


@dataclass(frozen=True, slots=True)
class ClaimStatusOut:
    """One STC01 composite: category, status code, entity (when the code needs one)."""

    category: str  # A2 accepted; A3/A6/A7/A8 rejected
    code: str  # claim status code, e.g. 20 accepted for processing, 164 member number
    entity: str = ""  # e.g. IL subscriber, 85 billing provider, 82 rendering provider

    @property
    def composite(self) -> Composite:
        return (self.category, self.code, self.entity)


@dataclass(frozen=True, slots=True)
class ClaimAckOut:
    """Loop 2000D/2200D: one claim's acknowledgement."""

    claim_id: str  # TRN02: our CLM01
    patient: PersonName
    member_id: str
    total_charge: Cents
    service_from: date
    statuses: tuple[ClaimStatusOut, ...]  # the first decides accepted or rejected
    service_to: date | None = None
    payer_claim_number: str = ""  # REF*1K, accepted claims only
    message: str = ""  # STC12: free text, our own words

    @property
    def accepted(self) -> bool:
        return self.statuses[0].category in ACCEPTED_CATEGORIES


@dataclass(frozen=True, slots=True)
class ProviderAckOut:
    """Loop 2000C: a billing provider and its claims."""

    npi: str
    organization_name: str = ""
    person: PersonName | None = None  # a solo therapist billing under her own NPI
    claims: tuple[ClaimAckOut, ...] = ()


@dataclass(frozen=True, slots=True)
class ClaimAckTransaction:
    """One 277CA transaction set: the answer to one submitted 837 transaction set."""

    reference: str  # BHT03
    source_name: str  # 2100A: who answers (clearinghouse AY or payer PR)
    source_id: str
    receiver_name: str  # 2100B: the submitter
    receiver_id: str  # the submitter's ETIN
    batch_reference: str  # 2200B TRN02: the submitter's batch id (837 BHT03)
    received_on: date  # DTP*050
    processed_on: date  # DTP*009 and STC02
    providers: tuple[ProviderAckOut, ...]
    source_entity: str = "AY"  # AY clearinghouse, PR payer
    source_qualifier: str = "46"  # 46 ETIN, PI payer ID
    trace: str = "1"  # 2200A TRN02: this acknowledgement's own trace number
    created_time: str = "1200"  # BHT05, HHMM

    @property
    def claims(self) -> tuple[ClaimAckOut, ...]:
        return tuple(c for p in self.providers for c in p.claims)


@dataclass(frozen=True, slots=True)
class ClaimAckBatch:
    interchange: InterchangeHeader
    group_control_number: int
    transactions: tuple[ClaimAckTransaction, ...]
    first_transaction: int = 1


def claim_ack_problems(batch: ClaimAckBatch) -> list[str]:
    problems: list[str] = []
    if not batch.transactions:
        problems.append("a 277CA needs at least one transaction set")
    for t in batch.transactions:
        if not t.providers:
            problems.append(f"277CA {t.reference}: no billing provider (2000C) to report")
        for provider in t.providers:
            if not provider.claims:
                problems.append(f"provider {provider.npi}: no claims (2000D) to report")
            for claim in provider.claims:
                where = f"claim {claim.claim_id}"
                if not claim.statuses:
                    problems.append(f"{where}: needs at least one status (STC)")
                    continue
                categories = {s.category for s in claim.statuses}
                if not categories <= ACCEPTED_CATEGORIES | REJECTED_CATEGORIES:
                    problems.append(f"{where}: use A1/A2 (accepted) or A3/A6/A7/A8 (rejected) "
                                    f"categories, not {sorted(categories)}")
                if claim.accepted and not claim.payer_claim_number:
                    problems.append(f"{where}: an accepted claim carries the payer's claim "
                                    "number (REF*1K)")
                if not claim.accepted and claim.payer_claim_number:
                    problems.append(f"{where}: a rejected claim has no payer claim number")
    return problems


def write_277ca(batch: ClaimAckBatch) -> str:
    """The acknowledgements as one 277CA interchange, or OutboundError naming the problems."""
    problems = claim_ack_problems(batch)
    if problems:
        raise OutboundError("the 277CA was not written:\n" + "\n".join(problems))
    header = batch.interchange
    writer = X12Writer()
    writer.begin_interchange(header)
    writer.begin_group(GroupHeader(
        functional_id="HN", sender_code=header.sender_id.strip(),
        receiver_code=header.receiver_id.strip(), control_number=batch.group_control_number,
        created_at=header.created_at, version=X214,
    ))
    for offset, transaction in enumerate(batch.transactions):
        writer.begin_transaction("277", batch.first_transaction + offset, X214)
        _write_transaction(writer, transaction)
        writer.end_transaction()
    writer.end_group()
    writer.end_interchange()
    return writer.getvalue()


def _counts(w: X12Writer, claims: tuple[ClaimAckOut, ...], accepted_qty: str,
            rejected_qty: str) -> None:
    accepted = [c for c in claims if c.accepted]
    rejected = [c for c in claims if not c.accepted]
    if accepted:
        w.segment("QTY", accepted_qty, str(len(accepted)))
    if rejected:
        w.segment("QTY", rejected_qty, str(len(rejected)))
    if accepted:
        w.segment("AMT", "YU", total(c.total_charge for c in accepted).to_x12())
    if rejected:
        w.segment("AMT", "YY", total(c.total_charge for c in rejected).to_x12())


def _write_transaction(w: X12Writer, t: ClaimAckTransaction) -> None:
    processed = x12_date(t.processed_on)
    all_claims = t.claims
    charges = total(c.total_charge for c in all_claims).to_x12()
    w.segment("BHT", "0085", "08", t.reference, processed, t.created_time, "TH")
    # 2000A information source
    w.segment("HL", "1", "", "20", "1")
    w.segment("NM1", t.source_entity, "2", clean_text(t.source_name), "", "", "", "",
              t.source_qualifier, t.source_id)
    w.segment("TRN", "1", t.trace)
    w.segment("DTP", "050", "D8", x12_date(t.received_on))
    w.segment("DTP", "009", "D8", processed)
    # 2000B information receiver: the submitter, with the whole batch's receipt
    w.segment("HL", "2", "1", "21", "1")
    w.segment("NM1", "41", "2", clean_text(t.receiver_name), "", "", "", "", "46",
              t.receiver_id)
    w.segment("TRN", "2", t.batch_reference)
    w.segment("STC", ("A1", "19", "PR"), processed, "WQ", charges)
    _counts(w, all_claims, "90", "AA")
    hl = 2
    for provider in t.providers:
        hl += 1
        provider_hl = hl
        w.segment("HL", str(provider_hl), "2", "19", "1")
        if provider.person is None:
            w.segment("NM1", "85", "2", clean_text(provider.organization_name), "", "", "", "",
                      "XX", provider.npi)
        else:
            p = provider.person
            w.segment("NM1", "85", "1", clean_text(p.last), clean_text(p.first),
                      clean_text(p.middle), "", clean_text(p.suffix), "XX", provider.npi)
        w.segment("TRN", "1", t.batch_reference)
        provider_total = total(c.total_charge for c in provider.claims).to_x12()
        # The guide marks STC02 "not used" at the provider level.
        w.segment("STC", ("A1", "19", "PR"), "", "WQ", provider_total)
        _counts(w, provider.claims, "QA", "QC")
        for claim in provider.claims:
            hl += 1
            _write_claim(w, claim, hl, provider_hl, processed)


def _free_text(text: str) -> str:
    # STC12 is free text in our own words; separators and odd punctuation cannot travel.
    kept = "".join(c if c.isalnum() or c in " .,-/()'" else " " for c in clean_text(text))
    return " ".join(kept.split())[:264]


def _write_claim(w: X12Writer, c: ClaimAckOut, hl: int, parent: int, processed: str) -> None:
    w.segment("HL", str(hl), str(parent), "PT")
    p = c.patient
    w.segment("NM1", "QC", "1", clean_text(p.last), clean_text(p.first), clean_text(p.middle),
              "", clean_text(p.suffix), "MI", c.member_id)
    w.segment("TRN", "2", c.claim_id)
    action = "WQ" if c.accepted else "U"
    amount = c.total_charge.to_x12()
    for index, status in enumerate(c.statuses):
        message = _free_text(c.message) if index == 0 else ""
        w.segment("STC", status.composite, processed, action, amount,
                  "", "", "", "", "", "", "", message)
    if c.payer_claim_number:
        w.segment("REF", "1K", c.payer_claim_number)
    end = c.service_to if c.service_to is not None else c.service_from
    if end == c.service_from:
        w.segment("DTP", "472", "D8", x12_date(c.service_from))
    else:
        w.segment("DTP", "472", "RD8", f"{x12_date(c.service_from)}-{x12_date(end)}")
