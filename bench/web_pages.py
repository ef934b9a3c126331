"""Server time of the busiest pages on a practice with 100,000 claims.

    .venv/bin/python bench/web_pages.py [--claims 100000] [--requests 30]

Builds the demo practice (``handbill demo``'s builder, fixed seed and clock), then multiplies
its history in bulk until the practice holds ``--claims`` claims: each copy gets its own
patients and copies of the claims with their lines, findings and events, the ledger
transactions and legs (charges, payments, adjustments, transfers), and the 835 claim payments
with their service lines and adjustments — so the dashboard's aging, denials and clean-claim
rate, the claim list, the patient page and the work queues all read a big practice. The copying
is not measured.

Then, warm (after a few unmeasured requests), it times ``--requests`` requests of each page
through Django's test client as the demo biller — the dashboard (/today/), the claim list
(/claims/), a demo patient's page, the patient list, the work queues (the follow-up and the
denials tab), the remittance list and the reports page — and prints the median and 95th
percentile of the server time (the whole request: middleware, queries, template) and the
queries per request.

Runs on a SQLite file in a temporary folder and, when DATABASE_URL names a PostgreSQL server,
also on a scratch database created (and dropped) on that server.
"""

# The SQL below is built from our own table names and integers, never from input.
# ruff: noqa: S608
from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
AT = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
WARM_UP = 5


def _copy(model: Any, select: dict[str, str], where: str, params: list[Any],
          joins: str = "") -> None:
    """INSERT … SELECT: copies of ``model``'s rows matching ``where``, in the database.

    ``select`` maps a column to the SQL expression of its new value (the row is ``t``); the
    other columns are copied as they are."""
    from django.db import connection

    qn = connection.ops.quote_name
    columns = [f.column for f in model._meta.concrete_fields]
    values = [select.get(c, f"t.{qn(c)}") for c in columns]
    table = qn(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(qn(c) for c in columns)}) "
            f"SELECT {', '.join(values)} FROM {table} t {joins} WHERE {where}", params)


def _top(model: Any) -> int:
    from django.db.models import Max

    return int(model.objects.aggregate(top=Max("pk"))["top"] or 0)


