"""How fast the pure 837P writer is, with pyx12's validation of the same file as the yardstick.

    .venv/bin/python bench/p837_speed.py [--claims 10000] [--runs 3] [--skip-pyx12]

Builds N synthetic claims in memory (no database: 2,000 subscribers, a third of the claims for
a dependant, two or three lines each, a secondary claim every tenth), then times
``write_837`` (best and median of the runs, pre-checks included), tokenising and
``read_837`` of the result, and one pyx12 validation of the same file. Prints claims
per second and the ratios. A measurement, not a test: the numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from handbill.core.money import Cents
from handbill.core.outbound import (
    Address,
    Adjustment,
    Batch,
    BillingProvider,
    ClaimGroup,
    ControlNumbers,
    LineAdjudication,
    OutClaim,
    OutLine,
    Patient,
    Payer,
    PayerResponsibility,
    PersonName,
    PriorPayer,
    Receiver,
    Submitter,
    Subscriber,
    TaxIdQualifier,
)
from handbill.x12.p837 import read_837, write_837
from handbill.x12.tokens import iter_transactions

AT = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
DOS = date(2026, 11, 16)
CODES = (("97124", ("GP",), 6000), ("97140", ("GP", "59"), 7050), ("97112", ("GP",), 6500))
DIAGNOSES = ("M62.830", "M54.2", "M25.511", "M54.50")


def build_batch(count: int) -> Batch:
    clinic = BillingProvider(
        npi="1234567893", tax_id="123456789", tax_id_qualifier=TaxIdQualifier.EIN,
        taxonomy="225700000X", address=Address("100 MAIN ST", "OLYMPIA", "WA", "985011234"),
        organization_name="BENCHMARK MASSAGE CLINIC",
    )
    payer = Payer("EXAMPLE HEALTH PLAN", "PAYER01")
    claims: list[OutClaim] = []
    for n in range(count):
        person = n % 2000
        subscriber = Subscriber(
            name=PersonName("DOE", f"PAT{person}"), member_id=f"MEM{person:07d}",
            birth_date=date(1970 + person % 40, 1 + person % 12, 1 + person % 28), sex="F",
            address=Address(f"{person} ELM ST", "OLYMPIA", "WA", "98501"),
            responsibility=PayerResponsibility.PRIMARY, claim_filing_indicator="CI",
            group_number="GRP123",
        )
        patient = None
        if n % 3 == 0:
            patient = Patient(PersonName("DOE", f"KID{person}"), date(2012, 6, 30), "M",
                              Address(f"{person} ELM ST", "OLYMPIA", "WA", "98501"), "19")
        claim_id = f"CL{n:08d}"
        lines = tuple(
            OutLine(number=i + 1, code=code, modifiers=mods, charge=Cents(fee * 2), units=2,
                    pointers=(1 + i % len(DIAGNOSES),),
                    date_of_service=DOS - timedelta(days=n % 30),
                    control_number=f"{claim_id}-{i + 1}")
            for i, (code, mods, fee) in enumerate(CODES[: 2 + n % 2])
        )
        claim = OutClaim(
            claim_id=claim_id, total_charge=Cents(sum(x.charge.value for x in lines)),
            place_of_service="11", frequency="1", diagnoses=DIAGNOSES, lines=lines,
            subscriber=subscriber, payer=payer, patient=patient,
        )
        if n % 10 == 9:
            claim = _secondary(claim)
        claims.append(claim)
    return Batch(
        submitter=Submitter("BENCHMARK MASSAGE CLINIC", "BENCH01", "BILLING", "3605550100"),
        receiver=Receiver("EXAMPLE CLEARINGHOUSE", "RECV01"),
        groups=(ClaimGroup(clinic, tuple(claims)),),
        control=ControlNumbers(interchange=1, group=1, first_transaction=1),
        created_at=AT, batch_id="BENCH",
    )


def _secondary(claim: OutClaim) -> OutClaim:
    adjudications = tuple(
        LineAdjudication(
            control_number=line.control_number, payer_id="PRIME1", code=line.code,
            modifiers=line.modifiers, paid=Cents(line.charge.value // 2), units=line.units,
            adjustments=(Adjustment("PR", "2", line.charge - Cents(line.charge.value // 2)),),
            adjudicated_on=DOS + timedelta(days=20),
        )
        for line in claim.lines
    )
    prior = PriorPayer(
        payer=Payer("PRIME HEALTH", "PRIME1"),
        subscriber=replace(claim.subscriber, member_id="PRM" + claim.subscriber.member_id),
        paid=Cents(sum(a.paid.value for a in adjudications)), claim_adjustments=(),
        adjudicated_on=DOS + timedelta(days=20), line_adjudications=adjudications,
    )
    subscriber = replace(claim.subscriber, responsibility=PayerResponsibility.SECONDARY)
    return replace(claim, subscriber=subscriber, prior_payers=(prior,))


def _time(run: Any, runs: int) -> tuple[float, float, Any]:
    timings = []
    result = None
    for _ in range(runs):
        start = time.perf_counter()
        result = run()
        timings.append(time.perf_counter() - start)
    return min(timings), statistics.median(timings), result


def _pyx12_seconds(text: str) -> tuple[float, int]:
    import pyx12.params
    import pyx12.x12n_document

    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.837"
        path.write_text(text, encoding="ascii")
        report = io.StringIO()
        start = time.perf_counter()
        pyx12.x12n_document.x12n_document(
            param=pyx12.params.params(), src_file=str(path), fd_997=io.StringIO(),
            fd_html=None, fd_xmldoc=None, fd_json=report)
        seconds = time.perf_counter() - start
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
    return seconds, errors


def _read_seconds(text: str, runs: int) -> tuple[float, int]:
    def read_all() -> int:
        return sum(len(read_837(t).claims) for t in iter_transactions(text))

    best, _median, claims = _time(read_all, runs)
    return best, int(claims)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-pyx12", action="store_true")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    batch = build_batch(args.claims)
    build = time.perf_counter() - start
    best, median, text = _time(lambda: write_837(batch), args.runs)
    lines = sum(len(c.lines) for g in batch.groups for c in g.claims)
    print(f"claims: {args.claims:,}  lines: {lines:,}  file: {len(text) / 1e6:.1f} MB  "
          f"segments: {text.count('~'):,}  (values built in {build:.2f} s)")
    print(f"write_837 (pre-checks + writing): best {best:.3f} s, median {median:.3f} s  "
          f"→ {args.claims / best:,.0f} claims/s (best), {args.claims / median:,.0f} (median)")
    seconds, claims = _read_seconds(text, args.runs)
    print(f"read_837 (tokenise + read): best {seconds:.3f} s → {claims / seconds:,.0f} "
          "claims/s")
    if not args.skip_pyx12:
        seconds, errors = _pyx12_seconds(text)
        print(f"pyx12 validation of the same file: {seconds:.2f} s → "
              f"{args.claims / seconds:,.0f} claims/s, {errors} errors")
        print(f"ratio: write_837 is {seconds / best:,.0f}× faster than pyx12 validates")
    return 0


if __name__ == "__main__":
    sys.exit(main())
