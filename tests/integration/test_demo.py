"""The demo practice: built once for this module on an empty database, then read.

Building it takes a while (several hundred visits, each coded and scrubbed through the real
actions), so one build serves every test here; each test still runs in its own transaction,
and the whole build is rolled back at the end of the module.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import timedelta

import pytest
from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models import Sum
from django.test import RequestFactory, override_settings

from handbill.claims.actions import unresolved_blocking
from handbill.claims.models import Claim, ClaimFinding
from handbill.cli import main
from handbill.core.codes.npi import check_npi
from handbill.demo import builder
from handbill.demo.notes import COMPLAINTS, write_note
from handbill.ledger.balances import (
    claim_balance,
    open_receivables,
    patient_balance,
    receivable_drift,
    trial_balance,
)
from handbill.ledger.models import AccountKind, Leg
from handbill.patients.models import Authorization, Coverage, Patient
from handbill.practice.models import (
    EnrollmentStatus,
    FeeScheduleEntry,
    Membership,
    Payer,
    PayerEnrollment,
    Practice,
    Provider,
    Role,
)
from handbill.remittance.models import Acknowledgement, Adjustment, ClaimPayment, EraFile
from handbill.submissions.models import InboxFile, SubmissionBatch
from handbill.visits.models import ServiceEntry, Visit, VisitDiagnosis
from tests.conftest import FIXED_NOW

AS_OF = FIXED_NOW.astimezone(builder.ZONE).date()


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    # The demo's clearinghouse writes its files under VAR_DIR: a folder of this module's own.
    var = tmp_path_factory.mktemp("demo-var")
    with django_db_blocker.unblock(), override_settings(VAR_DIR=var):
        assert Practice.objects.count() == 0, "the demo must build on an empty database"
        with transaction.atomic():
            practice = builder.build_demo(as_of=AS_OF, at=FIXED_NOW, seed=builder.DEFAULT_SEED)
            yield practice
            transaction.set_rollback(True)


def _money_rows(practice: Practice) -> tuple[int, ...]:
    return (
        SubmissionBatch.objects.filter(practice=practice).count(),
        InboxFile.objects.filter(practice=practice).count(),
        EraFile.objects.filter(practice=practice).count(),
        ClaimPayment.objects.filter(practice=practice).count(),
        Leg.objects.filter(practice=practice).count(),
    )


pytestmark = pytest.mark.django_db


def test_the_practice_and_its_people(demo: Practice) -> None:
    assert demo.legal_name == "Cedar Street Massage Therapy"
    assert demo.state == "WA" and "po box" not in demo.address_line1.lower()
    assert len(demo.tax_id) == 9 and demo.tax_id.isdigit()
    assert demo.locations.count() == 2
    roles = Counter(Membership.objects.filter(practice=demo).values_list("role", flat=True))
    assert roles == {Role.OWNER: 1, Role.BILLER: 1, Role.FRONT_DESK: 1, Role.THERAPIST: 3}
    therapists = Membership.objects.filter(practice=demo, role=Role.THERAPIST)
    assert all(m.provider is not None for m in therapists)
    owner = authenticate(
        RequestFactory().post("/sign-in/"), username="owner@demo.handbill.test",
        password=builder.DEMO_PASSWORD,
    )
    assert owner is not None


def test_every_npi_passes_the_check_digit(demo: Practice) -> None:
    npis = [demo.billing_npi, *Provider.objects.filter(practice=demo).values_list("npi", flat=True)]
    npis += [
        npi
        for npi in Authorization.objects.filter(practice=demo).values_list(
            "referring_provider_npi", flat=True
        )
        if npi
    ]
    assert len(npis) >= 4 + 10
    for npi in npis:
        assert check_npi(npi).valid, npi


def test_three_licensed_therapists_one_lapsed_one_pending(demo: Practice) -> None:
    providers = list(Provider.objects.filter(practice=demo))
    assert len(providers) == 3
    assert {(p.taxonomy, p.credentials, p.license_state) for p in providers} == {
        ("225700000X", "LMT", "WA")
    }
    start = AS_OF - timedelta(days=builder.PERIOD_DAYS)
    lapsed = [p for p in providers if p.license_expires_date < AS_OF]
    assert len(lapsed) == 1 and start < lapsed[0].license_expires_date < AS_OF
    assert Visit.objects.filter(
        provider=lapsed[0], date_of_service__gt=lapsed[0].license_expires_date
    ).exists()
    pending = PayerEnrollment.objects.filter(practice=demo, status=EnrollmentStatus.PENDING)
    assert pending.count() == 1


def test_payers_come_from_the_shipped_profiles_with_policies(demo: Practice) -> None:
    payers = Payer.objects.filter(practice=demo)
    assert payers.count() == 7
    assert all(p.policy_profile and p.policy_versions.exists() for p in payers)
    used = set(ServiceEntry.objects.filter(visit__practice=demo).values_list("code", flat=True))
    fees = set(FeeScheduleEntry.objects.filter(practice=demo).values_list("code", flat=True))
    assert {"97124", "97140", "97112", "97110", "97530", "97010"} <= fees
    assert used <= fees


def test_patients_and_their_coverages(demo: Practice) -> None:
    assert Patient.objects.filter(practice=demo).count() == builder.PATIENT_COUNT
    coverages = Coverage.objects.filter(practice=demo).select_related("payer")
    primary = Counter(c.payer.payer_type for c in coverages if c.order == 1)
    assert primary["commercial"] > builder.PATIENT_COUNT / 2
    assert primary["medicare_advantage"] >= 3
    assert coverages.filter(order=2).exists()
    self_pay = Patient.objects.filter(practice=demo, coverages__isnull=True)
    assert self_pay.count() >= 3
    auto = [c for c in coverages if c.payer.payer_type == "auto"]
    complete = [c for c in auto if c.claim_number and c.adjuster_name and c.accident_date
                and c.accident_state]
    assert len(complete) >= 2
    assert any(not c.claim_number for c in auto)
    comp = [c for c in coverages if c.payer.payer_type == "workers_comp"]
    assert comp and all(c.claim_number and c.employer_name and c.accident_date for c in comp)
    assert coverages.filter(end_date__gt=AS_OF - timedelta(days=91), end_date__lt=AS_OF).exists()
    dependents = coverages.exclude(relationship="18")
    assert {"19", "01"} <= set(dependents.values_list("relationship", flat=True))
    assert all(c.subscriber_last_name for c in dependents)


def test_prescriptions_referrals_and_authorizations(demo: Practice) -> None:
    auths = Authorization.objects.filter(practice=demo).select_related("coverage__payer")
    kinds = Counter(a.kind for a in auths)
    assert kinds["prescription"] and kinds["referral"] and kinds["authorization"]
    assert any(a.kind == "prescription" and a.end_date and a.end_date < AS_OF for a in auths)
    comp = [a for a in auths if a.coverage.payer.payer_type == "workers_comp"
            and a.kind == "authorization"]
    assert comp and comp[0].visits_allowed == 6


def test_three_months_of_signed_notes_each_with_one_claim(demo: Practice) -> None:
    visits = Visit.objects.filter(practice=demo)
    dates = sorted(visits.values_list("date_of_service", flat=True))
    assert len(dates) >= 250
    assert dates[-1] < AS_OF
    assert (AS_OF - dates[0]).days >= builder.PERIOD_DAYS
    signed = visits.filter(signed_at__isnull=False)
    unsigned = visits.filter(signed_at__isnull=True)
    assert unsigned.count() == 2
    assert not Claim.objects.filter(visit__in=unsigned).exists()
    per_visit = Counter(Claim.objects.filter(practice=demo).values_list("visit_id", flat=True))
    assert set(per_visit) == set(signed.values_list("pk", flat=True))
    assert set(per_visit.values()) == {1}
    # Every note carries a billable diagnosis and services with technique and region.
    assert not visits.filter(diagnoses__isnull=True).exists()
    assert VisitDiagnosis.objects.filter(visit__practice=demo, code="M25.519").exists()
    entries = ServiceEntry.objects.filter(visit__practice=demo)
    assert not entries.filter(technique="").exists()
    assert not entries.filter(body_region="").exists()
    assert entries.filter(start_time__isnull=False).exists()


def test_notes_vary_but_three_are_copied_forward(demo: Practice) -> None:
    fields = ("subjective", "objective", "assessment", "plan", "medical_necessity",
              "response_to_treatment")
    notes = list(
        Visit.objects.filter(practice=demo).order_by("patient_id", "date_of_service")
        .values_list("patient_id", *fields)
    )
    assert len(set(notes)) > len(notes) * 0.95
    copied = [b for a, b in zip(notes, notes[1:], strict=False) if a == b]
    assert len(copied) == 3


def test_claims_have_a_history(demo: Practice) -> None:
    statuses = Counter(Claim.objects.filter(practice=demo).values_list("status", flat=True))
    for status in ("draft", "ready", "accepted", "paid", "rejected", "denied"):
        assert statuses[status] > 0, status
    for claim in Claim.objects.filter(practice=demo).exclude(status="draft"):
        assert not unresolved_blocking(claim), claim.number
        assert claim.events.count() >= 2
    assert trial_balance(demo).is_balanced


def test_the_money_came_back_through_the_sandbox_and_was_posted(demo: Practice) -> None:
    # Weekly batches went out through the demo clearinghouse, in the practice's own folder.
    batches = SubmissionBatch.objects.filter(practice=demo)
    assert batches.count() >= 8 and set(batches.values_list("status", flat=True)) == {"uploaded"}
    house = demo.clearinghouses.get()
    assert house.outbox_path.endswith(f"clearinghouse/{demo.slug}/outbox")
    # Every 835 that arrived was posted; none waits and none was refused.
    eras = EraFile.objects.filter(practice=demo)
    assert eras.count() >= 8 and set(eras.values_list("status", flat=True)) == {"posted"}
    paid = ClaimPayment.objects.filter(practice=demo, paid_cents__gt=0)
    assert paid.count() > 150
    # Denials with their CARC, left on the payer's books for the biller to work.
    denied = Claim.objects.filter(practice=demo, status__in=["denied", "partially_paid"])
    assert denied.count() >= 3
    reasons = set(Adjustment.objects.filter(
        claim_payment__claim__in=denied).exclude(reason="45").values_list("group", "reason"))
    assert {("CO", "170"), ("CO", "236"), ("PR", "119")} <= reasons, reasons
    # A line denied with a CO reason stays on the payer's books until the biller works it.
    for claim in denied.filter(status="partially_paid"):
        assert claim_balance(demo, claim.number, kinds=[AccountKind.AR_INSURANCE]).value > 0
    # Front-door rejections from the 277CA, with the payer's reason.
    rejected = Claim.objects.filter(practice=demo, status="rejected")
    assert rejected.count() >= 2
    assert Acknowledgement.objects.filter(practice=demo, result="rejected",
                                          claim__in=rejected).count() == rejected.count()
    # The latest batches are still with the payers: accepted, not paid yet.
    assert Claim.objects.filter(practice=demo, status="accepted").exists()
    # Patients owe their copays and coinsurance; the books balance.
    owing = [
        number for number in Claim.objects.filter(practice=demo, status="paid")
        .values_list("patient__account_number", flat=True).distinct()
        if patient_balance(demo, number).value > 0
    ]
    assert len(owing) >= 5
    # Nobody paid twice: no claim leaves a patient with a credit.
    credits = (Leg.objects.filter(practice=demo, account__kind=AccountKind.AR_PATIENT)
               .values("claim_ref").annotate(balance=Sum("debit_cents") - Sum("credit_cents"))
               .filter(balance__lt=0))
    assert not credits.exists(), list(credits[:5])
    assert trial_balance(demo).is_balanced
    # Three months of charges, 835 postings and reversals: the kept A/R per claim agrees with
    # the legs, and what it says is open is what the legs say.
    assert receivable_drift(demo) == []
    assert len(open_receivables(demo)) > 0


def test_the_scrubber_finds_the_planted_mistakes(demo: Practice) -> None:
    findings = ClaimFinding.objects.filter(claim__practice=demo)
    found = set(findings.values_list("rule", flat=True))
    missing = set(builder.PLANTED.values()) - found
    assert not missing, missing
    blocking = set(findings.filter(severity="blocking").values_list("rule", flat=True))
    for rule in ("note.medical_necessity", "ncci.ptp", "provider.code_allowed",
                 "limits.visit_cap", "limits.timely_filing", "pc.claim_fields",
                 "provider.license", "provider.enrollment", "coverage.active",
                 "authorization.remaining", "referral.on_file", "provider.medicare_lmt"):
        assert rule in blocking, rule
    # A handful of each, not a wall of red: the demo should look like a working clinic.
    per_rule = Counter(
        findings.filter(severity="blocking").values_list("rule", flat=True)
    )
    assert max(per_rule.values()) <= 10, per_rule
    claims = Claim.objects.filter(practice=demo)
    assert claims.filter(findings__severity="blocking").distinct().count() < claims.count() / 5


def test_a_second_run_changes_nothing_and_says_so(
    demo: Practice, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (Practice.objects.count(), Visit.objects.count(), Claim.objects.count(),
              *_money_rows(demo))
    assert main(["demo"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["created"] is False and "nothing changed" in out["message"]
    assert out["counts"]["patients"] == builder.PATIENT_COUNT
    assert out["counts"]["providers"] == 3
    assert out["sign_in"]["password"] == builder.DEMO_PASSWORD
    assert out["claims_by_status"]["paid"] > 0
    assert "provider.license" in out["findings_by_rule"]
    assert (Practice.objects.count(), Visit.objects.count(), Claim.objects.count(),
            *_money_rows(demo)) == before
    with pytest.raises(builder.DemoExistsError):
        builder.build_demo(as_of=AS_OF, at=FIXED_NOW)


def test_retire_frees_the_name_and_a_failed_build_leaves_nothing(
    demo: Practice, monkeypatch: pytest.MonkeyPatch
) -> None:
    patients = Patient.objects.count()
    retired = builder.retire_demo(at=FIXED_NOW)
    assert retired is not None and retired.slug != builder.DEMO_SLUG
    assert not Membership.objects.filter(practice=retired).exists()
    assert builder.find_demo() is None

    def fail(self: object, states: object) -> None:
        raise RuntimeError("stop halfway")

    monkeypatch.setattr(builder._Builder, "_visits", fail)
    with pytest.raises(RuntimeError, match="halfway"):
        builder.build_demo(as_of=AS_OF, at=FIXED_NOW)
    assert builder.find_demo() is None
    assert Patient.objects.count() == patients


def test_a_build_before_its_history_is_refused(db: None) -> None:
    with pytest.raises(builder.DemoError, match="after the build time"):
        builder.build_demo(as_of=AS_OF + timedelta(days=2), at=FIXED_NOW)


def test_the_same_seed_writes_the_same_note() -> None:
    notes = [
        write_note(COMPLAINTS["neck"], random.Random(5), pain=6, previous_pain=7,
                   twice_weekly=False, weeks_left=3)
        for _ in range(2)
    ]
    assert notes[0] == notes[1]
    assert "M54.2" in notes[0].medical_necessity or "M79.12" in notes[0].medical_necessity
