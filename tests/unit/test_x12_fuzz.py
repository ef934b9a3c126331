"""Fuzzing: random damage to valid X12 files gives a clean X12Error or a result with its
errors listed, never another exception (a crash would stop an inbox run half-way)."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handbill.cli.x12 import READERS
from handbill.x12.r277ca import read_277ca
from handbill.x12.r835 import read_835
from handbill.x12.r999 import read_999
from handbill.x12.tokens import X12Error, X12Reader
from tests.unit.test_r277ca import valid_text as valid_277ca
from tests.unit.test_r999 import HAND_WRITTEN
from tests.unit.x12_build import interchange, remittance, worked_example

SAMPLES = Path("/work/shared/x12-samples")
REVERSAL = (
    "CLP*PCN0001*22*-190*-75*-25*12*PAYERCLM123", "CAS*CO*45*-90", "CAS*PR*3*-25",
)

VALID = [
    *((SAMPLES / name).read_text() for name in (
        "X221-multiple-claims-single-check.edi", "X221-secondary-payments.edi",
        "X221-dollars-and-data-sent-together.edi", "managed-care.835", "835_mult_loops.txt",
        "X214-payer-response.edi")),
    worked_example(),
    remittance("0", *REVERSAL, plb=("PLB*1234567893*20261231*FB:X*-75*L6:Y*0",),
               handling="H"),
    valid_277ca(),
    interchange(HAND_WRITTEN, functional_id="FA", version="005010X231A1"),
]
CLAIMS_837 = [(SAMPLES / name).read_text() for name in (
    "X222-chiropractic.edi", "X222-commercial-health-insurance.edi", "X222-ambulance.edi")]

# Characters that matter to a reader: separators, digits, signs, letters, blanks, junk.
NOISE = st.sampled_from(list("*:^~>\n\r 0123456789.-+ACDEHILPRSTXZ\x00é\ufeff"))


@st.composite
def damaged(draw: st.DrawFn, files: list[str]) -> str:
    text = draw(st.sampled_from(files))
    for _ in range(draw(st.integers(1, 4))):
        if not text:
            break
        at = draw(st.integers(0, len(text) - 1))
        size = draw(st.integers(1, 12))
        action = draw(st.sampled_from(["delete", "duplicate", "replace", "insert",
                                       "truncate", "swap-segments"]))
        if action == "delete":
            text = text[:at] + text[at + size:]
        elif action == "duplicate":
            text = text[:at] + text[at:at + size] * 2 + text[at + size:]
        elif action == "replace":
            text = text[:at] + draw(NOISE) + text[at + 1:]
        elif action == "insert":
            text = text[:at] + "".join(draw(st.lists(NOISE, min_size=1, max_size=size))) + (
                text[at:])
        elif action == "truncate":
            text = text[:at]
        else:
            pieces = text.split("~")
            if len(pieces) > 3:
                i = at % (len(pieces) - 1)
                pieces[i], pieces[i + 1] = pieces[i + 1], pieces[i]
                text = "~".join(pieces)
    return text


def exercise(source: str | bytes) -> None:
    """Read everything in ``source`` both ways; only X12Error may escape a reader."""
    readers = {"835": read_835, "999": read_999, "277": read_277ca}
    for strict in (True, False):
        reader = X12Reader(source, strict=strict, chunk_size=64)
        try:
            for transaction in reader:
                read = readers.get(transaction.set_id)
                if read is None:
                    continue
                try:
                    result = read(transaction)
                except X12Error as exc:
                    assert exc.reason
                    continue
                json.dumps(result.as_dict())  # the summary is always printable
        except X12Error as exc:
            assert str(exc)
        for problem in reader.errors:
            assert problem.message


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged(VALID))
def test_damaged_files_fail_cleanly(text: str) -> None:
    exercise(text)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(VALID), st.lists(st.tuples(st.integers(0, 5000), st.integers(0, 255)),
                                        min_size=1, max_size=6))
def test_damaged_bytes_fail_cleanly(text: str, hits: list[tuple[int, int]]) -> None:
    data = bytearray(text.encode())
    for at, value in hits:
        data[at % len(data)] = value
    exercise(bytes(data))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged(CLAIMS_837))
def test_damaged_837s_fail_cleanly_through_the_command(text: str) -> None:
    # The command's dispatch: the 837 reader belongs to another module, but the command
    # must still turn its complaints into X12Error.
    try:
        for transaction in X12Reader(text, strict=False):
            reader = READERS.get(transaction.set_id)
            if reader is None:
                continue
            try:
                reader(transaction)
            except X12Error:
                pass
    except X12Error:
        pass


def test_the_unbroken_files_read_without_error() -> None:
    for text in VALID:
        exercise(text)
