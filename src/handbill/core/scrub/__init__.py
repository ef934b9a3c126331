"""Scrub rules: small pure functions that read a claim and return findings.

Each rule is ``(claim, as_of) -> list[Finding]`` with a stable id; :data:`RULES` lists them
in the order a biller would work through them (the note first, then coding, then who pays),
and :func:`scrub` runs them all. A blocking finding stops the claim from becoming ready
unless a user overrides it with a reason; the fix is always in plain words.

The NCCI rules also need the edit tables, which the caller passes to :func:`scrub`; without
tables they report nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from handbill.core.claimdata import Claim, Finding, Severity
from handbill.core.edits import EditTables
from handbill.core.scrub import (
    authorization,
    coverage,
    diagnoses,
    eligibility,
    history,
    limits,
    lines,
    modifiers,
    ncci,
    note,
    provider,
    units_audit,
)
from handbill.core.scrub._common import RuleCheck

__all__ = ["RULES", "Rule", "rule_ids", "scrub"]


@dataclass(frozen=True, slots=True)
class Rule:
    id: str  # stable: stored with overrides and shown in the UI
    check: RuleCheck
    description: str


RULES: tuple[Rule, ...] = (
    # The note behind the claim.
    Rule("note.signed", note.note_signed, "The visit note is signed."),
    Rule("note.date", note.note_date, "The note is for the date of service billed."),
    Rule("note.assessment", note.note_assessment, "The note has an assessment."),
    Rule("note.medical_necessity", note.note_medical_necessity,
         "The note says why the treatment is medically necessary."),
    Rule("note.necessity_tied", diagnoses.note_necessity_tied,
         "The medical-necessity statement names one of the claim's diagnoses."),
    Rule("note.technique", note.note_technique,
         "Every billed service in the note records its technique."),
    Rule("note.response", note.note_response,
         "The note records the patient's response to treatment."),
    Rule("note.plan", note.note_plan, "The note has a plan."),
    Rule("note.copy_forward", note.note_copy_forward,
         "The note is not a near copy of an earlier note of the patient."),
    # Units against the documented minutes.
    Rule("units.supported", units_audit.units_supported,
         "Billed units per code equal what the note's minutes support."),
    Rule("units.minutes", units_audit.units_minutes, "No timed line has zero minutes."),
    Rule("units.method", units_audit.units_method,
         "Units follow the payer's unit method, with a stored rationale."),
    Rule("units.daily_cap", units_audit.units_daily_cap,
         "Timed units stay within the payer's daily cap."),
    # Coding: codes, NCCI edits, modifiers, diagnoses.
    Rule("code.known", lines.code_known, "Every line's code is in the service catalogue."),
    Rule("code.bundled", lines.code_bundled,
         "No status-B code for Medicare, and no 97010 for a payer that does not pay it."),
    Rule("code.medicare_replacement", lines.code_medicare_replacement,
         "Medicare lines use Medicare's own code (97014 → G0283)."),
    Rule(ncci.PTP, ncci.ncci_ptp, "NCCI pair edits are bypassed or avoided (needs tables)."),
    Rule(ncci.MUE, ncci.ncci_mue, "Units stay within NCCI MUEs (needs tables)."),
    Rule("modifier.valid", modifiers.modifier_valid,
         "Modifiers are known, listed once, at most four a line."),
    Rule("modifier.59_with_x", modifiers.modifier_59_with_x,
         "No line carries 59 together with an X modifier."),
    Rule("modifier.payer_style", modifiers.modifier_payer_style,
         "No X modifier for a payer that takes only 59."),
    Rule("modifier.payer_pair", modifiers.modifier_payer_pairs,
         "A pair the payer's policy bundles carries a bypass modifier it takes."),
    Rule("modifier.documented", modifiers.modifier_documented,
         "XS/XU/59 are backed by a separate region or time block in the note."),
    Rule("modifier.therapy_missing", modifiers.modifier_therapy_missing,
         "Therapy codes carry the therapy modifier the payer requires (GP/GO/GN)."),
    Rule("modifier.therapy_unexpected", modifiers.modifier_therapy_unexpected,
         "No therapy modifier for a payer that wants none."),
    Rule("diagnosis.present", diagnoses.diagnosis_present, "The claim has a diagnosis."),
    Rule("diagnosis.count", diagnoses.diagnosis_count,
         "At most 12 diagnoses, each listed once."),
    Rule("diagnosis.valid", diagnoses.diagnosis_valid,
         "Each diagnosis is a billable ICD-10-CM code on the date of service."),
    Rule("diagnosis.seventh_character", diagnoses.diagnosis_seventh_character,
         "Injury codes carry their 7th character."),
    Rule("diagnosis.laterality", diagnoses.diagnosis_laterality,
         "No diagnosis leaves the side unspecified."),
    Rule("diagnosis.unspecified", diagnoses.diagnosis_unspecified,
         "No diagnosis is an unspecified code."),
    Rule("diagnosis.in_note", diagnoses.diagnosis_in_note,
         "Every claim diagnosis is documented in the note."),
    Rule("diagnosis.pointers", diagnoses.diagnosis_pointers,
         "Each line points to 1-4 existing diagnoses."),
    # Who pays, and whether they will.
    Rule("coverage.self_pay", coverage.coverage_self_pay,
         "Notes a self-pay visit (superbill, no claim)."),
    Rule("coverage.active", coverage.coverage_active,
         "The coverage is active on the date of service."),
    Rule("policy.on_file", coverage.policy_on_file,
         "A payer policy in force on the date of service is attached."),
    Rule("eligibility.inactive", eligibility.eligibility_inactive,
         "The latest eligibility answer does not show the coverage ended by this date."),
    Rule("eligibility.rejected", eligibility.eligibility_rejected,
         "The latest eligibility check was not rejected by the payer."),
    Rule("eligibility.not_covered", eligibility.eligibility_not_covered,
         "The payer did not answer that massage (physical medicine) is not covered."),
    Rule("eligibility.visits", eligibility.eligibility_visits,
         "The payer reported visits left under the yearly limit."),
    Rule("eligibility.authorization", eligibility.eligibility_authorization,
         "An authorization the payer's answer requires is on file."),
    Rule("provider.enrollment", provider.provider_enrollment,
         "The therapist is credentialed with the payer."),
    Rule("provider.code_allowed", provider.provider_code_allowed,
         "The payer pays this provider type for each billed code."),
    Rule("provider.license", provider.provider_license,
         "The therapist's licence is on file, valid and for the practice's state."),
    Rule("provider.medicare_lmt", provider.provider_medicare_lmt,
         "No massage therapist billed to Original Medicare."),
    Rule("referral.on_file", authorization.referral_on_file,
         "A referral or prescription the payer needs is on file and in date."),
    Rule("authorization.required", authorization.authorization_required,
         "An authorization is active once the payer needs one."),
    Rule("authorization.remaining", authorization.authorization_remaining,
         "The authorization has visits, units and dollars left for this claim."),
    Rule("authorization.codes", authorization.authorization_codes,
         "The authorization covers every billed code."),
    Rule("limits.visit_cap", limits.limits_visit_cap,
         "The visit stays within the payer's yearly visit cap."),
    Rule("limits.timely_filing", limits.limits_timely_filing,
         "The claim is inside the payer's filing limit."),
    Rule("claim.date_of_service", limits.claim_date_of_service,
         "The date of service is not in the future."),
    Rule("pc.claim_fields", coverage.pc_claim_fields,
         "Auto and workers' comp claims carry the claim number and accident date."),
    Rule("pc.accident_date", coverage.pc_accident_date,
         "The accident date is not after the date of service."),
    Rule("duplicate.line", history.duplicate_line,
         "No service already billed on another claim for the same date."),
    Rule("history.denials", history.history_denials,
         "Warns of this payer's earlier provider-type or non-covered denials of a code."),
    Rule("charge.total", lines.charge_total, "The claim has lines and charges more than $0."),
    Rule("charge.line", lines.charge_line, "Every line charges more than $0."),
)

_EDIT_RULES = {ncci.PTP: ncci.ncci_ptp, ncci.MUE: ncci.ncci_mue}
_ORDER = {Severity.BLOCKING: 0, Severity.WARNING: 1, Severity.INFO: 2}


def rule_ids() -> list[str]:
    return [rule.id for rule in RULES]


def scrub(claim: Claim, *, as_of: date, edits: EditTables | None = None) -> list[Finding]:
    """Every rule's findings for ``claim`` checked on ``as_of``: blocking first, then
    warnings, then information; within a severity in rule order, then line order."""
    findings: list[Finding] = []
    for rule in RULES:
        edit_rule = _EDIT_RULES.get(rule.id)
        if edit_rule is not None:
            findings.extend(edit_rule(claim, as_of, edits))
        else:
            findings.extend(rule.check(claim, as_of))
    return sorted(findings, key=lambda finding: _ORDER[finding.severity])
