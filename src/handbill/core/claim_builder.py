"""The claim builder: a signed note becomes the claim lines a payer will accept.

Pure: the note, the payer's policy, the practice's fee schedule and the NCCI edit tables go
in; lines with their stored rationale come out. The builder never "fixes" a claim silently.
When the note and the payer's rules disagree (a code the payer does not pay this provider
type for, a pair edit the note cannot support), the line is built as documented and a
finding says what will happen and what to do. Input it cannot bill from at all (no fee for a
code, no diagnosis, an unknown code) raises :class:`BuildError`.

Choices a biller may want to know about:

- Units come from the policy's unit rule; with no policy (self-pay) the CPT per-code rule is
  used, since there is no payer to pool minutes for and it is the AMA's own method.
- NCCI pairs (from :class:`~handbill.core.edits.EditTables`): the bypass modifier goes on the
  column-2 code only when the note shows why: entries on different body regions (XS) or
  start times whose minutes do not overlap (XU); 59 instead for payers that take only 59.
  CMT with manual therapy counts only a separate region, 97140 with 97530 only separate
  time (reference §2.2-2.3). Otherwise no modifier and a warning: guessing one would be
  the silent fix an auditor takes back.
- Modifier order: the NCCI modifier (59 or XS/XU) first, then the therapy modifier (GP/GO/GN).
  Payers' edits read the first positions for the modifiers that change payment; GP only says
  which plan of care the service belongs to.
- Body regions and diagnosis regions are matched by a keyword heuristic (below): good enough
  to choose pointers and to tell "neck" from "low back", not a coding engine. A biller can
  always change a pointer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, time

from handbill.core.claimdata import ClaimLine, Finding, Note, ServiceEntry, Severity
from handbill.core.codes import cpt
from handbill.core.edits import Confidence, EditTables, ModifierIndicator, PtpEdit
from handbill.core.money import Cents
from handbill.core.policy import LineStyle, ModifierStyle, PayerPolicy
from handbill.core.units import LineUnits, ServiceMinutes, UnitMethod, UnitResult, compute_units

MAX_DIAGNOSES = 12  # HI segment / CMS-1500 box 21 A-L
MAX_POINTERS = 4  # SV107 / box 24E

# Payer types whose claims go to Medicare rules for codes Medicare replaced (97014 → G0283).
_MEDICARE = "medicare"
_MEDICARE_ADVANTAGE = "medicare_advantage"


class BuildError(ValueError):
    """The note cannot be turned into a claim; the message names the problem and the fix."""


@dataclass(frozen=True, slots=True)
class BuiltClaim:
    lines: tuple[ClaimLine, ...]
    diagnoses: tuple[str, ...]  # the claim's diagnoses (max 12), in the note's order
    rationale: str  # claim-level summary: unit rule, units, edits, what was left off
    flags: tuple[Finding, ...]  # what the builder noticed and did not fix on its own


# --- body regions: a keyword heuristic ---------------------------------------------------

NECK, THORACIC, LOW_BACK = "neck", "upper/mid back", "low back"
SHOULDER, KNEE, HIP, HEAD = "shoulder", "knee", "hip", "head"
# Sides matter only for paired limbs: a left and a right shoulder are two anatomic sites,
# while "left low back" is still the lumbar region.
_SIDED = frozenset({SHOULDER, KNEE, HIP})

# Longer phrases first: once matched they are blanked out, so the "back" in "low back" does
# not also count as the whole back.
_REGION_WORDS: tuple[tuple[str, frozenset[str]], ...] = (
    ("low back", frozenset({LOW_BACK})),
    ("lower back", frozenset({LOW_BACK})),
    ("upper back", frozenset({THORACIC})),
    ("mid back", frozenset({THORACIC})),
    ("middle back", frozenset({THORACIC})),
    ("lumbosacral", frozenset({LOW_BACK})),
    ("lumbar", frozenset({LOW_BACK})),
    ("sacral", frozenset({LOW_BACK})),
    ("thoracic", frozenset({THORACIC})),
    ("cervical", frozenset({NECK})),
    ("suboccipital", frozenset({NECK})),
    ("neck", frozenset({NECK})),
    ("shoulder", frozenset({SHOULDER})),
    ("knee", frozenset({KNEE})),
    ("hip", frozenset({HIP})),
    ("head", frozenset({HEAD})),
    ("scalp", frozenset({HEAD})),
    ("temple", frozenset({HEAD})),
    # Plain "back" could be either part of the trunk; it matches diagnoses of both.
    ("back", frozenset({LOW_BACK, THORACIC})),
)
_REGION_PATTERNS = tuple(
    (re.compile(rf"\b{re.escape(phrase)}s?\b"), regions) for phrase, regions in _REGION_WORDS
)

# ICD-10-CM prefixes (without the dot) by region. M54.1x radiculopathy is split by its 5th
# character (1-3 neck, 4 thoracic, 5-8 lumbar) rather than lumped with the neck.
_DIAGNOSIS_PREFIXES: tuple[tuple[str, frozenset[str]], ...] = (
    ("M542", frozenset({NECK})),
    ("M5411", frozenset({NECK})),
    ("M5412", frozenset({NECK})),
    ("M5413", frozenset({NECK})),
    ("M5382", frozenset({NECK})),
    ("M531", frozenset({NECK})),
    ("M9901", frozenset({NECK})),
    ("S13", frozenset({NECK})),
    ("S16", frozenset({NECK})),
    ("M546", frozenset({THORACIC})),
    ("M5414", frozenset({THORACIC})),
    ("M9902", frozenset({THORACIC})),
    ("S23", frozenset({THORACIC})),
    ("S29", frozenset({THORACIC})),
    ("M545", frozenset({LOW_BACK})),
    ("M5415", frozenset({LOW_BACK})),
    ("M5416", frozenset({LOW_BACK})),
    ("M5417", frozenset({LOW_BACK})),
    ("M5418", frozenset({LOW_BACK})),
    ("M543", frozenset({LOW_BACK})),
    ("M544", frozenset({LOW_BACK})),
    ("M9903", frozenset({LOW_BACK})),
    ("S33", frozenset({LOW_BACK})),
    ("S39012", frozenset({LOW_BACK})),
    ("S39092", frozenset({LOW_BACK})),
    # Spasm of back and unspecified/other dorsalgia name no level of the back.
    ("M62830", frozenset({LOW_BACK, THORACIC})),
    ("M549", frozenset({LOW_BACK, THORACIC})),
    ("M5489", frozenset({LOW_BACK, THORACIC})),
    ("M2551", frozenset({SHOULDER})),
    ("M75", frozenset({SHOULDER})),
    ("S43", frozenset({SHOULDER})),
    ("S46", frozenset({SHOULDER})),
    ("M2556", frozenset({KNEE})),
    ("M17", frozenset({KNEE})),
    ("S83", frozenset({KNEE})),
    ("M2555", frozenset({HIP})),
    ("M16", frozenset({HIP})),
    ("S73", frozenset({HIP})),
    ("G43", frozenset({HEAD})),
    ("G44", frozenset({HEAD})),
    ("R51", frozenset({HEAD})),
)


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def regions_of_body_text(text: str) -> frozenset[str]:
    """The regions a therapist's body-region words name ("R upper trap/neck" → neck)."""
    rest = _plain(text)
    found: set[str] = set()
    for pattern, regions in _REGION_PATTERNS:
        if pattern.search(rest):
            found |= regions
            rest = pattern.sub(" ", rest)
    return frozenset(found)


