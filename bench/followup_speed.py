"""How fast the follow-up lists build after a large remittance is posted.

    .venv/bin/python bench/followup_speed.py [--claims 5000]

Stores N submitted claims and posts the 835 that ``bench/post835_speed.py`` writes (CO-45
write-downs, copays and deductibles, 5% of the 97140 lines denied as bundled), gives the payer
a policy whose fee for 97124 is above what the 835 allows (so underpayments show), then times
building every worklist at once (what the /queues/ page does), the A/R aging, and looking for
rule proposals. Runs on a SQLite file, and on a scratch PostgreSQL database when DATABASE_URL
names a server.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("post835_speed", ROOT / "bench" / "post835_speed.py")
assert _spec is not None and _spec.loader is not None  # noqa: S101 - our own file
post835 = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(post835)
AT = post835.AT


def run_one(count: int) -> dict[str, Any]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "handbill.settings")
    django.setup()
    from datetime import date

    from django.core.management import call_command
    from django.db import connection

    from handbill.followup import actions as followup
    from handbill.followup import queries
    from handbill.policies.actions import save_policy_version
    from handbill.practice.models import Payer
    from handbill.remittance import actions

    call_command("migrate", verbosity=0)
    practice, claims, lines = post835._store(count)
    (era,) = actions.import_835(practice=practice, text=post835._remittance(claims, lines),
                                by=None, at=AT, file_name="bench.835")
    actions.commit_posting(era=era, by=None, at=AT)
    payer = Payer.objects.get(practice=practice)
    save_policy_version(payer=payer, effective_date=date(2026, 1, 1), by=None, at=AT, rules={
        "unit_rule": "cms", "bills_97010": False, "modifier_style": "x",
        "therapy_modifier": "GP", "referral": "none", "timely_filing_days": 90,
        "line_style": "one_line",
        "expected_allowed": {"97124": "30.00", "97140": "28.00", "97112": "24.00"}})

    started = time.perf_counter()
    rows = queries.worklist(practice, at=AT)
    lists = time.perf_counter() - started
    started = time.perf_counter()
    report = queries.aging(practice, at=AT)
    aged = time.perf_counter() - started
    started = time.perf_counter()
    proposals = followup.refresh_proposals(practice=practice, by=None, at=AT)
    proposed = time.perf_counter() - started
    return {
        "database": connection.vendor,
        "claims": count,
        "items": dict(Counter(row.kind.value for row in rows)),
        "worklist_seconds": round(lists, 2),
        "aging_seconds": round(aged, 3),
        "aging_total": str(report.total),
        "proposals": len(proposals),
        "proposals_seconds": round(proposed, 2),
    }


def _report(result: dict[str, Any]) -> None:
    print(f"{result['database']:>10}: {result['claims']:,} posted claims -> every worklist in "
          f"{result['worklist_seconds']} s {result['items']}; aging in "
          f"{result['aging_seconds']} s; proposals ({result['proposals']}) in "
          f"{result['proposals_seconds']} s")


def _child(url: str, count: int) -> dict[str, Any]:
    import subprocess

    env = {**os.environ, "DATABASE_URL": url, "HANDBILL_LOG_LEVEL": "ERROR"}
    done = subprocess.run([sys.executable, __file__, "--child", "--claims", str(count)],  # noqa: S603
                          env=env, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"benchmark failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=5_000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.claims)))
        return
    with tempfile.TemporaryDirectory() as folder:
        _report(_child(f"sqlite:///{Path(folder) / 'bench.sqlite3'}", args.claims))
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        from urllib.parse import urlsplit, urlunsplit

        import psycopg

        parts = urlsplit(url)
        scratch = f"handbill_bench_followup_{os.getpid()}"
        admin = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{scratch}"')
        try:
            _report(_child(urlunsplit(parts._replace(path=f"/{scratch}")), args.claims))
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


if __name__ == "__main__":
    main()
