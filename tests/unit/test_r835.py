"""The 835 reader: typed values, balancing (reference §6.5), genuine samples, bad content."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from handbill.core.money import Cents
from handbill.x12.r835 import Remittance, read_835
from handbill.x12.tokens import X12Error, iter_transactions
from tests.unit.x12_build import WORKED_CLAIM, WORKED_PLB, remittance, worked_example
from tests.unit.x12_validation import pyx12_errors

SAMPLES = Path("/work/shared/x12-samples")
SAMPLE_835S = ("X221-multiple-claims-single-check.edi", "X221-era-sample.edi",
               "X221-secondary-payments.edi", "X221-dollars-and-data-sent-together.edi",
               "managed-care.835", "835_mult_loops.txt")


def read(text: str) -> Remittance:
    (transaction,) = list(iter_transactions(text))
    return read_835(transaction)


def read_sample(name: str) -> Remittance:
    (transaction,) = list(iter_transactions(SAMPLES / name))
    return read_835(transaction)


def c(text: str) -> Cents:
    return Cents.parse(text)


# ---------------------------------------------------------------------------------------------
# Reference §6.5's worked example
# ---------------------------------------------------------------------------------------------


def test_worked_example_reads_every_value() -> None:
    remit = read(worked_example())
    assert remit.balanced and remit.errors == () and remit.warnings == ()
    payment = remit.payment
    assert (payment.amount, payment.credit_debit, payment.method, payment.trace,
            payment.originator) == (c("76.50"), "C", "ACH", "EFT20261120", "1512345678")
    assert payment.payment_date == date(2026, 11, 20)
    assert payment.production_date == date(2026, 11, 20)
    assert remit.payer.name == "EXAMPLE HEALTH PLAN"
    assert remit.payer.address is not None and remit.payer.address.state == "PA"
    assert remit.payee.npi == "1234567893" and remit.payee.tax_id == "123456789"

    (claim,) = remit.claims
    assert (claim.claim_id, claim.status, claim.charge, claim.paid,
            claim.patient_responsibility, claim.filing_indicator,
            claim.payer_claim_number) == ("PCN0001", "1", c("190"), c("75"), c("25"), "12",
                                          "PAYERCLM123")
    assert claim.patient is not None and claim.patient.id == "MEM123456"
    assert claim.statement_from == claim.statement_to == date(2026, 11, 16)
    first, second = claim.lines
    assert (first.code, first.modifiers, first.charge, first.paid, first.units,
            first.control_number, first.allowed) == (
        "97124", ("XS",), c("120"), c("75"), Decimal(2), "PCN0001-1", c("100"))
    assert [(a.group, a.reason, a.amount) for a in first.adjustments] == [
        ("CO", "45", c("20")), ("PR", "3", c("25"))]
    assert first.service_date == date(2026, 11, 16)
    assert (second.code, second.modifiers, second.paid, second.remarks,
            second.control_number) == ("97140", (), c("0"), ("M15",), "PCN0001-2")
    assert claim.patient_responsibility_total == c("25")

    (interest,) = remit.provider_adjustments
    assert (interest.provider_id, interest.fiscal_period_date, interest.reason,
            interest.reference, interest.amount) == (
        "1234567893", date(2026, 12, 31), "L6", "PCN0001", c("-1.50"))


def test_worked_example_passes_pyx12() -> None:
    # Our synthetic remittances are TR3-valid, so the balancing tests test real shapes.
    assert pyx12_errors(worked_example(), want_999=False) == []


def test_as_dict_has_the_shape_the_issue_asks_for() -> None:
    summary = read(worked_example()).as_dict()
    assert summary["payment"] | {} == summary["payment"]
    assert {k: summary["payment"][k] for k in ("amount", "method", "trace", "date")} == {
        "amount": "76.5", "method": "ACH", "trace": "EFT20261120", "date": "2026-11-20"}
    assert summary["payer"]["name"] == "EXAMPLE HEALTH PLAN"
    assert summary["payee"]["id"] == "1234567893"
    (claim,) = summary["claims"]
    assert {k: claim[k] for k in ("id", "status", "charge", "paid", "patient_responsibility",
                                  "payer_claim_number")} == {
        "id": "PCN0001", "status": "1", "charge": "190", "paid": "75",
        "patient_responsibility": "25", "payer_claim_number": "PAYERCLM123"}
    assert claim["adjustments"] == []
    line = claim["lines"][0]
    assert {k: line[k] for k in ("code", "modifiers", "charge", "paid", "units",
                                 "control_number")} == {
        "code": "97124", "modifiers": ["XS"], "charge": "120", "paid": "75", "units": "2",
        "control_number": "PCN0001-1"}
    assert line["adjustments"] == [{"group": "CO", "reason": "45", "amount": "20"},
                                   {"group": "PR", "reason": "3", "amount": "25"}]
    assert summary["provider_adjustments"][0]["amount"] == "-1.5"
    assert summary["balanced"] is True and summary["errors"] == []


# ---------------------------------------------------------------------------------------------
# Balancing
# ---------------------------------------------------------------------------------------------


def test_unbalanced_line_names_the_claim_line_and_amounts() -> None:
    claim = list(WORKED_CLAIM)
    claim[claim.index("CAS*CO*45*20")] = "CAS*CO*45*15"  # line 1 now short by 5
    claim[0] = "CLP*PCN0001*1*190*75*25*12*PAYERCLM123"
    remit = read(remittance("76.5", *claim, plb=WORKED_PLB))
    assert not remit.balanced
    line_error, claim_error = remit.balance_errors
    assert line_error.startswith("claim PCN0001 line 1 (PCN0001-1, segment ")
    assert "charge 120.00 − paid 75.00 = 45.00" in line_error
    assert "add up to 40.00 (off by 5.00)" in line_error
    assert claim_error.startswith("claim PCN0001 (segment ")
    assert "claim and line adjustments add up to 110.00 (off by 5.00)" in claim_error


def test_line_without_a_control_number_is_named_by_its_code() -> None:
    text = remittance("10", "CLP*C1*1*30*10**12*P1", "SVC*HC:97124*30*10**1",
                      "CAS*CO*45*15")
    (error, claim_error) = read(text).balance_errors
    assert "claim C1 line 1 (97124," in error and "off by 5.00" in error
    assert "claim C1" in claim_error


def test_unbalanced_claim_level_adjustments() -> None:
    text = remittance("912", "CLP*C9*2*10323.64*912**12*05090256390",
                      "CAS*OA*23*9411.00")
    (error,) = read(text).balance_errors
    assert error.startswith("claim C9 (segment ")
    assert "its claim adjustments add up to 9411.00 (off by 0.64)" in error


def test_unbalanced_payment_says_what_bpr02_should_be() -> None:
    text = remittance("80", *WORKED_CLAIM, plb=WORKED_PLB)
    (error,) = read(text).balance_errors
    assert error == ("payment: BPR02 80.00 but the claims pay 75.00 and the provider "
                     "adjustments come to -1.50, so BPR02 should be 76.50 (off by 3.50)")


def test_patient_responsibility_mismatch_is_a_warning_not_an_error() -> None:
    claim = list(WORKED_CLAIM)
    claim[0] = "CLP*PCN0001*1*190*75*30*12*PAYERCLM123"
    remit = read(remittance("76.5", *claim, plb=WORKED_PLB))
    assert remit.balanced
    (warning,) = remit.warnings
    assert "CLP05 patient responsibility 30.00 differs from its PR adjustments, 25.00" in warning


def test_claim_adjustments_count_with_line_adjustments() -> None:
    # A claim-level CO adjustment plus lines: CLP03 − CLP04 = Σ claim CAS + Σ line CAS.
    text = remittance(
        "50", "CLP*C2*1*100*50**12*P2", "CAS*OA*94*10",
        "SVC*HC:97124*100*60**2", "CAS*CO*45*40", "REF*6R*C2-1")
    remit = read(text)
    assert remit.balanced, remit.balance_errors
    assert remit.claims[0].adjustments[0].reason == "94"


def test_reversal_with_negative_amounts_balances() -> None:
    # A reversal (CLP02 22) of the worked claim and its corrected payment, in one check.
    reversal = (
        "CLP*PCN0001*22*-190*-75*-25*12*PAYERCLM123",
        "NM1*QC*1*DOE*JANE****MI*MEM123456",
        "SVC*HC:97124:XS*-120*-75**-2", "DTM*472*20261116", "CAS*CO*45*-20", "CAS*PR*3*-25",
        "REF*6R*PCN0001-1",
        "SVC*HC:97140*-70*0**-1", "DTM*472*20261116", "CAS*CO*97*-70", "REF*6R*PCN0001-2",
    )
    corrected = (
        "CLP*PCN0001*1*190*95*25*12*PAYERCLM124",
        "NM1*QC*1*DOE*JANE****MI*MEM123456",
        "SVC*HC:97124:XS*120*75**2", "DTM*472*20261116", "CAS*CO*45*20", "CAS*PR*3*25",
        "REF*6R*PCN0001-1",
        "SVC*HC:97140:59*70*20**1", "DTM*472*20261116", "CAS*CO*45*50", "REF*6R*PCN0001-2",
    )
    text = remittance("20", *reversal, *corrected)
    remit = read(text)
    assert remit.balanced, remit.balance_errors
    assert remit.warnings == ()
    first, second = remit.claims
    assert first.is_reversal and first.paid == c("-75") and first.lines[0].units == -2
    assert not second.is_reversal and second.paid == c("95")
    assert pyx12_errors(text, want_999=False) == []


def test_takeback_carried_forward_leaves_a_zero_payment() -> None:
    # A negative remittance: the payer takes back 75.00 and carries it forward (PLB FB),
    # so nothing moves today. BPR02 0 = Σ CLP04 (−75) − Σ PLB (−75).
    text = remittance(
        "0",
        "CLP*PCN0001*22*-190*-75*-25*12*PAYERCLM123",
        "CAS*CO*45*-90", "CAS*PR*3*-25",
        plb=("PLB*1234567893*20261231*FB:PAYERCLM123*-75",), handling="H")
    remit = read(text)
    assert remit.balanced, remit.balance_errors
    assert remit.provider_adjustments[0].reason == "FB"
    assert remit.payment.amount == c("0")


def test_debit_payment_takes_money_back() -> None:
    # BPR03 D: the provider owes the payer; the claims net to −75.
    text = remittance("75", "CLP*PCN0001*22*-190*-75*-25*12*PAYERCLM123",
                      "CAS*CO*45*-90", "CAS*PR*3*-25", credit_debit="D")
    remit = read(text)
    assert remit.balanced, remit.balance_errors
    assert remit.payment.signed_amount == c("-75")


def test_plb_interest_and_recoupment_in_one_segment_and_another() -> None:
    plb = ("PLB*1234567893*20261231*L6:PCN0001*-1.50*WO:PAYERCLM99*40",
           "PLB*1234567893*20261231*72:REFUND7*10.25")
    # 75 claims − (−1.50 + 40 + 10.25) = 26.25
    remit = read(remittance("26.25", *WORKED_CLAIM, plb=plb))
    assert remit.balanced, remit.balance_errors
    assert [(a.reason, a.reference, a.amount) for a in remit.provider_adjustments] == [
        ("L6", "PCN0001", c("-1.50")), ("WO", "PAYERCLM99", c("40")),
        ("72", "REFUND7", c("10.25"))]
    # pyx12 takes a second PLB segment for a second footer loop, so check one segment there.
    one = ("PLB*1234567893*20261231*L6:PCN0001*-1.50*WO:PAYERCLM99*40",)
    assert pyx12_errors(remittance("36.5", *WORKED_CLAIM, plb=one), want_999=False) == []


def test_plb_with_six_adjustments() -> None:
    pairs = "*".join(f"L6:R{n}*-1" for n in range(6))
    remit = read(remittance("81", *WORKED_CLAIM, plb=(f"PLB*1234567893*20261231*{pairs}",)))
    assert len(remit.provider_adjustments) == 6 and remit.balanced


# ---------------------------------------------------------------------------------------------
# Other content
# ---------------------------------------------------------------------------------------------


def test_claim_names_remarks_references_and_amounts() -> None:
    text = remittance(
        "60",
        "CLP*C3*1*100*60*10*12*P3*11*1",
        "NM1*QC*1*ROE*RICHARD*A***MI*M1",
        "NM1*IL*1*ROE*RITA****MI*M0",
        "NM1*74*1*ROE*RICK",
        "NM1*82*1*SMITH*ANNA****XX*1234567893",
        "NM1*TT*2*SECOND PAYER*****PI*SP01",
        "MOA***MA01*N130",
        "REF*EA*MR123",
        "DTM*050*20261118",
        "AMT*AU*90",
        "SVC*HC:97140:GP:59*100*60*0421*2*HC:97124:GP*3",
        "DTM*150*20261101", "DTM*151*20261103",
        "CAS*PR*2*10", "CAS*CO*45*30", "REF*6R*C3-1", "REF*LU*OFFICE", "AMT*B6*70", "AMT*KH*5",
        "LQ*HE*N20", "LQ*RX*ignored",
    )
    remit = read(text)
    assert remit.balanced, remit.balance_errors
    (claim,) = remit.claims
    assert (claim.facility_type, claim.frequency) == ("11", "1")
    assert claim.insured is not None and claim.insured.first == "RITA"
    assert claim.corrected_patient is not None and claim.corrected_patient.first == "RICK"
    assert claim.rendering_provider is not None and claim.rendering_provider.id == "1234567893"
    assert claim.crossover_carrier is not None
    assert claim.crossover_carrier.last_or_organization == "SECOND PAYER"
    assert claim.remarks == ("MA01", "N130")
    assert claim.reference("EA") == "MR123"
    assert claim.received_date == date(2026, 11, 18)
    assert [(a.qualifier, a.amount) for a in claim.amounts] == [("AU", c("90"))]
    (line,) = claim.lines
    assert (line.code, line.modifiers, line.revenue_code, line.units) == (
        "97140", ("GP", "59"), "0421", Decimal(2))
    assert (line.original_code, line.original_modifiers, line.original_units) == (
        "97124", ("GP",), Decimal(3))
    assert (line.service_date, line.service_end_date) == (date(2026, 11, 1),
                                                          date(2026, 11, 3))
    assert [(r.qualifier, r.value) for r in line.references] == [("LU", "OFFICE")]
    assert [(a.qualifier, a.amount) for a in line.amounts] == [("KH", c("5"))]
    assert line.remarks == ("N20",)


def test_units_default_to_one() -> None:
    remit = read(remittance("10", "CLP*C1*1*30*10**12*P1", "SVC*HC:97124*30*10",
                            "CAS*CO*45*20"))
    assert remit.claims[0].lines[0].units == Decimal(1)


def test_cas_with_several_triples_and_quantities() -> None:
    text = remittance("10", "CLP*C1*1*100*10*60*12*P1",
                      "CAS*PR*1*50*1*2*10**3*0",
                      "CAS*CO*45*30")
    (claim,) = read(text).claims
    assert [(a.group, a.reason, a.amount, a.quantity) for a in claim.adjustments] == [
        ("PR", "1", c("50"), "1"), ("PR", "2", c("10"), ""), ("PR", "3", c("0"), ""),
        ("CO", "45", c("30"), "")]
    assert read(text).balanced


def test_two_transaction_sets_in_one_file_read_one_at_a_time() -> None:
    from tests.unit.x12_build import header_835, interchange

    first = [*header_835("76.5"), *WORKED_CLAIM, *WORKED_PLB]
    second = [*header_835("10"), "CLP*C1*1*30*10**12*P1", "SVC*HC:97124*30*10",
              "CAS*CO*45*20"]
    remits = [read_835(t) for t in iter_transactions(interchange(first, second))]
    assert [r.control_number for r in remits] == ["0001", "0002"]
    assert [r.payment.amount for r in remits] == [c("76.5"), c("10")]
    assert all(r.balanced for r in remits)


# ---------------------------------------------------------------------------------------------
# Genuine samples
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SAMPLE_835S)
def test_every_genuine_835_reads_and_balances(name: str) -> None:
    remit = read_sample(name)
    assert remit.balanced, remit.balance_errors
    text = (SAMPLES / name).read_text()
    assert len(remit.claims) == text.count("CLP*")
    assert sum(len(claim.lines) for claim in remit.claims) == text.count("SVC*")


def test_multiple_claims_single_check() -> None:
    remit = read_sample("X221-multiple-claims-single-check.edi")
    assert remit.payment.amount == c("810.8") and remit.payment.method == "CHK"
    assert sum((claim.paid for claim in remit.claims), Cents(0)) == c("810.8")
    fourth = remit.claims[3]
    assert (fourth.charge, fourth.paid, fourth.patient_responsibility) == (
        c("1145"), c("14"), c("902"))
    assert fourth.patient_responsibility_total == c("902")
    assert remit.claims[0].lines[0].qualifier == "AD"
    assert remit.problems == ()


def test_secondary_payments_sample() -> None:
    remit = read_sample("X221-secondary-payments.edi")
    first, second = remit.claims
    assert first.lines == () and first.adjustments[0].reason == "23"
    assert second.lines[1].revenue_code == "220"
    assert second.lines[1].allowed == c("500")
    assert [(a.group, a.reason) for a in second.lines[1].adjustments] == [
        ("PR", "1"), ("PR", "2"), ("CO", "42")]


def test_dollars_and_data_sample_has_a_plb_and_claim_remarks() -> None:
    remit = read_sample("X221-dollars-and-data-sent-together.edi")
    assert remit.payment.amount == c("150000")
    (plb,) = remit.provider_adjustments
    assert (plb.reason, plb.reference, plb.amount) == ("CV", "CP", c("-1.27"))
    assert remit.claims[1].remarks == ("MA02",)


def test_notification_only_sample_with_denials() -> None:
    remit = read_sample("835_mult_loops.txt")
    assert remit.payment.handling == "H" and remit.payment.amount == c("0")
    (claim,) = remit.claims
    assert claim.is_denied
    assert [line.units for line in claim.lines] == [Decimal(68), Decimal(16), Decimal(36)]
    assert all(line.remarks == ("N14",) for line in claim.lines)
    assert claim.lines[0].service_date == claim.lines[0].service_end_date == date(2003, 11, 29)


def test_managed_care_sample_is_read_but_reported() -> None:
    # TR3-invalid: no PER*BL in 1000A, and BPR16 20002316 is not a date. It still balances.
    remit = read_sample("managed-care.835")
    assert remit.balanced
    assert remit.payment.payment_date is None
    assert remit.problems == (
        "loop 1000A has no PER*BL (the payer's technical contact), which 005010X221A1 "
        "requires",
        "segment 4 (BPR): BPR16 payment date '20002316' is not a calendar date")


# ---------------------------------------------------------------------------------------------
# Content that cannot be read
# ---------------------------------------------------------------------------------------------


def _error(*claim: str, amount: str = "10", plb: tuple[str, ...] = ()) -> X12Error:
    with pytest.raises(X12Error) as caught:
        read(remittance(amount, *claim, plb=plb))
    return caught.value


# Segment positions in these files: ISA 1, GS 2, ST 3, BPR 4, header to LX 15, first claim 16.
@pytest.mark.parametrize(("claim", "position", "segment", "reason"), [
    (("CLP*C1*1*3O*10**12*P1",), 16, "CLP", "CLP03 charge '3O' is not an amount"),
    (("CLP*C1*1*30*10**12*P1", "SVC*HC:97124*30*1,0"), 17, "SVC",
     "SVC03 payment '1,0' is not an amount"),
    (("CLP*C1*1*30*10**12*P1", "SVC*HC:97124*30*10", "CAS*CO*45"), 18, "CAS",
     "CAS needs a group, a reason (CAS02) and an amount (CAS03)"),
    (("CLP*C1*1*30*10**12*P1", "SVC*HC:97124*30*10", "CAS*CO*45**1"), 18, "CAS",
     "CAS02 reason 45 has no amount (CAS03)"),
    (("CLP*C1*1*30*10**12*P1", "CAS*CO*45*10*1*", "CAS*CO**5"), 18, "CAS",
     "CAS02 is empty but CAS03/CAS04 are not"),
    (("CLP*C1*1*30*10**12*P1", "CAS*XX*45*20"), 17, "CAS", "CAS01 group 'XX' is not"),
    (("SVC*HC:97124*30*10",), 16, "SVC", "SVC before any CLP"),
    (("CLP*C1*1*30*10**12*P1", "SVC*97124*30*10"), 17, "SVC",
     "must be a qualifier and a code"),
    (("CLP*C1*1*30*10.005**12*P1",), 16, "CLP", "CLP04 payment '10.005' is not an amount"),
    (("CLP*C1*1*30*10**12*P1", "SVC*HC:97124*30*10", "DTM*472*20261131"), 18, "DTM",
     "DTM02 service date '20261131' is not a calendar date"),
    (("CLP*C1*1",), 16, "CLP", "CLP needs the claim id"),
    (("CLP*C1*1*30*10**12*P1", "REF*6R"), 17, "REF", "REF needs a qualifier"),
])
def test_malformed_content_names_the_segment(claim: tuple[str, ...], position: int,
                                             segment: str, reason: str) -> None:
    error = _error(*claim)
    assert (error.position, error.segment_id) == (position, segment)
    assert reason in error.reason
    assert str(error).startswith(f"segment {position} ({segment}): ")


def test_plb_without_its_amount() -> None:
    error = _error("CLP*C1*1*30*10*0*12*P1", "CAS*CO*45*20",
                   plb=("PLB*1234567893*20261231*L6:X",))
    assert error.segment_id == "PLB" and "PLB needs" in error.reason


def test_missing_bpr() -> None:
    from tests.unit.x12_build import header_835, interchange

    body = header_835("10")[1:] + ["CLP*C1*1*30*10**12*P1"]
    with pytest.raises(X12Error, match=r"segment 4 \(TRN\): an 835 must have BPR"):
        read(interchange(body))


def test_a_999_is_not_an_835() -> None:
    from tests.unit.x12_build import interchange

    (transaction,) = list(iter_transactions(interchange(["AK1*HC*1"], functional_id="FA",
                                                        version="005010X231A1")))
    with pytest.raises(X12Error, match="this is a 999 transaction set, not an 835"):
        read_835(transaction)
