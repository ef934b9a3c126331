"""837P 005010X222A1: what we write passes pyx12, reads back to the same claims, and bad
claims are refused before anything is written. Genuine samples parse and re-serialise."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handbill.core.money import Cents
from handbill.core.outbound import (
    Address,
    Adjustment,
    Batch,
    BillingProvider,
    ClaimGroup,
    ControlNumbers,
    LineAdjudication,
    OutboundError,
    OutClaim,
    PayerResponsibility,
    PersonName,
    PriorPayer,
    ProviderRef,
    RelatedCause,
    Subscriber,
)
from handbill.x12.p837 import (
    Transaction837,
    X12ReadError,
    check_837,
    read_837,
    validate_claim,
    write_837,
)
from handbill.x12.tokens import Transaction, X12Error, iter_transactions
from handbill.x12.writer import ISA_LENGTH, Element, Separators, format_isa, format_segment
from tests.unit import outbound_factory as f
from tests.unit.x12_validation import pyx12_errors

SAMPLES = Path("/work/shared/x12-samples")


def transactions(text: str) -> list[Transaction]:
    return list(iter_transactions(text))


def segments(text: str) -> list[list[str]]:
    return [s.split("*") for s in text.split("~") if s]


def tags(text: str) -> list[str]:
    return [s[0] for s in segments(text)]


def find(text: str, *prefix: str) -> list[list[str]]:
    return [s for s in segments(text) if s[: len(prefix)] == list(prefix)]


# ---------------------------------------------------------------------------------------------
# (a) every file we generate passes pyx12 with zero errors
# ---------------------------------------------------------------------------------------------


def _four_modifiers_four_pointers() -> Batch:
    diagnoses = ("M62.830", "M54.2", "M25.511", "M54.50")
    lines = (f.line(1, modifiers=("GP", "59", "XS", "KX"), pointers=(1, 2, 3, 4),
                    control_number="M4-1"),)
    return f.one_claim_batch(f.claim("M4", diagnoses=diagnoses, lines=lines))


def _twelve_diagnoses() -> Batch:
    diagnoses = ("M62.830", "M54.2", "M25.511", "M54.50", "M79.18", "M62.81", "M54.6",
                 "M25.512", "M79.10", "S13.4XXA", "S16.1XXA", "M53.1")
    lines = (f.line(1, pointers=(12, 11, 10, 1), control_number="D12-1"),)
    return f.one_claim_batch(f.claim("D12", diagnoses=diagnoses, lines=lines))


def _many_providers_and_sets() -> Batch:
    first = f.synthetic_claims(5)
    second = f.synthetic_claims(4, start=100)
    return f.batch(
        ClaimGroup(f.clinic(), tuple(first)),
        ClaimGroup(f.solo_therapist(), tuple(second)),
        ClaimGroup(f.clinic(npi=f.SECOND_CLINIC_NPI, organization_name="SECOND CLINIC"),
                   (f.claim("THIRD1"),)),
        claims_per_transaction=3,
    )


def _secondary_claim_level_only() -> Batch:
    base = f.claim("SECCL", subscriber=f.subscriber(
        responsibility=PayerResponsibility.SECONDARY, claim_filing_indicator="MC"))
    prior = PriorPayer(
        payer=f.payer(name="PRIME HEALTH", payer_id="PRIME1",
                      address=Address("PO BOX 9", "OLYMPIA", "WA", "985010009")),
        subscriber=f.subscriber(member_id="PRM1", group_number="", plan_name="GOLD PLAN"),
        paid=Cents(10000),
        claim_adjustments=(Adjustment("CO", "45", Cents(5050)),
                           Adjustment("PR", "1", Cents(2000)), Adjustment("PR", "2", Cents(2000),
                                                                          quantity=1)),
        adjudicated_on=date(2026, 11, 19), payer_claim_number="CCN-9",
    )
    return f.one_claim_batch(replace(base, prior_payers=(prior,)))


def _secondary_with_claim_and_line_adjustments() -> Batch:
    """The primary paid the lines in full less coinsurance, then took a claim-level copay:
    Σ SVD02 − claim CAS = AMT*D (the IG's balancing), which the pre-check must accept."""
    base = f.secondary_claim("SECMIX")
    prior = f.primary_adjudication(base)
    copay = Cents(1000)
    prior = replace(prior, paid=prior.paid - copay,
                    claim_adjustments=(Adjustment("PR", "3", copay),),
                    remaining_patient_liability=(prior.remaining_patient_liability or Cents(0))
                    + copay)
    return f.one_claim_batch(replace(base, prior_payers=(prior,)))


def _medicare_secondary() -> Batch:
    """Medicare pays second (working aged, MSP type 12): SBR05 carries the reason."""
    base = f.secondary_claim("MSP1")
    sub = replace(base.subscriber, claim_filing_indicator="MB", insurance_type_code="12")
    return f.one_claim_batch(replace(base, subscriber=sub))


def _everything_on_one_claim() -> Batch:
    out = f.claim(
        "ALL1", patient=f.child_patient(), referring=f.referring(), rendering=f.rendering(),
        facility=f.facility(), prior_authorization="AUTH-55", referral_number="RF-9",
        onset_date=date(2026, 10, 1), patient_paid=Cents(2500),
        payer=f.payer(address=Address("PO BOX 1", "SEATTLE", "WA", "98111")),
        lines=(f.line(1, control_number="ALL1-1", place_of_service="12"),
               f.line(2, control_number="ALL1-2", date_of_service_end=date(2026, 11, 18))),
    )
    return f.one_claim_batch(out)


def _hundred_and_one_claims_one_subscriber() -> Batch:
    claims = tuple(f.claim(f"H{n:03d}") for n in range(101))
    claims = tuple(replace(c, lines=tuple(replace(x, control_number=f"{c.claim_id}-{x.number}")
                                          for x in c.lines)) for c in claims)
    return f.batch(ClaimGroup(f.clinic(), claims))


SCENARIOS: dict[str, Callable[[], Batch]] = {
    "patient is the subscriber": lambda: f.one_claim_batch(f.claim()),
    "patient is a dependant (HL 23)": lambda: f.one_claim_batch(
        f.claim("DEP1", patient=f.child_patient())),
    "organisation billing provider": lambda: f.one_claim_batch(f.claim(), f.clinic()),
    "individual billing provider (SSN)": lambda: f.one_claim_batch(
        f.claim(), f.solo_therapist()),
    "pay-to address": lambda: f.one_claim_batch(f.claim(), f.clinic(
        pay_to_address=Address("PO BOX 77", "ANYTOWN", "WA", "98101"))),
    "rendering, referring and facility": lambda: f.one_claim_batch(f.claim(
        "RRF1", rendering=f.rendering(), referring=f.referring(), facility=f.facility())),
    "ordering provider (2420E)": lambda: f.one_claim_batch(f.claim(
        "ORD1", referring=ProviderRef(PersonName("JONES", "ROBERT"), f.REFERRING_NPI,
                                      qualifier="DK"))),
    "auto accident": lambda: f.one_claim_batch(f.auto_claim()),
    "auto accident, dependant": lambda: f.one_claim_batch(
        replace(f.auto_claim("AUTO2"), patient=f.child_patient())),
    "workers' comp": lambda: f.one_claim_batch(f.workers_comp_claim()),
    "replacement": lambda: f.one_claim_batch(f.claim(
        "REP1", frequency="7", payer_claim_number="PAYER-CCN-77")),
    "void": lambda: f.one_claim_batch(f.claim("VOID1", frequency="8",
                                              payer_claim_number="PAYER-CCN-78")),
    "four modifiers and four pointers": _four_modifiers_four_pointers,
    "twelve diagnoses": _twelve_diagnoses,
    "several billing providers and transaction sets": _many_providers_and_sets,
    "secondary with line adjudication (2320/2330/2430)": lambda: f.one_claim_batch(
        f.secondary_claim()),
    "secondary with claim-level adjudication": _secondary_claim_level_only,
    "secondary with claim- and line-level adjustments": _secondary_with_claim_and_line_adjustments,
    "Medicare as secondary payer (SBR05 MSP type)": _medicare_secondary,
    "every optional claim field": _everything_on_one_claim,
    "101 claims of one subscriber": _hundred_and_one_claims_one_subscriber,
    "production, other qualifiers": lambda: f.batch(production=True, sender_qualifier="30",
                                                    receiver_qualifier="30"),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_generated_837_passes_pyx12_with_zero_errors(name: str) -> None:
    text = write_837(SCENARIOS[name]())
    assert pyx12_errors(text) == []


def test_the_validator_is_not_blind() -> None:
    # The same helper finds the known problem in a genuine sample and a broken count in ours.
    assert any("PWK02" in e for e in pyx12_errors((SAMPLES / "X222-oxygen.edi").read_bytes()))
    broken = write_837(f.batch()).replace("SE*", "SE*9", 1)
    assert pyx12_errors(broken)


# ---------------------------------------------------------------------------------------------
# What the segments say
# ---------------------------------------------------------------------------------------------


def test_basic_claim_segments() -> None:
    text = write_837(f.batch())
    assert text.startswith("ISA*00*          *00*          *ZZ*SUBMIT01       *ZZ*RECV01    ")
    assert len(text.split("~")[0]) + 1 == 106
    assert find(text, "BHT") == [["BHT", "0019", "00", "BATCH0001", "20261123", "0930", "CH"]]
    assert find(text, "PER")[0] == ["PER", "IC", "BILLING OFFICE", "TE", "5555550100"]
    assert find(text, "HL") == [["HL", "1", "", "20", "1"], ["HL", "2", "1", "22", "0"]]
    assert find(text, "PRV") == [["PRV", "BI", "PXC", "225700000X"]]
    assert find(text, "NM1", "85") == [["NM1", "85", "2", "EXAMPLE MASSAGE CLINIC", "", "", "",
                                        "", "XX", f.CLINIC_NPI]]
    assert ["N4", "ANYTOWN", "WA", "981010001"] in segments(text)
    assert find(text, "REF", "EI") == [["REF", "EI", "123456789"]]
    assert find(text, "SBR") == [["SBR", "P", "18", "GRP123", "", "", "", "", "", "CI"]]
    assert find(text, "NM1", "IL") == [["NM1", "IL", "1", "DOE", "JANE", "Q", "", "", "MI",
                                        "MEM123456"]]
    assert find(text, "DMG") == [["DMG", "D8", "19800101", "F"]]
    assert find(text, "CLM") == [["CLM", "C1", "190.5", "", "", "11:B:1", "Y", "A", "Y", "Y"]]
    assert find(text, "HI") == [["HI", "ABK:M62830", "ABF:M542"]]
    assert find(text, "SV1") == [["SV1", "HC:97124:GP", "120", "UN", "2", "", "", "1"],
                                 ["SV1", "HC:97140:GP:59", "70.5", "UN", "1", "", "", "2:1"]]
    assert find(text, "REF", "6R") == [["REF", "6R", "C1-1"], ["REF", "6R", "C1-2"]]
    assert find(text, "DTP", "472") == [["DTP", "472", "D8", "20261116"]] * 2
    se = find(text, "SE")[0]
    st_index = tags(text).index("ST")
    assert int(se[1]) == tags(text).index("SE") - st_index + 1 and se[2] == "0001"
    assert find(text, "GE") == [["GE", "1", "101"]]
    assert find(text, "IEA") == [["IEA", "1", "000000101"]]


def test_every_line_carries_its_control_number() -> None:
    text = write_837(_many_providers_and_sets())
    assert tags(text).count("LX") == tags(text).count("REF") - len(find(text, "REF", "EI")) \
        - len(find(text, "REF", "SY"))
    for lx_index, tag in enumerate(tags(text)):
        if tag == "LX":
            assert segments(text)[lx_index + 3][:2] == ["REF", "6R"]


def test_dependant_claims_hang_under_hl_23_with_pat() -> None:
    text = write_837(f.one_claim_batch(f.claim("DEP1", patient=f.child_patient())))
    assert find(text, "HL") == [["HL", "1", "", "20", "1"], ["HL", "2", "1", "22", "1"],
                                ["HL", "3", "2", "23", "0"]]
    assert find(text, "SBR") == [["SBR", "P", "", "GRP123", "", "", "", "", "", "CI"]]
    assert find(text, "PAT") == [["PAT", "19"]]
    assert find(text, "NM1", "QC") == [["NM1", "QC", "1", "DOE", "TIMMY"]]
    # The subscriber is not the patient: no subscriber DMG, the patient's instead.
    assert find(text, "DMG") == [["DMG", "D8", "20120630", "M"]]


def test_claims_of_one_subscriber_share_a_level_and_other_subscribers_get_their_own() -> None:
    jane = f.claim("J1")
    jane2 = f.claim("J2", lines=(f.line(1, control_number="J2-1"),))
    bob = f.claim("B1", subscriber=f.subscriber(name=PersonName("ROE", "BOB"), member_id="BOB1"))
    kid = f.claim("K1", patient=f.child_patient())
    kid2 = f.claim("K2", patient=f.child_patient())
    text = write_837(f.batch(ClaimGroup(f.clinic(), (jane, bob, kid, jane2, kid2))))
    assert find(text, "HL") == [
        ["HL", "1", "", "20", "1"],
        ["HL", "2", "1", "22", "0"],  # Jane: J1, J2
        ["HL", "3", "1", "22", "0"],  # Bob
        ["HL", "4", "1", "22", "1"],  # Jane as the subscriber of her son
        ["HL", "5", "4", "23", "0"],  # the son: K1, K2
    ]
    assert [c[1] for c in find(text, "CLM")] == ["J1", "J2", "B1", "K1", "K2"]


def test_more_than_100_claims_start_a_new_subscriber_level() -> None:
    text = write_837(_hundred_and_one_claims_one_subscriber())
    levels = find(text, "HL")
    assert [h[3] for h in levels] == ["20", "22", "22"]
    tag_list = tags(text)
    second = [i for i, s in enumerate(segments(text)) if s[:2] == ["HL", "3"]][0]
    assert tag_list[:second].count("CLM") == 100 and tag_list[second:].count("CLM") == 1


def test_transaction_sets_split_at_claims_per_transaction_and_count_up() -> None:
    text = write_837(_many_providers_and_sets())
    assert find(text, "ST") == [["ST", "837", f"{n:04d}", "005010X222A1"] for n in (1, 2, 3, 4)]
    assert find(text, "GE") == [["GE", "4", "101"]]
    per_set = text.split("~ST*")[1:]
    assert [s.count("~CLM*") for s in per_set] == [3, 3, 3, 1]
    for part in per_set:
        # HL numbering restarts in each set and every set opens with a billing provider.
        assert "~HL*1**20*1~" in part
    first_control = find(write_837(replace(_many_providers_and_sets(), control=ControlNumbers(
        interchange=5, group=6, first_transaction=41))), "ST")
    assert [s[2] for s in first_control] == ["0041", "0042", "0043", "0044"]


def test_auto_claim_fields() -> None:
    text = write_837(f.one_claim_batch(f.auto_claim()))
    assert find(text, "SBR")[0][9] == "AM"
    assert find(text, "CLM")[0][11] == "AA:::WA"
    assert find(text, "DTP", "439") == [["DTP", "439", "D8", "20261002"]]
    assert find(text, "DTP", "431") == [["DTP", "431", "D8", "20261002"]]
    assert find(text, "REF", "Y4") == [["REF", "Y4", "PC-778899"]]
    # REF*Y4 sits in the subscriber's loop, after DMG and before the payer.
    order = tags(text)
    assert order.index("DMG") < [i for i, s in enumerate(segments(text))
                                 if s[:2] == ["REF", "Y4"]][0]


def test_workers_comp_fields() -> None:
    text = write_837(f.one_claim_batch(f.workers_comp_claim()))
    assert find(text, "SBR") == [["SBR", "P", "18", "", "STATE FUND", "", "", "", "", "WC"]]
    assert find(text, "CLM")[0][11] == "EM"
    assert find(text, "REF", "Y4") == [["REF", "Y4", "WC2026-0042"]]


def test_replacement_and_void_carry_the_payer_claim_number() -> None:
    for frequency in ("7", "8"):
        text = write_837(f.one_claim_batch(f.claim("R1", frequency=frequency,
                                                   payer_claim_number="CCN-1")))
        assert find(text, "CLM")[0][5] == f"11:B:{frequency}"
        assert find(text, "REF", "F8") == [["REF", "F8", "CCN-1"]]


def test_provider_loops() -> None:
    text = write_837(SCENARIOS["rendering, referring and facility"]())
    assert find(text, "NM1", "DN") == [["NM1", "DN", "1", "JONES", "ROBERT", "", "", "", "XX",
                                        f.REFERRING_NPI]]
    assert find(text, "NM1", "82") == [["NM1", "82", "1", "SMITH", "ANNA", "", "", "", "XX",
                                        f.THERAPIST_NPI]]
    assert find(text, "PRV", "PE") == [["PRV", "PE", "PXC", "225700000X"]]
    assert find(text, "NM1", "77")[0][3] == "EXAMPLE SPORTS CENTER"
    ordering = write_837(SCENARIOS["ordering provider (2420E)"]())
    assert len(find(ordering, "NM1", "DK")) == 2  # on each line
    assert not find(ordering, "NM1", "DN")


def test_rendering_equal_to_billing_and_facility_at_the_billing_address_are_left_out() -> None:
    same = ProviderRef(PersonName("SMITH", "ANNA"), f.CLINIC_NPI)
    here = replace(f.facility(), address=f.CLINIC_ADDRESS)
    text = write_837(f.one_claim_batch(f.claim(rendering=same, facility=here)))
    assert not find(text, "NM1", "82") and not find(text, "NM1", "77")


def test_secondary_claim_loops() -> None:
    text = write_837(f.one_claim_batch(f.secondary_claim()))
    assert find(text, "SBR") == [["SBR", "S", "18", "GRP123", "", "", "", "", "", "CI"],
                                 ["SBR", "P", "18", "PG77", "", "", "", "", "", "CI"]]
    assert find(text, "AMT", "D") == [["AMT", "D", "152.4"]]
    # What the primary left the patient (PR 2 on both lines), for the secondary to consider.
    assert find(text, "AMT", "EAF") == [["AMT", "EAF", "38.1"]]
    assert find(text, "OI") == [["OI", "", "", "Y", "", "", "Y"]]
    assert find(text, "NM1", "PR")[1] == ["NM1", "PR", "2", "PRIME HEALTH", "", "", "", "",
                                          "PI", "PRIME1"]
    assert find(text, "SVD") == [["SVD", "PRIME1", "96", "HC:97124:GP", "", "2"],
                                 ["SVD", "PRIME1", "56.4", "HC:97140:GP:59", "", "1"]]
    assert find(text, "CAS") == [["CAS", "PR", "2", "24"], ["CAS", "PR", "2", "14.1"]]
    assert find(text, "DTP", "573") == [["DTP", "573", "D8", "20261120"]] * 2
    claim_level = write_837(_secondary_claim_level_only())
    assert find(claim_level, "CAS") == [["CAS", "CO", "45", "50.5"],
                                        ["CAS", "PR", "1", "20", "", "2", "20", "1"]]
    assert find(claim_level, "DTP", "573") == [["DTP", "573", "D8", "20261119"]]
    assert find(claim_level, "SBR")[1][3:5] == ["", "GOLD PLAN"]


def test_names_and_addresses_go_out_upper_case_without_accents() -> None:
    out = f.claim(subscriber=f.subscriber(name=PersonName("Peña", "José"),
                                          address=Address("1 Elm  St", "Anytown", "wa", "98101")))
    text = write_837(f.one_claim_batch(out))
    assert find(text, "NM1", "IL")[0][3:5] == ["PENA", "JOSE"]
    assert ["N3", "1 ELM ST"] in segments(text) and ["N4", "ANYTOWN", "WA", "98101"] in \
        segments(text)


# ---------------------------------------------------------------------------------------------
# (d) pre-checks: bad input is refused, naming the claim and the field; nothing is written
# ---------------------------------------------------------------------------------------------


def _refusal(out: OutClaim, billing: object = None) -> str:
    batch = f.one_claim_batch(out, billing)  # type: ignore[arg-type]
    with pytest.raises(OutboundError) as caught:
        write_837(batch)
    return str(caught.value)


BAD_CLAIMS: dict[str, tuple[Callable[[], OutClaim], list[str]]] = {
    "subscriber without a member ID": (
        lambda: f.claim("BAD1", subscriber=f.subscriber(member_id=" ")),
        ["claim BAD1", "member ID", "insurance card"]),
    "line without a diagnosis pointer": (
        lambda: f.claim("BAD2", lines=(f.line(1, pointers=(), control_number="B2-1"),)),
        ["claim BAD2", "line 1", "no diagnosis pointer"]),
    "pointer past the diagnoses": (
        lambda: f.claim("BAD3", lines=(f.line(1, pointers=(3,), control_number="B3-1"),)),
        ["claim BAD3", "line 1", "pointer 3", "2 diagnoses"]),
    "thirteen diagnoses": (
        lambda: f.claim("BAD4", diagnoses=tuple(f"M62.8{n:02d}" for n in range(13))),
        ["claim BAD4", "13 diagnoses", "at most 12"]),
    "five modifiers": (
        lambda: f.claim("BAD5", lines=(f.line(1, modifiers=("GP", "59", "XS", "KX", "25"),
                                              control_number="B5-1"),)),
        ["claim BAD5", "line 1", "5 modifiers"]),
    "five pointers": (
        lambda: f.claim("BAD5P", diagnoses=("M62.830", "M54.2", "M25.511", "M54.50", "M53.1"),
                        lines=(f.line(1, pointers=(1, 2, 3, 4, 5), control_number="P-1"),)),
        ["claim BAD5P", "line 1", "5 diagnosis pointers"]),
    "charge mismatch": (
        lambda: f.claim("BAD6", total_charge=Cents(20000)),
        ["claim BAD6", "total charge (CLM02) 200.00", "190.50"]),
    "replacement without the payer claim number": (
        lambda: f.claim("BAD7", frequency="7"),
        ["claim BAD7", "replacement", "REF*F8"]),
    "void without the payer claim number": (
        lambda: f.claim("BAD8", frequency="8"),
        ["claim BAD8", "void", "REF*F8"]),
    "unknown frequency": (lambda: f.claim("BAD9", frequency="3"),
                          ["claim BAD9", "frequency code (CLM05-3) '3'"]),
    "patient without sex": (
        lambda: f.claim("BAD10", patient=f.child_patient(sex="")),
        ["claim BAD10", "patient sex (DMG03)"]),
    "subscriber-patient without date of birth": (
        lambda: f.claim("BAD11", subscriber=f.subscriber(birth_date=None)),
        ["claim BAD11", "date of birth (DMG02) is missing"]),
    "zero units": (
        lambda: f.claim("BAD12", lines=(f.line(1, units=0, control_number="B12-1"),)),
        ["claim BAD12", "line 1 has 0 units"]),
    "fifty-one lines": (
        lambda: f.claim("BAD13", lines=tuple(f.line(n, control_number=f"B13-{n}", charge=Cents(1))
                                             for n in range(1, 52))),
        ["claim BAD13", "51 service lines", "at most 50"]),
    "invalid rendering NPI": (
        lambda: f.claim("BAD14", rendering=ProviderRef(PersonName("SMITH", "ANNA"),
                                                       "1245319590")),
        ["claim BAD14", "rendering provider NPI", "check digit"]),
    "missing referring NPI": (
        lambda: f.claim("BAD15", referring=ProviderRef(PersonName("JONES", "BOB"), "")),
        ["claim BAD15", "referring provider NPI", "no NPI given"]),
    "separator in a name": (
        lambda: f.claim("BAD16", subscriber=f.subscriber(name=PersonName("DOE*SMITH", "JANE"))),
        ["claim BAD16", "subscriber last name", "'*'"]),
    "auto accident without state or date": (
        lambda: f.claim("BAD17", related_causes=(RelatedCause.AUTO_ACCIDENT,)),
        ["claim BAD17", "CLM11-4", "accident date (DTP*439)"]),
    "unknown filing indicator": (
        lambda: f.claim("BAD18", subscriber=f.subscriber(claim_filing_indicator="XX")),
        ["claim BAD18", "SBR09"]),
    "claim ID too long": (lambda: f.claim("C" * 39), ["claim " + "C" * 39, "CLM01", "38"]),
    "line control number missing": (
        lambda: f.claim("BAD19", lines=(f.line(1, control_number=""),)),
        ["claim BAD19", "line 1 control number (REF*6R) is missing"]),
    "diagnosis that is not ICD-10-CM": (
        lambda: f.claim("BAD20", diagnoses=("728.85", "M54.2")),
        ["claim BAD20", "diagnosis 1 '728.85'"]),
    "dependant with the wrong relationship": (
        lambda: f.claim("BAD21", patient=f.child_patient(relationship="18")),
        ["claim BAD21", "PAT01", "'18'"]),
    "secondary that does not balance": (
        lambda: replace(f.secondary_claim("BAD22"), prior_payers=(replace(
            f.primary_adjudication(f.secondary_claim("BAD22")), paid=Cents(1)),)),
        ["claim BAD22", "other payer 1 (PRIME HEALTH)", "AMT*D", "does not balance"]),
    "prior payer data on a primary claim": (
        lambda: replace(f.claim("BAD23"),
                        prior_payers=(f.primary_adjudication(f.claim("BAD23")),)),
        ["claim BAD23", "SBR01 P"]),
    "Medicare secondary without insurance type": (
        lambda: f.claim("BAD24", subscriber=f.subscriber(
            claim_filing_indicator="MB", responsibility=PayerResponsibility.SECONDARY)),
        ["claim BAD24", "SBR05"]),
}


@pytest.mark.parametrize("name", list(BAD_CLAIMS))
def test_bad_claims_are_refused_naming_claim_and_field(name: str) -> None:
    build, expected = BAD_CLAIMS[name]
    message = _refusal(build())
    for part in expected:
        assert part in message, f"{part!r} not in {message!r}"


@pytest.mark.parametrize(("billing", "expected"), [
    (f.clinic(npi=""), ["billing provider EXAMPLE MASSAGE CLINIC (claims C1)", "NPI",
                        "no NPI given"]),
    (f.clinic(npi="1234567890"), ["NPI", "check digit"]),
    (f.clinic(address=replace(f.CLINIC_ADDRESS, postal_code="98101")),
     ["ZIP code '98101' has 5 digits", "9-digit ZIP+4"]),
    (f.clinic(address=replace(f.CLINIC_ADDRESS, line1="PO Box 12")), ["post-office box",
                                                                      "pay-to"]),
    (f.clinic(tax_id="12-34567"), ["tax ID (EIN", "9 digits"]),
    (f.clinic(organization_name=""), ["organisation name is missing"]),
])
def test_bad_billing_providers_are_refused_naming_the_claims(
    billing: object, expected: list[str]
) -> None:
    message = _refusal(f.claim(), billing)
    for part in expected:
        assert part in message, f"{part!r} not in {message!r}"


def test_all_problems_of_all_claims_are_listed_and_nothing_is_written() -> None:
    one = f.claim("A1", subscriber=f.subscriber(member_id=""), total_charge=Cents(1))
    two = f.claim("A2", lines=(f.line(1, pointers=(), units=0, control_number="A2-1"),))
    batch = f.batch(ClaimGroup(f.clinic(npi=""), (one, f.claim("OK1"), two)))
    with pytest.raises(OutboundError) as caught:
        write_837(batch)
    message = str(caught.value)
    assert message.startswith("the 837P batch 'BATCH0001' was not written: 5 problems")
    for part in ("claims A1, OK1, A2): NPI: no NPI given", "claim A1: subscriber member ID",
                 "claim A1: total charge", "claim A2: line 1 has no diagnosis pointer",
                 "claim A2: line 1 has 0 units"):
        assert part in message
    assert "claim OK1:" not in message


def test_batch_level_problems() -> None:
    batch = f.batch(
        ClaimGroup(f.clinic(), (f.claim("D1"), f.claim("D1"),
                                replace(f.claim("D2"), lines=f.claim("D1").lines))),
        claims_per_transaction=0, batch_id="",
        submitter=replace(f.submitter(), etin="X", phone="555"),
    )
    with pytest.raises(OutboundError) as caught:
        write_837(batch)
    message = str(caught.value)
    for part in ("batch: batch ID (BHT03) is missing", "submitter ID 'X' must be 2 to 15",
                 "submitter phone '555' has 3 digits", "claims per transaction set",
                 "claim D1: appears 2 times",
                 "claim D2: line 1 control number 'D1-1' is also used on claim D1"):
        assert part in message
    with pytest.raises(OutboundError, match="the batch has no claims"):
        write_837(f.batch(ClaimGroup(f.clinic(), ())))


def test_validate_claim_returns_the_same_problems_without_raising() -> None:
    assert validate_claim(f.claim(), f.clinic()) == []
    problems = validate_claim(f.claim("V1", frequency="7"), f.clinic(npi="1"))
    assert any(p.startswith("claim V1: billing provider EXAMPLE MASSAGE CLINIC: NPI: ")
               for p in problems)
    assert any(p.startswith("claim V1: a replacement") for p in problems)


# ---------------------------------------------------------------------------------------------
# (b) round trip: what we write reads back to the same claim values
# ---------------------------------------------------------------------------------------------


def as_carried(claim: OutClaim, billing: BillingProvider) -> OutClaim:
    """The claim as an 837P can carry it: what the format has no place for is blanked.

    Left out by the 837 (they print on paper only): labels, the patient account number, the
    payer program, credentials, employer and phone numbers, the subscriber's demographics when
    she is not the patient, the plan name beside a group number; a rendering provider equal to
    the billing provider and a facility at the billing address are not sent at all.
    """

    def subscriber(sub: Subscriber, is_patient: bool) -> Subscriber:
        sub = replace(sub, employer_name="", phone="",
                      plan_name="" if sub.group_number else sub.plan_name)
        return sub if is_patient else replace(sub, birth_date=None, sex="")

    lines = tuple(replace(
        line, label="",
        place_of_service="" if line.place_of_service == claim.place_of_service
        else line.place_of_service,
        date_of_service_end=None if line.date_of_service_end == line.date_of_service
        else line.date_of_service_end,
    ) for line in claim.lines)
    rendering = claim.rendering
    if rendering is not None:
        rendering = None if rendering.npi == billing.npi else replace(rendering, credentials="")
    facility = claim.facility
    if facility is not None and facility.address == billing.address:
        facility = None
    priors = tuple(replace(
        prior, subscriber=subscriber(prior.subscriber, False),
        payer=replace(prior.payer, program="group"),
        adjudicated_on=max(a.adjudicated_on for a in prior.line_adjudications)
        if prior.line_adjudications else prior.adjudicated_on,
    ) for prior in claim.prior_payers)
    return replace(
        claim, subscriber=subscriber(claim.subscriber, claim.patient is None),
        patient=None if claim.patient is None else replace(claim.patient, phone=""),
        patient_account_number="", payer=replace(claim.payer, program="group"), lines=lines,
        accident_state=claim.accident_state
        if RelatedCause.AUTO_ACCIDENT in claim.related_causes else "",
        referring=None if claim.referring is None else replace(
            claim.referring, credentials="", taxonomy=""),
        rendering=rendering, facility=facility, prior_payers=priors,
    )


def read_back(text: str) -> list[Transaction837]:
    return [read_837(transaction) for transaction in transactions(text)]


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_round_trip_gives_back_the_same_claims(name: str) -> None:
    batch = SCENARIOS[name]()
    read = read_back(write_837(batch))
    got = {claim.claim_id: claim for t in read for claim in t.claims}
    want = [as_carried(claim, group.billing) for group in batch.groups for claim in group.claims]
    assert len(got) == len(want)
    for claim in want:
        assert got[claim.claim_id] == claim
    # Billing providers come back too, each with exactly its own claims.
    for t in read:
        for group in t.groups:
            original = next(g for g in batch.groups if g.billing.npi == group.billing.npi)
            assert group.billing == replace(original.billing, license_number="")
            assert {c.claim_id for c in group.claims} <= {c.claim_id for c in original.claims}
    assert {t.batch_id for t in read} == {batch.batch_id}
    assert all(t.submitter == batch.submitter and t.receiver == batch.receiver for t in read)


def test_round_trip_keeps_the_transaction_header() -> None:
    (only,) = read_back(write_837(f.batch()))
    assert only.control_number == "0001" and only.purpose == "00"
    assert only.created_on == date(2026, 11, 23) and only.created_time == "0930"


def test_as_dict_is_plain_json_with_the_claim_values() -> None:
    (only,) = read_back(write_837(SCENARIOS["every optional claim field"]()))
    summary = only.as_dict()
    assert json.loads(json.dumps(summary)) == summary
    (provider,) = summary["billing_providers"]
    assert provider["npi"] == f.CLINIC_NPI and provider["tax_id"] == "123456789"
    (claim,) = provider["claims"]
    assert claim["claim_id"] == "ALL1" and claim["total_charge"] == "240.00"
    assert claim["frequency"] == "1" and claim["diagnoses"] == ["M62.830", "M54.2"]
    assert claim["subscriber"]["member_id"] == "MEM123456"
    assert claim["patient"]["name"]["first"] == "TIMMY"
    assert claim["payer"]["payer_id"] == "PAYER01"
    assert claim["patient_paid"] == "25.00"
    first, second = claim["lines"]
    assert first == {
        "number": 1, "code": "97124", "modifiers": ["GP"], "charge": "120.00", "units": 2,
        "pointers": [1], "date_of_service": "2026-11-16", "date_of_service_end": None,
        "control_number": "ALL1-1", "place_of_service": "12",
    }
    assert second["date_of_service_end"] == "2026-11-18"
    assert summary["claim_count"] == 1


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_round_trip_of_generated_claims(data: st.DataObject) -> None:
    text_chars = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -.,'&/#", min_size=1,
                         max_size=20).map(lambda s: " ".join(s.split())).filter(bool)
    ids = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-", min_size=2, max_size=20)
    diagnoses = data.draw(st.lists(st.sampled_from(
        ["M62.830", "M54.2", "M25.511", "M54.50", "M79.18", "S13.4XXA", "M53.1", "M62.81",
         "M54.6", "M25.512", "M79.10", "S16.1XXA", "G44.209"]), min_size=1, max_size=12,
        unique=True))
    line_count = data.draw(st.integers(1, 6))
    claim_id = data.draw(ids)
    lines = tuple(
        f.line(
            n, code=data.draw(st.sampled_from(["97124", "97140", "97112", "97110", "97010"])),
            modifiers=tuple(data.draw(st.lists(st.sampled_from(["GP", "59", "XS", "KX", "25"]),
                                               max_size=4, unique=True))),
            charge=Cents(data.draw(st.integers(0, 10**7))), units=data.draw(st.integers(1, 99)),
            pointers=tuple(data.draw(st.lists(st.integers(1, len(diagnoses)), min_size=1,
                                              max_size=4, unique=True))),
            date_of_service=data.draw(st.dates(date(2020, 1, 1), date(2030, 12, 31))),
            control_number=f"{claim_id}-{n}",
        )
        for n in range(1, line_count + 1)
    )
    patient = data.draw(st.none() | st.builds(
        lambda last, first: f.child_patient(name=PersonName(last, first)), text_chars,
        text_chars))
    out = f.claim(
        claim_id, diagnoses=tuple(diagnoses), lines=lines, patient=patient,
        subscriber=f.subscriber(name=PersonName(data.draw(text_chars), data.draw(text_chars)),
                                member_id=data.draw(ids)),
        prior_authorization=data.draw(st.just("") | ids),
    )
    (read,) = read_back(write_837(f.one_claim_batch(out)))
    assert read.claims == (as_carried(out, f.clinic()),)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_round_trip_of_generated_secondary_claims(data: st.DataObject) -> None:
    """Any split of each line into paid, contractual (CO) and patient (PR) amounts, with or
    without a claim-level copay, writes 2320/2330/2430 that read back to the same values, and
    every one balances by the IG's rules (the pre-check would refuse it otherwise)."""
    base = f.secondary_claim("GEN2")
    adjudicated_on = data.draw(st.dates(date(2020, 1, 1), date(2030, 12, 31)))
    items = []
    for item in base.lines:
        charge = item.charge.value
        paid = data.draw(st.integers(0, charge))
        patient = data.draw(st.integers(0, charge - paid))
        adjustments = tuple(a for a in (
            Adjustment("CO", "45", Cents(charge - paid - patient)),
            Adjustment("PR", data.draw(st.sampled_from(["1", "2", "3"])), Cents(patient)),
        ) if a.amount.value)
        items.append(LineAdjudication(
            control_number=item.control_number, payer_id="PRIME1", code=item.code,
            modifiers=item.modifiers, paid=Cents(paid), units=item.units,
            adjustments=adjustments, adjudicated_on=adjudicated_on))
    line_paid = sum(i.paid.value for i in items)
    copay = data.draw(st.integers(0, line_paid))
    claim_level = (Adjustment("PR", "3", Cents(copay)),) if copay else ()
    patient_total = copay + sum(a.amount.value for i in items for a in i.adjustments
                                if a.group == "PR")
    prior = replace(
        f.primary_adjudication(base), paid=Cents(line_paid - copay),
        claim_adjustments=claim_level, line_adjudications=tuple(items),
        adjudicated_on=adjudicated_on,
        remaining_patient_liability=data.draw(st.just(Cents(patient_total)) | st.none()),
    )
    out = replace(base, prior_payers=(prior,))
    assert validate_claim(out, f.clinic()) == []
    (read,) = read_back(write_837(f.one_claim_batch(out)))
    assert read.claims == (as_carried(out, f.clinic()),)


# ---------------------------------------------------------------------------------------------
# (c) the genuine 837P samples
# ---------------------------------------------------------------------------------------------

VALID_SAMPLES = ["X222-ambulance.edi", "X222-chiropractic.edi",
                 "X222-commercial-health-insurance.edi", "demo.example1.837"]


def reserialise(text: str) -> str:
    """Tokenise, then write every segment again with the file's own separators.

    The transaction sets come from the tokenizer segment by segment; the envelope from its
    headers (GS) and counts (GE, IEA), and the ISA from its fixed-width fields, because the
    tokenizer keeps the ISA's IDs without their padding and not ISA01-ISA04 at all.
    """
    sets = transactions(text)
    d = sets[0].delimiters
    separators = Separators(d.element, d.component, d.repetition, d.segment, d.line_break)

    def write(segment: Sequence[str]) -> str:
        elements: list[Element] = [
            tuple(e.split(separators.component)) if separators.component in e else e
            for e in segment[1:]
        ]
        return format_segment(segment[0], elements, separators)

    group, interchange = sets[0].group, sets[0].interchange
    out = [format_isa(text[: ISA_LENGTH - 1].split(d.element)[1:], separators)]
    out.append(write(["GS", group.functional_id, group.sender, group.receiver, group.date,
                      group.time, group.control_number, group.agency, group.version]))
    out.extend(write(segment) for transaction in sets for segment in transaction.segments)
    out.append(write(["GE", str(len(sets)), group.control_number]))
    out.append(write(["IEA", "1", interchange.control_number]))
    written = "".join(out)
    if separators.line_break and not text.endswith(separators.line_break):
        # Some files break the line after every segment but the last.
        written = written[: -len(separators.line_break)]
    return written


@pytest.mark.parametrize("name", VALID_SAMPLES)
def test_genuine_samples_reserialise_byte_for_byte(name: str) -> None:
    original = (SAMPLES / name).read_text(encoding="ascii")
    assert reserialise(original) == original


@pytest.mark.parametrize("name", VALID_SAMPLES + ["X222-oxygen.edi"])
def test_genuine_samples_read(name: str) -> None:
    (read,) = read_back((SAMPLES / name).read_text(encoding="ascii"))
    assert read.claims and all(claim.lines for claim in read.claims)
    json.dumps(read.as_dict())


def test_the_commercial_sample_reads_to_its_values() -> None:
    (read,) = read_back((SAMPLES / "X222-commercial-health-insurance.edi").read_text())
    assert read.batch_id == "244579" and read.submitter.etin == "TGJ23"
    (group,) = read.groups
    assert group.billing.npi == "9876543210" and group.billing.taxonomy == "203BF0100Y"
    assert group.billing.pay_to_address == Address("2345 OCEAN BLVD", "MIAMI", "FL", "33111")
    (claim,) = group.claims
    assert claim.claim_id == "26463774" and claim.total_charge == Cents(10000)
    assert claim.subscriber.member_id == "JS00111223333" and claim.subscriber.group_number == \
        "2222-SJ"
    assert claim.patient is not None and claim.patient.relationship == "19"
    assert claim.patient.name == PersonName("SMITH", "TED")
    assert claim.diagnoses == ("0340", "V7389")  # ICD-9 (BK/BF) kept as written
    assert [(x.code, x.charge, x.units, x.pointers, x.date_of_service) for x in claim.lines] == [
        ("99213", Cents(4000), 1, (1,), date(2006, 10, 3)),
        ("87070", Cents(1500), 1, (1,), date(2006, 10, 3)),
        ("99214", Cents(3500), 1, (2,), date(2006, 10, 10)),
        ("86663", Cents(1000), 1, (2,), date(2006, 10, 10)),
    ]


def test_the_ambulance_sample_keeps_modifiers_pointers_and_control_numbers() -> None:
    (read,) = read_back((SAMPLES / "X222-ambulance.edi").read_text())
    (claim,) = read.claims
    assert claim.accident_date == date(2005, 2, 8)
    assert claim.related_causes == (RelatedCause.OTHER_ACCIDENT,)
    assert claim.payer.address == Address("PO BOX 3543", "BALTIMORE", "MD", "666013543")
    assert [(x.modifiers, x.units, x.pointers, x.control_number) for x in claim.lines] == [
        (("RH",), 1, (1, 2, 3, 4), "1001"), (("RH",), 21, (1, 2, 3, 4), "1002"),
        (("RH",), 1, (1, 2, 3, 4), "1003"), (("RH",), 1, (1, 2, 3, 4), "1004"),
    ]


def test_valid_samples_have_no_ig_problems() -> None:
    for name in VALID_SAMPLES:
        for transaction in transactions((SAMPLES / name).read_text()):
            assert check_837(transaction) == [], name


def test_the_oxygen_sample_is_reported_invalid_for_pwk02() -> None:
    (transaction,) = transactions((SAMPLES / "X222-oxygen.edi").read_text())
    problems = check_837(transaction)
    assert len(problems) == 2
    for problem in problems:
        assert "(PWK)" in problem and "claim R03996273 #01" in problem
        assert "attachment transmission code (PWK02) 'AD' is not in the 5010 code list " \
               "(AA, BM, EL, EM, FT, FX)" in problem
    assert problems[0].startswith("segment 24 (PWK)")  # file position: ISA is 1
    # pyx12 says the same about the same segments.
    assert pyx12_errors((SAMPLES / "X222-oxygen.edi").read_bytes()) == [
        "PWK (line 24): (AD) is not a valid code for Attachment Transmission Code (PWK02)",
        "PWK (line 47): (AD) is not a valid code for Attachment Transmission Code (PWK02)",
    ]


# ---------------------------------------------------------------------------------------------
# check_837 on damaged copies of our own output
# ---------------------------------------------------------------------------------------------


def _check_after(batch: Batch, old: str, new: str) -> list[str]:
    text = write_837(batch)
    assert old in text
    return [p for t in transactions(text.replace(old, new, 1)) for p in check_837(t)]


@pytest.mark.parametrize(("batch", "old", "new", "expected"), [
    (f.batch(), "CLM*C1*190.5*", "CLM*C1*191*", "total charge (CLM02) 191.00 does not equal"),
    (f.batch(), "11:B:1", "11:B:3", "claim frequency (CLM05-3) '3'"),
    (f.batch(), "11:B:1", "11:B:7", "frequency 7 (replacement) without the payer's claim"),
    (f.batch(), "HL*2*1*22", "HL*2*5*22", "must hang under a level 20 HL"),
    (f.batch(), "HL*2*1*22", "HL*3*1*22", "HL01 '3' should be 2"),
    (f.batch(), "***2:1~", "***2:3~", "pointer '3' does not point at one of the claim's 2"),
    (f.batch(), "ABF:M542", "ABK:M542", "diagnosis 2 has qualifier 'ABK'"),
    (f.one_claim_batch(f.secondary_claim()), "AMT*D*152.4", "AMT*D*150",
     "other payer PRIME1 does not balance"),
])
def test_check_837_finds_ig_problems(batch: Batch, old: str, new: str, expected: str) -> None:
    problems = _check_after(batch, old, new)
    assert any(expected in p for p in problems), problems


def test_check_837_is_quiet_on_everything_we_write() -> None:
    for name, build in SCENARIOS.items():
        for transaction in transactions(write_837(build())):
            assert check_837(transaction) == [], name


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("DTP*472*D8*20261116", "DTP*472*D8*20261399",
     "segment 26 (DTP): service date (DTP*472) '20261399' is not a calendar date"),
    ("*UN*2***1~", "*UN*2.5***1~", "(SV1): service units '2.5' are not whole"),
    ("SBR*P*18", "SBR*A*18", "(SBR): payer sequence (SBR01) 'A' is not P, S or T"),
    ("CLM*C1*190.5*", "CLM*C1*19O.5*", "(CLM): '19O.5' is not an amount"),
])
def test_read_errors_name_the_segment_by_its_file_position(old: str, new: str,
                                                          expected: str) -> None:
    text = write_837(f.batch())
    assert old in text
    (transaction,) = transactions(text.replace(old, new, 1))
    with pytest.raises(X12ReadError) as caught:
        read_837(transaction)
    assert isinstance(caught.value, X12Error)
    assert expected in str(caught.value)
