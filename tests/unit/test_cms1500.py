"""The CMS-1500 drawn by Handbill: every value read back from the PDF inside its box."""

from __future__ import annotations

import io
import itertools
from dataclasses import replace
from datetime import date

import pytest
from pypdf import PdfReader

from handbill.core.codes import cpt
from handbill.core.money import Cents, total
from handbill.core.outbound import (
    OutboundError,
    OutClaim,
    Patient,
    PersonName,
    RelatedCause,
    TaxIdQualifier,
)
from handbill.documents.cms1500 import (
    BOXES,
    COLUMN_PT,
    FIELDS,
    LINES_PER_PAGE,
    Field,
    form_values,
    render_cms1500,
)
from tests.unit.outbound_docs_factory import (
    BILLING_NPI,
    REFERRING_NPI,
    THERAPIST_NPI,
    TextRun,
    auto_claim,
    billing_provider,
    claim,
    dependent_claim,
    line,
    page_count,
    secondary_claim,
    subscriber,
    text_runs,
)

SIGNED = date(2026, 3, 25)
ADVANCE = 6.0  # Courier 10 pt


def render(value: OutClaim, **kwargs: object) -> bytes:
    billing = kwargs.pop("billing", billing_provider())
    return render_cms1500(value, billing, signed_on=SIGNED, **kwargs)  # type: ignore[arg-type]


def field(name: str, row: int = 0) -> Field:
    return FIELDS[name].on_row(row) if name.startswith("24") else FIELDS[name]


def inside(run: TextRun, spot: Field, shift: tuple[float, float] = (0.0, 0.0)) -> bool:
    left, top, right, bottom = spot.rect(shift)
    return (
        left - 0.01 <= run.x
        and run.x + ADVANCE * len(run.text) <= right + 0.01
        and top < run.y <= bottom
    )


def printed(runs: list[TextRun], name: str, row: int = 0) -> str:
    """The text drawn inside field ``name`` ('' when nothing is)."""
    spot = field(name, row)
    found = [run.text for run in runs if run.size == 10.0 and inside(run, spot)]
    assert len(found) <= 1, f"{name}: more than one value in the box: {found}"
    return found[0] if found else ""


# --------------------------------------------------------------------------------------------
# The coordinate table itself


def test_every_field_sits_inside_its_drawn_box() -> None:
    for name, spot in FIELDS.items():
        rows = range(LINES_PER_PAGE) if name.startswith("24") else range(1)
        for row in rows:
            left, top, right, bottom = spot.on_row(row).rect() if row else spot.rect()
            b_left, b_top, b_right, b_bottom = BOXES[spot.box].rect()
            assert b_left - 0.01 <= left and right <= b_right + 0.01, name
            assert b_top - 0.01 <= top and bottom <= b_bottom + 0.01, name
            assert 0 <= left and right <= 612 and 0 <= top and bottom <= 792, name


def test_no_two_fields_share_ink() -> None:
    # 28's "CONTINUED" takes the place of the total on earlier pages, never beside it.
    alternatives = {frozenset({"28_note", "28_dollars"}), frozenset({"28_note", "28_cents"})}
    spots = [
        (f"{name}@{row}", name, spot.on_row(row))
        for name, spot in FIELDS.items()
        for row in (range(LINES_PER_PAGE) if name.startswith("24") else range(1))
    ]
    for (key_a, name_a, a), (key_b, name_b, b) in itertools.combinations(spots, 2):
        if a.line != b.line or frozenset({name_a, name_b}) in alternatives:
            continue
        a_left, _, a_right, _ = a.rect()
        b_left, _, b_right, _ = b.rect()
        assert a_right <= b_left + 0.01 or b_right <= a_left + 0.01, (key_a, key_b)


