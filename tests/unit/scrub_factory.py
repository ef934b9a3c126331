"""A clean claim for the scrubber tests, built from synthetic people and a made-up payer.

Each test changes one thing with ``dataclasses.replace`` (or the helpers below) and checks
that exactly the rule it means fires. The clean claim is chosen so that many rules have
something to look at: a CMS-unit payer with a daily cap, GP, X modifiers, a prescription
requirement, an authorization after 12 visits, a visit cap and an NCCI pair (97140/97124)
bypassed with XS because the note puts the two services on different regions.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time
from typing import Any

from handbill.core.claimdata import (
    Authorization,
    AuthorizationKind,
    Claim,
    ClaimLine,
    Coverage,
    Finding,
    History,
    Note,
    Provider,
    ServiceEntry,
    Severity,
)
from handbill.core.edits import Confidence, EditTables, ModifierIndicator, MueLimit, PtpEdit
from handbill.core.money import Cents
from handbill.core.policy import (
    MASSAGE_THERAPIST,
    LineStyle,
    ModifierStyle,
    PayerPolicy,
    ReferralKind,
    UnitRule,
)

DOS = date(2026, 5, 4)
AS_OF = date(2026, 5, 11)

NOTE_TEXT = {
    "subjective": "Reports low back tightness after a long drive, 6/10, and right shoulder "
    "ache when reaching overhead.",
    "objective": "Hypertonic lumbar paraspinals, trigger point right upper trapezius; "
    "shoulder flexion limited to 140 degrees.",
    "assessment": "Lumbar muscle spasm and right shoulder pain limiting sitting and reaching; "
    "responding to treatment.",
    "plan": "Continue weekly for four weeks; home stretching for hip flexors and pecs.",
    "medical_necessity": "Massage to reduce muscle spasm of the low back (M62.830) and right "
    "shoulder pain (M25.511) that limit sitting to 30 minutes and overhead reaching at work.",
    "response_to_treatment": "Pain down to 3/10; shoulder flexion 160 degrees after "
    "treatment.",
}


def policy(**changes: Any) -> PayerPolicy:
    base = PayerPolicy(
        profile="cascade-test",
        name="Cascade Test Health",
        effective_date=date(2026, 1, 1),
        end_date=None,
        unit_rule=UnitRule.CMS,
        allowed_codes={MASSAGE_THERAPIST: frozenset({"97124", "97140", "97112", "97010"})},
        bills_97010=False,
        modifier_style=ModifierStyle.X_MODIFIERS,
        therapy_modifier="GP",
        visit_cap_per_year=20,
        daily_unit_cap=4,
        referral=ReferralKind.PRESCRIPTION,
        authorization_after_visits=12,
        timely_filing_days=90,
        line_style=LineStyle.ONE_LINE,
    )
    return replace(base, **changes)


def entry(code: str, minutes: int, **changes: Any) -> ServiceEntry:
    defaults: dict[str, Any] = {
        "technique": "Swedish long gliding strokes and kneading",
        "body_region": "low back",
        "start_time": None,
    }
    defaults.update(changes)
    return ServiceEntry(code=code, minutes=minutes, **defaults)


CLEAN_ENTRIES = (
    entry("97124", 30, technique="Swedish gliding strokes and kneading, lumbar paraspinals",
          body_region="low back", start_time=time(10, 0)),
    entry("97140", 10, technique="Myofascial release, right upper trapezius",
          body_region="right shoulder", start_time=time(10, 30)),
)


def note(**changes: Any) -> Note:
    base = Note(
        date_of_service=DOS,
        signed_at=datetime(2026, 5, 4, 18, 30, tzinfo=UTC),
        diagnoses=("M62.830", "M25.511"),
        entries=CLEAN_ENTRIES,
        **NOTE_TEXT,
    )
    return replace(base, **changes)


def line(number: int, code: str, units: int, **changes: Any) -> ClaimLine:
    defaults: dict[str, Any] = {
        "modifiers": ("GP",),
        "pointers": (1,),
        "charge": Cents(6000 * units),
        "minutes": 15 * units,
        "rationale": f"{15 * units} min → {units} units (test).",
    }
    defaults.update(changes)
    return ClaimLine(number=number, code=code, units=units, **defaults)


CLEAN_LINES = (
    # CMS total time: 40 timed minutes → 3 units; 97124 takes 2 full units, 97140's 10
    # leftover minutes beat 97124's 0 and take the third.
    line(1, "97124", 2, modifiers=("XS", "GP"), pointers=(1,), minutes=30),
    line(2, "97140", 1, modifiers=("GP",), pointers=(2,), minutes=10, charge=Cents(6500)),
)


def coverage(**changes: Any) -> Coverage:
    base = Coverage(
        payer_name="Cascade Test Health",
        payer_type="commercial",
        order=1,
        member_id="CTH000123",
        start_date=date(2026, 1, 1),
        end_date=None,
    )
    return replace(base, **changes)


def provider(**changes: Any) -> Provider:
    base = Provider(
        name="Robin Example, LMT",
        npi="1234567893",
        taxonomy=MASSAGE_THERAPIST,
        license_state="WA",
        license_expires_date=date(2027, 6, 30),
        enrollment_status="in_network",
    )
    return replace(base, **changes)


def prescription(**changes: Any) -> Authorization:
    base = Authorization(
        kind=AuthorizationKind.PRESCRIPTION,
        number="RX-1",
        start_date=date(2026, 1, 15),
        end_date=date(2026, 12, 31),
        codes=frozenset(),
        visits_allowed=12,
        units_allowed={},
        dollars_allowed=None,
        visits_used=3,
        referring_provider_name="Dana Sample, MD",
        referring_provider_npi="9876543213",
    )
    return replace(base, **changes)


def authorization(**changes: Any) -> Authorization:
    base = Authorization(
        kind=AuthorizationKind.AUTHORIZATION,
        number="AUTH-77",
        start_date=date(2026, 4, 1),
        end_date=date(2026, 7, 1),
        codes=frozenset({"97124", "97140"}),
        visits_allowed=10,
        units_allowed={"97124": 20, "97140": 10},
        dollars_allowed=Cents(200000),
        visits_used=2,
        units_used={"97124": 4, "97140": 2},
        dollars_used=Cents(37000),
    )
    return replace(base, **changes)


def claim(**changes: Any) -> Claim:
    base = Claim(
        claim_id="HB-2026-000101",
        date_of_service=DOS,
        place_of_service="11",
        diagnoses=("M62.830", "M25.511"),
        lines=CLEAN_LINES,
        note=note(),
        coverage=coverage(),
        policy=policy(),
        provider=provider(),
        practice_state="WA",
        authorizations=(prescription(),),
        history=History(visits_this_year=3),
    )
    return replace(base, **changes)


def with_note(base: Claim, **changes: Any) -> Claim:
    return replace(base, note=replace(base.note, **changes))


def with_policy(base: Claim, **changes: Any) -> Claim:
    assert base.policy is not None
    return replace(base, policy=replace(base.policy, **changes))


def with_coverage(base: Claim, **changes: Any) -> Claim:
    assert base.coverage is not None
    return replace(base, coverage=replace(base.coverage, **changes))


def with_provider(base: Claim, **changes: Any) -> Claim:
    return replace(base, provider=replace(base.provider, **changes))


def with_history(base: Claim, **changes: Any) -> Claim:
    return replace(base, history=replace(base.history, **changes))


def self_pay(base: Claim | None = None) -> Claim:
    return replace(base or claim(), coverage=None, policy=None, authorizations=())


def ptp_edit(column1: str, column2: str, indicator: str = "1") -> PtpEdit:
    return PtpEdit(
        column1=column1,
        column2=column2,
        effective_date=date(2020, 1, 1),
        deletion_date=None,
        modifier_indicator=ModifierIndicator(indicator),
        rationale="Mutually exclusive procedures",
        source="hand-made test table",
        confidence=Confidence.VERIFIED,
    )


def mue(code: str, units: int) -> MueLimit:
    return MueLimit(
        code=code,
        units=units,
        adjudication_indicator=None,
        rationale="test",
        effective_date=date(2020, 1, 1),
        source="hand-made test table",
        confidence=Confidence.VERIFIED,
    )


# A hand-made table so the tests do not move when the shipped starter data changes.
EDITS = EditTables([ptp_edit("97140", "97124"), ptp_edit("97112", "97110", "0")],
                   [mue("97010", 1)])


def of_rule(findings: list[Finding], rule: str) -> list[Finding]:
    return [finding for finding in findings if finding.rule == rule]


def blocking(findings: list[Finding]) -> list[Finding]:
    return [finding for finding in findings if finding.severity is Severity.BLOCKING]


def run(rule_id: str, target: Claim, edits: EditTables | None = None) -> list[Finding]:
    """One registered rule's findings, checked the way ``scrub`` runs it."""
    from handbill.core.scrub import RULES, ncci

    if rule_id in (ncci.PTP, ncci.MUE):
        check = ncci.ncci_ptp if rule_id == ncci.PTP else ncci.ncci_mue
        return check(target, AS_OF, edits)
    for rule in RULES:
        if rule.id == rule_id:
            return rule.check(target, AS_OF)
    raise KeyError(rule_id)


def only(findings: list[Finding], rule: str, severity: Severity) -> Finding:
    """The single finding, asserting its rule and severity."""
    assert len(findings) == 1, findings
    assert findings[0].rule == rule, findings[0]
    assert findings[0].severity is severity, findings[0]
    return findings[0]
