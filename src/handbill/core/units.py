"""Minutes become units: the CMS total-time rule and the CPT per-code rule (reference §1).

A therapist documents minutes per code; the payer's unit method turns them into billable
units. Timed codes are counted in 15-minute units. Untimed codes (supervised modalities such
as hot packs, evaluations, CMT) are always one unit and their minutes never count.

Every result carries a rationale in plain words so a biller can check it against the note
and quote it in an appeal.

Tie-break (CMS rule 3 says "either code may take the unit"): Handbill gives a contested
leftover unit to the code with more total minutes, then to the lower code number. The
choice never depends on the order the services were entered.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from handbill.core.codes import cpt

UNIT_MINUTES = 15
# floor((m + 7) / 15): a unit is earned once 8 of its 15 minutes (past the midpoint) are done.
_MIDPOINT_SHIFT = 7
# No one treats for more than a day; a bigger number is a typing slip, not a session.
MAX_MINUTES = 24 * 60


class UnitMethod(StrEnum):
    CMS = "cms"  # CMS total time, the 8-minute rule (Medicare and payers that copy it)
    CPT = "cpt"  # AMA per-code midpoint, "substantial portion"; no pooling across codes


@dataclass(frozen=True, slots=True)
class ServiceMinutes:
    """Documented minutes of one code on one date of service."""

    code: str
    minutes: int

    def __post_init__(self) -> None:
        if not isinstance(self.code, str):
            raise TypeError(f"a procedure code is text such as '97124', not {self.code!r}")
        # The catalogue raises UnknownCodeError with the list of known codes.
        object.__setattr__(self, "code", cpt.get(self.code).code)
        if not isinstance(self.minutes, int) or isinstance(self.minutes, bool):
            raise ValueError(
                f"{self.code}: minutes must be a whole number, not {self.minutes!r}"
            )
        if self.minutes < 0:
            raise ValueError(
                f"{self.code}: minutes cannot be negative ({self.minutes}); "
                "record the minutes of direct treatment, 0 or more"
            )
        if self.minutes > MAX_MINUTES:
            raise ValueError(
                f"{self.code}: {self.minutes} minutes is more than a day ({MAX_MINUTES}); "
                "check the minutes in the note"
            )


@dataclass(frozen=True, slots=True)
class LineUnits:
    code: str
    minutes: int
    units: int
    timed: bool
    rationale: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "minutes": self.minutes,
            "units": self.units,
            "timed": self.timed,
            "rationale": self.rationale,
        }


@dataclass(frozen=True, slots=True)
class UnitResult:
    """Units for one date of service.

    ``total_units`` counts timed units only: that is the number the minutes support. Untimed
    lines carry their own single unit in ``lines``.
    """

    method: UnitMethod
    timed_minutes: int
    total_units: int
    lines: tuple[LineUnits, ...]
    rationale: str

    def units_for(self, code: str) -> int:
        wanted = cpt.get(code).code
        for line in self.lines:
            if line.code == wanted:
                return line.units
        raise KeyError(f"{wanted} is not among the services of this result")

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method.value,
            "timed_minutes": self.timed_minutes,
            "total_units": self.total_units,
            "lines": [line.as_dict() for line in self.lines],
            "rationale": self.rationale,
        }


@dataclass(frozen=True, slots=True)
class _Service:
    """One code after merging repeated entries."""

    entry: cpt.ServiceCode
    parts: tuple[int, ...]

    @property
    def code(self) -> str:
        return self.entry.code

    @property
    def minutes(self) -> int:
        return sum(self.parts)

    @property
    def full_units(self) -> int:
        return self.minutes // UNIT_MINUTES

    @property
    def left(self) -> int:
        return self.minutes % UNIT_MINUTES


def compute_units(services: Iterable[ServiceMinutes], method: UnitMethod) -> UnitResult:
    """Units per code for one date of service under ``method``.

    The same code entered more than once is one service: its minutes are added and the
    rationale says so. Lines keep the order in which each code first appears.
    """
    method = UnitMethod(method)
    merged = _merge(services)
    timed = [s for s in merged if s.entry.timed]
    timed_minutes = sum(s.minutes for s in timed)
    if timed_minutes > MAX_MINUTES:
        raise ValueError(
            f"the timed services add up to {timed_minutes} minutes, more than a day "
            f"({MAX_MINUTES}); check the minutes in the note"
        )

    if method is UnitMethod.CMS:
        units, timed_text, line_texts = _cms(timed, timed_minutes)
    else:
        units, timed_text, line_texts = _cpt(timed, timed_minutes)

    lines: list[LineUnits] = []
    for service in merged:
        if service.entry.timed:
            text = line_texts[service.code]
            lines.append(LineUnits(service.code, service.minutes, units[service.code], True,
                                   _merge_note(service) + text))
        else:
            lines.append(LineUnits(service.code, service.minutes, 1, False,
                                   _merge_note(service) + _untimed_text(service)))

    sentences = [timed_text]
    untimed = [s for s in merged if not s.entry.timed]
    if untimed:
        sentences.append(_untimed_summary(untimed))
    repeated = [s for s in merged if len(s.parts) > 1]
    if repeated:
        sentences.append(" ".join(_merge_note(s).strip() for s in repeated))
    return UnitResult(
        method=method,
        timed_minutes=timed_minutes,
        total_units=sum(units.values()),
        lines=tuple(lines),
        rationale=" ".join(sentences),
    )


def _merge(services: Iterable[ServiceMinutes]) -> list[_Service]:
    entries: dict[str, cpt.ServiceCode] = {}
    parts: dict[str, list[int]] = {}
    for item in services:
        if not isinstance(item, ServiceMinutes):
            raise TypeError(f"expected ServiceMinutes, got {type(item).__name__}")
        entries.setdefault(item.code, cpt.get(item.code))
        parts.setdefault(item.code, []).append(item.minutes)
    merged = [_Service(entries[code], tuple(parts[code])) for code in entries]
    for service in merged:
        if service.minutes > MAX_MINUTES:
            raise ValueError(
                f"{service.code}: the entries add up to {service.minutes} minutes, more than "
                f"a day ({MAX_MINUTES}); check the minutes in the note"
            )
    return merged


def _cms(timed: list[_Service], timed_minutes: int) -> tuple[dict[str, int], str, dict[str, str]]:
    total = (timed_minutes + _MIDPOINT_SHIFT) // UNIT_MINUTES
    full = sum(s.full_units for s in timed)
    # Why full units never exceed the total and every spare unit lands on a different code
    # with minutes left over: with F = sum of full units and R = sum of leftovers (each
    # 0..14, n codes with a leftover), total = F + floor((R + 7) / 15) and
    # R + 7 <= 14n + 7 < 15(n + 1), so 0 <= spare <= n.
    spare = total - full
    ranked = sorted(timed, key=_leftover_rank)
    winners = ranked[:spare]
    won = {s.code for s in winners}
    others = ranked[spare:]
    units = {s.code: s.full_units + (1 if s.code in won else 0) for s in timed}

    if not timed:
        return units, "No timed services.", {}
    if timed_minutes < 8:
        headline = (f"{timed_minutes} timed minutes → 0 units (CMS total time: fewer than "
                    "8 timed minutes bill nothing).")
    else:
        headline = f"{timed_minutes} timed minutes → {_n(total, 'unit')} (CMS total time)."
    breakdown = "; ".join(_full_text(s) for s in timed) + "."
    sentences = [headline, breakdown]
    tie = _tie(ranked, spare)
    if winners:
        sentences.append(_spare_text(winners, others))
        if all(s.minutes <= 7 for s in timed):
            takes = "takes the unit" if spare == 1 else "take the units"
            sentences.append(f"Every timed service ran 7 minutes or less, so the longest {takes}.")
        if tie:
            sentences.append(tie)
    elif any(s.left for s in timed):
        sentences.append("The leftover minutes do not add up to another unit.")

    tied_left = ranked[spare - 1].left if tie else None
    line_texts = {s.code: _cms_line(s, s.code in won, spare, s.left == tied_left)
                  for s in timed}
    return units, " ".join(sentences), line_texts


def _leftover_rank(service: _Service) -> tuple[int, int, str]:
    return (-service.left, -service.minutes, service.code)


def _tie(ranked: list[_Service], spare: int) -> str | None:
    """Explain the tie-break when the last unit handed out was contested."""
    if not 0 < spare < len(ranked):
        return None
    cut = ranked[spare - 1].left
    if ranked[spare].left != cut:
        return None
    group = [s for s in ranked if s.left == cut]
    won = {s.code for s in ranked[:spare]}
    taken = [s for s in group if s.code in won]
    missed = [s for s in group if s.code not in won]
    why = ("more total minutes" if taken[-1].minutes > missed[0].minutes
           else "lower code number")
    names = _join([s.code for s in group])
    gives = "gives it to" if len(taken) == 1 else "gives them to"
    anyone = "either code" if len(group) == 2 else "any of them"
    unit = "the unit" if len(taken) == 1 else "a unit"
    return (f"Tie at {cut} min left between {names}: {anyone} may take {unit}; "
            f"Handbill {gives} {_join([s.code for s in taken])} ({why}).")


def _full_text(service: _Service) -> str:
    text = f"{service.code}: {service.minutes} min → {_n(service.full_units, 'full unit')}"
    if service.left:
        text += f" + {service.left} min left"
    return text


def _spare_text(winners: list[_Service], others: list[_Service]) -> str:
    # Codes tied with the last winner are explained by the tie sentence, not "beaten".
    beaten = [s for s in others if s.left < winners[-1].left]
    if len(winners) == 1:
        winner = winners[0]
        text = f"The leftover unit goes to {winner.code} ({winner.left} min left"
        if beaten:
            return text + f" beats {_join([f'{s.left} on {s.code}' for s in beaten])})."
        return text + ")."
    taken = _join([f"{s.code} ({s.left} min left)" for s in winners])
    text = f"The {len(winners)} leftover units go to the largest leftovers: {taken}"
    if beaten:
        return text + f", ahead of {_join([f'{s.code} ({s.left})' for s in beaten])}."
    return text + "."


def _cms_line(service: _Service, got_spare: bool, spare: int, tied: bool) -> str:
    units = service.full_units + (1 if got_spare else 0)
    if service.minutes == 0:
        return "0 min documented → 0 units."
    text = f"{service.minutes} min = {_n(service.full_units, 'full unit')}"
    if service.left:
        text += f" + {service.left} min left"
    if got_spare:
        reason = "tie-break" if tied else "largest leftover minutes"
        text += f"; takes a leftover unit ({reason})"
    elif service.left:
        if spare == 0:
            text += "; the day's leftover minutes do not reach another unit"
        elif tied:
            text += "; tied for a leftover unit but lost the tie-break"
        else:
            text += "; other codes have more minutes left"
    text += f" → {_n(units, 'unit')}."
    if units == 0:
        text += " Its minutes still count toward the day's total."
    return text


def _cpt(timed: list[_Service], timed_minutes: int) -> tuple[dict[str, int], str, dict[str, str]]:
    units = {s.code: (s.minutes + _MIDPOINT_SHIFT) // UNIT_MINUTES for s in timed}
    if not timed:
        return units, "No timed services.", {}
    total = sum(units.values())
    headline = (f"{timed_minutes} timed minutes; CPT per code (each code on its own, a unit "
                f"from 8 minutes, no pooling) → {_n(total, 'unit')}.")
    breakdown = "; ".join(f"{s.code}: {s.minutes} min → {_n(units[s.code], 'unit')}"
                          for s in timed) + "."
    line_texts: dict[str, str] = {}
    for s in timed:
        text = f"{s.minutes} min on its own = {_n(s.full_units, 'full unit')}"
        if s.left >= 8:
            text += f" + {s.left} min left, 8 or more, so one more unit"
        elif s.left:
            text += f" + {s.left} min left, under 8, so no extra unit"
        line_texts[s.code] = text + f" → {_n(units[s.code], 'unit')}."
    return units, f"{headline} {breakdown}", line_texts


def _untimed_text(service: _Service) -> str:
    if service.entry.supervised_modality:
        text = "Supervised modality: 1 unit per day whatever the time"
    else:
        text = "Untimed service: 1 unit"
    if service.minutes:
        text += f"; its {service.minutes} min do not count toward timed minutes"
    return text + "."


def _untimed_summary(untimed: list[_Service]) -> str:
    codes = _join([s.code for s in untimed])
    if len(untimed) == 1:
        return f"{codes} is untimed: 1 unit on its own line; its minutes do not count."
    return f"{codes} are untimed: 1 unit each on their own lines; their minutes do not count."


def _merge_note(service: _Service) -> str:
    if len(service.parts) == 1:
        return ""
    added = " + ".join(str(p) for p in service.parts)
    return (f"{service.code} entered {len(service.parts)} times; minutes added "
            f"({added} = {service.minutes}). ")


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
