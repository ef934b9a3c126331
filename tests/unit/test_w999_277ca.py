"""999 (005010X231A1) and 277CA (005010X214) writers: valid under pyx12, with group statuses
and counts computed from what they acknowledge, and inconsistent values refused."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from handbill.core.money import Cents
from handbill.core.outbound import OutboundError, PersonName
from handbill.x12.w277ca import (
    ClaimAckBatch,
    ClaimAckOut,
    ClaimAckTransaction,
    ClaimStatusOut,
    ProviderAckOut,
    write_277ca,
)
from handbill.x12.w999 import (
    AckBatch,
    AckCode,
    ElementNote,
    GroupAck,
    SegmentNote,
    TransactionAck,
    write_999,
)
from handbill.x12.writer import InterchangeHeader
from tests.unit.x12_validation import pyx12_errors

HEADER = InterchangeHeader("RECV01", "SUBMIT01", 77, datetime(2026, 11, 23, 6, 0, tzinfo=UTC))
X222A1 = "005010X222A1"


def segments(text: str) -> list[list[str]]:
    return [s.split("*") for s in text.split("~") if s]


def find(text: str, tag: str) -> list[list[str]]:
    return [s for s in segments(text) if s[0] == tag]


def accepted(control: str = "0001") -> TransactionAck:
    return TransactionAck("837", control, AckCode.ACCEPTED, X222A1)


def rejected_count(control: str = "0002") -> TransactionAck:
    return TransactionAck("837", control, AckCode.REJECTED, X222A1, (), ("4",))


def rejected_segment(control: str = "0003") -> TransactionAck:
    note = SegmentNote("DTP", 24, "8", "2400",
                       (ElementNote(3, "8", None, "1251", "2026*1340"),))
    return TransactionAck("837", control, AckCode.REJECTED, X222A1, (note,), ("5",))


def group(*transactions: TransactionAck, **changes: Any) -> GroupAck:
    return replace(GroupAck("HC", "101", X222A1, transactions or (accepted(),)), **changes)


def ack(*groups: GroupAck) -> str:
    return write_999(AckBatch(HEADER, 77, groups or (group(),)))


# -- 999 ---------------------------------------------------------------------------------------


def test_an_accepted_group_is_a_valid_999() -> None:
    text = ack()
    assert pyx12_errors(text) == []
    assert find(text, "GS")[0][1] == "FA" and find(text, "GS")[0][8] == "005010X231A1"
    assert find(text, "ST") == [["ST", "999", "0001", "005010X231A1"]]
    assert find(text, "AK1") == [["AK1", "HC", "101", X222A1]]
    assert find(text, "AK2") == [["AK2", "837", "0001", X222A1]]
    assert find(text, "IK5") == [["IK5", "A"]]
    assert find(text, "AK9") == [["AK9", "A", "1", "1", "1"]]


def test_rejections_point_at_the_segment_and_element() -> None:
    text = ack(group(accepted(), rejected_count(), rejected_segment()))
    assert pyx12_errors(text) == []
    assert find(text, "IK5") == [["IK5", "A"], ["IK5", "R", "4"], ["IK5", "R", "5"]]
    assert find(text, "IK3") == [["IK3", "DTP", "24", "2400", "8"]]
    # The copy of the bad data loses the separator it contained.
    assert find(text, "IK4") == [["IK4", "3", "1251", "8", "20261340"]]
    # Some accepted, some not: partially accepted, with the counts.
    assert find(text, "AK9") == [["AK9", "P", "3", "3", "1"]]


def test_accepted_with_errors_and_all_rejected() -> None:
    warned = TransactionAck("837", "0001", AckCode.ACCEPTED_WITH_ERRORS, X222A1,
                            (SegmentNote("CLM", 18, "8"),))
    text = ack(group(warned), group(rejected_count(), control_number="102"))
    assert pyx12_errors(text) == []
    assert [s[1] for s in find(text, "AK9")] == ["E", "R"]
    assert find(text, "IK5")[0] == ["IK5", "E"]
    assert [s[2] for s in find(text, "ST")] == ["0001", "0002"]


def test_a_group_with_a_broken_trailer_is_rejected_whole() -> None:
    text = ack(group(accepted(), accepted("0002"), errors=("5",), included=3))
    assert pyx12_errors(text) == []
    assert find(text, "AK9") == [["AK9", "R", "3", "2", "0", "5"]]


@pytest.mark.parametrize(("bad", "message"), [
    (TransactionAck("837", "0001", AckCode.ACCEPTED, X222A1, (), ("5",)), "use E"),
    (TransactionAck("837", "0001", AckCode.REJECTED, X222A1), "say what is wrong"),
    (TransactionAck("837", "0001", AckCode.REJECTED, X222A1, (), ("99",)),
     "not a transaction set error code"),
    (TransactionAck("837", "0001", AckCode.REJECTED, X222A1, (SegmentNote("CLM", 0, "8"),)),
     "IK302"),
    (TransactionAck("837", "0001", AckCode.REJECTED, X222A1, (SegmentNote("CLM", 3, "Q"),)),
     "IK304"),
])
def test_inconsistent_acknowledgements_are_refused(bad: TransactionAck, message: str) -> None:
    with pytest.raises(OutboundError, match=message):
        ack(group(bad))


def test_a_bad_group_error_code_is_refused() -> None:
    with pytest.raises(OutboundError, match="not a functional group error code"):
        ack(group(errors=("77",)))


# -- 277CA ---------------------------------------------------------------------------------


def claim_ack(claim_id: str = "C1", **changes: Any) -> ClaimAckOut:
    base = ClaimAckOut(claim_id, PersonName("DOE", "JANE", "Q"), "EVH123456789", Cents(19050),
                       date(2026, 11, 16), (ClaimStatusOut("A2", "20"),),
                       payer_claim_number="12345678901234", message="accepted")
    return replace(base, **changes)


def rejected_ack(claim_id: str = "C2") -> ClaimAckOut:
    return claim_ack(claim_id, statuses=(ClaimStatusOut("A7", "164", "IL"),
                                         ClaimStatusOut("A7", "33")),
                     payer_claim_number="", total_charge=Cents(5000),
                     service_to=date(2026, 11, 17),
                     message="member ID *AB1: is not in the payer's format~")


def transaction(*providers: ProviderAckOut) -> ClaimAckTransaction:
    if not providers:
        providers = (ProviderAckOut("1234567893", "EXAMPLE MASSAGE CLINIC",
                                    claims=(claim_ack(), rejected_ack())),)
    return ClaimAckTransaction(
        reference="CA1", source_name="HANDBILL PAYER SANDBOX", source_id="HBSANDBOX",
        receiver_name="EXAMPLE MASSAGE CLINIC", receiver_id="SUBMIT01",
        batch_reference="BATCH0001", received_on=date(2026, 11, 23),
        processed_on=date(2026, 11, 23), providers=providers)


def claim_acks(*transactions: ClaimAckTransaction) -> str:
    return write_277ca(ClaimAckBatch(HEADER, 78, transactions or (transaction(),)))


def test_accepted_and_rejected_claims_make_a_valid_277ca() -> None:
    solo = ProviderAckOut("1245319599", person=PersonName("SMITH", "ANNA"),
                          claims=(claim_ack("C3"),))
    text = claim_acks(transaction(
        ProviderAckOut("1234567893", "EXAMPLE MASSAGE CLINIC",
                       claims=(claim_ack(), rejected_ack())), solo))
    assert pyx12_errors(text) == []
    assert find(text, "GS")[0][1] == "HN" and find(text, "GS")[0][8] == "005010X214"
    assert find(text, "BHT") == [["BHT", "0085", "08", "CA1", "20261123", "1200", "TH"]]
    hl = [s[1:] for s in find(text, "HL")]
    assert hl == [["1", "", "20", "1"], ["2", "1", "21", "1"], ["3", "2", "19", "1"],
                  ["4", "3", "PT"], ["5", "3", "PT"], ["6", "2", "19", "1"], ["7", "6", "PT"]]
    trn = [s[1:] for s in find(text, "TRN")]
    assert ["2", "C1"] in trn and ["2", "C2"] in trn and ["2", "BATCH0001"] in trn
    stc = find(text, "STC")
    assert ["STC", "A2:20", "20261123", "WQ", "190.5", "", "", "", "", "", "", "",
            "ACCEPTED"] in stc
    rejected = [s for s in stc if s[1].startswith("A7")]
    assert [s[1] for s in rejected] == ["A7:164:IL", "A7:33"]
    assert rejected[0][3] == "U"
    # Our words travel in STC12, without the separators they contained.
    assert rejected[0][12] == "MEMBER ID AB1 IS NOT IN THE PAYER'S FORMAT"
    assert find(text, "REF") == [["REF", "1K", "12345678901234"],
                                 ["REF", "1K", "12345678901234"]]
    assert ["DTP", "472", "RD8", "20261116-20261117"] in segments(text)
    # Counts and amounts at the receiver and provider levels.
    qty = [s[1:] for s in find(text, "QTY")]
    assert qty == [["90", "2"], ["AA", "1"], ["QA", "1"], ["QC", "1"], ["QA", "1"]]
    assert [s[1:] for s in find(text, "AMT")][:2] == [["YU", "381"], ["YY", "50"]]


def test_a_rejected_claim_has_no_payer_claim_number_and_an_accepted_one_has_one() -> None:
    with pytest.raises(OutboundError, match="no payer claim number"):
        claim_acks(transaction(ProviderAckOut("1234567893", "CLINIC", claims=(
            replace(rejected_ack(), payer_claim_number="1"),))))
    with pytest.raises(OutboundError, match="REF\\*1K"):
        claim_acks(transaction(ProviderAckOut("1234567893", "CLINIC", claims=(
            claim_ack(payer_claim_number=""),))))
    with pytest.raises(OutboundError, match="categories"):
        claim_acks(transaction(ProviderAckOut("1234567893", "CLINIC", claims=(
            claim_ack(statuses=(ClaimStatusOut("F1", "65"),)),))))
    with pytest.raises(OutboundError, match="no claims"):
        claim_acks(transaction(ProviderAckOut("1234567893", "CLINIC")))
