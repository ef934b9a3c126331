"""ICD-10-CM lookups against the compact index, cross-checked with simple-icd-10-cm itself.

The package is imported here (slow, once per module) so that every answer of the index can be
compared with the source it was built from. The index is built once per test session in the
session's temporary directory and shared with the CLI tests.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handbill.core.codes import icd10, icd10_index
from handbill.core.codes.icd10 import Diagnosis, lookup, search, to_claim_form
from handbill.core.codes.icd10_index import (
    CodeRow,
    Icd10Index,
    build_index,
    default_cache_dir,
    index_is_current,
    index_path,
    installed_source,
    release_from_file_name,
    write_index,
)

SRC = Path(icd10_index.__file__).resolve().parents[3]


def shared_index_dir(factory: pytest.TempPathFactory) -> Path:
    """One index per test session, whichever test module asks first."""
    directory = factory.getbasetemp() / "icd10-index"
    if not index_is_current(directory):
        build_index(cache_dir=directory)
    return directory


@pytest.fixture(scope="module")
def package() -> ModuleType:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the package's own resource calls
        import simple_icd_10_cm

    module: ModuleType = simple_icd_10_cm
    return module


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Icd10Index]:
    directory = shared_index_dir(tmp_path_factory)
    source = installed_source()
    assert source is not None
    opened = Icd10Index(index_path(directory, source.release))
    yield opened
    opened.close()


def look(index: Icd10Index, code: str, **kwargs: Any) -> Diagnosis:
    return lookup(code, index=index, **kwargs)


# --------------------------------------------------------------------------------------------
# Cross-check with the package


def _sample_roots() -> list[str]:
    return ["M", "S13", "S14", "S15", "S16", "S33", "S39", "G44", "R51", "M79", "M25"]


def _codes_under(package: ModuleType, roots: list[str]) -> list[str]:
    codes = list(dict.fromkeys(package.get_all_codes(True)))
    return [
        c for c in codes
        if "-" not in c and not c.isdigit() and any(c.startswith(root) for root in roots)
    ]


def _assert_matches_package(package: ModuleType, answer: Diagnosis, code: str) -> None:
    billable = package.is_category_or_subcategory(code) and package.is_leaf(code)
    assert answer.valid, (code, answer.reason)
    assert answer.billable is billable, code
    assert answer.code == code
    assert answer.code_no_dot == code.replace(".", "")
    assert answer.description == package.get_description(code)
    parent = package.get_parent(code)
    if parent != code:  # one-category blocks share the category's name (B10)
        assert answer.parent == parent, code
    definition = package.get_seven_chr_def(code, search_in_ancestors=True)
    if package.is_extended_subcategory(code):
        assert answer.seventh_character is not None
        assert answer.seventh_character.present == code[-1]
        siblings = {c[-1] for c in package.get_children(parent)}
        assert set(answer.seventh_character.values) == siblings
        assert answer.seventh_character.values[code[-1]] == definition[code[-1]]
    elif definition:
        assert answer.seventh_character is not None
        assert answer.seventh_character.present is None
        assert set(answer.seventh_character.values) <= set(definition)
    else:
        assert answer.seventh_character is None
    if not billable:
        assert answer.reason
    else:
        assert answer.reason is None


def test_every_code_in_the_sample_matches_the_package(
    package: ModuleType, index: Icd10Index
) -> None:
    codes = _codes_under(package, _sample_roots())
    assert len(codes) > 7000  # all of chapter M and the injury categories, 7th characters too
    assert any(package.is_extended_subcategory(c) for c in codes)
    for code in codes:
        _assert_matches_package(package, look(index, code), code)


def test_undotted_and_lower_case_forms_give_the_same_answer(
    package: ModuleType, index: Icd10Index
) -> None:
    for code in _codes_under(package, ["S13", "S16", "S33", "M54", "M25.5"]):
        dotted = look(index, code)
        for variant in (code.replace(".", ""), code.lower(), f"  {code.lower()} "):
            assert look(index, variant) == dotted, variant


def test_a_random_sample_of_the_whole_code_set_matches_the_package(
    package: ModuleType, index: Icd10Index
) -> None:
    codes = [c for c in dict.fromkeys(package.get_all_codes(True)) if package.is_valid_item(c)]
    for code in random.Random(20260401).sample(codes, 3000):
        answer = look(index, code)
        assert answer.valid, code
        if package.is_category_or_subcategory(code):
            _assert_matches_package(package, answer, code)
        else:  # chapters and blocks: valid items, never billable
            assert not answer.billable and answer.kind in ("chapter", "block")


def test_every_other_seventh_character_is_refused_like_the_package_does(
    package: ModuleType, index: Icd10Index
) -> None:
    codes = _codes_under(package, ["S13", "S14", "S15", "S16", "S33", "S39", "S06.1", "M48.4"])
    stems = {c[:-1] for c in codes if package.is_extended_subcategory(c)}
    assert stems
    for stem in sorted(stems):
        for character in "ABCDEGKPSXZ0129":
            candidate = stem + character
            answer = look(index, candidate)
            assert answer.valid is package.is_valid_item(candidate), candidate
            assert answer.billable is answer.valid, candidate
            if not answer.valid:
                assert answer.reason and answer.suggestions


def test_the_billable_count_is_the_package_count(package: ModuleType, index: Icd10Index) -> None:
    codes = set(package.get_all_codes(True))
    billable = {c for c in codes if package.is_category_or_subcategory(c) and package.is_leaf(c)}
    # Reference §4.2 counts 74,724 entries of get_all_codes(); five of them are names listed
    # twice (a block and its only category), so there are 74,719 distinct billable codes.
    assert len(billable) == index.billable_count == 74_719
    assert index.code_count == len(codes)


# --------------------------------------------------------------------------------------------
# Reference §4.1: the codes a massage practice meets


@pytest.mark.parametrize(
    "code",
    [
        "M62.830", "M54.50", "M54.51", "M54.59", "M54.2", "M54.6", "M54.9", "M54.89", "M79.10",
        "M79.11", "M79.12", "M79.18", "M79.7", "M25.511", "M25.512", "M25.519", "M25.561",
        "M25.50", "S13.4XXA", "S13.4XXD", "S13.4XXS", "S33.5XXA", "S16.1XXD", "S39.012A",
        "G44.209", "G44.201", "R51.9", "R51.0", "M54.12", "M54.16", "M54.40", "M54.41",
        "M54.42", "M54.30", "M53.82", "M53.1", "M99.01", "M99.03", "M62.81", "M60.9", "G89.29",
    ],
)
def test_common_codes_are_billable(index: Icd10Index, code: str) -> None:
    answer = look(index, code)
    assert answer.valid and answer.billable, answer.reason
    assert answer.reason is None
    assert answer.description


@pytest.mark.parametrize(
    "code", ["M62.83", "M54.5", "M79.1", "M25.5", "M25.51", "S13.4", "G44.2", "G44.20", "R51"]
)
def test_headers_are_valid_but_not_billable(index: Icd10Index, code: str) -> None:
    answer = look(index, code)
    assert answer.valid and not answer.billable
    assert answer.reason and answer.suggestions
    for suggestion in answer.suggestions:
        assert look(index, suggestion).billable, suggestion


def test_m54_5_says_since_when_and_what_to_use(index: Icd10Index) -> None:
    answer = look(index, "M54.5")
    assert answer.reason == (
        "M54.5 is a subcategory header since FY2022 (1 Oct 2021), not a billable code; "
        "use M54.50, M54.51 or M54.59"
    )
    assert answer.suggestions == ("M54.50", "M54.51", "M54.59")


def test_r51_and_m79_1_name_fy2021(index: Icd10Index) -> None:
    assert "since FY2021 (1 Oct 2020)" in (look(index, "R51").reason or "")
    assert "use R51.0 or R51.9" in (look(index, "R51").reason or "")
    assert "M79.10, M79.11, M79.12 or M79.18" in (look(index, "M79.1").reason or "")


def test_a_header_with_many_codes_under_it_needs_more_characters(index: Icd10Index) -> None:
    answer = look(index, "M25.5")
    assert "needs more characters" in (answer.reason or "")
    assert answer.suggestions == ("M25.50", "M25.511", "M25.512")


def test_a_code_that_takes_a_7th_character_lists_them(index: Icd10Index) -> None:
    answer = look(index, "S13.4")
    assert answer.valid and not answer.billable
    assert answer.suggestions == ("S13.4XXA", "S13.4XXD", "S13.4XXS")
    assert "S13.4XXD (subsequent encounter)" in (answer.reason or "")
    assert answer.seventh_character is not None
    assert answer.seventh_character.required and answer.seventh_character.present is None


def test_the_placeholder_without_the_7th_character_is_not_a_code(index: Icd10Index) -> None:
    answer = look(index, "S13.4XX")
    assert not answer.valid
    assert "not a complete code" in (answer.reason or "")
    assert answer.suggestions == ("S13.4XXA", "S13.4XXD", "S13.4XXS")


@pytest.mark.parametrize("text", ["S134XXA", "S13.4XXA", "s13.4xxa", " s134xxa\t"])
def test_seventh_character_codes_normalise(index: Icd10Index, text: str) -> None:
    answer = look(index, text)
    assert answer.code == "S13.4XXA" and answer.code_no_dot == "S134XXA"
    assert answer.valid and answer.billable and answer.kind == "extended"
    assert answer.parent == "S13.4"
    assert answer.description == "Sprain of ligaments of cervical spine, initial encounter"
    assert answer.seventh_character is not None
    assert answer.seventh_character.present == "A"
    assert answer.seventh_character.values == {
        "A": "initial encounter", "D": "subsequent encounter", "S": "sequela",
    }


@pytest.mark.parametrize(
    ("text", "fix"),
    [("S13.4A", "S13.4XXA"), ("S134A", "S13.4XXA"), ("S13.4XA", "S13.4XXA"),
     ("S16.1D", "S16.1XXD"), ("T07A", "T07.XXXA")],
)
def test_a_missing_placeholder_is_refused_with_the_fix(
    index: Icd10Index, text: str, fix: str
) -> None:
    answer = look(index, text)
    assert not answer.valid and not answer.billable
    assert f"write {fix}" in (answer.reason or "")
    assert answer.suggestions == (fix,)
    assert look(index, fix).billable


def test_a_7th_character_the_code_does_not_take(index: Icd10Index) -> None:
    wrong = look(index, "S13.4XXB")
    assert not wrong.valid
    assert "B is not a 7th character of S13.4" in (wrong.reason or "")
    # S06.1X7 (death before regaining consciousness) exists only as an initial encounter.
    death = look(index, "S06.1X7D")
    assert not death.valid
    assert "takes only A (initial encounter)" in (death.reason or "")
    assert death.suggestions == ("S06.1X7A",)


def test_unknown_codes_name_the_nearest_real_code(index: Icd10Index) -> None:
    longer = look(index, "M54.500")
    assert not longer.valid and "M54.50 (Low back pain, unspecified) is billable" in (
        longer.reason or ""
    )
    nothing = look(index, "U99.99")
    assert not nothing.valid and "not in ICD-10-CM" in (nothing.reason or "")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "no diagnosis code given"),
        ("   ", "no diagnosis code given"),
        ("724.2", "start with a letter"),
        ("M54 50", "spaces inside"),
        ("M5.450", "dot in the wrong place"),
        ("M54.50000", "not shaped like"),
        ("M5!", "not shaped like"),
        ("M", "not shaped like"),
    ],
)
def test_malformed_input_is_an_answer_not_an_exception(
    index: Icd10Index, text: str, problem: str
) -> None:
    answer = look(index, text)
    assert not answer.valid and not answer.billable
    assert problem in (answer.reason or "")


def test_chapters_and_blocks_are_valid_items_but_not_codes(index: Icd10Index) -> None:
    chapter = look(index, "19")
    assert chapter.valid and not chapter.billable and chapter.kind == "chapter"
    block = look(index, "s10-s19")
    assert block.valid and not block.billable and block.kind == "block"
    assert block.code == "S10-S19"
    assert not look(index, "S10-S18").valid


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet="ADEMSX0123456789.- ", max_size=10))
def test_any_text_gets_an_answer(index: Icd10Index, text: str) -> None:
    answer = look(index, text)
    assert isinstance(answer, Diagnosis)
    if answer.billable:
        assert answer.valid
    if not answer.billable:
        assert answer.reason
    json.dumps(answer.to_dict())


# --------------------------------------------------------------------------------------------
# Flags, dates, the claim form


@pytest.mark.parametrize(
    ("code", "unspecified", "side_open"),
    [
        ("M54.50", True, False),
        ("M54.59", False, False),  # "other", not "unspecified"
        ("G44.209", True, False),
        ("R51.9", True, False),
        ("M25.50", True, False),  # an unspecified joint, not an unspecified side
        ("M25.519", True, True),
        ("M25.511", False, False),
        ("S46.019A", True, True),
        ("S46.011A", False, False),
        ("H40.1191", True, True),  # the side lives in the 6th character
    ],
)
def test_unspecified_and_laterality_flags(
    index: Icd10Index, code: str, unspecified: bool, side_open: bool
) -> None:
    answer = look(index, code)
    assert answer.billable
    assert answer.unspecified is unspecified
    assert answer.laterality_unspecified is side_open


def test_the_data_release_and_its_period(index: Icd10Index) -> None:
    assert index.release.name == "2026-04-01"
    assert index.release.effective_from == date(2026, 4, 1)
    assert index.release.effective_until == date(2026, 10, 1)
    answer = look(index, "M54.50", date_of_service=date(2026, 9, 30))
    assert answer.release == "2026-04-01" and answer.data_note is None
    assert look(index, "M54.50").data_note is None


@pytest.mark.parametrize("day", [date(2026, 3, 31), date(2026, 10, 1), date(2021, 6, 1)])
def test_a_date_of_service_outside_the_release_gets_a_note_not_a_refusal(
    index: Icd10Index, day: date
) -> None:
    answer = look(index, "M54.50", date_of_service=day)
    assert answer.billable
    assert answer.data_note and day.isoformat() in answer.data_note
    assert "2026-04-01 to 2026-09-30" in answer.data_note


def test_release_names_from_cdc_file_names() -> None:
    april = release_from_file_name("icd10c-tabular-April-1-2026.xml")
    assert (april.effective_from, april.effective_until, april.fiscal_year) == (
        date(2026, 4, 1), date(2026, 10, 1), 2026,
    )
    october = release_from_file_name("icd10cm-tabular-October-1-2026.xml")
    assert (october.effective_until, october.fiscal_year) == (date(2027, 10, 1), 2027)
    fiscal = release_from_file_name("icd10cm_tabular_2026.xml")
    assert (fiscal.effective_from, fiscal.effective_until) == (date(2025, 10, 1), date(2026, 10, 1))


def test_claim_form_has_no_dot(index: Icd10Index) -> None:
    assert to_claim_form("m54.50") == "M5450"
    assert to_claim_form(" S13.4xxa ") == "S134XXA"
    assert to_claim_form(look(index, "M62.830")) == "M62830"
    with pytest.raises(icd10.Icd10FormatError, match="start with a letter"):
        to_claim_form("724.2")


# --------------------------------------------------------------------------------------------
# Search


def test_search_by_words_puts_the_phrase_first(index: Icd10Index) -> None:
    found = search("low back pain", 5, index=index)
    assert [d.code for d in found[:3]] == ["M54.50", "M54.51", "M54.59"]
    assert len(found) == 5
    assert all(d.billable for d in found)


def test_search_by_code_prefix_lists_7th_character_codes(index: Icd10Index) -> None:
    assert [d.code for d in search("s13.4", index=index)] == ["S13.4XXA", "S13.4XXD", "S13.4XXS"]
    assert [d.code for d in search("M54.5", index=index)] == ["M54.50", "M54.51", "M54.59"]


def test_search_matches_7th_character_meanings(index: Icd10Index) -> None:
    found = search("sprain cervical subsequent", index=index)
    assert [d.code for d in found] == ["S13.4XXD"]


def test_search_edge_cases(index: Icd10Index) -> None:
    assert search("", index=index) == []
    assert search("pain", 0, index=index) == []
    assert search("100%_pain", index=index) == []
    assert len(search("pain", 7, index=index)) == 7


# --------------------------------------------------------------------------------------------
# The index file: atomic writes, rebuilds, never the package in a normal process


def _tiny_meta() -> dict[str, str]:
    return {
        "stamp": "schema=0;stale", "release": "2026-04-01", "fiscal_year": "2026",
        "effective_from": "2026-04-01", "effective_until": "2026-10-01",
        "package_version": "0", "code_count": "1", "billable_count": "1",
    }


def _tiny_rows() -> list[CodeRow]:
    return [CodeRow("M5450", "M54.50", "subcategory", "", "Stale title", True, "", None, 1,
                    False)]


def test_a_failed_write_leaves_the_old_index_and_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "icd10cm-2026-04-01.sqlite3"
    write_index(target, meta=_tiny_meta(), rows=_tiny_rows(), definitions=[])
    before = target.read_bytes()

    def broken_rows() -> Iterator[CodeRow]:
        yield _tiny_rows()[0]
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_index(target, meta=_tiny_meta(), rows=broken_rows(), definitions=[])
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]
    assert Icd10Index(target).get("M5450") is not None


def test_racing_writers_never_leave_a_broken_index(tmp_path: Path) -> None:
    target = tmp_path / "icd10cm-2026-04-01.sqlite3"
    write_index(target, meta=_tiny_meta(), rows=_tiny_rows(), definitions=[])
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for _ in range(5):
                write_index(target, meta=_tiny_meta(), rows=_tiny_rows(), definitions=[])
        except BaseException as exc:  # reported below, on the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(6)]
    for thread in threads:
        thread.start()
    while True:
        writing = any(t.is_alive() for t in threads)
        opened = Icd10Index(target)  # every open sees a whole file, old or new
        assert opened.get("M5450") is not None
        opened.close()
        if not writing:
            break
    for thread in threads:
        thread.join()
    assert errors == []
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def _run_fresh(code: str, var_dir: Path) -> dict[str, Any]:
    env = dict(os.environ, HANDBILL_VAR_DIR=str(var_dir))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH", "")) if p)
    completed = subprocess.run(  # noqa: S603 - this interpreter, our own probe
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


FRESH_LOOKUP = """
import json, sys
from handbill.core.codes.icd10 import lookup
answer = lookup("S13.4XXA")
print(json.dumps({"billable": answer.billable, "description": answer.description,
                  "package_imported": "simple_icd_10_cm" in sys.modules}))