def test_grid_is_ten_columns_and_six_lines_to_the_inch() -> None:
    assert COLUMN_PT * 10 == pytest.approx(72.0)
    left, top, _, bottom = FIELDS["1a"].rect()
    assert bottom - top == pytest.approx(12.0)
    assert FIELDS["2"].rect()[0] == pytest.approx(18.0)  # column 1 at the form's edge, 0.25 in
    assert left == pytest.approx(18.0 + 50 * 7.2)


# --------------------------------------------------------------------------------------------
# Values in their boxes


@pytest.fixture(scope="module")
def dependent_page() -> list[TextRun]:
    return text_runs(render(dependent_claim()))[0]


def test_patient_insured_and_other_insured_boxes(dependent_page: list[TextRun]) -> None:
    runs = dependent_page
    assert printed(runs, "payer_name") == "EVERGREEN MUTUAL HEALTH"
    assert printed(runs, "payer_street") == "PO BOX 4400"
    assert printed(runs, "payer_city") == "SALEM OR 97309"
    assert printed(runs, "1_group") == "X"
    assert all(printed(runs, f"1_{p}") == "" for p in ("medicare", "medicaid", "other"))
    assert printed(runs, "1a") == "EVG123456789"
    assert printed(runs, "2") == "LINDQVIST, NORA"
    assert (printed(runs, "3_mm"), printed(runs, "3_dd"), printed(runs, "3_yyyy")) == (
        "04", "03", "2012",
    )
    assert printed(runs, "3_f") == "X" and printed(runs, "3_m") == ""
    assert printed(runs, "4") == "LINDQVIST, MARTA, A"
    assert printed(runs, "5_street") == "77 BIRCH LANE"
    assert printed(runs, "5_city") == "BEAVERTON"
    assert printed(runs, "5_state") == "OR"
    assert printed(runs, "5_zip") == "97005"
    assert (printed(runs, "5_area"), printed(runs, "5_phone")) == ("503", "5550142")
    assert printed(runs, "6_child") == "X"
    assert printed(runs, "6_self") == printed(runs, "6_spouse") == printed(runs, "6_other") == ""
    assert printed(runs, "7_street") == "77 BIRCH LANE"
    assert printed(runs, "9") == "LINDQVIST, ERIK, T"
    assert printed(runs, "9a") == "CSC-889900"
    assert printed(runs, "9d") == "CASCADE SILVER"
    assert printed(runs, "10a_no") == printed(runs, "10b_no") == printed(runs, "10c_no") == "X"
    assert printed(runs, "10a_yes") == printed(runs, "10b_yes") == printed(runs, "10c_yes") == ""
    assert printed(runs, "11") == "GRP-4410"
    assert (printed(runs, "11a_mm"), printed(runs, "11a_dd"), printed(runs, "11a_yyyy")) == (
        "07", "19", "1984",
    )
    assert printed(runs, "11a_f") == "X"
    assert printed(runs, "11b") == "" and printed(runs, "11b_qual") == ""
    assert printed(runs, "11c") == "EVERGREEN PPO GOLD"
    assert printed(runs, "11d_yes") == "X" and printed(runs, "11d_no") == ""
    assert printed(runs, "12") == printed(runs, "13") == "SIGNATURE ON FILE"


