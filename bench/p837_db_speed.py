"""How fast stored claims become an 837P file: read from the database, then written.

    .venv/bin/python bench/p837_db_speed.py [--claims 10000] [--skip-pyx12]

Runs on a SQLite file in a temporary folder and, when DATABASE_URL names a PostgreSQL server,
also on a scratch database created (and dropped) on that server. Each run stores N synthetic
ready claims (2,000 patients, two or three lines a claim), then times
``claims.outbound.read_claims`` and ``x12.p837.write_837`` on all of them, and, in the same run,
pyx12's validation of the same file as the reference point. Goal: ≥ 5,000 claims/s end to end.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
AT = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)


def _npi(first_nine: str) -> str:
    digits = [int(d) for d in "80840" + first_nine]
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2 == 0:
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return first_nine + str((10 - total % 10) % 10)


def _store(count: int) -> Any:
    """N ready claims written in bulk (the claim workflow itself is not what is measured)."""
    from django.db import transaction

    from handbill.claims.models import Claim, ClaimLine
    from handbill.patients.models import Authorization, Coverage, Patient
    from handbill.practice.models import Location, Payer, Practice, Provider
    from handbill.visits.models import Visit

    with transaction.atomic():
        practice = Practice.objects.create(
            legal_name="Benchmark Massage Clinic", slug=f"bench-{os.getpid()}",
            billing_npi=_npi("123456789"), tax_id="912345678", address_line1="100 Main St",
            city="Olympia", state="WA", postal_code="985011234", phone="3605550100",
            submitter_id="BENCH01", created_at=AT,
        )
        studio = Location.objects.create(
            practice=practice, name="Harbor studio", address_line1="9 Harbor Way",
            city="Olympia", state="WA", postal_code="98501",
        )
        providers = [
            Provider.objects.create(
                practice=practice, first_name="Anna", last_name=f"Therapist{n}",
                credentials="LMT", npi=_npi(f"14000000{n}"),
            )
            for n in range(4)
        ]
        payers = [
            Payer.objects.create(practice=practice, name="Synthetic Health Plan",
                                 payer_id="SYN01", payer_type="commercial",
                                 claim_filing_indicator="CI"),
            Payer.objects.create(practice=practice, name="Synthetic Auto Insurance",
                                 payer_id="SYNAUTO", payer_type="auto",
                                 claim_filing_indicator="AM"),
        ]
        patients = Patient.objects.bulk_create(
            Patient(practice=practice, account_number=f"A{n:06d}", first_name="Jordan",
                    last_name=f"Sample{n}", birth_date=date(1970 + n % 40, 1 + n % 12, 1),
                    sex="F" if n % 2 else "M", address_line1=f"{n} Alder Ln", city="Olympia",
                    state="WA", postal_code="98501", created_at=AT)
            for n in range(2000)
        )
        coverages = Coverage.objects.bulk_create(
            Coverage(
                practice=practice, patient=p, payer=payers[1 if n % 10 == 0 else 0], order=1,
                member_id=f"M{n:08d}", group_number="GRP1", start_date=date(2026, 1, 1),
                relationship="18" if n % 4 else "19",
                subscriber_first_name="" if n % 4 else "Robin",
                subscriber_last_name="" if n % 4 else f"Parent{n}",
                claim_number=f"PC{n}" if n % 10 == 0 else "",
                accident_date=date(2026, 9, 1) if n % 10 == 0 else None,
                accident_state="WA" if n % 10 == 0 else "",
            )
            for n, p in enumerate(patients)
        )
        prescriptions = Authorization.objects.bulk_create(
            Authorization(
                practice=practice, coverage=c, kind="prescription", number=f"RX{n}",
                referring_provider_name="Dr. Pat Example", referring_provider_npi=_npi("198765432"),
                start_date=date(2026, 1, 1),
            )
            for n, c in enumerate(coverages)
        )
        visits = Visit.objects.bulk_create(
            Visit(
                practice=practice, patient=patients[n % 2000], provider=providers[n % 4],
                location=studio if n % 3 == 0 else None, coverage=coverages[n % 2000],
                date_of_service=date(2026, 10, 1) + timedelta(days=n % 50), created_at=AT,
                signed_at=AT,
            )
            for n in range(count)
        )
        claims = Claim.objects.bulk_create(
            Claim(
                practice=practice, number=f"HB{n + 1:07d}", visit=v, patient=v.patient,
                provider=v.provider, coverage=v.coverage, payer=v.coverage.payer,
                referral=prescriptions[n % 2000], status="ready", date_of_service=v.date_of_service,
                place_of_service="11", diagnoses=["M62.830", "M54.2", "M54.50"],
                total_charge_cents=12500 if n % 2 else 9500, created_at=AT,
            )
            for n, v in enumerate(visits)
        )
        lines = []
        for n, claim in enumerate(claims):
            codes = [("97124", 2, 6000, [1]), ("97140", 1, 3500, [2])]
            if n % 2:
                codes.append(("97112", 1, 3000, [1, 3]))
            for number, (code, units, charge, pointers) in enumerate(codes, start=1):
                lines.append(ClaimLine(
                    claim=claim, number=number, code=code, modifiers=["GP"], units=units,
                    pointers=pointers, charge_cents=charge,
                    control_number=f"{claim.number}-{number}",
                ))
        ClaimLine.objects.bulk_create(lines, batch_size=5000)
    return practice


def _pyx12(text: str) -> tuple[float, int]:
    """pyx12's time and error count on the same file, through the tests' helper."""
    sys.path.insert(0, str(ROOT))
    from tests.unit.x12_validation import pyx12_errors

    started = time.perf_counter()
    errors = pyx12_errors(text)
    return time.perf_counter() - started, len(errors)


def run_one(count: int, skip_pyx12: bool) -> dict[str, Any]:
    """In a child process whose DATABASE_URL is already the scratch database."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "handbill.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from handbill.claims.models import Claim
    from handbill.claims.outbound import read_claims
    from handbill.core import outbound as ob
    from handbill.x12.p837 import write_837

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    practice = _store(count)
    stored = time.perf_counter() - started

    started = time.perf_counter()
    groups = read_claims(Claim.objects.filter(practice=practice, status="ready"))
    read = time.perf_counter() - started
    batch = ob.Batch(
        submitter=ob.Submitter(name=practice.legal_name, etin="BENCH01",
                               contact_name="Billing office", phone="3605550100"),
        receiver=ob.Receiver(name="TEST CLEARINGHOUSE", etin="TESTCH01"),
        groups=tuple(groups),
        control=ob.ControlNumbers(interchange=1, group=1, first_transaction=1),
        created_at=AT,
        batch_id="000000001",
    )
    started = time.perf_counter()
    text = write_837(batch)
    written = time.perf_counter() - started
    claims = sum(len(g.claims) for g in groups)
    result: dict[str, Any] = {
        "database": connection.vendor,
        "claims": claims,
        "lines": sum(len(c.lines) for g in groups for c in g.claims),
        "bytes": len(text),
        "store_seconds": round(stored, 2),
        "read_seconds": round(read, 3),
        "write_seconds": round(written, 3),
        "claims_per_second_read": round(claims / read),
        "claims_per_second_write": round(claims / written),
        "claims_per_second_end_to_end": round(claims / (read + written)),
    }
    if not skip_pyx12:
        seconds, errors = _pyx12(text)
        result.update(pyx12_seconds=round(seconds, 2), pyx12_errors=errors,
                      pyx12_claims_per_second=round(claims / seconds))
    return result


