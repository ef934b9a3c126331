"""The appeal letter cites the claim, the denial in words and the note's evidence, read back."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from handbill.core.codes import cpt
from handbill.core.codes.icd10_index import Icd10Index, build_index, index_is_current, open_index
from handbill.core.money import Cents
from handbill.core.outbound import Address, Adjustment, OutboundError
from handbill.documents.appeal import (
    AppealedLine,
    AppealLetter,
    NoteEvidence,
    ServiceEvidence,
    reason_argument,
    render_appeal,
)
from tests.unit.outbound_docs_factory import billing_provider, therapist

ISSUED = date(2026, 12, 14)
DOS = date(2026, 11, 2)


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Icd10Index]:
    directory: Path = tmp_path_factory.getbasetemp() / "icd10-index"
    if not index_is_current(directory):
        build_index(cache_dir=directory)
    opened = open_index(directory)
    yield opened
    opened.close()


def letter(**changes: Any) -> AppealLetter:
    base = AppealLetter(
        claim_id="HB0000042", payer_claim_number="RUMP-77001",
        payer_name="Rainier Uniform Medical Plan",
        payer_address=Address("PO BOX 4400", "OLYMPIA", "WA", "985040400"),
        patient_name="Jordan Sample", patient_birth_date=date(1984, 5, 6),
        member_id="M00012345", group_number="GRP100", date_of_service=DOS,
        billed=Cents(9500), paid=Cents(0), remittance_date=date(2026, 11, 20),
        submitted_on=date(2026, 11, 3),
        lines=(
            AppealedLine(1, DOS, "97124", ("GP",), 2, Cents(6000), Cents(0),
                         (Adjustment("CO", "50", Cents(6000)),), ("N130",)),
            AppealedLine(2, DOS, "97140", ("GP", "59"), 1, Cents(3500), Cents(0),
                         (Adjustment("CO", "236", Cents(3500)),)),
        ),
        claim_adjustments=(), claim_remarks=(),
        evidence=NoteEvidence(
            date_of_service=DOS, signed_on=DOS, signed_by="Anna Tester, LMT",
            diagnoses=("M62.830", "M54.2"),
            services=(ServiceEvidence("97124", 38, "Swedish massage", "low back"),
                      ServiceEvidence("97140", 15, "Myofascial release", "neck")),
            medical_necessity="Muscle spasm of the low back limits sitting to 20 minutes; "
                              "skilled massage is needed to restore work tolerance.",
            assessment="Spasm reduced; cervical rotation improved by 15 degrees.",
            plan="Twice weekly for 4 weeks.",
            response_to_treatment="Sitting tolerance up to 35 minutes.",
            authorization="prescription RX9001 from Dr. Pat Example, 12 visits",
        ),
        billing=billing_provider(), provider=therapist(),
    )
    return replace(base, **changes)


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def test_the_letter_cites_the_claim(index: Icd10Index) -> None:
    text = text_of(render_appeal(letter(), issued_on=ISSUED, icd10_index=index))
    for expected in ("Request for reconsideration of claim RUMP-77001", "HB0000042",
                     "Jordan Sample", "05/06/1984", "M00012345", "group GRP100",
                     "11/02/2026", "$95.00 billed, $0.00 paid", "11/20/2026",
                     "Rainier Uniform Medical Plan", "PO BOX 4400", "OLYMPIA, WA 98504-0400",
                     "12/14/2026", "97124:GP", "97140:GP:59", "$60.00", "$35.00"):
        assert expected in text, expected
    assert cpt.get("97124").label in text


def test_the_denial_reasons_are_in_words_with_the_answer(index: Icd10Index) -> None:
    text = text_of(render_appeal(letter(), issued_on=ISSUED, icd10_index=index))
    assert "CO-50 The payer does not consider the service medically necessary" in text
    assert "CO-236" in text and "not compatible with another on the same day" in text
    assert "Remark N130" in text and "benefit documents restrict" in text
    # The answers draw on the note: body regions for the NCCI pair, necessity for CARC 50.
    assert "97124: low back; 97140: neck" in text
    assert "The treatment was medically necessary" in text


def test_the_note_evidence_is_quoted(index: Icd10Index) -> None:
    text = text_of(render_appeal(letter(), issued_on=ISSUED, icd10_index=index))
    for expected in ("38 minutes", "Swedish massage", "body region: low back", "15 minutes",
                     "Myofascial release", "M62.830", "M54.2", "Cervicalgia",
                     "Muscle spasm of the low back limits sitting",
                     "Spasm reduced; cervical rotation", "Sitting tolerance up to 35",
                     "Twice weekly", "prescription RX9001", "signed 11/02/2026",
                     "by Anna Tester, LMT"):
        assert expected in text, expected


def test_letterhead_and_signature(index: Icd10Index) -> None:
    billing = billing_provider()
    provider = therapist()
    text = text_of(render_appeal(letter(), issued_on=ISSUED, icd10_index=index))
    assert text.startswith(billing.display_name)
    assert f"NPI {billing.npi}" in text
    assert "Sincerely" in text and f"Treating provider, NPI {provider.npi}" in text
    assert provider.name.last in text.split("Sincerely", 1)[1]


def test_each_argument_fills_in_its_evidence() -> None:
    value = letter()
    assert "prescription RX9001" in reason_argument("197", value)
    assert "11/03/2026" in reason_argument("29", value)
    assert reason_argument("45", value) == ""  # a fee-schedule write-off is not argued


def test_the_patient_share_is_not_appealed(index: Icd10Index) -> None:
    value = letter(lines=(
        AppealedLine(1, DOS, "97124", ("GP",), 2, Cents(6000), Cents(4000),
                     (Adjustment("PR", "2", Cents(1000)), Adjustment("CO", "97", Cents(1000)))),
        AppealedLine(2, DOS, "97140", ("GP", "59"), 1, Cents(3500), Cents(3500), ()),
    ))
    text = text_of(render_appeal(value, issued_on=ISSUED, icd10_index=index))
    assert "PR-2" in text  # listed on the line …
    assert not re.search(r"PR-2 Coinsurance", text)  # … but not argued
    assert "CO-97" in text and "separately identifiable" in text


@pytest.mark.parametrize(("changes", "expected"), [
    ({"payer_claim_number": ""}, "payer's claim number is missing"),
    ({"lines": ()}, "no lines"),
    ({"billed": Cents(1)}, "add up to"),
])
def test_a_letter_that_would_be_wrong_is_refused(changes: dict[str, Any], expected: str) -> None:
    with pytest.raises(OutboundError, match=expected):
        render_appeal(letter(**changes), issued_on=ISSUED)


def test_an_unsigned_note_is_refused() -> None:
    unsigned = replace(letter().evidence, signed_on=None)
    with pytest.raises(OutboundError, match="not signed"):
        render_appeal(letter(evidence=unsigned), issued_on=ISSUED)


def test_the_same_values_give_the_same_bytes(index: Icd10Index) -> None:
    first = render_appeal(letter(), issued_on=ISSUED, icd10_index=index)
    assert first == render_appeal(letter(), issued_on=ISSUED, icd10_index=index)
    assert first.startswith(b"%PDF")
