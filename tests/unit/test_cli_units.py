from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from handbill.cli import main

# The console script installed beside the interpreter running the tests (.venv/bin/handbill).
HANDBILL = Path(sys.executable).with_name("handbill")


def run_units(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["units", *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_cms_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run_units(capsys, "97124=38", "97140=15", "97010=10")
    assert (status, err) == (0, "")
    data = json.loads(out)
    assert data["method"] == "cms"
    assert (data["timed_minutes"], data["total_units"]) == (53, 4)
    assert [(line["code"], line["minutes"], line["units"], line["timed"])
            for line in data["lines"]] == [
        ("97124", 38, 3, True), ("97140", 15, 1, True), ("97010", 10, 1, False)
    ]
    assert all(line["rationale"] for line in data["lines"])
    assert "leftover unit goes to 97124 (8 min left beats 0 on 97140)" in data["rationale"]
    assert "→" in out  # plain UTF-8 for people, not \u escapes


def test_cpt_method(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_units(capsys, "--method", "cpt", "97124=22", "97140=22")
    data = json.loads(out)
    assert status == 0
    assert data["method"] == "cpt"
    assert (data["timed_minutes"], data["total_units"]) == (44, 2)
    assert [line["units"] for line in data["lines"]] == [1, 1]


def test_repeated_code_adds_minutes(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_units(capsys, "97124=20", "97124=10")
    data = json.loads(out)
    assert status == 0
    assert data["lines"] == [{
        "code": "97124", "minutes": 30, "units": 2, "timed": True,
        "rationale": "97124 entered 2 times; minutes added (20 + 10 = 30). "
                     "30 min = 2 full units → 2 units.",
    }]


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        ("97124=abc", "'97124=abc': minutes must be a whole number, e.g. 97124=38"),
        ("97124=", "'97124=': minutes must be a whole number"),
        ("99999=10", "'99999=10': 99999 is not in Handbill's service catalogue (known: 97010"),
        ("97124=-5", "'97124=-5': 97124: minutes cannot be negative (-5)"),
        ("97124", "'97124': write each service as CODE=MINUTES, e.g. 97124=38"),
        ("=15", "'=15': write each service as CODE=MINUTES"),
        ("massage=15", "'massage=15': 'massage' is not a procedure code"),
        ("97124=2000", "'97124=2000': 97124: 2000 minutes is more than a day"),
    ],
)
def test_bad_input_exits_2_with_the_reason(
    capsys: pytest.CaptureFixture[str], arg: str, message: str
) -> None:
    status, out, err = run_units(capsys, "97140=15", arg)
    assert status == 2
    assert out == ""
    assert err.startswith("handbill units: ")
    assert message in err


def test_day_total_over_a_day_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run_units(capsys, "97124=1000", "97140=500")
    assert (status, out) == (2, "")
    assert "timed services add up to 1500 minutes" in err


@pytest.mark.parametrize("args", [["--method", "medicare", "97124=38"], []])
def test_argparse_refusals_also_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["units", *args])
    assert exit_info.value.code == 2
    assert "handbill units: error:" in capsys.readouterr().err


def test_console_script_entry_point() -> None:
    completed = subprocess.run(  # noqa: S603 - fixed arguments, our own script
        [str(HANDBILL), "units", "--method", "cms", "97112=24", "97110=23"],
        capture_output=True, text=True, check=False, timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    data = json.loads(completed.stdout)
    assert [(line["code"], line["units"]) for line in data["lines"]] == [
        ("97112", 2), ("97110", 1)
    ]

    refused = subprocess.run(  # noqa: S603
        [str(HANDBILL), "units", "97124=abc"],
        capture_output=True, text=True, check=False, timeout=60,
    )
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert "minutes must be a whole number" in refused.stderr


def test_units_command_does_not_import_django() -> None:
    # A fresh interpreter, so Django loaded by other tests cannot hide an import.
    script = (
        "import argparse, sys\n"
        "import handbill.cli.units as units\n"
        "parser = argparse.ArgumentParser()\n"
        "units.register(parser.add_subparsers())\n"
        "args = parser.parse_args(['units', '97124=38'])\n"
        "assert args.func(args)['total_units'] == 3\n"
        "loaded = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
        "print(loaded)\n"
    )
    completed = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "[]"