"""


def test_a_fresh_process_answers_without_importing_the_package(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    result = _run_fresh(FRESH_LOOKUP, shared_index_dir(tmp_path_factory))
    assert result == {
        "billable": True,
        "description": "Sprain of ligaments of cervical spine, initial encounter",
        "package_imported": False,
    }


def test_a_stale_index_is_rebuilt_in_a_child_process(tmp_path: Path) -> None:
    source = installed_source()
    assert source is not None
    stale = index_path(tmp_path, source.release)
    write_index(stale, meta=_tiny_meta(), rows=_tiny_rows(), definitions=[])
    assert not index_is_current(tmp_path)
    result = _run_fresh(FRESH_LOOKUP, tmp_path)
    assert result["billable"] is True and result["package_imported"] is False
    assert index_is_current(tmp_path)
    rebuilt = Icd10Index(stale)
    assert rebuilt.stamp == source.stamp
    assert rebuilt.get("M5450") is not None and rebuilt.billable_count == 74_719
    assert [p.name for p in tmp_path.iterdir()] == [stale.name]  # no temporary file left


def test_cache_dir_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HANDBILL_VAR_DIR", str(tmp_path / "var-dir"))
    monkeypatch.setenv("HANDBILL_HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "var-dir"
    monkeypatch.delenv("HANDBILL_VAR_DIR")
    assert default_cache_dir() == tmp_path / "home" / "var"
    monkeypatch.delenv("HANDBILL_HOME")
    assert default_cache_dir().name in ("var", "handbill")
