"""How fast an 835 posts: import (read, check, plan) and commit (rows, ledger legs, statuses).

    .venv/bin/python bench/post835_speed.py [--claims 10000] [--profile]

Runs on a SQLite file in a temporary folder and, when DATABASE_URL names a PostgreSQL server,
also on a scratch database created (and dropped) on that server. Each run stores N submitted
claims (~3.7 lines each) with their charges in bulk — that set-up is not measured — writes a
matching 835 (one payment: CO-45 write-downs, copays and deductibles, 5% of the 97140 lines
denied as bundled, 2% of claims without REF*6R, an interest PLB), then times
``remittance.actions.import_835`` (read, check, plan) and ``commit_posting`` (rows, ledger
transactions with their legs and audit rows, claim statuses, and the commit itself, where
PostgreSQL runs its deferred foreign-key and balance checks). Goal: ≥ 2,000 claims/s on
PostgreSQL.
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
PAID_ON = date(2026, 11, 20)
# code, modifiers, units, charge in cents
MENU = [("97124", ["GP"], 2, 6000), ("97140", ["GP", "59"], 1, 3500),
        ("97112", ["GP"], 1, 3000), ("97530", ["GP"], 1, 3500)]


def _npi(first_nine: str) -> str:
    digits = [int(d) for d in "80840" + first_nine]
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2 == 0:
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return first_nine + str((10 - total % 10) % 10)


def _store(count: int) -> tuple[Any, list[Any], dict[int, list[Any]]]:
    """N submitted claims and their charges, written in bulk."""
    from django.db import transaction

    from handbill.claims.models import Claim, ClaimLine
    from handbill.core.money import Cents
    from handbill.ledger import posting
    from handbill.ledger.models import AccountKind
    from handbill.patients.models import Patient
    from handbill.practice.models import Payer, Practice, Provider
    from handbill.visits.models import Visit

    with transaction.atomic():
        practice = Practice.objects.create(
            legal_name="Benchmark Massage Clinic", slug=f"bench-{os.getpid()}",
            billing_npi=_npi("123456789"), tax_id="912345678", address_line1="100 Main St",
            city="Olympia", state="WA", postal_code="985011234", created_at=AT)
        provider = Provider.objects.create(practice=practice, first_name="Anna",
                                           last_name="Therapist", credentials="LMT",
                                           npi=_npi("140000001"))
        payer = Payer.objects.create(practice=practice, name="Synthetic Health Plan",
                                     payer_id="SYN01", payer_type="commercial",
                                     claim_filing_indicator="CI")
        patients = Patient.objects.bulk_create(
            Patient(practice=practice, account_number=f"A{n:06d}", first_name="Jordan",
                    last_name=f"Sample{n}", birth_date=date(1970 + n % 40, 1 + n % 12, 1),
                    sex="F" if n % 2 else "M", address_line1=f"{n} Alder Ln", city="Olympia",
                    state="WA", postal_code="98501", created_at=AT)
            for n in range(2000))
        visits = Visit.objects.bulk_create(
            Visit(practice=practice, patient=patients[n % 2000], provider=provider,
                  date_of_service=date(2026, 10, 1) + timedelta(days=n % 50), created_at=AT,
                  signed_at=AT)
            for n in range(count))
        shapes = [MENU if n % 10 < 7 else MENU[:3] for n in range(count)]  # 3.7 lines a claim
        claims = Claim.objects.bulk_create(
            (Claim(practice=practice, number=f"HB{n + 1:07d}", visit=v, patient=v.patient,
                   provider=provider, payer=payer, status="submitted",
                   date_of_service=v.date_of_service, place_of_service="11",
                   diagnoses=["M62.830"], total_charge_cents=sum(x[3] for x in shapes[n]),
                   created_at=AT)
             for n, v in enumerate(visits)), batch_size=2000)
        lines = ClaimLine.objects.bulk_create(
            (ClaimLine(claim=claim, number=k, code=code, modifiers=mods, units=units,
                       pointers=[1], charge_cents=charge, control_number=f"{claim.number}-{k}")
             for claim, shape in zip(claims, shapes, strict=True)
             for k, (code, mods, units, charge) in enumerate(shape, start=1)),
            batch_size=5000)
        by_claim: dict[int, list[Any]] = {}
        for line in lines:
            by_claim.setdefault(line.claim_id, []).append(line)
        ar = posting.account_for(practice, AccountKind.AR_INSURANCE, payer)
        revenue = posting.account_for(practice, AccountKind.CHARGES)
        posting.post_many(practice=practice, at=AT, by=None, entries=[
            posting.Entry(kind="charge", memo=f"Charge for claim {c.number}",
                          effective_date=c.date_of_service, source=("claim", c.pk),
                          legs=[posting.debit(ar, Cents(c.total_charge_cents),
                                              claim_ref=c.number,
                                              patient_ref=patients[n % 2000].account_number),
                                posting.credit(revenue, Cents(c.total_charge_cents),
                                               claim_ref=c.number)])
            for n, c in enumerate(claims)])
    return practice, claims, by_claim


def _remittance(claims: list[Any], lines: dict[int, list[Any]]) -> str:
    sys.path.insert(0, str(ROOT))
    from tests.integration.remittance_setup import Clp, Svc, write_835

    remitted = []
    for n, claim in enumerate(claims):
        svcs = []
        for k, line in enumerate(lines[claim.pk]):
            charge = line.charge_cents
            if line.code == "97140" and n % 20 == 0:  # bundled into 97124: a denial
                paid, cas = 0, [("CO", "97", charge)]
            elif k == 0 and n % 9 == 0:  # deductible
                paid, cas = 0, [("CO", "45", charge // 5), ("PR", "1", charge - charge // 5)]
            elif k == 0 and n % 3 == 0:  # copay
                allowed = charge * 4 // 5
                paid, cas = allowed - 2000, [("CO", "45", charge - allowed), ("PR", "3", 2000)]
            else:
                paid, cas = charge * 4 // 5, [("CO", "45", charge - charge * 4 // 5)]
            control = "" if n % 50 == 0 else line.control_number  # payer dropped REF*6R
            svcs.append(Svc(line.code, charge, paid, cas, line.modifiers, line.units, control,
                            on=claim.date_of_service, allowed=charge * 4 // 5))
        remitted.append(Clp(claim.number, svcs, payer_claim_number=f"26{n:011d}"))
    return write_835(remitted, trace="EFT20261120", payer_id="SYN01",
                     plb=[("L6", claims[0].number, -1234)], paid_on=PAID_ON)


def run_one(count: int, profile: bool) -> dict[str, Any]:
    """In a child process whose DATABASE_URL is already the scratch database."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "handbill.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count

    from handbill.claims.models import Claim
    from handbill.ledger.balances import trial_balance
    from handbill.ledger.models import LedgerTransaction, Leg
    from handbill.remittance import actions
    from handbill.remittance.models import ClaimPayment

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    practice, claims, lines = _store(count)
    stored = time.perf_counter() - started
    text = _remittance(claims, lines)
    before_txns, before_legs = LedgerTransaction.objects.count(), Leg.objects.count()

    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    (era,) = actions.import_835(practice=practice, text=text, by=None, at=AT,
                                file_name="bench.835")
    imported = time.perf_counter() - started
    started = time.perf_counter()
    era = actions.commit_posting(era=era, by=None, at=AT)
    committed = time.perf_counter() - started
    if profiler is not None:
        import pstats

        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(35)

    assert era.status == "posted"
    assert ClaimPayment.objects.filter(era=era).count() == count
    assert trial_balance(practice).is_balanced
    statuses = dict(Claim.objects.filter(practice=practice).values_list("status")
                    .annotate(n=Count("pk")).order_by())
    total = imported + committed
    return {
        "database": connection.vendor,
        "claims": count,
        "lines": sum(len(v) for v in lines.values()),
        "bytes": len(text),
        "store_seconds": round(stored, 2),
        "import_seconds": round(imported, 2),
        "commit_seconds": round(committed, 2),
        "ledger_transactions": LedgerTransaction.objects.count() - before_txns,
        "ledger_legs": Leg.objects.count() - before_legs,
        "statuses": statuses,
        "claims_per_second": round(count / total),
        "claims_per_second_commit": round(count / committed),
    }


