"""What sending a large choice of claims in steps costs against one submit of them all.

    .venv/bin/python bench/submission_job_steps.py [--claims 2000] [--step 500]

The submit page sends a job one step (one 837 file of ``--step`` claims) per browser poll, so a
progress bar can move and no request runs for minutes. This measures the price of that: the
same N stored ready claims (``p837_db_speed``'s synthetic clinic) are sent once with one
``submit_claims`` call (one file) and once as a ``SubmissionJob`` advanced step by step, each on
a fresh SQLite database in a child process (and on PostgreSQL too when DATABASE_URL names one).
Prints both times and their ratio (steps / one-shot), plus the slowest single step — the
longest a poll waits.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))


def run_one(mode: str, count: int, step: int, outbox: str) -> dict[str, Any]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "handbill.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from p837_db_speed import AT, _store

    from handbill.claims.models import Claim
    from handbill.submissions.actions import submit_claims
    from handbill.submissions.jobs import advance_job, start_job
    from handbill.submissions.models import Clearinghouse, JobStatus

    call_command("migrate", verbosity=0)
    practice = _store(count)
    house = Clearinghouse.objects.create(
        practice=practice, name="Bench clearinghouse", receiver_id="TESTCH01",
        receiver_name="TEST CLEARINGHOUSE", transport="outbox", outbox_path=outbox,
        created_at=AT,
    )
    ids = list(Claim.objects.filter(practice=practice).order_by("pk").values_list("pk", flat=True))
    steps: list[float] = []
    started = time.perf_counter()
    if mode == "oneshot":
        submit_claims(practice=practice, claims=ids, clearinghouse=house, by=None, at=AT)
    else:
        job = start_job(practice=practice, claims=ids, clearinghouse=house, by=None, at=AT,
                        step_size=step)
        while job.status == JobStatus.RUNNING:
            began = time.perf_counter()
            job = advance_job(job=job, by=None, at=AT)
            steps.append(time.perf_counter() - began)
        if job.status != JobStatus.DONE:
            raise SystemExit(f"the job ended {job.status}: {job.error}")
    seconds = time.perf_counter() - started
    sent = Claim.objects.filter(practice=practice, status="submitted").count()
    if sent != count:
        raise SystemExit(f"{mode}: only {sent} of {count} claims were submitted")
    return {"database": connection.vendor, "mode": mode, "claims": count,
            "seconds": round(seconds, 3), "steps": len(steps),
            "slowest_step_seconds": round(max(steps), 3) if steps else None}


def _child(url: str, mode: str, count: int, step: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as outbox:
        env = {**os.environ, "DATABASE_URL": url, "HANDBILL_LOG_LEVEL": "ERROR"}
        argv = [sys.executable, __file__, "--child", mode, "--claims", str(count),
                "--step", str(step), "--outbox", outbox]
        done = subprocess.run(argv, env=env, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{mode} on {urlsplit(url).scheme} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _pair(url: str, count: int, step: int) -> None:
    one = _child(url, "oneshot", count, step)
    stepped = _child(url, "steps", count, step)
    print(f"{one['database']:>10}: {count:,} claims — one submit {one['seconds']} s; "
          f"{stepped['steps']} steps of {step} {stepped['seconds']} s "
          f"(slowest step {stepped['slowest_step_seconds']} s); "
          f"ratio steps/one-shot {stepped['seconds'] / one['seconds']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=2000)
    parser.add_argument("--step", type=int, default=500)
    parser.add_argument("--child", choices=["oneshot", "steps"], help=argparse.SUPPRESS)
    parser.add_argument("--outbox", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child, args.claims, args.step, args.outbox)))
        return
    with tempfile.TemporaryDirectory() as folder:
        _pair(f"sqlite:///{Path(folder) / 'bench.sqlite3'}", args.claims, args.step)
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("PostgreSQL: skipped (set DATABASE_URL=postgres://… to include it)")
        return
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    scratch = f"handbill_bench_{os.getpid()}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{scratch}"')
    try:
        _pair(urlunsplit(parts._replace(path=f"/{scratch}")), args.claims, args.step)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


if __name__ == "__main__":
    main()
