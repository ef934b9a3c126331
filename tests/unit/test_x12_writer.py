"""The X12 segment writer: separators, trimming, refusals, the fixed ISA and computed counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handbill.core.outbound import OutboundError
from handbill.x12.writer import (
    ISA_LENGTH,
    GroupHeader,
    InterchangeHeader,
    Repeated,
    Separators,
    X12Writer,
    clean_text,
    format_isa,
    format_segment,
    isa_fields,
    text_problem,
)

AT = datetime(2026, 1, 15, 10, 30, tzinfo=timezone(timedelta(hours=-8)))
DEFAULT = Separators()


def header(**changes: object) -> InterchangeHeader:
    values: dict[str, object] = {
        "sender_id": "SUBMITTER01", "receiver_id": "RECEIVER01", "control_number": 101,
        "created_at": AT,
    }
    values.update(changes)
    return InterchangeHeader(**values)  # type: ignore[arg-type]


def group(control: int = 101) -> GroupHeader:
    return GroupHeader("HC", "SUBMITTER01", "RECEIVER01", control, AT, "005010X222A1")


# -- segments ---------------------------------------------------------------------------------


def test_a_segment_joins_elements_and_ends_with_the_terminator() -> None:
    assert format_segment("REF", ["EI", "123456789"]) == "REF*EI*123456789~"


def test_trailing_empty_elements_are_dropped_but_inner_ones_kept() -> None:
    text = format_segment("NM1", ["85", "2", "CLINIC", "", "", "", "", "XX", "1234567893", "", ""])
    assert text == "NM1*85*2*CLINIC*****XX*1234567893~"


def test_composites_use_the_component_separator_and_drop_trailing_empty_parts() -> None:
    assert format_segment("SV1", [("HC", "97124", "GP", "", ""), "120", "UN", "2", "", "",
                                  ("1", "2")]) == "SV1*HC:97124:GP*120*UN*2***1:2~"
    assert format_segment("CLM", ["C1", "10", "", "", ("11", "B", "1"), "Y", "A", "Y", "Y", "",
                                  ("AA", "", "", "WA")]) == "CLM*C1*10***11:B:1*Y*A*Y*Y**AA:::WA~"


def test_repeated_elements_use_the_repetition_separator() -> None:
    assert format_segment("XX", ["A", Repeated(("B", ("C", "D"), ""))]) == "XX*A*B^C:D~"


def test_an_all_empty_segment_is_just_its_tag() -> None:
    assert format_segment("NM1", ["", ""]) == "NM1~"


def test_other_separators_and_a_line_break() -> None:
    seps = Separators(element="|", component=">", repetition="!", segment="'", line_break="\n")
    assert format_segment("SV1", [("HC", "97140"), "70"], seps) == "SV1|HC>97140|70'\n"


@pytest.mark.parametrize(("elements", "where", "char"), [
    (["85", "2", "SMITH*JONES"], "NM103", "*"),
    (["85", "2", "A~B"], "NM103", "~"),
    (["85", "2", "A^B"], "NM103", "^"),
    (["85", ("HC", "97:124")], "NM102-2", ":"),
])
def test_a_separator_inside_a_value_is_refused_naming_the_element(
    elements: list[str], where: str, char: str
) -> None:
    with pytest.raises(OutboundError) as caught:
        format_segment("NM1", elements)
    message = str(caught.value)
    assert where in message and repr(char) in message and "remove" in message


def test_a_line_break_inside_a_value_is_refused() -> None:
    with pytest.raises(OutboundError, match="N301 .*line break"):
        format_segment("N3", ["1 MAIN ST\nAPT 2"])


def test_a_non_text_value_is_refused() -> None:
    with pytest.raises(OutboundError, match="SV104 must be text, not int"):
        format_segment("SV1", ["HC", "1", "UN", 2])  # type: ignore[list-item]


@given(st.lists(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126,
                                               exclude_characters="*:^~"), max_size=8),
                max_size=10))
def test_a_written_segment_splits_back_into_its_elements(values: list[str]) -> None:
    text = format_segment("ZZZ", values)
    assert text.endswith("~")
    parts = text[:-1].split("*")
    assert parts[0] == "ZZZ"
    expected = list(values)
    while expected and not expected[-1]:
        expected.pop()
    assert parts[1:] == expected


# -- separators -------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs", [
    {"element": "**"}, {"component": "A"}, {"segment": " "}, {"repetition": "*"},
    {"line_break": "\t"},
])
def test_unusable_separators_are_refused(kwargs: dict[str, str]) -> None:
    with pytest.raises(OutboundError):
        Separators(**kwargs)


# -- text -------------------------------------------------------------------------------------


def test_clean_text_uppercases_drops_accents_and_squeezes_spaces() -> None:
    assert clean_text("  José  de la   Peña ") == "JOSE DE LA PENA"


def test_text_problem_names_the_field() -> None:
    assert text_problem("OK NAME", "patient last name", max_length=60) is None
    long = text_problem("X" * 61, "patient last name", max_length=60)
    assert long is not None and "patient last name" in long and "60" in long
    star = text_problem("A*B", "payer name", max_length=60)
    assert star is not None and "payer name" in star and "element separator" in star
    odd = text_problem("ZÖE", "first name", max_length=35)
    assert odd is not None and "first name" in odd and "'Ö'" in odd


# -- ISA --------------------------------------------------------------------------------------


def test_the_isa_is_fixed_width_with_separators_at_their_positions() -> None:
    text = format_isa(isa_fields(header(), DEFAULT), DEFAULT)
    assert len(text) == ISA_LENGTH == 106
    assert text[3] == "*" and text[82] == "^" and text[104] == ":" and text[105] == "~"
    assert text == ("ISA*00*          *00*          *ZZ*SUBMITTER01    *ZZ*RECEIVER01     "
                    "*260115*1030*^*00501*000000101*0*T*:~")


def test_isa_production_flag_ack_request_and_qualifiers() -> None:
    fields = isa_fields(header(production=True, acknowledgment_requested=True,
                               sender_qualifier="30", receiver_qualifier="01"), DEFAULT)
    assert fields[4] == "30" and fields[6] == "01" and fields[13] == "1" and fields[14] == "P"


@pytest.mark.parametrize(("changes", "message"), [
    ({"sender_id": "X" * 16}, "longer than 15"),
    ({"receiver_id": "  "}, "receiver ID .* is empty"),
    ({"control_number": 0}, "1 to 999999999"),
    ({"control_number": 1_000_000_000}, "1 to 999999999"),
    ({"control_number": True}, "1 to 999999999"),
    ({"created_at": datetime(2026, 1, 15, 10, 30)}, "timezone-aware"),  # noqa: DTZ001
    ({"sender_qualifier": "Z"}, "2 characters"),
])
def test_bad_isa_values_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(OutboundError, match=message):
        isa_fields(header(**changes), DEFAULT)


def test_format_isa_checks_widths_and_the_separators_it_declares() -> None:
    fields = isa_fields(header(), DEFAULT)
    with pytest.raises(OutboundError, match="ISA06 .* exactly 15"):
        format_isa([*fields[:5], "SHORT", *fields[6:]], DEFAULT)
    with pytest.raises(OutboundError, match="ISA16 .* component separator"):
        format_isa([*fields[:15], ">"], DEFAULT)
    with pytest.raises(OutboundError, match="16 elements"):
        format_isa(fields[:15], DEFAULT)


# -- the writer counts ------------------------------------------------------------------------


def _write_two_sets() -> str:
    writer = X12Writer()
    writer.begin_interchange(header())
    writer.begin_group(group())
    assert writer.begin_transaction("837", 7, "005010X222A1") == "0007"
    writer.segment("BHT", "0019", "00", "B1", "20260115", "1030", "CH")
    writer.segment("REF", "EI", "123456789")
    assert writer.segment_count == 3
    writer.end_transaction()
    writer.begin_transaction("837", 8, "005010X222A1")
    writer.segment("BHT", "0019", "00", "B2", "20260115", "1030", "CH")
    writer.end_transaction()
    writer.end_group()
    writer.end_interchange()
    return writer.getvalue()


def test_trailers_carry_computed_counts_and_matching_control_numbers() -> None:
    segments = _write_two_sets().split("~")[:-1]
    assert segments[1] == "GS*HC*SUBMITTER01*RECEIVER01*20260115*1030*101*X*005010X222A1"
    assert segments[2] == "ST*837*0007*005010X222A1"
    assert segments[5] == "SE*4*0007"  # ST, BHT, REF, SE
    assert segments[6] == "ST*837*0008*005010X222A1"
    assert segments[8] == "SE*3*0008"
    assert segments[9] == "GE*2*101"
    assert segments[10] == "IEA*1*000000101"


def test_the_writer_refuses_out_of_order_envelopes() -> None:
    writer = X12Writer()
    with pytest.raises(OutboundError, match="inside an interchange"):
        writer.begin_group(group())
    writer.begin_interchange(header())
    with pytest.raises(OutboundError, match="one interchange"):
        writer.begin_interchange(header())
    writer.begin_group(group())
    with pytest.raises(OutboundError, match="inside a transaction set"):
        writer.segment("BHT", "0019")
    writer.begin_transaction("837", 1, "005010X222A1")
    with pytest.raises(OutboundError, match="close the transaction set"):
        writer.end_group()
    with pytest.raises(OutboundError, match="after the last one closed"):
        writer.begin_transaction("837", 2, "005010X222A1")
    writer.end_transaction()
    with pytest.raises(OutboundError, match="no transaction set is open"):
        writer.end_transaction()
    with pytest.raises(OutboundError, match="close the group"):
        writer.end_interchange()
    with pytest.raises(OutboundError, match="not closed yet"):
        writer.getvalue()


def test_group_codes_and_control_numbers_are_checked() -> None:
    writer = X12Writer()
    writer.begin_interchange(header())
    with pytest.raises(OutboundError, match="GS02 .* 2 to 15"):
        writer.begin_group(GroupHeader("HC", "X", "RECEIVER01", 1, AT, "005010X222A1"))
    with pytest.raises(OutboundError, match="group control number"):
        writer.begin_group(group(control=0))
    writer.begin_group(group())
    with pytest.raises(OutboundError, match="transaction set control number"):
        writer.begin_transaction("837", 0, "005010X222A1")


def test_times_are_written_as_given_in_their_own_zone() -> None:
    writer = X12Writer()
    writer.begin_interchange(header(created_at=datetime(2026, 1, 15, 18, 30, tzinfo=UTC)))
    assert "*260115*1830*" in writer._parts[0]
