"""From a signed note to a ready claim: coding by the payer's policy, scrub, override, ledger,
life-cycle moves and tenant isolation, all through the claim actions."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied

from handbill.audit.models import AuditEvent
from handbill.claims import actions
from handbill.claims.models import Claim, ClaimEvent
from handbill.claims.snapshot import authorization_usage
from handbill.core.money import Cents
from handbill.ledger.balances import claim_balance, trial_balance
from handbill.policies.actions import load_shipped_policies
from handbill.practice.models import Payer
from handbill.visits.actions import ServiceInput
from tests.conftest import FIXED_NOW
from tests.factories import records as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic() -> dict:
    practice = f.make_practice()
    load_shipped_policies(practice=practice, by=None, at=FIXED_NOW)
    provider = f.make_provider(practice)
    payers = {p.policy_profile: p for p in Payer.objects.filter(practice=practice)}
    for payer in payers.values():
        f.enroll(provider, payer)
    f.set_fees(practice)
    return {"practice": practice, "provider": provider, "payers": payers,
            "biller": f.make_user(practice, role="biller")}


def _patient_on(clinic: dict, profile: str, *, prescription: bool = True, visits: int = 12):
    patient = f.make_patient(clinic["practice"])
    coverage = f.make_coverage(patient, clinic["payers"][profile])
    if prescription:
        f.make_authorization(coverage, kind="prescription", visits_allowed=visits)
    return patient, coverage


def test_units_follow_each_payers_method(clinic: dict) -> None:
    services = [ServiceInput("97124", 22, "Swedish massage", "low back"),
                ServiceInput("97140", 22, "Myofascial release", "neck")]
    units = {}
    for profile in ("rainier-uniform-plan", "evergreen-health-ppo"):
        patient, _ = _patient_on(clinic, profile)
        visit = f.make_signed_visit(clinic["provider"], patient, services=services)
        claim = actions.build_claim(visit=visit, by=clinic["biller"], at=FIXED_NOW)
        units[profile] = {line.code: line.units for line in claim.lines.all()}
        assert all(line.rationale for line in claim.lines.all())
    # CMS total time: 44 minutes → 3 units; CPT per code: 22 → 1 each.
    assert sum(units["rainier-uniform-plan"].values()) == 3
    assert units["evergreen-health-ppo"] == {"97124": 1, "97140": 1}


def test_clean_claim_becomes_ready_posts_its_charge_and_can_go_back(clinic: dict) -> None:
    patient, _ = _patient_on(clinic, "rainier-uniform-plan")
    visit = f.make_signed_visit(clinic["provider"], patient)
    claim = actions.build_claim(visit=visit, by=clinic["biller"], at=FIXED_NOW)
    assert claim.status == "draft" and claim.number.startswith("HB")
    lines = list(claim.lines.all())
    assert [line.control_number for line in lines] == [
        f"{claim.number}-{n}" for n in range(1, len(lines) + 1)
    ]
    assert claim.total_charge_cents == sum(line.charge_cents for line in lines)
    blocking = [fd for fd in claim.findings.all() if fd.severity == "blocking"]
    assert blocking == [], [(fd.rule, fd.message) for fd in blocking]

    actions.mark_ready(claim=claim, by=clinic["biller"], at=FIXED_NOW)
    claim.refresh_from_db()
    assert claim.status == "ready"
    practice = clinic["practice"]
    assert claim_balance(practice, claim.number) == Cents(claim.total_charge_cents)
    assert trial_balance(practice).is_balanced

    actions.transition(claim=claim, to="draft", by=clinic["biller"], at=FIXED_NOW,
                       note="therapist adds an addendum")
    assert claim_balance(practice, claim.number) == Cents(0)
    moves = list(ClaimEvent.objects.filter(claim=claim).values_list("from_status", "to_status"))
    assert moves == [("", "draft"), ("draft", "ready"), ("ready", "draft")]
    assert AuditEvent.objects.filter(action="claim.ready", object_id=str(claim.pk)).exists()


def test_blocking_finding_stops_ready_until_overridden_with_a_reason(clinic: dict) -> None:
    # Evergreen pays massage therapists for 97124 only: 97140 is flagged, never swapped.
    patient, _ = _patient_on(clinic, "evergreen-health-ppo", prescription=False)
    visit = f.make_signed_visit(clinic["provider"], patient)
    claim = actions.build_claim(visit=visit, by=clinic["biller"], at=FIXED_NOW)
    assert {line.code for line in claim.lines.all()} == {"97124", "97140"}
    blocking = [fd for fd in claim.findings.all() if fd.severity == "blocking"]
    assert blocking, "a code the payer does not pay must be a blocking finding"
    with pytest.raises(actions.BlockedError):
        actions.mark_ready(claim=claim, by=clinic["biller"], at=FIXED_NOW)
    assert Claim.objects.get(pk=claim.pk).status == "draft"
    with pytest.raises(actions.ClaimError, match="reason"):
        actions.override_finding(claim=claim, rule=blocking[0].rule, line=blocking[0].line,
                                 reason="  ", by=clinic["biller"], at=FIXED_NOW)
    for finding in blocking:
        actions.override_finding(claim=claim, rule=finding.rule, line=finding.line,
                                 reason="Payer confirmed by phone (ref 4471) it pays 97140 here",
                                 by=clinic["biller"], at=FIXED_NOW)
    actions.mark_ready(claim=claim, by=clinic["biller"], at=FIXED_NOW)
    assert Claim.objects.get(pk=claim.pk).status == "ready"
    assert AuditEvent.objects.filter(action="claim.override").count() == len(blocking)


def test_illegal_moves_and_double_builds_are_refused(clinic: dict) -> None:
    patient, _ = _patient_on(clinic, "rainier-uniform-plan")
    visit = f.make_signed_visit(clinic["provider"], patient)
    claim = actions.build_claim(visit=visit, by=clinic["biller"], at=FIXED_NOW)
    with pytest.raises(actions.ClaimError, match="cannot become paid"):
        actions.transition(claim=claim, to="paid", by=clinic["biller"], at=FIXED_NOW)
    with pytest.raises(actions.ClaimError, match="already exists"):
        actions.build_claim(visit=visit, by=clinic["biller"], at=FIXED_NOW)
    unsigned = f.make_signed_visit(clinic["provider"], patient, sign=False,
                                   on=date(2026, 11, 3))
    with pytest.raises(actions.ClaimError, match="not signed"):
        actions.build_claim(visit=unsigned, by=clinic["biller"], at=FIXED_NOW)
    assert Claim.objects.count() == 1


def test_authorization_use_is_counted_from_claims(clinic: dict) -> None:
    patient, coverage = _patient_on(clinic, "rainier-uniform-plan", visits=2)
    prescription = coverage.authorizations.get()
    claims = []
    for day in range(3):
        visit = f.make_signed_visit(clinic["provider"], patient,
                                    on=date(2026, 11, 2) + timedelta(days=7 * day))
        claim = actions.build_claim(visit=visit, by=clinic["biller"], at=FIXED_NOW)
        claims.append(claim)
        if day < 2:
            actions.mark_ready(claim=claim, by=clinic["biller"], at=FIXED_NOW)
    visits, units, dollars = authorization_usage(prescription, excluding_claim_id=None)
    assert visits == 2
    assert dollars == Cents(sum(c.total_charge_cents for c in claims[:2]))
    third = [fd.rule for fd in claims[2].findings.filter(severity="blocking")]
    assert third, "the third visit on a 2-visit prescription must be blocked"


def test_no_user_reaches_another_practices_claims(clinic: dict) -> None:
    patient, _ = _patient_on(clinic, "rainier-uniform-plan")
    visit = f.make_signed_visit(clinic["provider"], patient)
    claim = actions.build_claim(visit=visit, by=clinic["biller"], at=FIXED_NOW)
    other = f.make_practice()
    outsider = f.make_user(other, role="owner")
    therapist = f.make_user(clinic["practice"], role="therapist")
    attempts = [
        lambda by: actions.build_claim(visit=visit, by=by, at=FIXED_NOW),
        lambda by: actions.scrub_claim(claim=claim, by=by, at=FIXED_NOW),
        lambda by: actions.mark_ready(claim=claim, by=by, at=FIXED_NOW),
        lambda by: actions.override_finding(claim=claim, rule="x", line=None, reason="r",
                                            by=by, at=FIXED_NOW),
        lambda by: actions.transition(claim=claim, to="void", by=by, at=FIXED_NOW),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied):
            attempt(outsider)
    for attempt in attempts[:1] + attempts[2:]:
        with pytest.raises(PermissionDenied):
            attempt(therapist)
    claim.refresh_from_db()
    assert claim.status == "draft"
    assert Claim.objects.count() == 1