def _round(practice_id: int, cutoff: int | None) -> None:
    """Copy the practice's history once (claims up to id ``cutoff`` when given): new ids are
    the old ones plus each table's current maximum, so references follow by addition."""
    from handbill.claims.models import Claim, ClaimEvent, ClaimFinding, ClaimLine
    from handbill.ledger.models import LedgerTransaction, Leg
    from handbill.patients.models import Patient
    from handbill.remittance.models import Adjustment, ClaimPayment, ServicePayment

    claim_table = Claim._meta.db_table
    off = {m: _top(m) for m in (Patient, Claim, ClaimLine, ClaimFinding, ClaimEvent,
                                LedgerTransaction, Leg, ClaimPayment, ServicePayment,
                                Adjustment)}
    upto = "" if cutoff is None else f" AND id <= {int(cutoff)}"
    limit = upto.replace("id", "t.id")
    kept = f"SELECT id FROM {claim_table} WHERE practice_id = %s{upto}"
    mine = f"t.claim_id IN ({kept})"
    _copy(Patient, {"id": f"t.id + {off[Patient]}",
                    "account_number": f"'P' || CAST(t.id + {off[Patient]} AS TEXT)"},
          "t.practice_id = %s", [practice_id])
    _copy(Claim, {"id": f"t.id + {off[Claim]}",
                  "number": f"'X' || CAST(t.id + {off[Claim]} AS TEXT)",
                  "patient_id": f"t.patient_id + {off[Patient]}",
                  "replaces_id": f"t.replaces_id + {off[Claim]}",
                  # The copies' patients have no authorizations of their own.
                  "authorization_id": "NULL", "referral_id": "NULL"},
          f"t.practice_id = %s{limit}", [practice_id])
    for model in (ClaimLine, ClaimFinding, ClaimEvent):
        _copy(model, {"id": f"t.id + {off[model]}", "claim_id": f"t.claim_id + {off[Claim]}"},
              mine, [practice_id])
    _copy(ClaimPayment, {"id": f"t.id + {off[ClaimPayment]}",
                         "claim_id": f"t.claim_id + {off[Claim]}",
                         "position": f"t.position + {off[ClaimPayment]}"},
          mine, [practice_id])
    payments = ClaimPayment._meta.db_table
    # The 835's service lines, matched to the copies' claim lines: the denial and underpaid
    # lists read them.
    _copy(ServicePayment, {"id": f"t.id + {off[ServicePayment]}",
                           "claim_payment_id": f"t.claim_payment_id + {off[ClaimPayment]}",
                           "claim_line_id": f"t.claim_line_id + {off[ClaimLine]}"},
          f"t.claim_payment_id IN (SELECT cp.id FROM {payments} cp WHERE cp.practice_id = %s "
          f"AND cp.claim_id IN ({kept}))", [practice_id, practice_id])
    _copy(Adjustment, {"id": f"t.id + {off[Adjustment]}",
                       "claim_payment_id": f"t.claim_payment_id + {off[ClaimPayment]}",
                       "service_payment_id": f"t.service_payment_id + {off[ServicePayment]}"},
          f"t.claim_payment_id IN (SELECT cp.id FROM {payments} cp WHERE cp.practice_id = %s "
          f"AND cp.claim_id IN ({kept}))", [practice_id, practice_id])
    # Ledger: whole transactions only (every one balances), the claim and patient references
    # pointing at the copies.
    legs, txns = Leg._meta.db_table, LedgerTransaction._meta.db_table
    patients = Patient._meta.db_table
    if cutoff is None:
        chosen = f"SELECT id FROM {txns} WHERE practice_id = %s"
    else:
        chosen = (f"SELECT l.transaction_id FROM {legs} l JOIN {claim_table} c ON "
                  f"c.practice_id = l.practice_id AND c.number = l.claim_ref "
                  f"WHERE l.practice_id = %s AND c.id <= {int(cutoff)}")
    _copy(LedgerTransaction, {"id": f"t.id + {off[LedgerTransaction]}",
                              "idempotency_key": "NULL",
                              "reverses_id": f"t.reverses_id + {off[LedgerTransaction]}"},
          f"t.id IN ({chosen})", [practice_id])
    _copy(Leg, {"id": f"t.id + {off[Leg]}",
                "transaction_id": f"t.transaction_id + {off[LedgerTransaction]}",
                "claim_ref": f"CASE WHEN c.id IS NULL THEN t.claim_ref ELSE "
                             f"'X' || CAST(c.id + {off[Claim]} AS TEXT) END",
                "patient_ref": f"CASE WHEN p.id IS NULL THEN t.patient_ref ELSE "
                               f"'P' || CAST(p.id + {off[Patient]} AS TEXT) END"},
          f"t.transaction_id IN ({chosen})", [practice_id],
          joins=(f"LEFT JOIN {claim_table} c ON c.practice_id = t.practice_id AND "
                 f"c.number = t.claim_ref AND t.claim_ref <> '' "
                 f"LEFT JOIN {patients} p ON p.practice_id = t.practice_id AND "
                 f"p.account_number = t.patient_ref AND t.patient_ref <> ''"))


def _multiply(practice: Any, target: int) -> int:
    """Double the practice's history (then copy part of it) until it holds ``target``
    claims, in the database (INSERT … SELECT); returns the number of claims."""
    from django.core.management import call_command
    from django.db import connection, transaction

    from handbill.claims.models import Claim

    claims = Claim.objects.filter(practice=practice)
    while (count := claims.count()) < target:
        cutoff = None
        if count * 2 > target:
            cutoff = claims.order_by("pk").values_list("pk", flat=True)[target - count - 1]
        with transaction.atomic():
            _round(practice.pk, cutoff)
    if connection.vendor == "postgresql":
        # Ids were given explicitly: move each sequence past them.
        out = io.StringIO()
        call_command("sqlsequencereset", "patients", "claims", "ledger", "remittance",
                     stdout=out, no_color=True)
        with connection.cursor() as cursor:
            cursor.execute(out.getvalue())
    return claims.count()


