"""Our own tables: places of service, taxonomies, CARC/RARC, adjustment groups, CLP02."""

from __future__ import annotations

import pytest

from handbill.core.codes import carc, pos, rarc, taxonomy
from handbill.core.codes.carc import AdjustmentGroup

# Places of service ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "name"),
    [("11", "Office"), ("12", "Home"), ("02", "Telehealth, patient not at home"),
     ("10", "Telehealth, patient at home"), ("22", "Outpatient hospital, on campus"),
     ("19", "Outpatient hospital, off campus"), ("49", "Independent clinic")],
)
def test_places_of_service(code: str, name: str) -> None:
    place = pos.get(code)
    assert place.known and place.code == code and place.name == name


def test_the_listed_places() -> None:
    assert set(pos.PLACES) == {
        "02", "03", "04", "10", "11", "12", "13", "15", "19", "22", "31", "32", "49", "99"
    }


def test_a_single_digit_place_is_padded() -> None:
    assert pos.get("2").code == "02"
    assert pos.get(" 11 ").name == "Office"


def test_an_unlisted_place_gets_a_generic_entry() -> None:
    place = pos.get("21")
    assert not place.known and place.code == "21" and "Not in Handbill" in place.name


@pytest.mark.parametrize("text", ["", "1a", "123", "office"])
def test_a_malformed_place_names_the_fix(text: str) -> None:
    with pytest.raises(pos.PosFormatError, match="two digits"):
        pos.get(text)


# Taxonomy ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "label"),
    [("225700000X", "Massage therapist"), ("225100000X", "Physical therapist"),
     ("225200000X", "Physical therapy assistant"), ("111N00000X", "Chiropractor"),
     ("225X00000X", "Occupational therapist"),
     ("208100000X", "Physician, physical medicine and rehabilitation")],
)
def test_taxonomies(code: str, label: str) -> None:
    entry = taxonomy.get(code.lower())
    assert entry.known and entry.code == code and entry.label == label


def test_every_listed_taxonomy_has_the_right_shape() -> None:
    for code in taxonomy.TAXONOMIES:
        assert taxonomy.shape_problem(code) is None, code


def test_an_unlisted_well_formed_taxonomy() -> None:
    entry = taxonomy.get("261QR0400X")
    assert not entry.known and "NUCC" in entry.label


@pytest.mark.parametrize(
    ("text", "words"),
    [("2257000000", "10th character is always X"), ("225700000", "10 characters"),
     ("22570000-X", "letters and digits"), ("", "10 characters")],
)
def test_taxonomy_shape_problems(text: str, words: str) -> None:
    assert words in (taxonomy.shape_problem(text) or "")
    with pytest.raises(taxonomy.TaxonomyFormatError):
        taxonomy.get(text)


# CARC, groups, claim statuses ----------------------------------------------------------------

REFERENCE_CARCS = {
    "1", "2", "3", "4", "16", "18", "27", "29", "45", "50", "96", "97", "109", "119", "170",
    "197", "204", "234", "236", "242",
}


def test_every_reference_carc_is_listed_with_a_next_step() -> None:
    assert set(carc.CARCS) == REFERENCE_CARCS
    for entry in carc.CARCS.values():
        assert entry.known and entry.meaning and entry.next_step
        assert isinstance(entry.usual_group, AdjustmentGroup)


def test_carc_170_tells_the_biller_what_to_do() -> None:
    entry = carc.carc("170")
    assert entry.usual_group is AdjustmentGroup.CO
    assert entry.next_step == (
        "Payer does not pay this provider type; check the policy, bill the patient if allowed "
        "or drop the code"
    )


@pytest.mark.parametrize(("code", "group"), [("1", "PR"), ("2", "PR"), ("3", "PR"),
                                             ("45", "CO"), ("18", "OA"), ("97", "CO")])
def test_usual_groups(code: str, group: str) -> None:
    assert carc.carc(code).usual_group == group


def test_leading_zeros_and_spaces_are_the_same_carc() -> None:
    assert carc.carc(" 045 ") is carc.CARCS["45"]
    assert carc.carc("0").code == "0" and not carc.carc("0").known


@pytest.mark.parametrize("code", ["253", "A1", "P2"])
def test_an_unlisted_carc_is_an_answer(code: str) -> None:
    entry = carc.carc(code)
    assert not entry.known and entry.usual_group is None
    assert "not in Handbill's table" in entry.meaning


def test_a_malformed_carc_is_an_answer_too() -> None:
    entry = carc.carc("CO-45")
    assert not entry.known and "not shaped like" in entry.meaning


@pytest.mark.parametrize("code", ["CO", "pr", " OA ", "PI"])
def test_adjustment_groups(code: str) -> None:
    info = carc.group(code)
    assert info.group.value == code.strip().upper() and info.name and info.who_owes


def test_contractual_means_the_patient_is_not_billed() -> None:
    assert "may not bill the patient" in carc.group("CO").who_owes
    assert "patient owes" in carc.group("PR").who_owes


def test_an_unknown_group_names_the_four() -> None:
    with pytest.raises(ValueError, match="CO, PR, OA or PI"):
        carc.group("XX")


def test_claim_statuses() -> None:
    assert set(carc.CLAIM_STATUSES) == {s.value for s in carc.ClaimStatus}
    assert carc.claim_status("22").meaning == "Reversal of an earlier payment"
    assert carc.claim_status("4").meaning == "Denied"
    unknown = carc.claim_status("5")
    assert not unknown.known and "not in Handbill's table" in unknown.meaning


# RARC ----------------------------------------------------------------------------------------


def test_reference_rarcs() -> None:
    assert set(rarc.RARCS) == {"N130", "M15", "N20", "MA130"}
    assert "97010" in rarc.rarc("m15").next_step
    assert "new claim" in rarc.rarc("MA130").next_step


def test_unlisted_and_malformed_rarcs_are_answers() -> None:
    unlisted = rarc.rarc("N425")
    assert not unlisted.known and "not in Handbill's table" in unlisted.meaning
    malformed = rarc.rarc("45")
    assert not malformed.known and "not shaped like" in malformed.meaning
