"""Payer policy as data.

A payer's billing habits (unit method, codes it pays a massage therapist for, modifier style,
caps, referral and authorization needs, timely filing, fees) change over time and differ from
payer to payer, so they live in versioned data files, never in code. This module holds the
value type and the reader for those files; the Django side stores editable copies.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

from handbill.core.codes import cpt
from handbill.core.money import Cents

MASSAGE_THERAPIST = "225700000X"
DATA_DIR = Path(__file__).resolve().parent / "data" / "policies"


class PolicyError(ValueError):
    """A policy file or value that cannot be used; the message names the field and the fix."""


class UnitRule(StrEnum):
    CMS = "cms"  # CMS total time, the 8-minute rule
    CPT = "cpt"  # AMA per-code midpoint (substantial portion)


class ModifierStyle(StrEnum):
    X_MODIFIERS = "x"  # XE/XS/XP/XU where one fits
    MODIFIER_59 = "59"  # payer takes only 59


class LineStyle(StrEnum):
    ONE_LINE = "one_line"  # one line per code with N units
    LINE_PER_UNIT = "line_per_unit"  # N lines of 1 unit each


class ReferralKind(StrEnum):
    NONE = "none"
    PRESCRIPTION = "prescription"
    REFERRAL = "referral"


@dataclass(frozen=True, slots=True)
class Fee:
    code: str
    # What the payer is expected to allow per unit (for variance checks on the 835).
    expected_allowed: Cents


@dataclass(frozen=True, slots=True)
class PayerPolicy:
    """One version of a payer's rules, in force over ``[effective_date, end_date)``."""

    profile: str
    name: str
    effective_date: date
    end_date: date | None
    unit_rule: UnitRule
    # Codes the payer pays, by rendering provider taxonomy. A taxonomy that is not listed may
    # bill any catalogue code.
    allowed_codes: Mapping[str, frozenset[str]]
    bills_97010: bool
    modifier_style: ModifierStyle
    # GP/GO/GN the payer wants on always-therapy codes for this provider type, or None.
    therapy_modifier: str | None
    visit_cap_per_year: int | None
    daily_unit_cap: int | None
    referral: ReferralKind
    # Authorization needed from visit N+1 on (0 = from the first visit); None = never.
    authorization_after_visits: int | None
    timely_filing_days: int
    line_style: LineStyle
    fees: Mapping[str, Fee] = field(default_factory=dict)
    # Property & casualty claims (auto, workers' comp) need claim number and accident date.
    requires_claim_number: bool = False
    notes: str = ""

    def in_force(self, on: date) -> bool:
        return self.effective_date <= on and (self.end_date is None or on < self.end_date)

    def code_allowed(self, code: str, taxonomy: str) -> bool:
        allowed = self.allowed_codes.get(taxonomy)
        return allowed is None or code in allowed


@dataclass(frozen=True, slots=True)
class PolicyFile:
    """A payer profile with all its versions, as read from one data file."""

    profile: str
    payer_name: str
    payer_type: str
    claim_filing_indicator: str
    versions: tuple[PayerPolicy, ...]

    def for_date(self, on: date) -> PayerPolicy:
        for version in self.versions:
            if version.in_force(on):
                return version
        raise PolicyError(f"policy {self.profile!r} has no version in force on {on.isoformat()}")


