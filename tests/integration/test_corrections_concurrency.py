"""Two billers correcting the same claim at the same moment on PostgreSQL make one correction."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections

from handbill.claims import corrections
from handbill.claims.actions import ClaimError
from handbill.claims.models import Claim
from tests.integration import money_back_setup as mb


def _waiting_on_a_claim_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database() AND query LIKE %s",
            ["%claims_claim%"],  # the query text is cut at 1 kB: no FOR UPDATE
        )
        row = cursor.fetchone()
        return bool(row and row[0])


@pytest.mark.django_db(transaction=True)
def test_two_corrections_of_one_claim_at_once_make_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks; SQLite runs one writer at a time anyway")
    clinic = mb.clinic(tmp_path)
    original = mb.post_835(clinic, mb.sent_claim(clinic))

    # The first to lock the claim holds the lock until the other is seen waiting for it.
    make = corrections._new_correction
    first_in = threading.Lock()
    held: list[bool] = []

    def hold_then_make(*args: Any, **kwargs: Any) -> Claim:
        if first_in.acquire(blocking=False):
            deadline = time.monotonic() + 30
            while not _waiting_on_a_claim_lock():
                if time.monotonic() > deadline:
                    raise AssertionError("the second biller never waited for the claim's lock")
            held.append(True)
        return make(*args, **kwargs)

    monkeypatch.setattr(corrections, "_new_correction", hold_then_make)
    made: list[Claim] = []
    refused: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def biller(kind: str) -> None:
        try:
            start.wait(timeout=30)
            made.append(corrections.correct_claim(
                claim=original, kind=kind, by=clinic["biller"], at=mb.LATER, reason=kind))
        except ClaimError as exc:
            refused.append(str(exc))
        except BaseException as exc:  # noqa: BLE001 - reported to the test thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=biller, args=(kind,)) for kind in ("replace", "void")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not errors, errors
    assert held == [True]
    assert len(made) == 1 and len(refused) == 1
    assert "already has a" in refused[0]
    assert Claim.objects.filter(replaces=original).count() == 1
    assert Claim.objects.get(pk=original.pk).status == "corrected"
