"""Claims that went out and came back (paid, partly paid, denied, rejected), for the corrected,
secondary and appeal tests. Built through the real workflow: note → claim → ready → 837 batch
→ 835 posted. Synthetic people only."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from handbill.claims.models import Claim
from handbill.remittance import actions as remit
from handbill.submissions.actions import submit_claims
from tests.conftest import FIXED_NOW
from tests.factories import records as f
from tests.integration import submission_setup as s
from tests.integration.remittance_setup import (  # noqa: F401 - PAID_ON for the tests
    PAID_ON,
    Clp,
    Svc,
    inbox_file,
    write_277ca,
    write_835,
)

PRIMARY = s.CLEAN_PROFILE
LATER = FIXED_NOW + timedelta(days=20)

_trace = iter(range(1, 10_000))


def clinic(tmp_path: Path) -> dict[str, Any]:
    return s.make_clinic(tmp_path / "outbox")


def sent_claim(clinic: dict[str, Any], **patient: Any) -> Claim:
    claim = s.ready_claim(clinic, **patient)
    submit_claims(practice=clinic["practice"], claims=[claim], clearinghouse=clinic["house"],
                  by=clinic["biller"], at=FIXED_NOW)
    claim.refresh_from_db()
    assert claim.status == "submitted"
    return claim


def post_835(clinic: dict[str, Any], claim: Claim, *, paid_percent: int = 70,
             coinsurance_percent: int = 20, denied: str = "",
             payer_claim_number: str = "") -> Claim:
    """The payer's answer: each line paid ``paid_percent``, ``coinsurance_percent`` left to the
    patient (PR 2) and the rest written off by contract (CO 45); or every line denied with
    ``denied`` (a CARC, as CO)."""
    lines = []
    for line in claim.lines.all():
        charge = line.charge_cents
        if denied:
            lines.append(Svc(line.code, charge, 0, [("CO", denied, charge)], line.modifiers,
                             line.units, line.control_number, on=claim.date_of_service))
            continue
        paid = charge * paid_percent // 100
        share = charge * coinsurance_percent // 100
        cas = [("CO", "45", charge - paid - share)] if charge - paid - share else []
        if share:
            cas.append(("PR", "2", share))
        lines.append(Svc(line.code, charge, paid, cas, line.modifiers, line.units,
                         line.control_number, on=claim.date_of_service))
    text = write_835(
        [Clp(claim.number, lines, status="4" if denied else "1",
             payer_claim_number=payer_claim_number or f"PCN-{claim.number}")],
        trace=f"EFT{next(_trace):05d}", payer_id=claim.payer.payer_id,
        payer_name=claim.payer.name.upper())
    for era in remit.import_835(practice=clinic["practice"], text=text, by=clinic["biller"],
                                at=LATER):
        remit.commit_posting(era=era, by=clinic["biller"], at=LATER)
    claim.refresh_from_db()
    return claim


def reject_277ca(clinic: dict[str, Any], claim: Claim) -> Claim:
    text = write_277ca([(claim.number, "A7:562:85", "")])
    ack = inbox_file(clinic["practice"], f"rej-{claim.number}.277", text, kind="277ca")
    remit.process_acknowledgements(practice=clinic["practice"], inbox_file=ack,
                                   by=clinic["biller"], at=LATER)
    claim.refresh_from_db()
    assert claim.status == "rejected"
    return claim


def add_secondary(clinic: dict[str, Any], claim: Claim, payer: Any = None) -> Any:
    """A second plan for the claim's patient: by default a commercial payer with no stored
    policy (so only the general rules apply), the therapist enrolled with it."""
    if payer is None:
        from handbill.practice.models import Payer

        payer = Payer.objects.filter(practice=clinic["practice"], payer_id="PUGET2").first()
        payer = payer or f.make_payer(clinic["practice"], name="Puget Second Health",
                                      payer_id="PUGET2")
    if not payer.enrollments.filter(provider=clinic["provider"]).exists():
        f.enroll(clinic["provider"], payer)
    coverage = f.make_coverage(claim.patient, payer, order=2, group_number="SEC200")
    f.make_authorization(coverage, kind="prescription")
    return coverage