def test_provider_diagnosis_and_billing_boxes(dependent_page: list[TextRun]) -> None:
    runs = dependent_page
    assert (printed(runs, "14_mm"), printed(runs, "14_dd"), printed(runs, "14_yy")) == (
        "01", "12", "26",
    )
    assert printed(runs, "14_qual") == "431"
    assert printed(runs, "17_qual") == "DN"
    assert printed(runs, "17") == "PAT J EXAMPLE MD"
    assert printed(runs, "17b") == REFERRING_NPI
    assert printed(runs, "19") == ""
    assert printed(runs, "21_ind") == "0"
    assert [printed(runs, f"21_{x}") for x in "ABCD"] == ["M5450", "M62830", "S134XXA", ""]
    assert printed(runs, "22_code") == "" and printed(runs, "22_ref") == ""
    assert printed(runs, "23") == "PA-77812"
    assert printed(runs, "25") == "123456789"
    assert printed(runs, "25_ein") == "X" and printed(runs, "25_ssn") == ""
    assert printed(runs, "26") == "P000417"
    assert printed(runs, "27_yes") == "X" and printed(runs, "27_no") == ""
    assert (printed(runs, "28_dollars"), printed(runs, "28_cents")) == ("210", "75")
    assert printed(runs, "29_dollars") == ""
    assert printed(runs, "31_name") == "ROBIN K FERNWOOD"
    assert printed(runs, "31_credentials") == "LMT"
    assert printed(runs, "31_date") == "03 25 26"
    assert printed(runs, "32_name") == "RIVERSIDE WELLNESS STUDIO"
    assert printed(runs, "32_street") == "15 QUAY ST"
    assert printed(runs, "32_city") == "PORTLAND OR 97209"
    assert printed(runs, "32a") == "1245319599"
    assert printed(runs, "33_name") == "ALDER STREET BODYWORK LLC"
    assert printed(runs, "33_street") == "1200 EXAMPLE AVE SUITE 4"
    assert printed(runs, "33_city") == "PORTLAND OR 97201-1234"
    assert (printed(runs, "33_area"), printed(runs, "33_phone")) == ("503", "5550100")
    assert printed(runs, "33a") == BILLING_NPI
    assert printed(runs, "33b") == "ZZ225700000X"


def test_service_lines(dependent_page: list[TextRun]) -> None:
    runs = dependent_page
    first = [printed(runs, name, 0) for name in (
        "24a_from_mm", "24a_from_dd", "24a_from_yy", "24a_to_mm", "24a_to_dd", "24a_to_yy",
        "24b", "24d", "24d_mod1", "24d_mod2", "24e", "24f_dollars", "24f_cents", "24g", "24j",
    )]
    assert first == [
        "03", "02", "26", "03", "02", "26", "11", "97124", "GP", "", "AB", "100", "25", "2",
        THERAPIST_NPI,
    ]
    second = [printed(runs, name, 1) for name in ("24d", "24e", "24f_dollars", "24f_cents")]
    assert second == ["97140", "B", "110", "50"]
    assert printed(runs, "24d", 2) == ""  # two lines only


def test_four_modifiers_four_pointers_span_and_line_place() -> None:
    busy = line(
        1, modifiers=("GP", "59", "KX", "XS"), pointers=(4, 3, 2, 1), units=12,
        date_of_service_end=date(2026, 3, 6), place_of_service="12", charge=Cents(123456789),
    )
    value = claim(lines=(busy,), diagnoses=("M54.50", "M62.830", "S13.4XXA", "M79.18"))
    runs = text_runs(render(value))[0]
    assert [printed(runs, f"24d_mod{n}") for n in (1, 2, 3, 4)] == ["GP", "59", "KX", "XS"]
    assert printed(runs, "24e") == "DCBA"
    assert (printed(runs, "24a_to_mm"), printed(runs, "24a_to_dd")) == ("03", "06")
    assert printed(runs, "24b") == "12"
    assert printed(runs, "24g") == "12"
    assert (printed(runs, "24f_dollars"), printed(runs, "24f_cents")) == ("1234567", "89")
    assert (printed(runs, "28_dollars"), printed(runs, "28_cents")) == ("1234567", "89")


def test_money_is_right_aligned_dollars_and_separate_cents() -> None:
    value = claim(lines=(line(1, charge=Cents(7)), line(2, charge=Cents(100000))))
    runs = text_runs(render(value))[0]
    assert (printed(runs, "24f_dollars", 0), printed(runs, "24f_cents", 0)) == ("0", "07")
    assert (printed(runs, "24f_dollars", 1), printed(runs, "24f_cents", 1)) == ("1000", "00")
    spot = field("24f_dollars", 1)
    dollars = next(run for run in runs if run.text == "1000" and inside(run, spot))
    right = spot.rect()[2]
    assert right - (dollars.x + ADVANCE * 4) == pytest.approx(0.6)  # flush against the cents
    assert (printed(runs, "28_dollars"), printed(runs, "28_cents")) == ("1000", "07")