def _child(url: str, count: int, profile: bool) -> dict[str, Any]:
    env = {**os.environ, "DATABASE_URL": url, "HANDBILL_LOG_LEVEL": "ERROR"}
    argv = [sys.executable, __file__, "--child", "--claims", str(count)]
    if profile:
        argv.append("--profile")
    done = subprocess.run(argv, env=env, capture_output=True, text=True, cwd=ROOT)
    if profile:
        sys.stderr.write(done.stderr)
    if done.returncode != 0:
        raise SystemExit(f"benchmark on {urlsplit(url).scheme} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _postgres(url: str, count: int, profile: bool) -> dict[str, Any]:
    import psycopg

    parts = urlsplit(url)
    scratch = f"handbill_bench_post835_{os.getpid()}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{scratch}"')
    try:
        return _child(urlunsplit(parts._replace(path=f"/{scratch}")), count, profile)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


def _report(result: dict[str, Any]) -> None:
    print(
        f"{result['database']:>10}: {result['claims']:,} claims ({result['lines']:,} lines, "
        f"{result['bytes'] / 1e6:.1f} MB): import {result['import_seconds']} s + commit "
        f"{result['commit_seconds']} s -> {result['claims_per_second']:,} claims/s "
        f"({result['ledger_transactions']:,} ledger transactions, {result['ledger_legs']:,} "
        f"legs; statuses {result['statuses']})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--profile", action="store_true", help="cProfile the timed part")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.claims, args.profile)))
        return
    results = []
    with tempfile.TemporaryDirectory() as folder:
        sqlite_url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        results.append(_child(sqlite_url, args.claims, args.profile))
        _report(results[-1])
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        results.append(_postgres(url, args.claims, args.profile))
        _report(results[-1])


if __name__ == "__main__":
    main()
