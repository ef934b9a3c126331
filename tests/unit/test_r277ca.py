"""The 277CA reader: the genuine (invalid) sample, and a pyx12-valid synthetic one."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from handbill.core.money import Cents
from handbill.x12.r277ca import ClaimAcknowledgment, read_277ca
from handbill.x12.tokens import X12Error, iter_transactions
from tests.unit.x12_build import interchange
from tests.unit.x12_validation import pyx12_errors

SAMPLE = Path("/work/shared/x12-samples/X214-payer-response.edi")

# One accepted claim, one rejected claim with a rejected line (loop 2220D); pyx12-valid.
VALID_BODY = [
    "BHT*0085*08*277X2140003*20261123*1025*TH",
    "HL*1**20*1",
    "NM1*PR*2*EXAMPLE HEALTH PLAN*****PI*EHP01",
    "TRN*1*0091182",
    "DTP*050*D8*20261122",
    "DTP*009*D8*20261123",
    "HL*2*1*21*1",
    "NM1*41*2*CEDAR STREET MASSAGE*****46*S00003",
    "TRN*2*BATCH0001",
    "STC*A1:19:PR*20261123*WQ*305",
    "QTY*90*1",
    "QTY*AA*1",
    "AMT*YU*190",
    "AMT*YY*115",
    "HL*3*2*19*1",
    "NM1*85*2*CEDAR STREET MASSAGE*****XX*1234567893",
    "TRN*1*0",
    "STC*A1:19:PR**WQ*305",
    "QTY*QA*1",
    "QTY*QC*1",
    "AMT*YU*190",
    "AMT*YY*115",
    "HL*4*3*PT",
    "NM1*QC*1*DOE*JANE****MI*MEM123456",
    "TRN*2*HB0000012",
    "STC*A2:20*20261123*WQ*190",
    "REF*1K*PAYERCLM123",
    "DTP*472*RD8*20261116-20261116",
    "HL*5*3*PT",
    "NM1*QC*1*ROE*RICHARD****MI*M1",
    "TRN*2*HB0000013",
    "STC*A7:21*20261123*U*115******A8:128",
    "DTP*472*RD8*20261110-20261117",
    "SVC*HC:97140:59*70*****1",
    "STC*A7:453*20261123*U",
    "REF*FJ*HB0000013-2",
    "DTP*472*D8*20261110",
]


def read(text: str | Path) -> ClaimAcknowledgment:
    (transaction,) = list(iter_transactions(text))
    return read_277ca(transaction)


def valid_text(body: list[str] = VALID_BODY) -> str:
    return interchange(body, functional_id="HN", version="005010X214")


def test_the_synthetic_277ca_is_valid_for_pyx12() -> None:
    assert pyx12_errors(valid_text()) == []


def test_accepted_and_rejected_claims() -> None:
    ack = read(valid_text())
    assert ack.problems == ()
    assert (ack.reference, ack.created_on) == ("277X2140003", date(2026, 11, 23))
    assert (ack.source_name, ack.source_id) == ("EXAMPLE HEALTH PLAN", "EHP01")
    assert (ack.receiver_id, ack.accepted_count, ack.rejected_count) == ("S00003", 1, 1)
    assert (ack.accepted_amount, ack.rejected_amount) == (Cents(19000), Cents(11500))
    assert ack.receiver_statuses[0].codes[0].category == "A1"
    accepted, rejected = ack.claims
    assert (accepted.claim_id, accepted.accepted, accepted.rejected) == (
        "HB0000012", True, False)
    assert accepted.payer_claim_number == "PAYERCLM123"
    assert accepted.service_from == accepted.service_to == date(2026, 11, 16)
    assert accepted.statuses[0].amount == Cents(19000)
    assert accepted.billing_provider == "CEDAR STREET MASSAGE"
    assert (rejected.claim_id, rejected.accepted, rejected.rejected) == (
        "HB0000013", False, True)
    assert rejected.payer_claim_number == ""
    assert rejected.categories == ("A7", "A8")
    assert [c.category_meaning for c in rejected.statuses[0].codes] == [
        "rejected: invalid information", "rejected: relational field in error"]
    assert (rejected.service_from, rejected.service_to) == (date(2026, 11, 10),
                                                            date(2026, 11, 17))
    (line,) = rejected.lines
    assert (line.code, line.modifiers, line.charge, line.units, line.control_number) == (
        "97140", ("59",), Cents(7000), "1", "HB0000013-2")
    assert line.statuses[0].codes[0].status == "453"
    assert line.service_date == date(2026, 11, 10)


def test_as_dict_names_each_category_in_words() -> None:
    summary = read(valid_text()).as_dict()
    claim = summary["claims"][1]
    assert claim["claim_id"] == "HB0000013" and claim["rejected"] is True
    assert claim["statuses"][0]["codes"][0] == {
        "category": "A7", "meaning": "rejected: invalid information", "status": "21",
        "entity": ""}
    assert summary["errors"] == []


def test_the_genuine_sample_reads_with_its_two_faults_reported() -> None:
    # pyx12 fails it for DTP 20230229 and the missing loop 2200C; we read every verdict.
    ack = read(SAMPLE)
    assert [(c.claim_id, c.categories, c.payer_claim_number) for c in ack.claims] == [
        ("PATIENT22222", ("A2",), "220216359803X"),
        ("PATIENT33333", ("A3", "A3"), ""),
        ("JONES44444", ("A7", "A7"), ""),
        ("JOHNSON55555", ("A2",), "220216359806X"),
        ("MILLS66666", ("A2",), "220216359807X"),
    ]
    assert [c.rejected for c in ack.claims] == [False, True, True, False, False]
    assert ack.claims[1].service_from is None  # 20230229 is not a date
    assert ack.claims[1].statuses[0].codes[1].status == "187"
    assert (ack.accepted_count, ack.rejected_count) == (3, 2)
    assert ack.problems == (
        "segment 30: DTP*472 date '20230229' is not a calendar date",
        "segment 18: the billing provider level (HL 19) has no TRN/STC: loop 2200C is "
        "required by 005010X214",
    )


def test_a_claim_without_trace_or_status_is_reported() -> None:
    body = [s for s in VALID_BODY if s not in ("TRN*2*HB0000012",
                                               "STC*A2:20*20261123*WQ*190")]
    ack = read(valid_text(body))
    assert ack.claims[0].claim_id == ""
    assert [p.split(": ", 1)[1] for p in ack.problems] == [
        "the claim at this patient level has no TRN*2 (our claim id)",
        "claim ? has no STC status"]


@pytest.mark.parametrize(("old", "new", "segment", "reason"), [
    ("STC*A2:20*20261123*WQ*190", "STC*A2*20261123*WQ*190", "STC",
     "STC01 'A2' must be category:status"),
    ("STC*A2:20*20261123*WQ*190", "STC*A2:20*20261123*WQ*1x0", "STC",
     "STC04 '1x0' is not an amount"),
    ("HL*5*3*PT", "HL*5*3*ZZ", "HL", "HL03 'ZZ' is not a 277CA level"),
    ("QTY*90*1", "QTY*90*one", "QTY", "QTY02 'one' is not a count"),
])
def test_malformed_content_names_the_segment(old: str, new: str, segment: str,
                                             reason: str) -> None:
    body = [new if s == old else s for s in VALID_BODY]
    with pytest.raises(X12Error, match=reason) as caught:
        read(valid_text(body))
    assert caught.value.segment_id == segment
    assert caught.value.position == 3 + 1 + body.index(new)
