"""835 writer (005010X221A1): what it writes passes pyx12 and balances; what would not balance
is refused before anything is written."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from handbill.core.money import Cents
from handbill.core.outbound import Address, Adjustment, OutboundError, PersonName
from handbill.x12.w835 import (
    BankAccount,
    ClaimPaymentOut,
    PaymentMethod,
    ProviderAdjustmentOut,
    RemittanceBatch,
    RemittanceOut,
    RemittancePayee,
    RemittancePayer,
    ServicePaymentOut,
    filing_code_for_835,
    write_835,
)
from handbill.x12.writer import InterchangeHeader
from tests.unit.x12_validation import pyx12_errors

DOS = date(2026, 1, 10)
PAID_ON = date(2026, 1, 20)


def segments(text: str) -> list[list[str]]:
    return [s.split("*") for s in text.split("~") if s]


def find(text: str, tag: str, *prefix: str) -> list[list[str]]:
    return [s for s in segments(text) if s[0] == tag and s[1:1 + len(prefix)] == list(prefix)]


def amount(text: str) -> Cents:
    return Cents.parse(text) if text else Cents(0)


def check_balanced(text: str) -> list[str]:
    """Recompute every balance of an 835 from its segments (reference §6.5): each line, each
    claim, CLP05 = Σ PR, and BPR02 = Σ CLP04 − Σ PLB04. Returns the failures."""
    failures: list[str] = []
    state: dict[str, Any] = {}

    def close_line() -> None:
        line = state.pop("line", None)
        if line is not None and line["charge"] - line["paid"] != line["adjusted"]:
            failures.append(f"line {line['svc']} does not balance")

    def close_claim() -> None:
        close_line()
        claim = state.pop("claim", None)
        if claim is None:
            return
        if claim["charge"] - claim["paid"] != claim["adjusted"]:
            failures.append(f"claim {claim['id']} does not balance")
        if claim["pr"] != claim["responsibility"]:
            failures.append(f"claim {claim['id']}: CLP05 ≠ Σ PR")

    def cas_total(s: list[str]) -> tuple[Cents, Cents]:
        found = Cents(0)
        for start in range(2, len(s), 3):
            if s[start]:
                found = found + amount(s[start + 1])
        return found, found if s[1] == "PR" else Cents(0)

    for s in segments(text):
        tag = s[0]
        if tag == "ST":
            state.clear()
            state.update(bpr=Cents(0), clp=Cents(0), plb=Cents(0))
        elif tag == "BPR":
            state["bpr"] = amount(s[2])
        elif tag == "CLP":
            close_claim()
            state["claim"] = {"id": s[1], "charge": amount(s[3]), "paid": amount(s[4]),
                              "responsibility": amount(s[5] if len(s) > 5 else ""),
                              "adjusted": Cents(0), "pr": Cents(0)}
            state["clp"] = state["clp"] + amount(s[4])
        elif tag == "SVC":
            close_line()
            state["line"] = {"svc": s[1], "charge": amount(s[2]), "paid": amount(s[3]),
                             "adjusted": Cents(0)}
        elif tag == "CAS":
            adjusted, pr = cas_total(s)
            claim = state["claim"]
            claim["adjusted"] = claim["adjusted"] + adjusted
            claim["pr"] = claim["pr"] + pr
            if "line" in state:
                state["line"]["adjusted"] = state["line"]["adjusted"] + adjusted
        elif tag == "PLB":
            close_claim()
            for start in range(4, len(s), 2):
                state["plb"] = state["plb"] + amount(s[start])
        elif tag == "SE":
            close_claim()
            if state["bpr"] != state["clp"] - state["plb"]:
                failures.append(f"BPR02 {state['bpr']} ≠ Σ CLP04 {state['clp']} − Σ PLB "
                                f"{state['plb']}")
    return failures


def payer() -> RemittancePayer:
    return RemittancePayer("EXAMPLE HEALTH PLAN", "PAYER01", "1999999999", "8005550100",
                           address=Address("PO BOX 9", "OLYMPIA", "WA", "98501"))


def payee() -> RemittancePayee:
    return RemittancePayee("EXAMPLE MASSAGE CLINIC", "1234567893", "123456789",
                           Address("100 MAIN ST", "ANYTOWN", "WA", "981010001"))


def paid_line(**changes: Any) -> ServicePaymentOut:
    base = ServicePaymentOut(
        "97124", ("XS",), Cents(12000), Cents(7500), 2, DOS,
        (Adjustment("CO", "45", Cents(2000)), Adjustment("PR", "3", Cents(2500))),
        control_number="C1-1", allowed=Cents(10000))
    return replace(base, **changes)


def denied_line(**changes: Any) -> ServicePaymentOut:
    base = ServicePaymentOut("97140", (), Cents(7000), Cents(0), 1, DOS,
                             (Adjustment("CO", "97", Cents(7000)),), control_number="C1-2",
                             remarks=("M15",))
    return replace(base, **changes)


def claim(**changes: Any) -> ClaimPaymentOut:
    base = ClaimPaymentOut(
        "PCN0001", "1", Cents(19000), Cents(7500), Cents(2500), "12", "PAYERCLM123",
        PersonName("DOE", "JANE"), "MEM123", (paid_line(), denied_line()), facility_code="11",
        frequency="1", received_on=date(2026, 1, 15))
    return replace(base, **changes)


def remittance(**changes: Any) -> RemittanceOut:
    base = RemittanceOut(
        payer(), payee(), PaymentMethod.ACH, PAID_ON, "TRACE0001", (claim(),),
        production_date=PAID_ON,
        payer_account=BankAccount("999999992", "1234567"),
        payee_account=BankAccount("999999992", "7654321"))
    return replace(base, **changes)


def batch(*remittances: RemittanceOut) -> RemittanceBatch:
    header = InterchangeHeader("PAYER01", "SUBMIT01", 42,
                               datetime(2026, 1, 20, 8, 0, tzinfo=UTC))
    return RemittanceBatch(header, 42, remittances or (remittance(),))


def test_the_reference_worked_example_is_written_valid_and_balanced() -> None:
    interest = ProviderAdjustmentOut("1234567893", date(2026, 12, 31), "L6", Cents(-150),
                                     "PCN0001")
    text = write_835(batch(remittance(provider_adjustments=(interest,))))
    assert pyx12_errors(text, want_999=False) == []
    assert check_balanced(text) == []
    # reference §6.5: BPR02 = 75 − (−1.50)
    assert find(text, "BPR")[0][1:5] == ["I", "76.5", "C", "ACH"]
    assert find(text, "CLP") == [["CLP", "PCN0001", "1", "190", "75", "25", "12", "PAYERCLM123",
                                  "11", "1"]]
    assert find(text, "PLB") == [["PLB", "1234567893", "20261231", "L6:PCN0001", "-1.5"]]
    assert find(text, "REF", "6R") == [["REF", "6R", "C1-1"], ["REF", "6R", "C1-2"]]
    assert find(text, "LQ") == [["LQ", "HE", "M15"]]
    assert find(text, "AMT") == [["AMT", "B6", "100"]]
    assert find(text, "SVC")[0][1] == "HC:97124:XS"
    # The 835 guide does not use ST03; GS08 names the version.
    assert find(text, "ST") == [["ST", "835", "0001"]]
    assert find(text, "GS")[0][8] == "005010X221A1"
    # The technical contact the guide requires, and the payer's ID.
    assert find(text, "PER") == [["PER", "BL", "EDI SUPPORT", "TE", "8005550100"]]
    assert find(text, "REF", "2U") == [["REF", "2U", "PAYER01"]]
    assert find(text, "N1", "PE") == [["N1", "PE", "EXAMPLE MASSAGE CLINIC", "XX",
                                        "1234567893"]]


def test_check_payment_zero_payment_and_a_dependant_pass_pyx12() -> None:
    check = remittance(method=PaymentMethod.CHECK, payer_account=None, payee_account=None)
    denied = claim(
        status="4", paid=Cents(0), patient_responsibility=Cents(0), charge=Cents(7000),
        lines=(denied_line(),), insured=PersonName("DOE", "JOHN"),
        patient=PersonName("DOE", "TIMMY"))
    notice = remittance(method=PaymentMethod.NONE, claims=(denied,), trace_number="TRACE0002",
                        payer_account=None, payee_account=None)
    text = write_835(batch(check, notice))
    assert pyx12_errors(text, want_999=False) == []
    assert check_balanced(text) == []
    bprs = find(text, "BPR")
    assert bprs[0][1:5] == ["I", "75", "C", "CHK"] and bprs[0][16] == "20260120"
    assert bprs[1][1:5] == ["H", "0", "C", "NON"]
    # A dependant: NM1*QC without an ID, the subscriber in NM1*IL with the member ID.
    assert ["NM1", "QC", "1", "DOE", "TIMMY"] in segments(text)
    assert ["NM1", "IL", "1", "DOE", "JOHN", "", "", "", "MI", "MEM123"] in segments(text)
    assert [s[2] for s in find(text, "ST")] == ["0001", "0002"]
    assert find(text, "GE") == [["GE", "2", "42"]]


def test_units_cut_a_service_period_and_many_reasons() -> None:
    cut = paid_line(
        units_paid=1, units_billed=2, paid=Cents(3000), allowed=Cents(3000),
        date_of_service_end=date(2026, 1, 12),
        adjustments=tuple(Adjustment("CO", reason, Cents(1000)) for reason in
                          ("45", "119", "97", "4", "16", "96", "234", "236", "29")),
    )
    one = claim(lines=(cut,), charge=Cents(12000), paid=Cents(3000),
                patient_responsibility=Cents(0))
    text = write_835(batch(remittance(claims=(one,))))
    assert pyx12_errors(text, want_999=False) == []
    assert check_balanced(text) == []
    assert find(text, "SVC") == [["SVC", "HC:97124:XS", "120", "30", "", "1", "", "2"]]
    assert find(text, "DTM", "150") == [["DTM", "150", "20260110"]]
    assert find(text, "DTM", "151") == [["DTM", "151", "20260112"]]
    # Six reasons per CAS segment, then another CAS of the same group.
    cas = find(text, "CAS")
    assert [s[2::3] for s in cas] == [["45", "119", "97", "4", "16", "96"],
                                      ["234", "236", "29"]]
    assert {s[1] for s in cas} == {"CO"}


def test_an_unbalanced_line_is_refused_naming_the_claim() -> None:
    bad = claim(lines=(paid_line(paid=Cents(7600)), denied_line()), paid=Cents(7600))
    with pytest.raises(OutboundError) as error:
        write_835(batch(remittance(claims=(bad,))))
    message = str(error.value)
    assert "claim PCN0001" in message and "line C1-1 does not balance" in message


def test_a_claim_whose_totals_disagree_is_refused() -> None:
    with pytest.raises(OutboundError, match="the claim does not balance"):
        write_835(batch(remittance(claims=(claim(charge=Cents(20000)),))))
    with pytest.raises(OutboundError, match="patient responsibility"):
        write_835(batch(remittance(claims=(claim(patient_responsibility=Cents(0)),))))


def test_payment_rules_are_enforced() -> None:
    with pytest.raises(OutboundError, match="cannot have method NON"):
        write_835(batch(remittance(method=PaymentMethod.NONE)))
    with pytest.raises(OutboundError, match="needs the payer's and the payee's bank"):
        write_835(batch(remittance(payee_account=None)))
    recoup = ProviderAdjustmentOut("1234567893", date(2026, 12, 31), "WO", Cents(9000), "X")
    with pytest.raises(OutboundError, match="negative"):
        write_835(batch(remittance(provider_adjustments=(recoup,))))
    with pytest.raises(OutboundError, match="TRN03"):
        write_835(batch(remittance(payer=replace(payer(), company_id="12345"))))
    with pytest.raises(OutboundError, match="CLP06"):
        write_835(batch(remittance(claims=(claim(filing_code="CI"),))))
    with pytest.raises(OutboundError, match="adjustment group 'XX'"):
        bad_line = paid_line(adjustments=(Adjustment("XX", "45", Cents(2000)),
                                          Adjustment("PR", "3", Cents(2500))))
        write_835(batch(remittance(claims=(claim(lines=(bad_line, denied_line())),))))


def test_a_recoupment_that_leaves_money_is_a_smaller_payment() -> None:
    recoup = ProviderAdjustmentOut("1234567893", date(2026, 12, 31), "WO", Cents(2500), "OLD1")
    text = write_835(batch(remittance(provider_adjustments=(recoup,))))
    assert find(text, "BPR")[0][2] == "50"
    assert check_balanced(text) == []
    assert pyx12_errors(text, want_999=False) == []


@pytest.mark.parametrize(("sbr09", "clp06"), [
    ("CI", "12"), ("BL", "12"), ("MB", "MB"), ("16", "16"), ("WC", "WC"), ("AM", "AM"),
    ("MC", "MC"), ("11", "ZZ"), ("", "ZZ"),
])
def test_claim_filing_codes_map_to_the_835_list(sbr09: str, clp06: str) -> None:
    assert filing_code_for_835(sbr09) == clp06


def test_the_same_values_give_the_same_file() -> None:
    assert write_835(batch()) == write_835(batch())