def regions_of_diagnosis(code: str) -> frozenset[str]:
    """The regions an ICD-10-CM code names, by prefix; empty when it names none we map."""
    plain = code.replace(".", "").strip().upper()
    found: set[str] = set()
    for prefix, regions in _DIAGNOSIS_PREFIXES:
        if plain.startswith(prefix):
            found |= regions
    return frozenset(found)


def _sided_sites(text: str) -> frozenset[tuple[str, str]]:
    words = set(_plain(text).split())
    if "bilateral" in words or {"left", "right"} <= words:
        side = "both"
    elif "left" in words or "l" in words:
        side = "left"
    elif "right" in words or "r" in words:
        side = "right"
    else:
        side = ""
    return frozenset(
        (region, side if region in _SIDED else "") for region in regions_of_body_text(text)
    )


def _sites_overlap(a: str, b: str) -> bool:
    """Whether two documented body regions could be the same anatomic site."""
    sites_a, sites_b = _sided_sites(a), _sided_sites(b)
    if not sites_a or not sites_b:
        # Words the heuristic does not know: only identical wording counts as the same site.
        return _plain(a) == _plain(b)
    for region_a, side_a in sites_a:
        for region_b, side_b in sites_b:
            if region_a != region_b:
                continue
            # A side left unstated could be either side.
            if side_a == side_b or "" in (side_a, side_b) or "both" in (side_a, side_b):
                return True
    return False