def _require(table: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in table:
        raise PolicyError(f"{where}: missing {key!r}")
    value = table[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise PolicyError(f"{where}: {key!r} must be {kind.__name__}, not {value!r}")
    return value


def _optional_int(table: Mapping[str, Any], key: str, where: str) -> int | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise PolicyError(f"{where}: {key!r} must be a whole number ≥ 0, not {value!r}")
    return value


def _enum(enum: type[StrEnum], table: Mapping[str, Any], key: str, where: str) -> Any:
    raw = _require(table, key, str, where)
    try:
        return enum(raw)
    except ValueError:
        choices = ", ".join(member.value for member in enum)
        raise PolicyError(f"{where}: {key!r} is {raw!r}; use one of {choices}") from None


def _codes(values: Any, where: str) -> frozenset[str]:
    if not isinstance(values, list):
        raise PolicyError(f"{where}: expected a list of codes")
    for code in values:
        try:
            cpt.get(str(code))
        except cpt.UnknownCodeError as exc:
            raise PolicyError(f"{where}: {exc}") from None
    return frozenset(str(code) for code in values)


def policy_from_mapping(
    profile: str, name: str, table: Mapping[str, Any], where: str
) -> PayerPolicy:
    """Build one version from its table (as read from TOML, or stored as JSON)."""
    effective = _require(table, "effective_date", date, where)
    end = table.get("end_date")
    if end is not None and (not isinstance(end, date) or end <= effective):
        raise PolicyError(f"{where}: end_date must be a date after effective_date")
    allowed_raw = table.get("allowed_codes", {})
    if not isinstance(allowed_raw, Mapping):
        raise PolicyError(f"{where}: allowed_codes must map a taxonomy to a list of codes")
    allowed = {
        tax: _codes(codes, f"{where}.allowed_codes.{tax}") for tax, codes in allowed_raw.items()
    }
    fees: dict[str, Fee] = {}
    for code, amount in dict(table.get("expected_allowed", {})).items():
        cpt.get(code)
        if not isinstance(amount, str):
            raise PolicyError(
                f'{where}: expected_allowed.{code} must be a quoted amount like "45.00"'
            )
        fees[code] = Fee(code=code, expected_allowed=Cents.parse(amount))
    therapy = table.get("therapy_modifier")
    if therapy not in (None, "", "GP", "GO", "GN"):
        raise PolicyError(f"{where}: therapy_modifier must be GP, GO, GN or empty")
    return PayerPolicy(
        profile=profile,
        name=name,
        effective_date=effective,
        end_date=end,
        unit_rule=_enum(UnitRule, table, "unit_rule", where),
        allowed_codes=allowed,
        bills_97010=bool(_require(table, "bills_97010", bool, where)),
        modifier_style=_enum(ModifierStyle, table, "modifier_style", where),
        therapy_modifier=therapy or None,
        visit_cap_per_year=_optional_int(table, "visit_cap_per_year", where),
        daily_unit_cap=_optional_int(table, "daily_unit_cap", where),
        referral=_enum(ReferralKind, table, "referral", where),
        authorization_after_visits=_optional_int(table, "authorization_after_visits", where),
        timely_filing_days=_require(table, "timely_filing_days", int, where),
        line_style=_enum(LineStyle, table, "line_style", where),
        fees=fees,
        requires_claim_number=bool(table.get("requires_claim_number", False)),
        notes=str(table.get("notes", "")),
    )


def read_policy_file(path: Path) -> PolicyFile:
    """Read one TOML payer profile; every problem is a PolicyError naming file and field."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(f"{path.name}: cannot read policy file: {exc}") from None
    where = path.name
    payer = _require(data, "payer", dict, where)
    profile = _require(payer, "profile", str, f"{where}.payer")
    name = _require(payer, "name", str, f"{where}.payer")
    raw_versions = _require(data, "version", list, where)
    versions = tuple(
        policy_from_mapping(profile, name, table, f"{where}.version[{index}]")
        for index, table in enumerate(raw_versions)
    )
    ordered = sorted(versions, key=lambda version: version.effective_date)
    for earlier, later in zip(ordered, ordered[1:], strict=False):
        if earlier.end_date is None or earlier.end_date > later.effective_date:
            raise PolicyError(
                f"{where}: versions overlap: {earlier.effective_date} has no end before "
                f"{later.effective_date}; set end_date on the earlier version"
            )
    return PolicyFile(
        profile=profile,
        payer_name=name,
        payer_type=_require(payer, "payer_type", str, f"{where}.payer"),
        claim_filing_indicator=_require(payer, "claim_filing_indicator", str, f"{where}.payer"),
        versions=tuple(ordered),
    )


def shipped_policy_files() -> list[Path]:
    return sorted(DATA_DIR.glob("*.toml"))