def _time_pages(practice: Any, count: int) -> list[dict[str, Any]]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.models import Count
    from django.test import Client

    from handbill.demo import builder
    from handbill.patients.models import Patient

    client = Client()
    client.force_login(get_user_model().objects.get(
        username=f"biller@{builder.EMAIL_DOMAIN}"))
    # The demo patient with the most claims: the busiest patient page of the demo.
    patient = (Patient.objects.filter(practice=practice, account_number__regex=r"^CS\d+$")
               .annotate(n=Count("claims")).order_by("-n", "pk").first())
    assert patient is not None
    pages = [("dashboard", "/today/"), ("claim list", "/claims/"),
             ("patient page", f"/patients/{patient.pk}/"), ("patient list", "/patients/"),
             ("work queues", "/queues/"), ("denials queue", "/queues/?kind=denials"),
             ("remittance list", "/remittances/"), ("reports", "/reports/")]
    results = []
    for name, url in pages:
        for _ in range(WARM_UP):
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
        statements: list[str] = []

        def counted(execute: Any, sql: str, params: Any, many: bool, context: Any,
                    statements: list[str] = statements) -> Any:
            statements.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counted):
            client.get(url)
        times = []
        for _ in range(count):
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        results.append({"page": name, "url": url, "median_ms": round(statistics.median(times), 1),
                        "p95_ms": round(p95, 1), "queries": len(statements)})
    return results


def run_one(target: int, count: int) -> dict[str, Any]:
    """In a child process whose DATABASE_URL is already the scratch database."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "handbill.settings")
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from handbill.claims.models import Claim
    from handbill.demo import builder

    settings.ALLOWED_HOSTS = ["*"]
    settings.DEBUG = False
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    practice = builder.build_demo(as_of=AT.astimezone(builder.ZONE).date(), at=AT)
    built = time.perf_counter() - started
    started = time.perf_counter()
    _multiply(practice, target)
    multiplied = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return {
        "database": connection.vendor,
        "claims": Claim.objects.filter(practice=practice).count(),
        "demo_seconds": round(built, 1),
        "multiply_seconds": round(multiplied, 1),
        "pages": _time_pages(practice, count),
    }


def _child(url: str, target: int, count: int, var: str, *,
           script: Path = Path(__file__)) -> dict[str, Any]:
    """Run ``script --child`` on the database at ``url`` (a fresh process, so Django reads that
    DATABASE_URL) and return the JSON its last line prints."""
    env = {**os.environ, "DATABASE_URL": url, "HANDBILL_LOG_LEVEL": "ERROR",
           "HANDBILL_VAR_DIR": var}
    argv = [sys.executable, str(script), "--child", "--claims", str(target),
            "--requests", str(count)]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, cwd=ROOT)  # noqa: S603
    if done.returncode != 0:
        raise SystemExit(f"benchmark on {urlsplit(url).scheme} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _postgres(url: str, target: int, count: int, var: str, *, script: Path = Path(__file__),
              prefix: str = "handbill_bench_web") -> dict[str, Any]:
    """The same on a scratch database made beside ``url``'s and dropped afterwards."""
    import psycopg

    parts = urlsplit(url)
    scratch = f"{prefix}_{os.getpid()}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{scratch}"')
    try:
        return _child(urlunsplit(parts._replace(path=f"/{scratch}")), target, count, var,
                      script=script)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


def _report(results: list[dict[str, Any]]) -> None:
    print(f"{'database':<11}{'claims':>9}  {'page':<14}{'median ms':>10}{'p95 ms':>9}"
          f"{'queries':>9}")
    for result in results:
        for page in result["pages"]:
            print(f"{result['database']:<11}{result['claims']:>9,}  {page['page']:<14}"
                  f"{page['median_ms']:>10}{page['p95_ms']:>9}{page['queries']:>9}")
    for result in results:
        print(f"({result['database']}: demo built in {result['demo_seconds']} s, multiplied "
              f"in {result['multiply_seconds']} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--skip-sqlite", action="store_true",
                        help="only the PostgreSQL run (DATABASE_URL)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.requests < 1:
        parser.error("--requests must be at least 1")
    if args.child:
        print(json.dumps(run_one(args.claims, args.requests)))
        return
    results = []
    with tempfile.TemporaryDirectory() as folder:
        if not args.skip_sqlite:
            sqlite_url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
            results.append(_child(sqlite_url, args.claims, args.requests, folder))
        url = os.environ.get("DATABASE_URL", "")
        if url.startswith(("postgres://", "postgresql://")):
            results.append(_postgres(url, args.claims, args.requests, folder + "/pg"))
    _report(results)


if __name__ == "__main__":
    main()
