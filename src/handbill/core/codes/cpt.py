"""The service catalogue: the CPT/HCPCS codes a hands-on practice bills.

Labels are our own short words. The AMA's descriptors are copyrighted and never appear in
Handbill (reference §8.1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class UnitKind(StrEnum):
    TIMED = "timed"  # 15-minute units from documented minutes
    SUPERVISED = "supervised"  # supervised modality: 1 unit per day, minutes never count
    SERVICE = "service"  # one unit per service (evaluations, CMT, group session)


class UnknownCodeError(ValueError):
    """A procedure code that is not in Handbill's catalogue."""


@dataclass(frozen=True, slots=True)
class ServiceCode:
    code: str
    label: str
    kind: UnitKind
    # "Always therapy": Medicare wants GP/GO/GN on it whoever bills it.
    always_therapy: bool
    # Medicare physician fee schedule status B (bundled, never paid separately), e.g. 97010.
    bundled_status_b: bool = False
    # A Medicare-only replacement (97014 → G0283) where the code itself is invalid for Medicare.
    medicare_replacement: str | None = None

    @property
    def timed(self) -> bool:
        return self.kind is UnitKind.TIMED

    @property
    def supervised_modality(self) -> bool:
        return self.kind is UnitKind.SUPERVISED


_T, _S, _V = UnitKind.TIMED, UnitKind.SUPERVISED, UnitKind.SERVICE

_CATALOGUE: tuple[ServiceCode, ...] = (
    ServiceCode("97010", "Hot or cold packs", _S, always_therapy=False, bundled_status_b=True),
    ServiceCode("97012", "Mechanical traction", _S, always_therapy=True),
    ServiceCode("97014", "Electrical stimulation, unattended", _S, always_therapy=True,
                medicare_replacement="G0283"),
    ServiceCode("G0283", "Electrical stimulation, unattended (Medicare)", _S,
                always_therapy=True),
    ServiceCode("97032", "Electrical stimulation, attended, 15 min", _T, always_therapy=True),
    ServiceCode("97035", "Ultrasound, 15 min", _T, always_therapy=True),
    ServiceCode("97110", "Therapeutic exercise, 15 min", _T, always_therapy=True),
    ServiceCode("97112", "Neuromuscular re-education, 15 min", _T, always_therapy=True),
    ServiceCode("97116", "Gait training, 15 min", _T, always_therapy=True),
    ServiceCode("97124", "Massage, 15 min", _T, always_therapy=True),
    ServiceCode("97140", "Manual therapy, 15 min", _T, always_therapy=True),
    ServiceCode("97150", "Group therapy session", _V, always_therapy=True),
    ServiceCode("97530", "Therapeutic activities, 15 min", _T, always_therapy=True),
    ServiceCode("97161", "PT evaluation, low complexity", _V, always_therapy=True),
    ServiceCode("97162", "PT evaluation, moderate complexity", _V, always_therapy=True),
    ServiceCode("97163", "PT evaluation, high complexity", _V, always_therapy=True),
    ServiceCode("97164", "PT re-evaluation", _V, always_therapy=True),
    ServiceCode("98940", "Chiropractic adjustment, spine, 1-2 regions", _V, always_therapy=False),
    ServiceCode("98941", "Chiropractic adjustment, spine, 3-4 regions", _V, always_therapy=False),
    ServiceCode("98942", "Chiropractic adjustment, spine, 5 regions", _V, always_therapy=False),
    ServiceCode("98943", "Chiropractic adjustment, outside the spine", _V, always_therapy=False),
)

CATALOGUE: dict[str, ServiceCode] = {entry.code: entry for entry in _CATALOGUE}

_CODE_SHAPE = re.compile(r"^[0-9A-Z][0-9]{3}[0-9A-Z]$")


def get(code: str) -> ServiceCode:
    """The catalogue entry for ``code``; raises :class:`UnknownCodeError` with the fix."""
    normalized = code.strip().upper()
    entry = CATALOGUE.get(normalized)
    if entry is not None:
        return entry
    if not _CODE_SHAPE.match(normalized):
        raise UnknownCodeError(
            f"{code!r} is not a procedure code: CPT/HCPCS codes are five characters, "
            "e.g. 97124 or G0283"
        )
    known = ", ".join(sorted(CATALOGUE))
    raise UnknownCodeError(f"{normalized} is not in Handbill's service catalogue (known: {known})")


def is_known(code: str) -> bool:
    return code.strip().upper() in CATALOGUE