def test_amounts_that_do_not_fit_are_refused() -> None:
    value = claim(lines=(line(1, charge=Cents(1_000_000_000)),))
    with pytest.raises(OutboundError, match="HB0000012.*holds 7"):
        render(value)


def test_auto_accident_claim() -> None:
    runs = text_runs(render(auto_claim()))[0]
    assert printed(runs, "1_other") == "X" and printed(runs, "1_group") == ""
    assert printed(runs, "10b_yes") == "X" and printed(runs, "10b_no") == ""
    assert printed(runs, "10b_state") == "WA"
    assert printed(runs, "10a_no") == "X"
    assert printed(runs, "11b_qual") == "Y4"
    assert printed(runs, "11b") == "AUTO-2026-55501"
    assert printed(runs, "11c") == "GRANITE AUTO INSURANCE"  # no plan name: the payer's
    # No onset date: the date of the accident, as the date of injury.
    assert (printed(runs, "14_mm"), printed(runs, "14_dd"), printed(runs, "14_yy")) == (
        "01", "09", "26",
    )
    assert printed(runs, "14_qual") == "431"


def test_workers_comp_names_the_employer_as_insured() -> None:
    value = claim(
        payer=replace(claim().payer, program="other"),
        subscriber=subscriber(claim_filing_indicator="WC", employer_name="Harbor Freight Lines"),
        related_causes=(RelatedCause.EMPLOYMENT,),
        property_casualty_claim_number="WC-88-1200",
    )
    runs = text_runs(render(value))[0]
    assert printed(runs, "4") == "HARBOR FREIGHT LINES"
    assert printed(runs, "10a_yes") == "X"
    assert printed(runs, "11b") == "WC-88-1200"


def test_secondary_claim_names_the_primary_and_what_was_paid() -> None:
    value = secondary_claim(frequency="7", payer_claim_number="EVG-2026-000123")
    runs = text_runs(render(value))[0]
    assert printed(runs, "9") == "LINDQVIST, MARTA, A"
    assert printed(runs, "9a") == "FCH-1000-22"
    assert printed(runs, "9d") == "FIRST CEDAR BRONZE"
    assert printed(runs, "11d_yes") == "X"
    assert printed(runs, "22_code") == "7"
    assert printed(runs, "22_ref") == "EVG-2026-000123"
    # Patient 20.00 + primary 61.50.
    assert (printed(runs, "29_dollars"), printed(runs, "29_cents")) == ("81", "50")


def test_referral_number_fills_box_23_when_there_is_no_authorization() -> None:
    value = claim(prior_authorization="", referral_number="REF-5521")
    assert printed(text_runs(render(value))[0], "23") == "REF-5521"


def test_diagnoses_with_the_dot_when_asked() -> None:
    runs = text_runs(render(claim(), dx_with_dot=True))[0]
    assert [printed(runs, f"21_{x}") for x in "ABC"] == ["M54.50", "M62.830", "S13.4XXA"]


def test_twelve_diagnoses_fill_a_to_l() -> None:
    codes = tuple(f"M54.{n}" for n in range(10, 22))
    runs = text_runs(render(claim(diagnoses=codes)))[0]
    assert [printed(runs, f"21_{x}") for x in "ABCDEFGHIJKL"] == [c.replace(".", "") for c in codes]