# --- NCCI distinctness ---------------------------------------------------------------------


def _distinct_regions(first: Sequence[ServiceEntry], second: Sequence[ServiceEntry]) -> bool:
    return all(
        a.body_region.strip()
        and b.body_region.strip()
        and not _sites_overlap(a.body_region, b.body_region)
        for a in first
        for b in second
    )


def _minute_of_day(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _separate_time(first: Sequence[ServiceEntry], second: Sequence[ServiceEntry]) -> bool:
    for a in first:
        for b in second:
            if a.start_time is None or b.start_time is None:
                return False
            a_start, b_start = _minute_of_day(a.start_time), _minute_of_day(b.start_time)
            # [start, start + minutes) intervals; touching ends do not overlap.
            if a_start < b_start + b.minutes and b_start < a_start + a.minutes:
                return False
    return True


# --- the builder ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Service:
    """One code as it will be billed, gathering what the steps decide about it."""

    code: str
    catalogue: cpt.ServiceCode
    entries: tuple[ServiceEntry, ...]
    units: LineUnits
    modifiers: list[str]
    reasons: list[str]
    pointers: tuple[int, ...] = ()
    # Set when a pair edit was bypassed on the strength of a separate body region.
    separate_region: bool = False

    @property
    def body_region(self) -> str:
        regions: list[str] = []
        for entry in self.entries:
            region = entry.body_region.strip()
            if region and region not in regions:
                regions.append(region)
        return ", ".join(regions)


def build_lines(
    *,
    note: Note,
    policy: PayerPolicy | None,
    taxonomy: str,
    fee_schedule: Mapping[str, Cents],
    edits: EditTables | None = None,
    payer_type: str = "commercial",
) -> BuiltClaim:
    """The claim lines for ``note`` under ``policy`` (None = self-pay).

    ``taxonomy`` is the rendering provider's taxonomy (which codes the payer pays them for);
    ``fee_schedule`` the practice's charge per unit; ``edits`` the NCCI pair tables (None
    skips the pair check and says so); ``payer_type`` a PayerType value, used for the
    Medicare-only code replacements.
    """
    if policy is not None and not policy.in_force(note.date_of_service):
        raise BuildError(
            f"payer policy {policy.profile!r} version from {policy.effective_date.isoformat()} "
            f"is not in force on the date of service {note.date_of_service.isoformat()}; "
            "pass the version in force that day (PolicyFile.for_date)"
        )
    if not note.entries:
        raise BuildError("the note has no services; add the codes and minutes to the note")
    flags: list[Finding] = []
    diagnoses = _claim_diagnoses(note.diagnoses, flags)
    entries = _normalized_entries(note.entries)

    method = UnitMethod(policy.unit_rule.value) if policy is not None else UnitMethod.CPT
    try:
        unit_result = compute_units(
            [ServiceMinutes(entry.code, entry.minutes) for entry in entries], method
        )
    except ValueError as exc:
        raise BuildError(f"cannot count units: {exc}") from None

    services, dropped = _billable_services(entries, unit_result, policy, flags)
    _check_fees(services, fee_schedule)
    for service in services:
        _check_payer_pays(service, policy, taxonomy, flags)
        _check_medicare_code(service, payer_type, flags)
    ncci_summary = _apply_pair_edits(services, note.date_of_service, policy, edits, flags)
    _apply_therapy_modifier(services, policy)
    for service in services:
        _choose_pointers(service, diagnoses, flags)

    line_style = policy.line_style if policy is not None else LineStyle.ONE_LINE
    lines = _lines(services, fee_schedule, line_style)
    if not lines:
        flags.append(
            Finding(
                rule="build.nothing_to_bill",
                severity=Severity.BLOCKING,
                message="No service on this note can be billed to this payer.",
                fix="Check the codes and minutes in the note, or bill the visit another way.",
            )
        )
    first_line: dict[str, int] = {}
    for line in lines:
        first_line.setdefault(line.code, line.number)
    flags = [
        replace(flag, line=first_line[flag.code])
        if flag.line is None and flag.code in first_line
        else flag
        for flag in flags
    ]
    rationale = _claim_rationale(policy, unit_result, services, dropped, line_style, ncci_summary)
    return BuiltClaim(
        lines=tuple(lines), diagnoses=diagnoses, rationale=rationale, flags=tuple(flags)
    )


def _claim_diagnoses(raw: Sequence[str], flags: list[Finding]) -> tuple[str, ...]:
    diagnoses: list[str] = []
    repeated: list[str] = []
    for code in raw:
        cleaned = code.strip().upper()
        if not cleaned:
            continue
        if cleaned in diagnoses:
            repeated.append(cleaned)
        else:
            diagnoses.append(cleaned)
    if not diagnoses:
        raise BuildError(
            "the note has no diagnoses; add at least one ICD-10-CM code that supports the "
            "treatment"
        )
    if repeated:
        flags.append(
            Finding(
                rule="build.diagnosis_repeated",
                severity=Severity.INFO,
                message=f"Diagnosis listed more than once in the note: {', '.join(repeated)}; "
                "the claim lists it once.",
                fix="Nothing to do; remove the repeat from the note if it was a slip.",
            )
        )
    if len(diagnoses) > MAX_DIAGNOSES:
        left_off = diagnoses[MAX_DIAGNOSES:]
        flags.append(
            Finding(
                rule="build.too_many_diagnoses",
                severity=Severity.WARNING,
                message=f"The note has {len(diagnoses)} diagnoses; a claim holds "
                f"{MAX_DIAGNOSES}. Left off: {', '.join(left_off)}.",
                fix="Keep the 12 that support these services (rank them first in the note), "
                "or split the services over two claims.",
            )
        )
    return tuple(diagnoses[:MAX_DIAGNOSES])


def _normalized_entries(raw: Sequence[ServiceEntry]) -> tuple[ServiceEntry, ...]:
    entries: list[ServiceEntry] = []
    for entry in raw:
        try:
            code = cpt.get(entry.code).code
        except cpt.UnknownCodeError as exc:
            raise BuildError(f"service entry: {exc}") from None
        entries.append(replace(entry, code=code))
    return tuple(entries)


def _billable_services(
    entries: Sequence[ServiceEntry],
    unit_result: UnitResult,
    policy: PayerPolicy | None,
    flags: list[Finding],
) -> tuple[list[_Service], list[str]]:
    services: list[_Service] = []
    dropped: list[str] = []
    for units in unit_result.lines:
        catalogue = cpt.get(units.code)
        if catalogue.bundled_status_b and policy is not None and not policy.bills_97010:
            dropped.append(f"{units.code} (bundled, status B)")
            flags.append(
                Finding(
                    rule="build.bundled_not_billed",
                    severity=Severity.INFO,
                    message=f"{units.code} ({catalogue.label}) is not billed: "
                    f"{policy.name} bundles it into the day's other services "
                    "(fee-schedule status B), so it is never paid on its own line.",
                    fix="Nothing to do. Under Medicare rules the patient may not be charged "
                    "for it either.",
                    code=units.code,
                )
            )
            continue
        if units.timed and units.units == 0:
            dropped.append(f"{units.code} (0 units)")
            flags.append(
                Finding(
                    rule="build.zero_units",
                    severity=Severity.WARNING,
                    message=f"{units.code} is not billed: {units.minutes} documented minutes "
                    f"give 0 units. {units.rationale}",
                    fix="If more time was spent, correct the note with an addendum; otherwise "
                    "leave the line off.",
                    code=units.code,
                )
            )
            continue
        services.append(
            _Service(
                code=units.code,
                catalogue=catalogue,
                entries=tuple(entry for entry in entries if entry.code == units.code),
                units=units,
                modifiers=[],
                reasons=[units.rationale],
            )
        )
    return services, dropped


def _check_fees(services: Sequence[_Service], fee_schedule: Mapping[str, Cents]) -> None:
    missing = [service.code for service in services if service.code not in fee_schedule]
    if missing:
        raise BuildError(
            f"no fee in the practice's fee schedule for {', '.join(missing)}; add a charge "
            "per unit for each before building the claim"
        )
    for service in services:
        fee = fee_schedule[service.code]
        if not isinstance(fee, Cents) or fee.value < 0:
            raise BuildError(
                f"the fee for {service.code} must be a Cents amount of 0 or more, not {fee!r}; "
                "correct the fee schedule"
            )


def _check_payer_pays(
    service: _Service, policy: PayerPolicy | None, taxonomy: str, flags: list[Finding]
) -> None:
    if policy is None or policy.code_allowed(service.code, taxonomy):
        return
    paid = ", ".join(sorted(policy.allowed_codes.get(taxonomy, frozenset()))) or "none"
    flags.append(
        Finding(
            rule="provider.code_allowed",
            severity=Severity.BLOCKING,
            message=f"{policy.name} does not pay {service.code} to provider type {taxonomy} "
            f"(it pays: {paid}). The line is built as documented and will be denied.",
            fix="Bill only what the note documents: if the note supports a code this payer "
            "pays, correct the note; otherwise bill the patient, or override if the payer's "
            "policy has changed.",
            code=service.code,
        )
    )


def _check_medicare_code(service: _Service, payer_type: str, flags: list[Finding]) -> None:
    replacement = service.catalogue.medicare_replacement
    if replacement is None or payer_type not in (_MEDICARE, _MEDICARE_ADVANTAGE):
        return
    medicare = payer_type == _MEDICARE
    flags.append(
        Finding(
            rule="code.medicare_replacement",
            severity=Severity.BLOCKING if medicare else Severity.WARNING,
            message=f"{service.code} is not a valid code for "
            f"{'Medicare' if medicare else 'many Medicare Advantage plans'}; "
            f"{replacement} stands for the same service there.",
            fix=f"If {replacement} describes what was done, record it in the note as "
            f"{replacement}.",
            code=service.code,
        )
    )


def _apply_pair_edits(
    services: Sequence[_Service],
    on: date,
    policy: PayerPolicy | None,
    edits: EditTables | None,
    flags: list[Finding],
) -> str:
    if edits is None:
        flags.append(
            Finding(
                rule="ncci.not_checked",
                severity=Severity.INFO,
                message="NCCI pair edits were not checked: no edit table was given.",
                fix="Build with the edit tables loaded to have pairs checked.",
            )
        )
        return "NCCI pair edits not checked (no edit table given)."
    style = policy.modifier_style if policy is not None else ModifierStyle.X_MODIFIERS
    notes: list[str] = []
    for index, first in enumerate(services):
        for second in services[index + 1 :]:
            # The table is keyed by direction; a guessed starter row may run either way.
            for column1, column2 in ((first, second), (second, first)):
                edit = edits.ptp_edit(column1.code, column2.code, on)
                if edit is not None:
                    notes.append(_one_pair(edit, column1, column2, style, flags))
    if not notes:
        return "NCCI: no pair edit binds these codes on this date."
    return "NCCI: " + " ".join(notes)


# Which documented distinction can bypass a pair (reference §2.2-2.3). CMT with manual therapy
# is paid only on a region that was not adjusted, so a time block does not help; 97140 with
# 97530 is CMS's own time-block example, so a different region does not help. Other pairs
# take either, region first: it also ties the line to a diagnosis of that region.
_CMT = frozenset({"98940", "98941", "98942", "98943"})
_TIME_BLOCK_PAIRS = frozenset({frozenset({"97140", "97530"})})


def _one_pair(
    edit: PtpEdit,
    column1: _Service,
    column2: _Service,
    style: ModifierStyle,
    flags: list[Finding],
) -> str:
    pair = f"{column1.code} (column 1) with {column2.code} (column 2)"
    if edit.confidence is not Confidence.VERIFIED:
        pair += f" [{edit.confidence.value} edit row]"
    if edit.modifier_indicator is ModifierIndicator.NOT_ALLOWED:
        flags.append(
            Finding(
                rule="ncci.ptp_no_bypass",
                severity=Severity.BLOCKING,
                message=f"{column1.code} and {column2.code} are billed together, and the NCCI "
                f"edit for this pair allows no modifier: {column2.code} will be denied.",
                fix=f"Drop {column2.code} from this claim; it is paid as part of "
                f"{column1.code}.",
                code=column2.code,
            )
        )
        column2.reasons.append(f"NCCI {pair}: no modifier can bypass this edit (indicator 0).")
        return f"{pair}, indicator 0: no bypass, {column2.code} will be denied."

    time_only = frozenset({column1.code, column2.code}) in _TIME_BLOCK_PAIRS
    region_only = column1.code in _CMT
    if not time_only and _distinct_regions(column1.entries, column2.entries):
        modifier = "59" if style is ModifierStyle.MODIFIER_59 else "XS"
        why = f"separate body region ({column2.body_region} vs {column1.body_region})"
        column2.separate_region = True
    elif not region_only and _separate_time(column1.entries, column2.entries):
        modifier = "59" if style is ModifierStyle.MODIFIER_59 else "XU"
        why = "separate time blocks (start times and minutes do not overlap)"
    else:
        _not_distinct(column1, column2, time_only, region_only, flags)
        needed = (
            "separate time blocks" if time_only
            else "a separate region" if region_only
            else "a separate region or time block"
        )
        column2.reasons.append(
            f"NCCI {pair}: no modifier, because the note does not show {needed}."
        )
        return f"{pair}: {needed} not documented, no modifier."
    if modifier not in column2.modifiers:
        column2.modifiers.append(modifier)
    style_note = " (this payer takes only 59)" if style is ModifierStyle.MODIFIER_59 else ""
    column2.reasons.append(f"{modifier}{style_note}: NCCI {pair}; {why}.")
    return f"{pair}: {modifier} on {column2.code}, {why}."


def _not_distinct(
    column1: _Service,
    column2: _Service,
    time_only: bool,
    region_only: bool,
    flags: list[Finding],
) -> None:
    if time_only:
        missing, record = "separate time blocks", "the start time of each service"
    elif region_only:
        missing, record = "a separate region", f"the region {column2.code} treated"
    else:
        missing = "distinct region or time"
        record = (
            "the body region of each service (different regions) or their start times "
            "(separate blocks)"
        )
    what = "region/time" if not (time_only or region_only) else (
        "time blocks" if time_only else "region"
    )
    flags.append(
        Finding(
            rule="ncci.ptp_not_distinct",
            severity=Severity.WARNING,
            message=f"{column1.code} and {column2.code} billed together without {missing} — "
            f"column 2 ({column2.code}) will be denied; document the {what} or drop the line.",
            fix=f"Record {record} in the note (an addendum if it is signed), or drop "
            f"{column2.code}.",
            code=column2.code,
        )
    )


def _apply_therapy_modifier(services: Iterable[_Service], policy: PayerPolicy | None) -> None:
    if policy is None or policy.therapy_modifier is None:
        return
    for service in services:
        if service.catalogue.always_therapy:
            # After the NCCI modifier: at most 59 or XS/XU, plus this one, well within four.
            service.modifiers.append(policy.therapy_modifier)
            service.reasons.append(
                f"{policy.therapy_modifier}: {policy.name} wants it on always-therapy codes."
            )


def _choose_pointers(service: _Service, diagnoses: Sequence[str], flags: list[Finding]) -> None:
    regions: set[str] = set()
    for entry in service.entries:
        regions |= regions_of_body_text(entry.body_region)
    matches = [
        number
        for number, code in enumerate(diagnoses, start=1)
        if regions_of_diagnosis(code) & regions
    ]
    separate_site = service.separate_region
    if matches:
        chosen = tuple(matches[:MAX_POINTERS])
        listed = ", ".join(f"{n} ({diagnoses[n - 1]})" for n in chosen)
        label = "Pointer" if len(chosen) == 1 else "Pointers"
        text = f"{label} {listed}: matched to the {service.body_region} (region keywords)."
        if len(matches) > MAX_POINTERS:
            text += f" The first {MAX_POINTERS} of {len(matches)} in the note's order."
        if separate_site:
            text += " Billed for a separate region, so it points to that region's diagnosis."
        service.pointers = chosen
        service.reasons.append(text)
        return
    service.pointers = (1,)
    if not service.body_region:
        service.reasons.append(
            f"Pointer 1 ({diagnoses[0]}): no body region recorded, so the primary diagnosis."
        )
    else:
        service.reasons.append(
            f"Pointer 1 ({diagnoses[0]}): no diagnosis names the {service.body_region}, so "
            "the primary diagnosis."
        )
    if separate_site:
        flags.append(
            Finding(
                rule="build.region_diagnosis",
                severity=Severity.WARNING,
                message=f"{service.code} is billed for a separate region "
                f"({service.body_region}) but no diagnosis on the claim names that region; "
                "payers look for one.",
                fix=f"Add a diagnosis for the {service.body_region} to the note if the "
                "assessment supports it.",
                code=service.code,
            )
        )


def _lines(
    services: Sequence[_Service], fee_schedule: Mapping[str, Cents], style: LineStyle
) -> list[ClaimLine]:
    lines: list[ClaimLine] = []
    for service in services:
        fee = fee_schedule[service.code]
        minutes = service.units.minutes if service.units.timed else 0
        rationale = " ".join(service.reasons)
        count = service.units.units
        if style is LineStyle.ONE_LINE or count == 1:
            lines.append(
                ClaimLine(
                    number=len(lines) + 1,
                    code=service.code,
                    units=count,
                    modifiers=tuple(service.modifiers),
                    pointers=service.pointers,
                    charge=fee * count,
                    minutes=minutes,
                    rationale=rationale,
                    body_region=service.body_region,
                )
            )
            continue
        # One line per unit: the documented minutes are shared out so the lines still add
        # up to the note (the first lines take the odd minutes).
        share, extra = divmod(minutes, count)
        for index in range(count):
            lines.append(
                ClaimLine(
                    number=len(lines) + 1,
                    code=service.code,
                    units=1,
                    modifiers=tuple(service.modifiers),
                    pointers=service.pointers,
                    charge=fee,
                    minutes=share + (1 if index < extra else 0),
                    rationale=f"Unit {index + 1} of {count} (this payer wants one line per "
                    f"unit). {rationale}",
                    body_region=service.body_region,
                )
            )
    return lines


def _claim_rationale(
    policy: PayerPolicy | None,
    unit_result: UnitResult,
    services: Sequence[_Service],
    dropped: Sequence[str],
    style: LineStyle,
    ncci_summary: str,
) -> str:
    if policy is None:
        rule = "No payer policy (self-pay): units by the CPT per-code rule."
    else:
        method = "CMS total time" if policy.unit_rule.value == "cms" else "CPT per code"
        rule = (
            f"{policy.name} (policy {policy.profile}, version from "
            f"{policy.effective_date.isoformat()}): units by the {method} rule."
        )
    parts = [rule, unit_result.rationale]
    if services:
        billed = "; ".join(f"{s.code} ×{s.units.units}" for s in services)
        layout = "one line per unit" if style is LineStyle.LINE_PER_UNIT else "one line per code"
        parts.append(f"Billed: {billed} ({layout}).")
    if dropped:
        parts.append(f"Not billed: {', '.join(dropped)}.")
    parts.append(ncci_summary)
    return " ".join(parts)
