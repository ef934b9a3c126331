"""The claim an unsigned note would become, computed without writing anything.

The note form's values go through the same pure builder and scrubber the claim actions use
(``core.claim_builder.build_lines`` and ``core.scrub.scrub``), with the payer's policy, the
practice's fees, the NCCI tables and the patient's history read from the database. The note is
treated as signed now, so the findings are the ones the claim would have once the therapist
signs: nothing in the preview is about the missing signature itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from handbill.claims import snapshot
from handbill.coding.store import load_tables
from handbill.core import claimdata as cd
from handbill.core.claim_builder import BuildError, build_lines
from handbill.core.edits import Program
from handbill.core.money import Cents, total
from handbill.core.policy import PayerPolicy
from handbill.core.scrub import scrub
from handbill.core.units import ServiceMinutes, UnitMethod, UnitResult, compute_units
from handbill.patients.models import Coverage, Patient
from handbill.policies.store import policy_for
from handbill.practice.models import PayerType, Practice, Provider
from handbill.visits.actions import NoteInput, ServiceInput
from handbill.visits.models import Visit

PREVIEW_CLAIM_ID = "PREVIEW"

UNIT_METHOD_LABELS = {
    UnitMethod.CMS: "CMS total time (8-minute rule)",
    UnitMethod.CPT: "CPT per code (midpoint)",
}


@dataclass(frozen=True)
class ClaimPreview:
    method: UnitMethod
    policy: PayerPolicy | None
    units: UnitResult | None
    lines: tuple[cd.ClaimLine, ...] = ()
    diagnoses: tuple[str, ...] = ()
    rationale: str = ""
    findings: tuple[cd.Finding, ...] = ()
    # Why no claim could be built yet (input still incomplete, no fee for a code …).
    problems: tuple[str, ...] = field(default=())

    @property
    def method_label(self) -> str:
        return UNIT_METHOD_LABELS[self.method]

    @property
    def total_charge(self) -> Cents:
        return total(line.charge for line in self.lines)

    @property
    def blocking(self) -> tuple[cd.Finding, ...]:
        return tuple(f for f in self.findings if f.severity is cd.Severity.BLOCKING)


def preview_claim(
    *,
    practice: Practice,
    patient: Patient,
    provider: Provider | None,
    coverage: Coverage | None,
    date_of_service: date | None,
    place_of_service: str,
    note: NoteInput,
    diagnoses: list[str],
    services: list[ServiceInput],
    visit: Visit | None,
    at: datetime,
    problems: list[str] | None = None,
) -> ClaimPreview:
    """Units (always, when the minutes allow) and, when the note is complete enough, the
    would-be claim lines and their scrub findings."""
    problems = list(problems or [])
    on = date_of_service or practice.local_date(at)
    payer = coverage.payer if coverage is not None else None
    policy = policy_for(payer, on) if payer is not None else None
    # With no payer there is no one to pool minutes for: the builder uses the CPT rule too.
    method = UnitMethod(policy.unit_rule.value) if policy is not None else UnitMethod.CPT
    units = None
    if services:
        try:
            units = compute_units([ServiceMinutes(s.code, s.minutes) for s in services], method)
        except ValueError as exc:
            problems.append(str(exc))
    if problems or not services or provider is None or date_of_service is None:
        if not services:
            problems.append("add a service with its minutes to see units and the claim")
        return ClaimPreview(method=method, policy=policy, units=units, problems=tuple(problems))

    snapshot_note = cd.Note(
        date_of_service=date_of_service,
        signed_at=at,
        diagnoses=tuple(diagnoses),
        entries=tuple(
            cd.ServiceEntry(
                code=s.code, minutes=s.minutes, technique=s.technique,
                body_region=s.body_region, start_time=s.start_time,
            )
            for s in services
        ),
        **note.__dict__,
    )
    payer_type = payer.payer_type if payer is not None else "self_pay"
    tables = load_tables(
        date_of_service,
        codes={s.code for s in services},
        program=Program.MEDICAID if payer_type == PayerType.MEDICAID else Program.MEDICARE,
    )
    fees = {fee.code: Cents(fee.charge_cents) for fee in practice.fees.all()}
    try:
        built = build_lines(
            note=snapshot_note,
            policy=policy,
            taxonomy=provider.taxonomy,
            fee_schedule=fees,
            edits=tables,
            payer_type=payer_type,
        )
    except BuildError as exc:
        return ClaimPreview(method=method, policy=policy, units=units, problems=(str(exc),))

    # history_of reads "other claims than this visit's"; a note not yet saved has none, and a
    # stand-in with no row behind it (pk 0) excludes nothing.
    stand_in = visit if visit is not None else Visit(
        pk=0, patient=patient, practice=practice, date_of_service=date_of_service
    )
    claim = cd.Claim(
        claim_id=PREVIEW_CLAIM_ID,
        date_of_service=date_of_service,
        place_of_service=place_of_service,
        diagnoses=built.diagnoses,
        lines=built.lines,
        note=snapshot_note,
        coverage=snapshot.coverage_of(coverage),
        policy=policy,
        provider=snapshot.provider_of(provider, payer.pk if payer else None, date_of_service),
        practice_state=practice.state,
        authorizations=snapshot.authorizations_of(
            coverage, date_of_service, excluding_claim_id=None
        ),
        history=snapshot.history_of(stand_in, coverage, excluding_claim_id=None),
    )
    found = list(scrub(claim, as_of=practice.local_date(at), edits=tables))
    seen = {(f.rule, f.line) for f in found}
    found.extend(flag for flag in built.flags if (flag.rule, flag.line) not in seen)
    order = {cd.Severity.BLOCKING: 0, cd.Severity.WARNING: 1, cd.Severity.INFO: 2}
    found.sort(key=lambda f: (order[f.severity], f.line or 0, f.rule))
    return ClaimPreview(
        method=method,
        policy=policy,
        units=units,
        lines=built.lines,
        diagnoses=built.diagnoses,
        rationale=built.rationale,
        findings=tuple(found),
    )