def test_ssn_tick_signer_additional_info_and_no_facility() -> None:
    billing = billing_provider(tax_id="123-45-6789", tax_id_qualifier=TaxIdQualifier.SSN)
    value = claim(rendering=None)
    runs = text_runs(render(value, billing=billing, additional_info="Attachment: Rx on file"))[0]
    assert printed(runs, "25") == "123456789"
    assert printed(runs, "25_ssn") == "X" and printed(runs, "25_ein") == ""
    assert printed(runs, "19") == "ATTACHMENT: RX ON FILE"
    # The practice signs with its name, over two lines when it is long.
    assert printed(runs, "31_name") == "ALDER STREET BODYWORK"
    assert printed(runs, "31_credentials") == "LLC"
    assert printed(runs, "24j") == BILLING_NPI  # she renders under the billing NPI
    assert printed(runs, "32_name") == "" and printed(runs, "32a") == ""


# --------------------------------------------------------------------------------------------
# Pages and modes


def test_eight_lines_continue_on_a_second_page() -> None:
    lines = tuple(line(n) for n in range(1, 9))
    value = claim(lines=lines, total_charge=total(item.charge for item in lines))
    pdf = render(value)
    assert page_count(pdf) == 2
    first, second = text_runs(pdf)
    assert [printed(first, "24d", row) for row in range(6)] == [
        "97124", "97140", "97112", "97110", "97530", "97124",
    ]
    assert [printed(second, "24d", row) for row in range(6)] == ["97140", "97112", "", "", "", ""]
    # Header boxes repeat; the total is on the last page only.
    for runs in (first, second):
        assert printed(runs, "2") == "LINDQVIST, MARTA, A"
        assert printed(runs, "33a") == BILLING_NPI
        assert printed(runs, "21_A") == "M5450"
    assert printed(first, "page") == "PAGE 1 OF 2"
    assert printed(second, "page") == "PAGE 2 OF 2"
    assert any(run.text == "CONTINUED" and inside(run, FIELDS["28_note"]) for run in first)
    assert printed(first, "28_dollars") == "" and printed(first, "28_cents") == ""
    expected = total(item.charge for item in lines).to_decimal_string().split(".")
    assert [printed(second, "28_dollars"), printed(second, "28_cents")] == expected
    assert not any(run.text == "CONTINUED" for run in second)


def test_a_single_page_claim_has_no_page_number() -> None:
    runs = text_runs(render(claim()))[0]
    assert not any(run.text.startswith("PAGE ") for run in runs)


def test_data_only_prints_the_values_and_nothing_else() -> None:
    value = dependent_claim()
    pdf = render(value, data_only=True)
    runs = text_runs(pdf)[0]
    expected = form_values(value, billing_provider(), signed_on=SIGNED)[0]
    assert sorted(run.text for run in runs) == sorted(expected.values())
    assert {run.size for run in runs} == {10.0}
    # The same positions as the full form.
    full = text_runs(render(value))[0]
    data_positions = {(run.text, run.x, run.y) for run in runs}
    full_positions = {(run.text, run.x, run.y) for run in full if run.size == 10.0}
    assert data_positions == full_positions
    # No rules, boxes or shading: a content stream without path painting.
    content = PdfReader(io.BytesIO(pdf)).pages[0].get_contents()
    assert content is not None
    stream = content.get_data()
    assert b" re " not in stream and b" l S" not in stream and b" m " not in stream
    full_content = PdfReader(io.BytesIO(render(value))).pages[0].get_contents()
    assert full_content is not None and b" re " in full_content.get_data()


def test_full_form_has_our_captions() -> None:
    texts = {run.text for run in text_runs(render(claim()))[0]}
    assert "HEALTH INSURANCE CLAIM FORM" in texts
    assert "1a  INSURED'S MEMBER ID (as on the card)" in texts
    assert "33  BILLING PROVIDER                     PHONE" in texts


def test_shift_moves_every_value() -> None:
    value = claim()
    plain = text_runs(render(value, data_only=True))[0]
    moved = text_runs(render(value, data_only=True, shift=(3.6, -2.0)))[0]
    assert [(r.text, round(r.x + 3.6, 2), round(r.y - 2.0, 2)) for r in plain] == [
        (r.text, r.x, r.y) for r in moved
    ]
    assert any(run.text == "EVG123456789" and inside(run, FIELDS["1a"], (3.6, -2.0))
               for run in moved)


