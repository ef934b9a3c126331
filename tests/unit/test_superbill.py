"""The superbill: everything an insurer needs to reimburse a self-pay client, read back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from handbill.core.codes import cpt
from handbill.core.codes.icd10_index import Icd10Index, build_index, index_is_current, open_index
from handbill.core.money import Cents, total
from handbill.core.outbound import (
    OutboundError,
    OutClaim,
    Payer,
    PayerResponsibility,
    PersonName,
    TaxIdQualifier,
)
from handbill.documents.superbill import CLIENT_NOTE, render_superbill
from tests.unit.outbound_docs_factory import (
    BILLING_NPI,
    REFERRING_NPI,
    THERAPIST_NPI,
    TextRun,
    billing_provider,
    claim,
    dependent_claim,
    line,
    page_count,
    subscriber,
    text_runs,
    therapist,
)

ISSUED = date(2026, 3, 25)


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Icd10Index]:
    # The same session-wide directory as the ICD-10 tests: built once per session.
    directory: Path = tmp_path_factory.getbasetemp() / "icd10-index"
    if not index_is_current(directory):
        build_index(cache_dir=directory)
    opened = open_index(directory)
    yield opened
    opened.close()


def self_pay(**changes: Any) -> OutClaim:
    defaults: dict[str, Any] = {
        "payer": Payer(name="Self-pay", payer_id="", program="other"),
        "subscriber": subscriber(member_id="", group_number="", plan_name="",
                                 responsibility=PayerResponsibility.PRIMARY),
        "rendering": None,
    }
    return claim(**{**defaults, **changes})


PAID = Cents(20000)


def render(index: Icd10Index, value: OutClaim, paid: Cents = PAID, **kw: object) -> bytes:
    return render_superbill(
        claim=value,
        billing=kw.pop("billing", billing_provider()),  # type: ignore[arg-type]
        provider=kw.pop("provider", therapist()),  # type: ignore[arg-type]
        amount_paid=paid,
        issued_on=ISSUED,
        icd10_index=index,
    )


def words(pdf: bytes) -> str:
    return "\n".join(run.text for page in text_runs(pdf) for run in page)


def rows(runs: list[TextRun]) -> dict[float, list[str]]:
    """Texts on each baseline, left to right."""
    found: dict[float, list[TextRun]] = {}
    for run in runs:
        found.setdefault(round(run.y, 0), []).append(run)
    return {y: [r.text for r in sorted(line, key=lambda r: r.x)] for y, line in found.items()}


def test_practice_provider_and_client(index: Icd10Index) -> None:
    text = words(render(index, self_pay(referring=None)))
    for expected in (
        "Alder Street Bodywork LLC",
        "1200 Example Ave, Suite 4",
        "Portland, OR 97201-1234",
        "(503) 555-0100",
        "SUPERBILL",
        "Statement date: 03/25/2026",
        "Reference: HB0000012",
        "Date of service: 03/02/2026",
        "Robin Kay Fernwood, LMT",
        THERAPIST_NPI,
        "225700000X (Massage therapist)",
        "OR MA60012345",
        BILLING_NPI,
        "12-3456789",
        "Marta Ann Lindqvist",
        "07/19/1984",
        "77 Birch Lane, Beaverton, OR 97005",
        "(503) 555-0142",
        "P000417",
    ):
        assert expected in text, expected
    # A self-pay visit has no insurance to name.
    assert "Insurance" not in text and "member ID" not in text


def test_services_with_our_labels_units_modifiers_and_charges(index: Icd10Index) -> None:
    value = self_pay(line_count=4)
    runs = text_runs(render(index, value))[0]
    table = [texts for texts in rows(runs).values() if texts and texts[0].count("/") == 2]
    assert table == [
        ["03/02/2026", "11", "97124", "GP", "Massage, 15 min", "A, B", "2", "$100.25"],
        ["03/02/2026", "11", "97140", "GP", "Manual therapy, 15 min", "B", "3", "$110.50"],
        ["03/09/2026", "11", "97112", "GP", "Neuromuscular re-education, 15 min", "A, B", "1",
         "$120.75"],
        ["03/09/2026", "11", "97110", "GP", "Therapeutic exercise, 15 min", "B", "2",
         "$131.00"],
    ]
    # Our catalogue's words are the only description a code gets.
    for item in value.lines:
        assert cpt.get(item.code).label in {texts[4] for texts in table}
    text = words(render(index, value))
    assert "Dates of service: 03/02/2026 to 03/09/2026" in text
    assert "Place of service: 11 = Office" in text


def test_diagnoses_with_their_descriptions(index: Icd10Index) -> None:
    text = words(render(index, self_pay()))
    assert "M54.50" in text and "Low back pain, unspecified" in text
    assert "M62.830" in text and "Muscle spasm of back" in text
    assert "S13.4XXA" in text
    assert "Sprain of ligaments of cervical spine, initial encounter" in text


def test_unknown_diagnosis_is_said_to_be_unknown(index: Icd10Index) -> None:
    value = self_pay(diagnoses=("M54.50", "Z99.999"))
    text = words(render(index, value))
    assert "Z99.999" in text and "(not found in the ICD-10-CM code set)" in text


def test_totals_paid_balance_note_and_signature(index: Icd10Index) -> None:
    value = self_pay(line_count=4)
    runs = text_runs(render(index, value, Cents(20000)))[0]
    lines = list(rows(runs).values())
    assert ["Total charges", "$462.50"] in lines
    assert ["Amount paid", "$200.00"] in lines
    assert ["Balance due", "$262.50"] in lines
    text = words(render(index, value))
    assert "For your insurer" in text and "reimbursed" in text
    assert CLIENT_NOTE.startswith("For your insurer")
    assert "Provider signature: Robin Kay Fernwood, LMT" in text
    assert "Date" in text


def test_overpayment_shows_a_credit(index: Icd10Index) -> None:
    value = self_pay(line_count=1)
    runs = text_runs(render(index, value, Cents(value.total_charge.value + 500)))[0]
    assert ["Credit on account", "$5.00"] in list(rows(runs).values())


def test_insured_client_shows_her_plan(index: Icd10Index) -> None:
    text = words(render(index, claim(), provider=therapist()))
    # The value wraps inside its column; both halves are there.
    assert "Evergreen PPO Gold, member ID" in text and "EVG123456789" in text
    assert "GRP-4410" in text
    assert f"Pat J Example, MD, NPI {REFERRING_NPI}" in text


def test_dependent_client_is_the_patient_not_the_subscriber(index: Icd10Index) -> None:
    text = words(render(index, dependent_claim()))
    assert "Nora Lindqvist" in text and "04/03/2012" in text


def test_sole_proprietor_ssn_is_masked(index: Icd10Index) -> None:
    billing = billing_provider(tax_id="555-12-3499", tax_id_qualifier=TaxIdQualifier.SSN)
    text = words(render(index, self_pay(), billing=billing))
    assert "XXX-XX-3499" in text
    assert "555123499" not in text and "555-12-3499" not in text


def test_many_services_continue_with_the_table_heading(index: Icd10Index) -> None:
    lines = tuple(line(n, pointers=(1,)) for n in range(1, 41))
    value = self_pay(lines=lines, total_charge=total(item.charge for item in lines))
    pdf = render(index, value)
    assert page_count(pdf) >= 2
    pages = text_runs(pdf)
    for number, runs in enumerate(pages, start=1):
        texts = [run.text for run in runs]
        assert f"Page {number} of {len(pages)}" in texts
    assert "Charge" in [run.text for run in pages[1]]  # the heading again
    codes = [run.text for page in pages for run in page if run.text in cpt.CATALOGUE]
    assert len(codes) == 40
    text = words(pdf)
    assert total(item.charge for item in lines).display() in text


def test_names_keep_latin1_letters_and_fold_the_rest(index: Icd10Index) -> None:
    value = self_pay(subscriber=subscriber(
        name=PersonName(last="Ångström", first="Zoë", middle="Łucja"), member_id=""))
    text = words(render(index, value))
    assert "Zoë Lucja Ångström" in text
    value = self_pay(subscriber=subscriber(name=PersonName(last="Wáng 王", first="Lí")))
    assert "Lí Wáng ?" in words(render(index, value))


def test_unknown_code_uses_the_line_label(index: Icd10Index) -> None:
    odd = line(1, code="97999", label="Unlisted service (see note)")
    value = self_pay(lines=(odd,), total_charge=odd.charge)
    assert "Unlisted service (see note)" in words(render(index, value))


def test_same_superbill_same_bytes(index: Icd10Index) -> None:
    assert render(index, self_pay()) == render(index, self_pay())


@pytest.mark.parametrize(
    ("value", "paid", "message"),
    [
        (self_pay(lines=()), Cents(0), "has no services"),
        (self_pay(), Cents(-1), "amount paid -0.01 is negative"),
        (self_pay(total_charge=Cents(5)), Cents(0), "does not equal the sum"),
        (self_pay(lines=(line(1, pointers=(9,)),)), Cents(0), "points to diagnosis 9"),
    ],
)
def test_refusals(index: Icd10Index, value: OutClaim, paid: Cents, message: str) -> None:
    with pytest.raises(OutboundError, match=message) as raised:
        render(index, value, paid)
    assert "HB0000012" in str(raised.value)
