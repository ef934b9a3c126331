"""Deterministic draws: the same seed and the same names always give the same numbers.

The sandbox must answer a file byte for byte the same way every time it is given the same
seed, on any machine and any Python version, so it never uses ``random`` or ``hash()`` (which
is salted per process): every "random" choice is a SHA-256 of the seed and the names of what
is being chosen.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TypeVar

_T = TypeVar("_T")


def number(seed: int, *names: str) -> int:
    """A 64-bit number drawn from ``seed`` and ``names``."""
    text = "\x1f".join((str(seed), *names))
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def pick(options: Sequence[_T], seed: int, *names: str) -> _T:
    """One of ``options``, the same one for the same seed and names."""
    if not options:
        raise ValueError("nothing to pick from")
    return options[number(seed, *names) % len(options)]


def digits(count: int, seed: int, *names: str) -> str:
    """``count`` decimal digits (leading zeros kept)."""
    return str(number(seed, *names) % 10**count).zfill(count)


def control_number(seed: int, *names: str) -> int:
    """An X12 control number, 1 to 999,999,999."""
    return 1 + number(seed, *names) % 999_999_999


def routing_number(seed: int, *names: str) -> str:
    """A nine-digit ABA routing number with a valid check digit (synthetic: starts 9)."""
    body = "9" + digits(7, seed, "routing", *names)
    weights = (3, 7, 1, 3, 7, 1, 3, 7)
    partial = sum(int(d) * w for d, w in zip(body, weights, strict=True))
    return body + str((10 - partial % 10) % 10)
