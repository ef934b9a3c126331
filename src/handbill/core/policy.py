"""Payer policy as data.

A payer's billing habits (unit method, codes it pays a massage therapist for, modifier style,
caps, referral and authorization needs, timely filing, fees) change over time and differ from
payer to payer, so they live in versioned data files, never in code. This module holds the
value type and the reader for those files; the Django side (``handbill.policies``) stores
editable, versioned copies and validates every edit through :func:`policy_from_rules`.

Every problem is a :class:`PolicyError` whose message names the file (or the stored rules),
the version and the field, and says how to fix it: a biller edits these files by hand.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from handbill.core.codes import cpt
from handbill.core.money import Cents, MoneyError

MASSAGE_THERAPIST = "225700000X"
DATA_DIR = Path(__file__).resolve().parent / "data" / "policies"

_E = TypeVar("_E", bound=StrEnum)


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


class PayerType(StrEnum):
    """The same values as ``handbill.practice.models.PayerType`` (a test keeps them equal)."""

    COMMERCIAL = "commercial"
    MEDICARE = "medicare"
    MEDICARE_ADVANTAGE = "medicare_advantage"
    MEDICAID = "medicaid"
    AUTO = "auto"
    WORKERS_COMP = "workers_comp"
    OTHER = "other"


# SBR09, the claim filing indicator of the 837P (005010X222A1), with short labels of our own.
CLAIM_FILING_INDICATORS: Mapping[str, str] = {
    "11": "Other non-federal program",
    "12": "PPO",
    "13": "Point of service",
    "14": "Exclusive provider organization",
    "15": "Indemnity insurance",
    "16": "HMO, Medicare risk (Medicare Advantage)",
    "17": "Dental maintenance organization",
    "AM": "Automobile medical",
    "BL": "Blue Cross / Blue Shield",
    "CH": "TRICARE (CHAMPUS)",
    "CI": "Commercial insurance",
    "DS": "Disability",
    "FI": "Federal employees program",
    "HM": "HMO",
    "LM": "Liability medical",
    "MA": "Medicare Part A",
    "MB": "Medicare Part B",
    "MC": "Medicaid",
    "OF": "Other federal program",
    "TV": "Title V",
    "VA": "Veterans Affairs plan",
    "WC": "Workers' compensation",
    "ZZ": "Mutually defined",
}

# Payer types whose filing indicator is not a matter of contract: a Medicare Part B claim is MB,
# a workers' comp claim WC, an auto claim AM (PIP / med-pay) or LM (liability).
_FILING_INDICATOR_FOR_TYPE: Mapping[PayerType, frozenset[str]] = {
    PayerType.MEDICARE: frozenset({"MB"}),
    PayerType.WORKERS_COMP: frozenset({"WC"}),
    PayerType.AUTO: frozenset({"AM", "LM"}),
}

THERAPY_MODIFIERS = ("GP", "GO", "GN")

_PROFILE_SHAPE = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")
# NUCC taxonomy: ten characters, the last one X (225700000X, 111N00000X).
_TAXONOMY_SHAPE = re.compile(r"^[0-9]{3}[0-9A-Z]{6}X$")

_PAYER_FIELDS = frozenset(
    {"profile", "name", "payer_id", "payer_type", "claim_filing_indicator", "notes"}
)
_PERIOD_FIELDS = frozenset({"effective_date", "end_date"})
_RULE_FIELDS = frozenset(
    {
        "unit_rule",
        "allowed_codes",
        "bills_97010",
        "modifier_style",
        "therapy_modifier",
        "visit_cap_per_year",
        "daily_unit_cap",
        "referral",
        "authorization_after_visits",
        "prior_authorization_codes",
        "modifier_pairs",
        "timely_filing_days",
        "line_style",
        "expected_allowed",
        "requires_claim_number",
        "notes",
    }
)


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
    # bill any catalogue code; an empty set means the payer pays that provider type nothing.
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
    # Codes that need a prior authorization from the first visit, whatever the visit count
    # (a plan may pay 97124 freely but want an authorization for 97112).
    prior_authorization_codes: frozenset[str] = frozenset()
    # Pairs this payer bundles on one day unless the first code carries a bypass modifier
    # (59, or an X modifier when the payer takes them): (that code, the code it goes with).
    # For pairs the NCCI tables do not list, or a payer stricter than NCCI; usually learned
    # from repeated CO-97/236 denials (docs/followup.md).
    modifier_pairs: frozenset[tuple[str, str]] = frozenset()

    def in_force(self, on: date) -> bool:
        return self.effective_date <= on and (self.end_date is None or on < self.end_date)

    def code_allowed(self, code: str, taxonomy: str) -> bool:
        allowed = self.allowed_codes.get(taxonomy)
        return allowed is None or code in allowed

    def expected_allowed(self, code: str) -> Cents | None:
        """What the payer should allow per unit of ``code``, when the policy says."""
        fee = self.fees.get(code)
        return fee.expected_allowed if fee is not None else None

    def authorization_needed(self, code: str, visit_number: int) -> bool:
        """Whether visit ``visit_number`` (1 = first of the year) needs an authorization."""
        if code in self.prior_authorization_codes:
            return True
        limit = self.authorization_after_visits
        return limit is not None and visit_number > limit


@dataclass(frozen=True, slots=True)
class PolicyFile:
    """A payer profile with all its versions, as read from one data file."""

    profile: str
    payer_name: str
    payer_type: str
    claim_filing_indicator: str
    versions: tuple[PayerPolicy, ...]
    # The electronic payer ID a new payer gets when the profile is loaded into a practice.
    payer_id: str = ""
    # Where the rules come from and how sure we are ([V]/[S]/[U]).
    notes: str = ""

    def for_date(self, on: date) -> PayerPolicy:
        found = self.version_on(on)
        if found is None:
            raise PolicyError(
                f"policy {self.profile!r} has no version in force on {on.isoformat()}"
            )
        return found

    def version_on(self, on: date) -> PayerPolicy | None:
        for version in self.versions:
            if version.in_force(on):
                return version
        return None


# --- reading one field -------------------------------------------------------------------------

_KIND_WORDS: Mapping[type, str] = {
    str: "text in quotes",
    int: "a whole number",
    bool: "true or false",
    dict: "a table",
    list: "a list in [brackets]",
}


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _check_fields(table: Mapping[str, Any], known: Collection[str], where: str) -> None:
    # A misspelt field would otherwise be ignored silently and its rule never applied.
    for key in table:
        if key in known:
            continue
        close = difflib.get_close_matches(str(key), list(known), n=1)
        hint = f"did you mean {close[0]!r}?" if close else "known fields: " + ", ".join(
            sorted(known)
        )
        raise PolicyError(f"{where}: unknown field {key!r}; {hint}")


def _require(table: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in table:
        raise PolicyError(f"{where}: missing {key!r}; add it ({_KIND_WORDS.get(kind, kind)})")
    value = table[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise PolicyError(
            f"{where}: {key!r} must be {_KIND_WORDS.get(kind, kind.__name__)}, "
            f"not {_shown(value)}"
        )
    return value


def _optional_bool(table: Mapping[str, Any], key: str, where: str) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise PolicyError(f"{where}: {key!r} must be true or false, not {_shown(value)}")
    return value


def _optional_text(table: Mapping[str, Any], key: str, where: str) -> str:
    value = table.get(key, "")
    if not isinstance(value, str):
        raise PolicyError(f"{where}: {key!r} must be text in quotes, not {_shown(value)}")
    return value


def _optional_count(table: Mapping[str, Any], key: str, where: str, *, least: int) -> int | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < least:
        raise PolicyError(
            f"{where}: {key!r} must be a whole number of {least} or more "
            f"(or left out for none), not {_shown(value)}"
        )
    return value


def _enum(enum: type[_E], table: Mapping[str, Any], key: str, where: str) -> _E:
    raw = _require(table, key, str, where)
    try:
        return enum(raw)
    except ValueError:
        choices = ", ".join(member.value for member in enum)
        raise PolicyError(f"{where}: {key!r} is {raw!r}; use one of {choices}") from None


def _date(table: Mapping[str, Any], key: str, where: str) -> date | None:
    # TOML gives a date; stored JSON gives ISO text. A datetime is a date subclass: refuse it,
    # a policy starts on a day, not at a time.
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise PolicyError(f"{where}: {key!r} must be a date like 2026-01-01, not {_shown(value)}")


def _code(raw: Any, where: str) -> str:
    if not isinstance(raw, str):
        raise PolicyError(f"{where}: write each code in quotes, e.g. \"97124\", not {raw!r}")
    try:
        return cpt.get(raw).code
    except cpt.UnknownCodeError as exc:
        raise PolicyError(f"{where}: {exc}") from None


def _codes(values: Any, where: str) -> frozenset[str]:
    if not isinstance(values, list):
        raise PolicyError(f"{where}: expected a list of codes like [\"97124\"], not {values!r}")
    return frozenset(_code(raw, where) for raw in values)


def _allowed_codes(table: Mapping[str, Any], where: str) -> dict[str, frozenset[str]]:
    raw = table.get("allowed_codes", {})
    if not isinstance(raw, Mapping):
        raise PolicyError(
            f"{where}: allowed_codes must map a provider taxonomy to a list of codes, "
            f'e.g. allowed_codes = {{ "{MASSAGE_THERAPIST}" = ["97124"] }}'
        )
    allowed: dict[str, frozenset[str]] = {}
    for taxonomy, codes in raw.items():
        if not _TAXONOMY_SHAPE.match(taxonomy):
            raise PolicyError(
                f"{where}: allowed_codes: {taxonomy!r} is not a provider taxonomy code; "
                f"use ten characters ending in X, e.g. {MASSAGE_THERAPIST}"
            )
        allowed[taxonomy] = _codes(codes, f"{where}: allowed_codes.{taxonomy}")
    return allowed


def _fees(table: Mapping[str, Any], where: str) -> dict[str, Fee]:
    raw = table.get("expected_allowed", {})
    if not isinstance(raw, Mapping):
        raise PolicyError(
            f'{where}: expected_allowed must be a table of code = "amount", '
            f'e.g. expected_allowed = {{ "97124" = "28.50" }}'
        )
    fees: dict[str, Fee] = {}
    for raw_code, amount in raw.items():
        code = _code(raw_code, f"{where}: expected_allowed")
        here = f"{where}: expected_allowed.{raw_code}"
        if not isinstance(amount, str):
            # A bare TOML number is a float or an int; either hides how many cents were meant.
            raise PolicyError(
                f'{here} must be a quoted amount like "45.00", not the number {amount!r}'
            )
        try:
            cents = Cents.parse(amount)
        except MoneyError as exc:
            raise PolicyError(f"{here}: {exc}") from None
        if cents.value < 0:
            raise PolicyError(f"{here}: an allowed amount cannot be negative ({amount!r})")
        fees[code] = Fee(code=code, expected_allowed=cents)
    return fees


def _modifier_pairs(table: Mapping[str, Any], where: str) -> frozenset[tuple[str, str]]:
    raw = table.get("modifier_pairs", [])
    here = f"{where}: modifier_pairs"
    shape = 'a list of [code, partner] pairs, e.g. [["97140", "97124"]]'
    if not isinstance(raw, list):
        raise PolicyError(f"{here} must be {shape}, not {_shown(raw)}")
    pairs: set[tuple[str, str]] = set()
    for item in raw:
        if not isinstance(item, list) or len(item) != 2:
            raise PolicyError(f"{here} must be {shape}; {item!r} is not a pair of codes")
        code, partner = _code(item[0], here), _code(item[1], here)
        if code == partner:
            raise PolicyError(f"{here}: [{code}, {partner}] pairs a code with itself; name "
                              "the code that needs the modifier and the code it goes with")
        pairs.add((code, partner))
    return frozenset(pairs)


def _therapy_modifier(table: Mapping[str, Any], where: str) -> str | None:
    value = table.get("therapy_modifier", "")
    if value not in ("", *THERAPY_MODIFIERS):
        raise PolicyError(
            f"{where}: 'therapy_modifier' is {_shown(value)}; use one of "
            f'{", ".join(THERAPY_MODIFIERS)}, or "" when the payer wants none'
        )
    return str(value) or None


# --- one version -------------------------------------------------------------------------------


def policy_from_mapping(
    profile: str, name: str, table: Mapping[str, Any], where: str
) -> PayerPolicy:
    """Build one version from its table (as read from TOML, or stored as JSON).

    Dates may be TOML dates or ISO text (``"2026-01-01"``), so a stored JSON copy reads the
    same way as the file it came from.
    """
    if not isinstance(table, Mapping):
        raise PolicyError(f"{where}: a version must be a table of fields, not {_shown(table)}")
    _check_fields(table, _RULE_FIELDS | _PERIOD_FIELDS, where)
    effective = _date(table, "effective_date", where)
    if effective is None:
        raise PolicyError(f"{where}: missing 'effective_date'; add the first day the rules apply")
    end = _date(table, "end_date", where)
    if end is not None and end <= effective:
        raise PolicyError(
            f"{where}: end_date {end.isoformat()} must come after effective_date "
            f"{effective.isoformat()} (the version stops applying on its end_date)"
        )
    allowed = _allowed_codes(table, where)
    fees = _fees(table, where)
    bills_97010 = _require(table, "bills_97010", bool, where)
    if not bills_97010:
        listing = sorted(tax for tax, codes in allowed.items() if "97010" in codes)
        if listing:
            raise PolicyError(
                f"{where}: bills_97010 is false but allowed_codes.{listing[0]} lists 97010; "
                "remove 97010 from the list or set bills_97010 = true"
            )
        if "97010" in fees:
            raise PolicyError(
                f"{where}: bills_97010 is false but expected_allowed has a fee for 97010; "
                "remove the fee or set bills_97010 = true"
            )
    timely = _require(table, "timely_filing_days", int, where)
    if not 1 <= timely <= 3650:
        raise PolicyError(
            f"{where}: 'timely_filing_days' must be between 1 and 3650 days, not {timely}"
        )
    prior_auth_raw = table.get("prior_authorization_codes", [])
    return PayerPolicy(
        profile=profile,
        name=name,
        effective_date=effective,
        end_date=end,
        unit_rule=_enum(UnitRule, table, "unit_rule", where),
        allowed_codes=allowed,
        bills_97010=bills_97010,
        modifier_style=_enum(ModifierStyle, table, "modifier_style", where),
        therapy_modifier=_therapy_modifier(table, where),
        visit_cap_per_year=_optional_count(table, "visit_cap_per_year", where, least=1),
        daily_unit_cap=_optional_count(table, "daily_unit_cap", where, least=1),
        referral=_enum(ReferralKind, table, "referral", where),
        authorization_after_visits=_optional_count(
            table, "authorization_after_visits", where, least=0
        ),
        timely_filing_days=timely,
        line_style=_enum(LineStyle, table, "line_style", where),
        fees=fees,
        requires_claim_number=_optional_bool(table, "requires_claim_number", where),
        notes=_optional_text(table, "notes", where),
        prior_authorization_codes=_codes(prior_auth_raw, f"{where}: prior_authorization_codes"),
        modifier_pairs=_modifier_pairs(table, where),
    )


def policy_from_rules(
    *,
    profile: str,
    name: str,
    rules: Mapping[str, Any],
    effective_date: date,
    end_date: date | None,
    where: str = "rules",
) -> PayerPolicy:
    """Build a version from stored rules (JSON shape) and the period kept beside them.

    ``rules`` may repeat the period (a table copied from a file); if it does, it must agree.
    """
    if not isinstance(rules, Mapping):
        raise PolicyError(f"{where}: rules must be a table of fields, not {_shown(rules)}")
    table = dict(rules)
    for key, wanted in (("effective_date", effective_date), ("end_date", end_date)):
        if key in table and table[key] is not None:
            stated = _date(table, key, where)
            if stated != wanted:
                shown = wanted.isoformat() if wanted is not None else "none"
                raise PolicyError(
                    f"{where}: {key} in the rules ({stated}) differs from the version's "
                    f"{key} ({shown}); remove it from the rules or make them agree"
                )
    table["effective_date"] = effective_date
    table["end_date"] = end_date
    return policy_from_mapping(profile, name, table, where)


def rules_of(policy: PayerPolicy) -> dict[str, Any]:
    """The version's rules as JSON-ready data, without its period (stored beside it).

    The shape is the TOML ``[[version]]`` table; equal policies give equal dictionaries, so a
    stored copy can be compared with a shipped file.
    """
    rules: dict[str, Any] = {
        "unit_rule": policy.unit_rule.value,
        "allowed_codes": {
            taxonomy: sorted(codes) for taxonomy, codes in sorted(policy.allowed_codes.items())
        },
        "bills_97010": policy.bills_97010,
        "modifier_style": policy.modifier_style.value,
        "therapy_modifier": policy.therapy_modifier or "",
        "referral": policy.referral.value,
        "timely_filing_days": policy.timely_filing_days,
        "line_style": policy.line_style.value,
        "requires_claim_number": policy.requires_claim_number,
        "prior_authorization_codes": sorted(policy.prior_authorization_codes),
        "expected_allowed": {
            code: fee.expected_allowed.to_decimal_string()
            for code, fee in sorted(policy.fees.items())
        },
        "notes": policy.notes,
    }
    # TOML has no null: a rule that does not apply is left out, in the file and here.
    optional = (
        ("visit_cap_per_year", policy.visit_cap_per_year),
        ("daily_unit_cap", policy.daily_unit_cap),
        ("authorization_after_visits", policy.authorization_after_visits),
    )
    for key, value in optional:
        if value is not None:
            rules[key] = value
    # Left out when empty too, so policies without it compare equal to their shipped files.
    if policy.modifier_pairs:
        rules["modifier_pairs"] = [list(pair) for pair in sorted(policy.modifier_pairs)]
    return rules


# --- one file ----------------------------------------------------------------------------------


def _payer_table(data: Mapping[str, Any], where: str) -> Mapping[str, Any]:
    payer: Mapping[str, Any] = _require(data, "payer", dict, where)
    _check_fields(payer, _PAYER_FIELDS, f"{where}: [payer]")
    return payer


def read_policy_file(path: Path) -> PolicyFile:
    """Read one TOML payer profile; every problem is a PolicyError naming file and field."""
    where = path.name
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(f"{where}: cannot read policy file: {exc}") from None
    _check_fields(data, ("payer", "version"), where)
    payer = _payer_table(data, where)
    in_payer = f"{where}: [payer]"
    profile = _require(payer, "profile", str, in_payer)
    if not _PROFILE_SHAPE.match(profile):
        raise PolicyError(
            f"{in_payer}: profile {profile!r} must be lower-case letters, digits and dashes "
            "(at most 60), e.g. evergreen-ppo"
        )
    if profile != path.stem:
        raise PolicyError(
            f"{in_payer}: profile {profile!r} must match the file name; rename the file to "
            f"{profile}.toml or set profile = {path.stem!r}"
        )
    name = _require(payer, "name", str, in_payer)
    if not 0 < len(name) <= 60:
        raise PolicyError(f"{in_payer}: name must be 1 to 60 characters, not {len(name)}")
    payer_id = _optional_text(payer, "payer_id", in_payer)
    if len(payer_id) > 80:
        raise PolicyError(f"{in_payer}: payer_id must be at most 80 characters")
    payer_type = _enum(PayerType, payer, "payer_type", in_payer)
    indicator = _require(payer, "claim_filing_indicator", str, in_payer)
    if indicator not in CLAIM_FILING_INDICATORS:
        choices = ", ".join(CLAIM_FILING_INDICATORS)
        raise PolicyError(
            f"{in_payer}: 'claim_filing_indicator' is {indicator!r}; use an SBR09 code: "
            f"{choices}"
        )
    fitting = _FILING_INDICATOR_FOR_TYPE.get(payer_type)
    if fitting is not None and indicator not in fitting:
        raise PolicyError(
            f"{in_payer}: a {payer_type.value} payer files with claim_filing_indicator "
            f"{' or '.join(sorted(fitting))}, not {indicator!r}"
        )
    if "version" not in data:
        raise PolicyError(f"{where}: no [[version]] table; add one with its effective_date")
    raw_versions = data["version"]
    if not isinstance(raw_versions, list):
        raise PolicyError(f"{where}: write each version as [[version]] (two brackets)")
    if not raw_versions:
        raise PolicyError(f"{where}: no [[version]] table; add one with its effective_date")
    versions = tuple(
        policy_from_mapping(profile, name, table, f"{where}, version {index}")
        for index, table in enumerate(raw_versions, start=1)
    )
    ordered = sorted(versions, key=lambda version: version.effective_date)
    for earlier, later in zip(ordered, ordered[1:], strict=False):
        if earlier.end_date is None or earlier.end_date > later.effective_date:
            ends = earlier.end_date.isoformat() if earlier.end_date else "no end_date"
            raise PolicyError(
                f"{where}: versions overlap: the one effective {earlier.effective_date} has "
                f"{ends}, but the next starts {later.effective_date}; set end_date = "
                f"{later.effective_date} on the earlier version"
            )
    return PolicyFile(
        profile=profile,
        payer_name=name,
        payer_type=payer_type,
        claim_filing_indicator=indicator,
        versions=tuple(ordered),
        payer_id=payer_id,
        notes=_optional_text(payer, "notes", in_payer),
    )


def shipped_policy_files() -> list[Path]:
    return sorted(DATA_DIR.glob("*.toml"))


def read_shipped_policies() -> list[PolicyFile]:
    """Every payer profile Handbill ships, in file-name order."""
    return [read_policy_file(path) for path in shipped_policy_files()]
