"""Two workers posting the same 835 at the same moment on PostgreSQL post it once."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection, connections

from handbill.claims.models import Claim, ClaimEvent
from handbill.core.money import Cents
from handbill.ledger.balances import claim_balance, trial_balance
from handbill.ledger.models import LedgerTransaction
from handbill.remittance import actions
from handbill.remittance.models import ClaimPayment, EraFile
from tests.conftest import FIXED_NOW
from tests.integration.remittance_setup import (
    Clp,
    Svc,
    make_clinic,
    make_submitted_claim,
    write_835,
)

LINES = [("97124", ["GP"], 2, 12000), ("97140", ["GP", "59"], 1, 7000)]


def _waiting_on_lock() -> bool:
    with connection.cursor() as cursor:
        # Activity statistics are a snapshot per transaction unless cleared.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database() AND query LIKE %s",
            ["%remittance_erafile%"],
        )
        row = cursor.fetchone()
        return bool(row and row[0])


@pytest.mark.django_db(transaction=True)
def test_two_workers_posting_one_file_post_it_once(monkeypatch: pytest.MonkeyPatch) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks; SQLite runs one writer at a time anyway")
    clinic = make_clinic()
    claims = [make_submitted_claim(clinic, LINES) for _ in range(4)]
    text = write_835([
        Clp(c.number, [
            Svc("97124", 12000, 7500, [("CO", "45", 2000), ("PR", "3", 2500)], ["GP"], 2,
                f"{c.number}-1"),
            Svc("97140", 7000, 4000, [("CO", "45", 3000)], ["GP", "59"], 1, f"{c.number}-2"),
        ]) for c in claims
    ], plb=[("L6", "", -150)])
    (era,) = actions.import_835(practice=clinic.practice, text=text, by=clinic.biller,
                                at=FIXED_NOW)

    # Whoever takes the ERA's row lock first holds it until the other worker is seen waiting
    # for it (a bounded poll, no sleeping), so the two commits truly overlap.
    read_era = actions._read_era
    first_in = threading.Lock()
    held: list[bool] = []

    def hold_then_read(locked: EraFile) -> Any:
        if first_in.acquire(blocking=False):
            deadline = time.monotonic() + 30
            while not _waiting_on_lock():
                if time.monotonic() > deadline:
                    raise AssertionError("the second worker never waited for the ERA's lock")
            held.append(True)
        return read_era(locked)

    monkeypatch.setattr(actions, "_read_era", hold_then_read)
    results: list[EraFile] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def worker() -> None:
        try:
            start.wait(timeout=30)
            results.append(actions.commit_posting(era=era, by=clinic.biller, at=FIXED_NOW))
        except BaseException as exc:  # noqa: BLE001 - reported to the test thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not errors, errors
    assert held == [True]
    assert [r.status for r in results] == ["posted", "posted"]
    # One posting: one row per CLP, three ledger transactions per claim plus the interest.
    assert ClaimPayment.objects.filter(era=era).count() == 4
    assert LedgerTransaction.objects.filter(
        idempotency_key__startswith="835:").count() == 4 * 3 + 1
    assert ClaimEvent.objects.filter(to_status="paid").count() == 4
    assert {c.status for c in Claim.objects.all()} == {"paid"}
    for claim in claims:
        assert claim_balance(clinic.practice, claim.number) == Cents(2500)
    assert trial_balance(clinic.practice).is_balanced
