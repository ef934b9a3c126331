"""How fast Handbill reads an 835 into typed, balanced models, next to x12sdk, pyx12 and split.

    .venv/bin/python bench/r835_speed.py [--claims 10000] [--runs 3] [--skip-pyx12] [--keep]

Writes (in a temporary folder) a synthetic 835 of N claims with about 3.7 service lines each,
shaped like the TR3's "multiple claims, single check" example but with massage codes, varied
amounts, CO/PR adjustments, denials, REF*6R, AMT*B6, LQ remarks and a PLB, and balanced to the
cent. Then, in one run and on the same file: Handbill's reader (tokenise + typed models +
balancing), x12sdk's models, one pyx12 validation, and a bare streaming ``str.split``. Prints
claims per second and the ratios. A measurement, not a test: the numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from handbill.core.money import Cents

CODES = (("97124", "GP", 6000), ("97140", "GP:59", 7050), ("97112", "GP", 6500),
         ("97110", "GP", 5800))
LINE_PATTERN = (3, 4, 4, 4, 3, 4, 4, 3, 4, 4)  # 37 lines per 10 claims


def _x12(cents: int) -> str:
    return Cents(cents).to_x12()


def build_835(claims: int, *, seed: int = 1) -> str:
    """A balanced 835 (005010X221A1) with ``claims`` claims in one transaction set."""
    rng = random.Random(seed)
    body: list[str] = []
    total_paid = 0
    for n in range(claims):
        claim_id = f"CL{n:08d}"
        denied = n % 25 == 7
        lines: list[str] = []
        charge_sum = paid_sum = pr_sum = 0
        for i in range(LINE_PATTERN[n % len(LINE_PATTERN)]):
            code, modifiers, fee = CODES[(n + i) % len(CODES)]
            units = 1 + rng.randrange(4)
            charge = fee * units
            line = [f"SVC*HC:{code}:{modifiers}*{_x12(charge)}*"]
            if denied:
                paid, adjustments = 0, [f"CAS*CO*170*{_x12(charge)}"]
                remark = "LQ*HE*N130"
            else:
                allowed = charge - rng.randrange(charge // 5, charge // 3)
                patient = rng.choice((0, 0, 1500, allowed // 5))
                paid = allowed - patient
                adjustments = [f"CAS*CO*45*{_x12(charge - allowed)}"]
                if patient:
                    reason = "3" if patient == 1500 else "2"
                    adjustments.append(f"CAS*PR*{reason}*{_x12(patient)}")
                remark = ""
                pr_sum += patient
            line[0] += f"{_x12(paid)}**{units}"
            line.append("DTM*472*20261116")
            line.extend(adjustments)
            line.append(f"REF*6R*{claim_id}-{i + 1}")
            if not denied:
                line.append(f"AMT*B6*{_x12(allowed)}")
            if remark:
                line.append(remark)
            lines.extend(line)
            charge_sum += charge
            paid_sum += paid
        status = "4" if denied else "1"
        body.append(f"CLP*{claim_id}*{status}*{_x12(charge_sum)}*{_x12(paid_sum)}*"
                    f"{_x12(pr_sum)}*12*PCN{n:010d}")
        body.append(f"NM1*QC*1*DOE*PAT{n % 2000}****MI*MEM{n % 2000:07d}")
        body.append("NM1*82*1*SMITH*ANNA****XX*1234567893")
        body.append("DTM*050*20261118")
        body.extend(lines)
        total_paid += paid_sum
    interest, recoupment = 1234, 5500
    plb = (f"PLB*1234567893*20261231*L6:INTEREST*{_x12(-interest)}*WO:PCN0000000003*"
           f"{_x12(recoupment)}")
    payment = total_paid + interest - recoupment
    header = [
        "ST*835*0001",
        f"BPR*I*{_x12(payment)}*C*ACH*CCP*01*999999992*DA*123456*1512345678**01*999988880*DA*"
        "98765*20261120",
        "TRN*1*EFT0001*1512345678",
        "DTM*405*20261120",
        "N1*PR*EXAMPLE HEALTH PLAN",
        "N3*225 MAIN STREET",
        "N4*CENTERVILLE*PA*17111",
        "PER*BL*EDI SUPPORT*TE*8005551212",
        "N1*PE*BENCHMARK MASSAGE CLINIC*XX*1234567893",
        "REF*TJ*123456789",
        "LX*1",
    ]
    segments = [*header, *body, plb]
    segments.append(f"SE*{len(segments) + 1}*0001")
    isa = ("ISA*00*          *00*          *ZZ*PAYERSENDER    *ZZ*HANDBILLRCV    *261123*0930*^*"
           "00501*000000001*0*P*:")
    envelope = [isa, "GS*HP*PAYERSENDER*HANDBILLRCV*20261123*0930*1*X*005010X221A1",
                *segments, "GE*1*1", "IEA*1*000000001"]
    return "~\n".join(envelope) + "~\n"


def _time(work: Callable[[], Any], runs: int) -> tuple[float, float, Any]:
    seconds: list[float] = []
    result: Any = None
    for _ in range(runs):
        start = time.perf_counter()
        result = work()
        seconds.append(time.perf_counter() - start)
    return min(seconds), statistics.median(seconds), result


def handbill_read(path: Path) -> int:
    from handbill.x12.r835 import read_835
    from handbill.x12.tokens import iter_transactions

    claims = 0
    for transaction in iter_transactions(path):
        remittance = read_835(transaction)
        if remittance.balance_errors:
            raise AssertionError(remittance.balance_errors[:3])
        claims += len(remittance.claims)
    return claims


def x12sdk_read(path: Path) -> int:
    from x12sdk.io import X12ModelReader

    claims = 0
    with X12ModelReader(str(path)) as reader:
        for model in reader.models():
            for header in model.loop_2000:  # type: ignore[attr-defined]
                claims += len(header.loop_2100)
    return claims


def split_stream(path: Path) -> int:
    claims = 0
    tail = ""
    with open(path, encoding="ascii", newline="") as handle:
        while chunk := handle.read(1 << 20):
            pieces = (tail + chunk).split("~")
            tail = pieces.pop()
            for piece in pieces:
                if piece.lstrip().split("*", 1)[0] == "CLP":
                    claims += 1
    return claims


def split_keep(path: Path) -> int:
    text = path.read_text(encoding="ascii")
    segments = [piece.lstrip().split("*") for piece in text.split("~")]
    return sum(1 for segment in segments if segment[0] == "CLP")


def pyx12_validate(path: Path) -> tuple[bool, int]:
    import pyx12.params
    import pyx12.x12n_document

    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    report = io.StringIO()
    ok = pyx12.x12n_document.x12n_document(
        param=pyx12.params.params(), src_file=str(path), fd_997=None, fd_html=None,
        fd_xmldoc=None, fd_json=report)
    errors = 0

    def walk(node: Any) -> None:
        nonlocal errors
        if isinstance(node, dict):
            errors += sum(1 for e in node.get("errors") or [] if "err_str" in e)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(report.getvalue() or "{}"))
    return bool(ok), errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-pyx12", action="store_true")
    parser.add_argument("--keep", type=Path, help="also write the file here")
    args = parser.parse_args(argv)

    text = build_835(args.claims)
    if args.keep:
        args.keep.write_text(text, encoding="ascii")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.835"
        path.write_text(text, encoding="ascii")
        lines = text.count("\nSVC*")
        print(f"claims: {args.claims:,}  service lines: {lines:,}  "
              f"segments: {text.count('~'):,}  file: {len(text) / 1e6:.1f} MB")
        rows: list[tuple[str, float, float]] = []
        for name, work, runs in (
            ("handbill read_835 (typed + balanced)", lambda: handbill_read(path), args.runs),
            ("x12sdk X12ModelReader.models()", lambda: x12sdk_read(path), 1),
            ("str.split, streaming", lambda: split_stream(path), args.runs),
            ("str.split, keeping every segment", lambda: split_keep(path), args.runs),
        ):
            best, median, claims = _time(work, runs)
            if claims != args.claims:
                raise AssertionError(f"{name} counted {claims} claims")
            rows.append((name, best, median))
        if not args.skip_pyx12:
            start = time.perf_counter()
            ok, errors = pyx12_validate(path)
            seconds = time.perf_counter() - start
            rows.append((f"pyx12 validation ({'valid' if ok and not errors else 'INVALID'}, "
                         f"{errors} errors)", seconds, seconds))
    ours = rows[0][1]
    print(f"{'reader':<44}{'best s':>9}{'median s':>10}{'claims/s':>12}"
          f"{'time ÷ handbill':>17}")
    for name, best, median in rows:
        print(f"{name:<44}{best:>9.3f}{median:>10.3f}{args.claims / best:>12,.0f}"
              f"{best / ours:>16.2f}x")
    sdk = rows[1][1]
    print(f"handbill is {sdk / ours:.1f}x x12sdk (goal ≥ 10x); "
          f"{ours / rows[3][1]:.2f}x the time of keeping every split segment")
    return 0


if __name__ == "__main__":
    sys.exit(main())
