"""The 999 reader, on 999s written by pyx12 (an independent producer) and by hand."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from handbill.x12.r999 import Acknowledgment999, read_999
from handbill.x12.tokens import X12Error, iter_transactions
from tests.unit.x12_build import interchange

SAMPLES = Path("/work/shared/x12-samples")


def pyx12_999(sample: str) -> str:
    """The 999 pyx12 writes for one of the genuine 837P samples."""
    import pyx12.params
    import pyx12.x12n_document

    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    ack = io.StringIO()
    pyx12.x12n_document.x12n_document(
        param=pyx12.params.params(), src_file=str(SAMPLES / sample), fd_997=ack,
        fd_html=None, fd_xmldoc=None, fd_json=None)
    return ack.getvalue()


def read(text: str) -> Acknowledgment999:
    (transaction,) = list(iter_transactions(text))
    return read_999(transaction)


def test_pyx12_rejection_of_the_invalid_oxygen_sample() -> None:
    # X222-oxygen.edi is genuinely invalid: PWK02 "AD" twice (README of the samples).
    ack = read(pyx12_999("X222-oxygen.edi"))
    assert (ack.functional_id, ack.group_control_number, ack.version) == (
        "HC", "20213", "005010X222A1")
    (verdict,) = ack.transactions
    assert (verdict.set_id, verdict.control_number, verdict.status) == ("837", "0001", "R")
    assert not verdict.accepted and verdict.status_meaning == "rejected"
    assert verdict.codes == ("5",)
    assert [(e.segment_id, e.position, e.code, e.meaning) for e in verdict.segment_errors] == [
        ("PWK", 22, "8", "segment has data element errors"),
        ("PWK", 45, "8", "segment has data element errors")]
    element = verdict.segment_errors[0].elements[0]
    assert (element.position, element.reference_number, element.code, element.bad_value,
            element.meaning) == (2, "756", "7", "AD", "invalid code value")
    assert (ack.status, ack.included, ack.received, ack.accepted_count) == ("R", 1, 1, 0)
    assert ack.problems == ()


def test_pyx12_acceptance_of_a_valid_sample() -> None:
    ack = read(pyx12_999("X222-chiropractic.edi"))
    (verdict,) = ack.transactions
    assert verdict.accepted and verdict.status == "A" and verdict.segment_errors == ()
    assert (ack.status, ack.accepted_count) == ("A", 1)


HAND_WRITTEN = [
    "AK1*HC*4021*005010X222A1",
    "AK2*837*0001*005010X222A1",
    "IK5*A",
    "AK2*837*0002*005010X222A1",
    "IK3*NM1*23*2010BA*8",
    "CTX*CLM01:HB0000012",
    "IK4*9*67*6*ABC!23",
    "IK4*3:1*1035*5",
    "IK5*E*5",
    "AK2*837*0003*005010X222A1",
    "IK3*CLM*30**3",
    "IK5*R*I5*5",
    "AK9*P*3*3*2",
]


def test_accepted_with_errors_and_partial_acceptance() -> None:
    ack = read(interchange(HAND_WRITTEN, functional_id="FA", version="005010X231A1"))
    first, second, third = ack.transactions
    assert first.accepted and first.codes == ()
    assert second.accepted and second.status_meaning == "accepted with errors noted"
    (segment,) = second.segment_errors
    assert (segment.segment_id, segment.position, segment.loop) == ("NM1", 23, "2010BA")
    bad_char, too_long = segment.elements
    assert (bad_char.position, bad_char.component, bad_char.code, bad_char.bad_value) == (
        9, None, "6", "ABC!23")
    assert (too_long.position, too_long.component, too_long.meaning) == (
        3, 1, "element too long")
    assert not third.accepted and third.codes == ("I5", "5")
    assert third.segment_errors[0].meaning == "required segment missing"
    assert ack.status == "P" and ack.status_meaning.startswith("partially accepted")
    assert (ack.included, ack.received, ack.accepted_count) == (3, 3, 2)
    summary = ack.as_dict()
    assert summary["transactions"][2]["codes"][0] == {
        "code": "I5", "meaning": "one or more segments in error (implementation guide)"}
    assert summary["group"]["control_number"] == "4021"


def test_missing_verdicts_are_reported() -> None:
    body = ["AK1*HC*4021*005010X222A1", "AK2*837*0001*005010X222A1"]
    ack = read(interchange(body, functional_id="FA", version="005010X231A1"))
    assert ack.problems == ("transaction set 0001 has no IK5 verdict",
                            "AK9 (the group's verdict) is missing")


@pytest.mark.parametrize(("segment", "reason"), [
    ("IK4*X*67*6", "IK401 'X' is not an element position"),
    ("IK4*2:Y*67*6", "IK401-2 component 'Y' is not a number"),
])
def test_malformed_element_positions(segment: str, reason: str) -> None:
    body = ["AK1*HC*1*005010X222A1", "AK2*837*0001", "IK3*NM1*2**8", segment, "IK5*R*5",
            "AK9*R*1*1*0"]
    with pytest.raises(X12Error, match=reason) as caught:
        read(interchange(body, functional_id="FA", version="005010X231A1"))
    assert caught.value.segment_id == "IK4" and caught.value.position == 7


def test_ik4_without_its_segment() -> None:
    body = ["AK1*HC*1", "AK2*837*0001", "IK4*2*67*6", "IK5*R*5", "AK9*R*1*1*0"]
    with pytest.raises(X12Error, match="IK4 without the IK3"):
        read(interchange(body, functional_id="FA", version="005010X231A1"))


def test_counts_must_be_numbers() -> None:
    body = ["AK1*HC*1", "AK9*R*one*1*0"]
    with pytest.raises(X12Error, match="AK902 'one' is not a count"):
        read(interchange(body, functional_id="FA", version="005010X231A1"))
