"""The X12 tokenizer: separators, line breaks, chunked streaming and envelope checks."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from handbill.x12.tokens import (
    Delimiters,
    Segment,
    X12Error,
    X12Reader,
    check_envelope,
    delimiters_from_isa,
    iter_transactions,
)
from tests.unit.x12_build import ISA, interchange, worked_example

SAMPLES = Path("/work/shared/x12-samples")
X12_SAMPLES = sorted(p for p in SAMPLES.iterdir() if p.name != "README.md")


def segments_of(text: str) -> list[tuple[str, ...]]:
    return [segment for t in iter_transactions(text) for segment in t.segments]


# ---------------------------------------------------------------------------------------------
# Separators and line ends
# ---------------------------------------------------------------------------------------------


def test_separators_come_from_the_isa() -> None:
    assert delimiters_from_isa(ISA + "~") == (Delimiters("*", "^", ":", "~", ""), 106)
    odd = (ISA.replace("*", "|").replace("|^|", "|!|")[:-1] + ">") + "\n"
    delimiters, length = delimiters_from_isa(odd)
    assert delimiters == Delimiters("|", "!", ">", "\n", "")
    assert length == 106


def test_a_file_with_other_separators_reads_the_same() -> None:
    text = worked_example()
    swapped = text.replace("*", "|").replace(":", ">").replace("~", "\n")
    # Composites keep their own component separator; everything else reads the same.
    assert [tuple(e.replace(">", ":") for e in s) for s in segments_of(swapped)] == (
        segments_of(text))
    (transaction,) = list(iter_transactions(swapped))
    assert transaction.component_separator == ">"
    svc = next(s for s in transaction.iter_segments() if s.id == "SVC")
    assert svc.components(1) == ["HC", "97124", "XS"]


@pytest.mark.parametrize("line_break", ["\n", "\r\n"])
def test_line_breaks_after_terminators_are_tolerated(line_break: str) -> None:
    text = worked_example()
    broken = text.replace("~", "~" + line_break)
    assert segments_of(broken) == segments_of(text)
    reader = X12Reader(broken, strict=False)
    list(reader)
    assert reader.errors == []
    assert reader.delimiters is not None and reader.delimiters.line_break == line_break


def test_bom_and_leading_blank_lines_are_stripped() -> None:
    text = worked_example()
    assert segments_of("\ufeff" + text) == segments_of(text)
    assert segments_of("\n\n  " + text) == segments_of(text)
    assert segments_of(("\ufeff" + text).encode("utf-8")) == segments_of(text)


def test_a_file_that_is_not_x12_is_refused() -> None:
    with pytest.raises(X12Error, match="this is not an X12 interchange: it must start with "
                                       "'ISA', not 'PDF-1.7"):
        list(iter_transactions("PDF-1.7 something else entirely" * 5))
    with pytest.raises(X12Error, match="the file is empty"):
        list(iter_transactions(""))
    with pytest.raises(X12Error, match="the ISA is cut short"):
        list(iter_transactions("ISA*00*"))


def test_a_4010_standards_id_is_not_a_repetition_separator() -> None:
    isa_4010 = ISA.replace("*^*00501*", "*U*00401*")
    delimiters, _length = delimiters_from_isa(isa_4010 + "~")
    assert delimiters.repetition == ""


def test_a_mispadded_isa_still_reads_and_is_reported() -> None:
    text = worked_example().replace("PAYERSENDER    ", "PAYERSENDER", 1)
    reader = X12Reader(text, strict=False)
    (transaction,) = list(reader)
    assert transaction.segments[1][0] == "BPR"
    assert [str(e) for e in reader.errors] == [
        "segment 1 (ISA): the ISA is 102 characters long (with its terminator); it must be "
        "exactly 106, with ISA06 and ISA08 padded to 15 and ISA02/ISA04 to 10"]
    with pytest.raises(X12Error, match="the ISA is 102 characters long"):
        list(iter_transactions(text))


# ---------------------------------------------------------------------------------------------
# Streaming
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", X12_SAMPLES, ids=lambda p: p.name)
def test_every_sample_reads_the_same_from_any_source_and_chunk_size(path: Path) -> None:
    expected = [t.segments for t in X12Reader(path)]
    data = path.read_bytes()
    for size in (1, 2, 7, 105, 106, 107, 1000):
        for source in (data, data.decode(), io.BytesIO(data), io.StringIO(data.decode())):
            got = [t.segments for t in X12Reader(source, chunk_size=size)]
            assert got == expected, (size, type(source))


@pytest.mark.parametrize("path", X12_SAMPLES, ids=lambda p: p.name)
def test_every_genuine_sample_has_a_sound_envelope(path: Path) -> None:
    assert check_envelope(path) == []


class _CountingStream(io.StringIO):
    """A text stream that remembers how much has been read from it."""

    consumed = 0

    def read(self, size: int | None = -1) -> str:
        chunk = super().read(size)
        self.consumed += len(chunk)
        return chunk


def test_transactions_are_yielded_before_the_file_is_read_to_the_end() -> None:
    from tests.unit.x12_build import header_835

    sets = [[*header_835("0"), f"REF*EV*SET{n}"] for n in range(200)]
    text = interchange(*sets)
    stream = _CountingStream(text)
    transactions: Iterator[object] = iter(X12Reader(stream, chunk_size=512))
    next(transactions)
    assert stream.consumed < len(text) / 10
    assert sum(1 for _ in transactions) == 199


def test_transaction_envelope_and_segment_views() -> None:
    (transaction,) = list(iter_transactions(worked_example()))
    assert (transaction.set_id, transaction.control_number, transaction.convention) == (
        "835", "0001", "005010X221A1")
    assert transaction.interchange.sender_id == "PAYERSENDER"
    assert transaction.interchange.control_number == "000000001"
    assert transaction.interchange.usage == "P"
    assert transaction.group.functional_id == "HP" and transaction.group.control_number == "1"
    assert transaction.start == 3 and transaction.complete
    bpr = transaction.segment(1)
    assert (bpr.id, bpr.position, bpr.el(1), bpr.el(2), bpr.el(99)) == ("BPR", 4, "I",
                                                                        "76.5", "")
    assert transaction.envelope_dict()["segments"] == len(transaction.segments)


def test_segment_helpers() -> None:
    segment = Segment("STC", ("A7:21:85", "20261123", "", "", "", "", "", "", "",
                              "A7:562^A8:128"), 40, ":", "^")
    assert segment.components(1) == ["A7", "21", "85"]
    assert segment.repeats(10) == ["A7:562", "A8:128"]
    assert segment.components(3) == [] and segment.el(0) == ""
    assert str(segment).startswith("segment 40 (STC): STC*A7:21:85")


def test_several_interchanges_in_one_file() -> None:
    text = worked_example() + worked_example().replace("000000001", "000000002")
    reader = X12Reader(text, strict=False)
    assert len(list(reader)) == 2
    assert [i.control_number for i in reader.interchanges] == ["000000001", "000000002"]
    assert reader.errors == []


# ---------------------------------------------------------------------------------------------
# Envelope checks
# ---------------------------------------------------------------------------------------------


def _problems(text: str) -> list[str]:
    return [str(e) for e in check_envelope(text)]


def test_wrong_se_count_and_control_number() -> None:
    text = worked_example().replace("SE*30*0001", "SE*29*0002")
    assert _problems(text) == [
        "segment 32 (SE): SE01 says 29 segments but transaction set 0001 has 30 (ST through "
        "SE)",
        "segment 32 (SE): SE02 '0002' does not match ST02 '0001'",
    ]


def test_wrong_ge_and_iea() -> None:
    text = worked_example().replace("GE*1*1", "GE*2*7").replace("IEA*1*000000001",
                                                                  "IEA*3*000000009")
    assert _problems(text) == [
        "segment 33 (GE): GE01 says '2' transaction sets but group 1 has 1",
        "segment 33 (GE): GE02 '7' does not match GS06 '1'",
        "segment 34 (IEA): IEA01 says '3' functional groups but interchange 000000001 has 1",
        "segment 34 (IEA): IEA02 '000000009' does not match ISA13 '000000001'",
    ]


def test_a_truncated_file_reports_every_missing_trailer() -> None:
    text = worked_example()
    cut = text[: text.index("SVC*HC:97140") + 11]
    reader = X12Reader(cut, strict=False)
    (transaction,) = list(reader)
    assert not transaction.complete
    assert transaction.segments[-1] == ("SVC", "HC:9714")
    assert [str(e) for e in reader.errors] == [
        "segment 26 (SVC): the file ends without a terminator '~' after 'SVC*HC:9714' "
        "(truncated?)",
        "segment 27 (SE): transaction set 835 0001 has no SE trailer before end of file",
        "segment 27 (GE): functional group 1 has no GE trailer before the end of the file",
        "segment 27 (IEA): interchange 000000001 has no IEA trailer before the end of the file",
    ]
    with pytest.raises(X12Error, match=r"segment 26 \(SVC\): the file ends without"):
        list(iter_transactions(cut))


def test_missing_se_before_the_next_st() -> None:
    text = interchange(["BPR*I*0"], ["BPR*I*0"]).replace("SE*3*0001~", "")
    reader = X12Reader(text, strict=False)
    first, second = list(reader)
    assert not first.complete and second.complete
    assert [str(e) for e in reader.errors] == [
        "segment 5 (SE): transaction set 835 0001 has no SE trailer before the next ST"]


def test_segments_outside_a_transaction_set_and_stray_trailers() -> None:
    text = worked_example().replace("GE*1*1~", "CLP*STRAY~SE*1*9~GE*1*1~")
    problems = _problems(text)
    assert problems == [
        "segment 33 (CLP): segment outside a transaction set (between SE and the next ST)",
        "segment 34 (SE): SE without a matching ST",
    ]


def test_strict_mode_stops_at_the_first_problem_with_its_position() -> None:
    text = worked_example().replace("SE*30*0001", "SE*31*0001")
    with pytest.raises(X12Error) as caught:
        list(iter_transactions(text))
    assert (caught.value.position, caught.value.segment_id) == (32, "SE")


def test_bad_control_numbers_and_usage_in_the_isa() -> None:
    text = worked_example().replace("*000000001*0*P*", "*00000001X*0*Q*").replace(
        "IEA*1*000000001", "IEA*1*00000001X")
    assert _problems(text) == [
        "segment 1 (ISA): ISA13 interchange control number '00000001X' must be 9 digits",
        "segment 1 (ISA): ISA15 usage indicator 'Q' must be P (production) or T (test)",
    ]


def test_an_empty_segment_is_a_warning() -> None:
    text = worked_example().replace("DTM*405*20261120~", "DTM*405*20261120~~")
    reader = X12Reader(text, strict=True)
    assert len(list(reader)) == 1
    (warning,) = reader.errors
    assert warning.severity == "warning" and "empty segment" in warning.message


def test_an_invalid_segment_id_inside_a_set() -> None:
    text = worked_example().replace("DTM*405*20261120~", "DTM*405*20261120~D@M*1~")
    assert _problems(text)[0] == "segment 7 (D@M): 'D@M' is not a segment id"


def test_a_path_that_cannot_be_opened(tmp_path: Path) -> None:
    with pytest.raises(X12Error, match="cannot open"):
        list(iter_transactions(tmp_path / "missing.835"))


def test_a_file_that_never_uses_its_terminator_stops_early() -> None:
    text = worked_example()
    isa, rest = text[:106], text[106:]
    endless = isa + rest.replace("~", "\n") * 20_000  # ~20 MB with no '~' after the ISA
    with pytest.raises(X12Error, match="no segment terminator '~' in"):
        list(X12Reader(endless, strict=False))