def test_no_procedure_descriptions_are_printed() -> None:
    lines = tuple(line(n) for n in range(1, 9))
    value = claim(lines=lines, total_charge=total(item.charge for item in lines))
    text = " ".join(run.text for page in text_runs(render(value)) for run in page).upper()
    for item in lines:
        assert cpt.get(item.code).label.upper() not in text
    for word in ("MASSAGE", "MANUAL THERAPY", "MINUTES", "15 MIN", "EXERCISE"):
        assert word not in text


def test_same_claim_same_bytes() -> None:
    assert render(claim()) == render(claim())
    assert render(claim(), data_only=True) == render(claim(), data_only=True)


def test_text_outside_latin1_is_folded_to_plain_capitals() -> None:
    patient = Patient(
        name=PersonName(last="Ångström-Łukasz", first="Zoë", middle="ß"),
        birth_date=date(1990, 1, 2),
        sex="F",
        address=dependent_claim().patient.address,  # type: ignore[union-attr]
        relationship="01",
    )
    runs = text_runs(render(claim(patient=patient, subscriber=subscriber(
        name=PersonName(last="Wáng 王", first="Lí")))))[0]
    assert printed(runs, "2") == "ANGSTROM-LUKASZ, ZOE, S"
    assert printed(runs, "4") == "WANG ?, LI"
    assert printed(runs, "6_spouse") == "X"


def test_long_names_are_cut_at_the_box_edge() -> None:
    long_name = PersonName(last="Montgomery-Fitzwilliam-Ashdown", first="Alexandria")
    runs = text_runs(render(claim(subscriber=subscriber(name=long_name))))[0]
    assert printed(runs, "2") == "MONTGOMERY-FITZWILLIAM-ASHDO"
    assert len(printed(runs, "2")) == FIELDS["2"].width


# --------------------------------------------------------------------------------------------
# Refusals: each names the claim and the box


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (claim(lines=(line(1, pointers=()),)), r"line 1: has no diagnosis pointer \(box 24E\)"),
        (claim(lines=(line(1, pointers=(4,)),)), r"line 1: points to diagnosis 4 but the claim"),
        (claim(lines=(line(1, pointers=(1, 2, 3, 1, 2)),)), "box 24E takes 4"),
        (claim(lines=(line(1, modifiers=("GP", "59", "KX", "XS", "XU")),)), "box 24D takes 4"),
        (claim(lines=(line(1, units=0),)), "box 24G"),
        (claim(total_charge=Cents(1)), r"does not equal the sum of the lines"),
        (claim(lines=()), "has no service lines"),
        (claim(diagnoses=tuple(f"M54.{n}" for n in range(10, 23))), "split the claim"),
        (claim(diagnoses=()), r"no diagnosis \(box 21\)"),
        (claim(frequency="7"), r"original claim number \(box 22\)"),
        (claim(patient_account_number="ACCOUNT-NUMBER-TOO-LONG"), "box 26 holds 13"),
        (claim(subscriber=subscriber(member_id="")), r"member ID \(box 1a\)"),
        (claim(subscriber=subscriber(phone="555-0142")), "box 5"),
        (claim(related_causes=(RelatedCause.AUTO_ACCIDENT,)), r"box 10b"),
        (claim(payer=replace(claim().payer, program="hmo")), "box 1"),
        (claim(lines=(line(1, date_of_service_end=date(2026, 3, 1)),)), "ends before it begins"),
    ],
)
def test_refusals(value: OutClaim, message: str) -> None:
    with pytest.raises(OutboundError, match=message) as raised:
        render(value)
    assert "HB0000012" in str(raised.value)


def test_missing_billing_npi_is_refused() -> None:
    with pytest.raises(OutboundError, match=r"NPI \(box 33a\)"):
        render(claim(), billing=billing_provider(npi=""))