def _child(url: str, count: int, skip_pyx12: bool) -> dict[str, Any]:
    env = {**os.environ, "DATABASE_URL": url, "HANDBILL_LOG_LEVEL": "ERROR"}
    argv = [sys.executable, __file__, "--child", "--claims", str(count)]
    if skip_pyx12:
        argv.append("--skip-pyx12")
    done = subprocess.run(argv, env=env, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"benchmark on {urlsplit(url).scheme} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _postgres(url: str, count: int, skip_pyx12: bool) -> dict[str, Any]:
    import psycopg

    parts = urlsplit(url)
    scratch = f"handbill_bench_{os.getpid()}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{scratch}"')
    try:
        return _child(urlunsplit(parts._replace(path=f"/{scratch}")), count, skip_pyx12)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


def _report(result: dict[str, Any]) -> None:
    print(
        f"{result['database']:>10}: {result['claims']:,} claims ({result['lines']:,} lines, "
        f"{result['bytes'] / 1e6:.1f} MB): read {result['read_seconds']} s, write "
        f"{result['write_seconds']} s -> {result['claims_per_second_end_to_end']:,} claims/s "
        f"end to end (read {result['claims_per_second_read']:,}/s, write "
        f"{result['claims_per_second_write']:,}/s)"
    )
    if "pyx12_seconds" in result:
        print(
            f"{'':>10}  pyx12 on the same file: {result['pyx12_seconds']} s "
            f"({result['pyx12_claims_per_second']:,} claims/s), {result['pyx12_errors']} errors"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--skip-pyx12", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.claims, args.skip_pyx12)))
        return
    results = []
    with tempfile.TemporaryDirectory() as folder:
        sqlite_url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        results.append(_child(sqlite_url, args.claims, args.skip_pyx12))
        _report(results[-1])
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        results.append(_postgres(url, args.claims, args.skip_pyx12))
        _report(results[-1])
    else:
        print("PostgreSQL: skipped (set DATABASE_URL=postgres://… to include it)")
    goal = 5000
    slow = [r for r in results if r["claims_per_second_end_to_end"] < goal]
    print(f"goal {goal:,} claims/s end to end: " + ("met" if not slow else "NOT met"))


if __name__ == "__main__":
    main()
