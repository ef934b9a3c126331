"""A sandbox round trip that leaves realistic denials to work (synthetic people only).

The practice's copy of Cascade Mutual's policy wrongly says the plan pays massage therapists
for 97124 (a biller's edit); the payer sandbox adjudicates by the shipped profile, which pays
only 97140. So each claim passes the scrubber and comes back with 97124 denied CO-170 N130 —
the repeated denial the follow-up lists and proposals are for.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from handbill.core.policy import MASSAGE_THERAPIST, rules_of
from handbill.policies.actions import save_policy_version
from handbill.policies.store import policy_for
from handbill.remittance.models import EraFile
from handbill.submissions.actions import submit_claims
from tests.conftest import FIXED_NOW
from tests.integration import submission_setup as s

PROFILE = "cascade-mutual"
DOS = date(2026, 11, 2)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    from handbill.cli import main

    status = main(list(argv))
    captured = capsys.readouterr()
    assert status == 0, captured.err
    return json.loads(captured.out)


def wrong_policy(payer: Any) -> None:
    """The practice's policy says the payer pays 97124 too (it does not)."""
    current = policy_for(payer, DOS)
    assert current is not None
    rules = rules_of(current)
    rules["allowed_codes"] = {MASSAGE_THERAPIST: ["97124", "97140"]}
    # ... and that it allows more for 97140 than the payer does (an underpayment to find).
    rules["expected_allowed"] = {"97124": "28.00", "97140": "32.00"}
    save_policy_version(payer=payer, rules=rules, effective_date=date(2026, 6, 1), by=None,
                        at=FIXED_NOW)


def round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str], *, count: int = 3,
               seed: str = "7") -> dict[str, Any]:
    """Submit ``count`` claims to Cascade, let the sandbox answer, read and post everything."""
    clinic = s.make_clinic(tmp_path / "outbox")
    practice = clinic["practice"]
    wrong_policy(clinic["payers"][PROFILE])
    claims = [s.ready_claim(clinic, profile=PROFILE, on=DOS) for _ in range(count)]
    batch = submit_claims(practice=practice, claims=claims, clearinghouse=clinic["house"],
                          by=clinic["biller"], at=FIXED_NOW)
    run(capsys, "sandbox", "adjudicate", str(tmp_path / "outbox" / batch.file_name),
        "--seed", seed)
    run(capsys, "inbox", "fetch", "--practice", practice.slug)
    run(capsys, "inbox", "process", "--practice", practice.slug)
    for era in EraFile.objects.filter(practice=practice, status="planned"):
        run(capsys, "remit", "post", str(era.pk), "--practice", practice.slug)
    clinic["claims"] = claims
    return clinic
