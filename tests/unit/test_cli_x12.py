"""``handbill x12 read`` and ``handbill x12 check`` on genuine samples and synthetic files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from handbill.cli import main
from tests.unit.x12_build import WORKED_CLAIM, WORKED_PLB, remittance, worked_example

SAMPLES = Path("/work/shared/x12-samples")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    status = main(["x12", *argv])
    captured = capsys.readouterr()
    return status, json.loads(captured.out) if captured.out.strip() else None, captured.err


def write(tmp_path: Path, text: str, name: str = "remit.835") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="ascii")
    return str(path)


def test_read_an_835_prints_the_issue_shape(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "read", str(SAMPLES / "X221-secondary-payments.edi"))
    assert status == 0 and err == ""
    assert out["balanced"] is True and out["errors"] == []
    (transaction,) = out["transactions"]
    assert transaction["set_id"] == "835"
    assert transaction["envelope"]["interchange_control_number"] == "000010216"
    assert {"payment", "payer", "payee", "claims", "provider_adjustments"} <= set(transaction)
    assert transaction["payment"]["amount"] == "1222"
    claim = transaction["claims"][1]
    assert (claim["id"], claim["status"], claim["payer_claim_number"]) == (
        "0001000053", "2", "50630626430")
    line = claim["lines"][1]
    assert (line["code"], line["modifiers"], line["charge"], line["paid"], line["units"]) == (
        "66543", ["26"], "585", "280", "1")
    assert line["adjustments"][0] == {"group": "PR", "reason": "1", "amount": "150"}
    assert out["interchanges"][0]["control_number"] == "000010216"


def test_read_an_unbalanced_835_flags_it(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, remittance("80", *WORKED_CLAIM, plb=WORKED_PLB))
    status, out, _err = run(capsys, "read", path)
    assert status == 0
    assert out["balanced"] is False
    assert out["errors"] == [
        "transaction set 835 0001: payment: BPR02 80.00 but the claims pay 75.00 and the "
        "provider adjustments come to -1.50, so BPR02 should be 76.50 (off by 3.50)"]


def test_read_a_999_a_277ca_and_an_837(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    from tests.unit.test_r999 import pyx12_999

    status, out, _err = run(capsys, "read", str(SAMPLES / "X214-payer-response.edi"))
    assert status == 0
    assert out["transactions"][0]["claims"][2]["claim_id"] == "JONES44444"
    assert any("20230229" in e for e in out["errors"])

    status, out, _err = run(capsys, "read", str(SAMPLES / "X222-chiropractic.edi"))
    assert status == 0
    (transaction,) = out["transactions"]
    assert transaction["set_id"] == "837" and "claims" in json.dumps(transaction)

    path = write(tmp_path, pyx12_999("X222-oxygen.edi"), "oxygen.999")
    status, out, _err = run(capsys, "read", path)
    assert status == 0
    assert out["transactions"][0]["transactions"][0]["status"] == "R"


@pytest.mark.parametrize("name", ["README.md"])
def test_read_refuses_a_file_that_is_not_x12(name: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "read", str(SAMPLES / name))
    assert status == 2 and out is None
    assert "this is not an X12 interchange: it must start with 'ISA'" in err


def test_read_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _out, err = run(capsys, "read", str(tmp_path / "nope.835"))
    assert status == 2 and "no such file" in err


def test_read_a_malformed_835_names_the_segment(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, remittance("10", "CLP*C1*1*30*10**12*P1", "SVC*HC:97124*30*1O"))
    status, out, err = run(capsys, "read", path)
    assert status == 2 and out is None
    assert "segment 17 (SVC): SVC03 payment '1O' is not an amount" in err


@pytest.mark.parametrize("name", [
    "X221-multiple-claims-single-check.edi", "X221-era-sample.edi",
    "X221-secondary-payments.edi", "X221-dollars-and-data-sent-together.edi",
    "835_mult_loops.txt", "X222-chiropractic.edi", "X222-commercial-health-insurance.edi",
])
def test_check_valid_samples(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "check", str(SAMPLES / name))
    assert (status, out["valid"], out["errors"], err) == (0, True, [], "")


@pytest.mark.parametrize(("name", "reasons"), [
    ("managed-care.835", ["has no PER*BL", "BPR16 payment date '20002316' is not a calendar"]),
    ("X214-payer-response.edi", ["DTP*472 date '20230229' is not a calendar date",
                                 "loop 2200C is required"]),
])
def test_check_reports_the_invalid_samples(name: str, reasons: list[str],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "check", str(SAMPLES / name))
    assert status == 2 and out["valid"] is False
    assert len(out["errors"]) == len(reasons)
    for error, reason in zip(out["errors"], reasons, strict=True):
        assert reason in error
    assert "is not valid: 2 errors" in err


def test_check_an_unbalanced_835_and_envelope_faults(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    claim = list(WORKED_CLAIM)
    claim[claim.index("CAS*CO*45*20")] = "CAS*CO*45*15"
    text = remittance("76.5", *claim, plb=WORKED_PLB).replace("GE*1*1", "GE*1*2")
    status, out, _err = run(capsys, "check", write(tmp_path, text))
    assert status == 2
    assert out["errors"][0] == "segment 33 (GE): GE02 '2' does not match GS06 '1'"
    assert "claim PCN0001 line 1 (PCN0001-1" in out["errors"][1]
    assert "claim PCN0001 (segment 16)" in out["errors"][2]


def test_check_a_malformed_835_keeps_going(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, remittance("10", "SVC*HC:97124*30*10"))
    status, out, _err = run(capsys, "check", path)
    assert status == 2
    assert out["errors"] == ["segment 16 (SVC): SVC before any CLP: a service line must "
                             "belong to a claim"]


def test_check_a_valid_synthetic_835(tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _err = run(capsys, "check", write(tmp_path, worked_example()))
    assert status == 0 and out["transactions"] == {"835": 1}


def test_check_a_270_checks_only_its_envelope(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _err = run(capsys, "check", str(SAMPLES / "subscriber-health-benefit-check.270"))
    assert status == 0 and out["valid"] is True
    assert "content not read" in out["warnings"][0]


def test_the_command_does_not_start_django() -> None:
    code = (
        "import sys, io, contextlib\n"
        "from handbill.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main(['x12', 'check', {str(SAMPLES / 'X221-era-sample.edi')!r}])\n"
        "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,  # noqa: S603 - our own interpreter and code
                            check=True)
    assert result.stdout.strip() == "[]"
