"""``handbill icd10``, ``handbill npi`` and ``handbill codes``: JSON answers and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from handbill.cli import main
from handbill.core.codes import icd10_index
from handbill.core.codes.icd10_index import build_index, index_is_current

SRC = Path(icd10_index.__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # The same session-wide directory as tests/unit/test_icd10.py: built once per session.
    directory = tmp_path_factory.getbasetemp() / "icd10-index"
    if not index_is_current(directory):
        build_index(cache_dir=directory)
    return directory


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, index_dir: Path) -> Path:
    monkeypatch.setenv("HANDBILL_VAR_DIR", str(index_dir))
    return index_dir


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    payload = json.loads(captured.out) if captured.out.strip() else None
    return code, payload, captured.err


def test_icd10_answers_each_code(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, payload, _ = run(capsys, "icd10", "M54.5", "M54.50", "S13.4XXA")
    assert status == 0
    assert [(p["code"], p["valid"], p["billable"]) for p in payload] == [
        ("M54.5", True, False), ("M54.50", True, True), ("S13.4XXA", True, True),
    ]
    header, leaf, injury = payload
    assert "use M54.50, M54.51 or M54.59" in header["reason"]
    assert header["suggestions"] == ["M54.50", "M54.51", "M54.59"]
    assert leaf["reason"] is None and leaf["description"] == "Low back pain, unspecified"
    assert leaf["unspecified"] is True and leaf["code_no_dot"] == "M5450"
    assert injury["seventh_character"]["present"] == "A"
    assert injury["release"] == "2026-04-01"


def test_icd10_invalid_codes_are_answers(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, payload, _ = run(capsys, "icd10", "S13.4A", "724.2", "m5450")
    assert status == 0
    assert [p["valid"] for p in payload] == [False, False, True]
    assert "write S13.4XXA" in payload[0]["reason"]
    assert payload[2]["input"] == "m5450" and payload[2]["code"] == "M54.50"


def test_icd10_date_of_service_outside_the_release(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, payload, _ = run(capsys, "icd10", "--date-of-service", "2025-12-01", "M54.50")
    assert status == 0 and payload[0]["billable"]
    assert "2025-12-01 is outside" in payload[0]["data_note"]


def test_icd10_search(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, payload, _ = run(capsys, "icd10", "--search", "low back pain", "--limit", "3")
    assert status == 0
    assert [p["code"] for p in payload] == ["M54.50", "M54.51", "M54.59"]


def test_icd10_without_codes_exits_2(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, payload, err = run(capsys, "icd10")
    assert status == 2 and payload is None
    assert "give one or more diagnosis codes" in err


def test_icd10_bad_date_exits_2(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["icd10", "--date-of-service", "05/04/2026", "M54.50"])
    assert exited.value.code == 2
    assert "use YYYY-MM-DD" in capsys.readouterr().err


def test_icd10_build_index_into_a_chosen_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, payload, _ = run(capsys, "icd10", "--build-index", "--cache-dir", str(tmp_path))
    assert status == 0
    assert payload["release"] == "2026-04-01"
    assert payload["billable_codes"] == 74_719
    assert Path(payload["index"]).parent == tmp_path
    assert payload["bytes"] == Path(payload["index"]).stat().st_size
    assert index_is_current(tmp_path)


def test_npi_valid(capsys: pytest.CaptureFixture[str]) -> None:
    status, payload, _ = run(capsys, "npi", "1234567893")
    assert status == 0
    assert payload == {"npi": "1234567893", "valid": True, "reason": None}


@pytest.mark.parametrize(("npi", "words"), [("1234567890", "would be 3"),
                                             ("9876543213", "starts with 9")])
def test_npi_ten_digits_that_fail_are_answers(
    capsys: pytest.CaptureFixture[str], npi: str, words: str
) -> None:
    status, payload, _ = run(capsys, "npi", npi)
    assert status == 0 and payload["valid"] is False and words in payload["reason"]


@pytest.mark.parametrize("npi", ["12345", "12345abcde", "123-456-7893", ""])
def test_text_that_is_not_an_npi_exits_2(capsys: pytest.CaptureFixture[str], npi: str) -> None:
    status, payload, err = run(capsys, "npi", npi)
    assert status == 2 and payload is None and err.startswith("handbill npi: ")


def test_npi_help_documents_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["npi", "--help"])
    text = capsys.readouterr().out
    assert "Exit status 0 for any ten-digit number" in text and "Exit status 2" in text


def test_codes_carc_and_rarc(capsys: pytest.CaptureFixture[str]) -> None:
    status, payload, _ = run(capsys, "codes", "carc", "170", "999")
    assert status == 0
    assert payload[0]["known"] and payload[0]["usual_group"] == "CO"
    assert payload[1]["known"] is False
    status, payload, _ = run(capsys, "codes", "rarc", "n130")
    assert status == 0 and payload[0]["code"] == "N130"


def test_codes_pos_taxonomy_group_and_claim_status(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "codes", "pos", "12")[1][0]["name"] == "Home"
    assert run(capsys, "codes", "taxonomy", "225700000X")[1][0]["label"] == "Massage therapist"
    assert run(capsys, "codes", "group", "pr")[1][0]["code"] == "PR"
    assert run(capsys, "codes", "claim-status", "22")[1][0]["meaning"].startswith("Reversal")


@pytest.mark.parametrize(("table", "code"), [("pos", "office"), ("taxonomy", "2257"),
                                             ("group", "ZZ")])
def test_codes_malformed_input_exits_2(
    capsys: pytest.CaptureFixture[str], table: str, code: str
) -> None:
    status, _, err = run(capsys, "codes", table, code)
    assert status == 2 and err.startswith("handbill codes: ")


def test_the_command_starts_neither_django_nor_the_icd10_package(index_dir: Path) -> None:
    probe = (
        "import json, sys\n"
        "from handbill.cli import main\n"
        "status = main(['icd10', 'M54.50'])\n"
        "loaded = sorted({m.split('.')[0] for m in sys.modules} & {'django', 'simple_icd_10_cm'})\n"
        "print(json.dumps({'status': status, 'loaded': loaded}), file=sys.stderr)\n"
    )
    env = dict(os.environ, HANDBILL_VAR_DIR=str(index_dir))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH", "")) if p)
    completed = subprocess.run(  # noqa: S603 - this interpreter, our own probe
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
    )
    assert json.loads(completed.stdout)[0]["billable"] is True
    assert json.loads(completed.stderr.strip().splitlines()[-1]) == {"status": 0, "loaded": []}
