"""The primary's answer as the secondary claim's 2320/2330/2430 values (handbill.core.secondary)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from handbill.core.money import Cents
from handbill.core.outbound import Adjustment, PayerResponsibility
from handbill.core.secondary import (
    PrimaryRemittance,
    RemittedLine,
    SecondaryError,
    medicare_secondary_problem,
    patient_share,
    prior_payer,
    prior_payer_from_json,
    prior_payer_to_json,
    secondary_problems,
)
from handbill.x12.p837 import validate_claim, write_837
from tests.unit import outbound_factory as f
from tests.unit.x12_validation import pyx12_errors


def _remit(**changes: object) -> PrimaryRemittance:
    values: dict[str, object] = {
        "status": "1", "charge": Cents(19050), "paid": Cents(13335),
        "patient_responsibility": Cents(3810), "payer_claim_number": "PRIME-9",
        "adjudicated_on": date(2026, 11, 20), "claim_adjustments": (),
        "lines": (
            RemittedLine(1, "97124", ("GP",), 2, Cents(12000), Cents(8400),
                         (Adjustment("CO", "45", Cents(1200)),
                          Adjustment("PR", "2", Cents(2400)))),
            RemittedLine(2, "97140", ("GP", "59"), 1, Cents(7050), Cents(4935),
                         (Adjustment("CO", "45", Cents(705)),
                          Adjustment("PR", "2", Cents(1410)))),
        ),
    }
    values.update(changes)
    return PrimaryRemittance(**values)  # type: ignore[arg-type]


def _secondary_claim_values():  # type: ignore[no-untyped-def]
    base = f.secondary_claim("SECU1")
    controls = {line.number: line.control_number for line in base.lines}
    prior = prior_payer(_remit(), payer=f.payer(name="PRIME HEALTH", payer_id="PRIME1"),
                        subscriber=f.subscriber(member_id="PRM1"), relationship="18",
                        controls=controls, total_charge=base.total_charge)
    return base, prior


def test_the_primary_answer_becomes_the_other_payer_loops_and_passes_pyx12() -> None:
    from dataclasses import replace

    base, prior = _secondary_claim_values()
    assert base.total_charge == Cents(19050)
    assert prior.subscriber.responsibility is PayerResponsibility.PRIMARY
    assert prior.paid == Cents(13335)
    assert prior.remaining_patient_liability == Cents(3810) == patient_share(_remit())
    assert [a.control_number for a in prior.line_adjudications] == ["SECU1-1", "SECU1-2"]
    claim = replace(base, prior_payers=(prior,))
    assert validate_claim(claim, f.clinic()) == []
    assert pyx12_errors(write_837(f.one_claim_batch(claim))) == []


def test_json_round_trip_is_exact() -> None:
    _base, prior = _secondary_claim_values()
    stored = json.loads(json.dumps(prior_payer_to_json(prior)))
    assert prior_payer_from_json(stored) == prior


@pytest.mark.parametrize(("changes", "expected"), [
    ({"status": "22"}, "CLP02 22, not an adjudication"),
    ({"charge": Cents(100)}, "would not balance"),
    ({"lines": (RemittedLine(1, "97124", (), 2, Cents(12000), Cents(12000), ()),)},
     "left nothing to the patient"),
    ({"unmatched_lines": 1}, "match none of our lines"),
])
def test_a_remittance_that_cannot_support_a_secondary_says_why(
    changes: dict[str, object], expected: str,
) -> None:
    problems = secondary_problems(_remit(**changes), total_charge=Cents(19050),
                                  line_numbers=[1, 2])
    assert any(expected in p for p in problems), problems
    with pytest.raises(SecondaryError, match=expected.split(",")[0]):
        prior_payer(_remit(**changes), payer=f.payer(), subscriber=f.subscriber(),
                    relationship="18", controls={1: "A-1", 2: "A-2"},
                    total_charge=Cents(19050))


def test_a_line_the_primary_did_not_answer_is_named() -> None:
    problems = secondary_problems(_remit(lines=_remit().lines[:1]), total_charge=Cents(19050),
                                  line_numbers=[1, 2])
    assert any("line(s) 2" in p for p in problems)


def test_medicare_as_secondary_needs_an_msp_type() -> None:
    assert "SBR05" in medicare_secondary_problem("MB", "")
    assert "not one of" in medicare_secondary_problem("MB", "99")
    assert medicare_secondary_problem("MB", "12") == ""
    assert medicare_secondary_problem("CI", "") == ""
    assert "only for Medicare" in medicare_secondary_problem("CI", "12")
