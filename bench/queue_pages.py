"""Server time of the work queues (/queues/, each tab) on a practice with many claims.

    .venv/bin/python bench/queue_pages.py [--claims 100000] [--requests 5] [--keep FILE]

Builds the demo practice and multiplies it to ``--claims`` claims the way
``bench/web_pages.py`` does (not measured), then, warm, times ``--requests`` requests of each
tab of /queues/ through Django's test client as the demo biller, and ``queries.counts`` (the
tab counts) on its own, printing the median and the queries per request.

The copies carry the 835 claim payments with their SVC lines and adjustments, so line denials
and underpayments are multiplied with the rest; ``bench/followup_speed.py`` covers a practice
where every claim was remitted.

``--keep FILE`` keeps the SQLite database in FILE and reuses it when it is already there, so
the same data can be timed before and after a change (building 100,000 claims takes minutes).
Without it a temporary SQLite file is used, and, when DATABASE_URL names a PostgreSQL server,
a scratch database on that server too.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("web_pages", ROOT / "bench" / "web_pages.py")
assert _spec is not None and _spec.loader is not None  # noqa: S101 - our own file
web_pages = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(web_pages)
AT = web_pages.AT
KINDS = ["followup", "denials", "rejections", "underpaid", "timely"]


def _time(call: Any, count: int) -> tuple[float, int]:
    """Median milliseconds of ``count`` calls and the queries of one."""
    from django.core.signals import request_started
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    call()  # warm
    request_started.disconnect(reset_queries)
    try:
        with CaptureQueriesContext(connection) as queries:
            call()
    finally:
        request_started.connect(reset_queries)
    times = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1), len(queries)


def run_one(target: int, count: int) -> dict[str, Any]:
    """In a child process whose DATABASE_URL is already the database to use."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "handbill.settings")
    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from handbill.claims.models import Claim
    from handbill.demo import builder
    from handbill.followup import queries
    from handbill.practice.models import Practice

    settings.ALLOWED_HOSTS = ["*"]
    settings.DEBUG = False
    call_command("migrate", verbosity=0)
    practice = Practice.objects.filter(slug=builder.DEMO_SLUG).first()
    if practice is None or Claim.objects.filter(practice=practice).count() < target:
        if practice is None:
            practice = builder.build_demo(as_of=AT.astimezone(builder.ZONE).date(), at=AT)
        web_pages._multiply(practice, target)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
    client = Client()
    client.force_login(get_user_model().objects.get(
        username=f"biller@{builder.EMAIL_DOMAIN}"))
    results: dict[str, Any] = {}
    sizes = queries.counts(practice, at=AT)

    for kind in KINDS:
        def get(kind: str = kind) -> None:
            response = client.get(f"/queues/?kind={kind}")
            assert response.status_code == 200, response.status_code  # noqa: S101
        results[f"/queues/?kind={kind}"] = _time(get, count)
    results["counts()"] = _time(lambda: queries.counts(practice, at=AT), count)
    return {"database": connection.vendor,
            "claims": Claim.objects.filter(practice=practice).count(),
            "sizes": sizes, "timings": results}


def _report(results: list[dict[str, Any]]) -> None:
    for result in results:
        print(f"{result['database']}: {result['claims']:,} claims, items {result['sizes']}")
        for what, (median, queries) in result["timings"].items():
            print(f"  {what:<28}{median:>10} ms median{queries:>6} queries")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="a SQLite file to build once and reuse")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.requests < 1:
        parser.error("--requests must be at least 1")
    if args.child:
        print(json.dumps(run_one(args.claims, args.requests)))
        return
    results = []
    with tempfile.TemporaryDirectory() as folder:
        if args.keep is not None:
            url = f"sqlite:///{args.keep.resolve()}"
        else:
            url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        results.append(web_pages._child(url, args.claims, args.requests, folder,
                                          script=Path(__file__)))
        pg = os.environ.get("DATABASE_URL", "")
        if pg.startswith(("postgres://", "postgresql://")):
            results.append(web_pages._postgres(pg, args.claims, args.requests, folder + "/pg",
                                              script=Path(__file__),
                                              prefix="handbill_bench_queues"))
    _report(results)


if __name__ == "__main__":
    main()
