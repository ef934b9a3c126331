"""``handbill claims correct|reopen|secondary|appeal``: JSON out, exit 2 with the reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from handbill.claims.models import Claim
from handbill.cli import main
from tests.integration import money_back_setup as mb

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic(tmp_path: Path) -> dict[str, Any]:
    return mb.clinic(tmp_path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, json.loads(captured.out) if captured.out.strip() else None, captured.err


def test_correct_replace_and_void(clinic: dict[str, Any],
                                  capsys: pytest.CaptureFixture[str]) -> None:
    slug = clinic["practice"].slug
    paid = mb.post_835(clinic, mb.sent_claim(clinic))
    status, out, err = run(capsys, "claims", "correct", paid.number, "--replace",
                           "--reason", "units were wrong", "--practice", slug)
    assert status == 0, err
    assert out["frequency"] == "7" and out["replaces"] == paid.number
    assert out["payer_claim_number"] == f"PCN-{paid.number}"
    assert out["original_status"] == "corrected" and out["status"] == "draft"
    status, out, err = run(capsys, "claims", "correct", paid.number, "--void",
                           "--reason", "again", "--practice", slug)
    assert status == 2 and out is None
    assert "already has a replacement" in err
    status, out, err = run(capsys, "claims", "show", paid.number, "--practice", slug)
    assert out["status"] == "corrected"
    replacement = Claim.objects.get(replaces=paid)
    status, out, err = run(capsys, "claims", "withdraw", replacement.number, "--reason",
                           "not needed", "--practice", slug)
    assert status == 0, err
    assert out["status"] == "void"
    status, out, err = run(capsys, "claims", "show", paid.number, "--practice", slug)
    assert out["status"] == "paid"


def test_reopen_secondary_and_appeal_refusals_exit_2(
    clinic: dict[str, Any], capsys: pytest.CaptureFixture[str],
) -> None:
    slug = clinic["practice"].slug
    paid = mb.post_835(clinic, mb.sent_claim(clinic))
    status, _out, err = run(capsys, "claims", "reopen", paid.number, "--reason", "x",
                            "--practice", slug)
    assert status == 2 and "not rejected" in err
    status, _out, err = run(capsys, "claims", "secondary", paid.number, "--practice", slug)
    assert status == 2 and "no secondary coverage" in err
    status, _out, err = run(capsys, "claims", "correct", "HB9999999", "--void",
                            "--reason", "x", "--practice", slug)
    assert status == 2 and "no claim 'HB9999999'" in err


def test_reopen_a_rejected_claim(clinic: dict[str, Any],
                                 capsys: pytest.CaptureFixture[str]) -> None:
    rejected = mb.reject_277ca(clinic, mb.sent_claim(clinic))
    status, out, err = run(capsys, "claims", "reopen", rejected.number, "--reason",
                           "member ID corrected", "--practice", rejected.practice.slug)
    assert status == 0, err
    assert out["status"] == "draft" and out["frequency"] == "1"
    assert "reopened after rejection: member ID corrected" in [e["note"] for e in out["events"]]


def test_secondary_and_appeal(clinic: dict[str, Any], capsys: pytest.CaptureFixture[str],
                              tmp_path: Path) -> None:
    slug = clinic["practice"].slug
    primary = mb.post_835(clinic, mb.sent_claim(clinic))
    mb.add_secondary(clinic, primary)
    status, out, err = run(capsys, "claims", "secondary", primary.number, "--practice", slug)
    assert status == 0, err
    assert out["primary"] == primary.number and out["payer"] == "Puget Second Health"
    (prior,) = out["prior_payers"]
    assert prior["payer_claim_number"] == f"PCN-{primary.number}"

    denied = mb.post_835(clinic, mb.sent_claim(clinic), denied="50")
    target = tmp_path / "appeal.pdf"
    status, out, err = run(capsys, "claims", "appeal", denied.number, "--out", str(target),
                           "--mark-appealed", "mailed", "--practice", slug)
    assert status == 0, err
    assert out["status"] == "appealed" and target.read_bytes().startswith(b"%PDF")
    status, _out, err = run(capsys, "claims", "appeal", denied.number, "--out",
                            str(tmp_path / "missing" / "a.pdf"), "--practice", slug)
    assert status == 2 and "does not exist" in err
