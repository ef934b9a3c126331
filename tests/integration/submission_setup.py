"""Ready claims and clearinghouses for the submission tests (synthetic people only)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from django.db import connection

from handbill.claims import actions
from handbill.claims.models import Claim
from handbill.policies.actions import load_shipped_policies
from handbill.practice.models import Payer, Provider
from handbill.submissions.models import Clearinghouse
from tests.conftest import FIXED_NOW
from tests.factories import records as f

CLEAN_PROFILE = "rainier-uniform-plan"


def make_clinic(outbox: Path) -> dict[str, Any]:
    practice = f.make_practice(
        submitter_id="HBSUBMIT01", phone="360-555-0100", postal_code="98501-1234"
    )
    load_shipped_policies(practice=practice, by=None, at=FIXED_NOW)
    provider = f.make_provider(practice)
    payers = {p.policy_profile: p for p in Payer.objects.filter(practice=practice)}
    for payer in payers.values():
        f.enroll(provider, payer)
    f.set_fees(practice)
    house = Clearinghouse.objects.create(
        practice=practice,
        name="Test clearinghouse",
        receiver_id="TESTCH01",
        receiver_name="TEST CLEARINGHOUSE",
        transport="outbox",
        outbox_path=str(outbox),
        created_at=FIXED_NOW,
    )
    return {
        "practice": practice,
        "provider": provider,
        "payers": payers,
        "biller": f.make_user(practice, role="biller"),
        "house": house,
    }


def ready_claim(
    clinic: dict[str, Any], *, profile: str = CLEAN_PROFILE, on: date = date(2026, 11, 2),
    **patient: Any,
) -> Claim:
    person = f.make_patient(clinic["practice"], **patient)
    coverage = f.make_coverage(person, clinic["payers"][profile], group_number="GRP100")
    f.make_authorization(coverage, kind="prescription")
    visit = f.make_signed_visit(clinic["provider"], person, on=on)
    claim = actions.build_claim(visit=visit, by=clinic["biller"], at=FIXED_NOW)
    return actions.mark_ready(claim=claim, by=clinic["biller"], at=FIXED_NOW)


def blank_provider_npi(provider: Provider) -> None:
    """Store a provider without an NPI, as an old import or a hand edit might have left it.

    The model's check constraint refuses that, so the constraint is stepped around for this
    one statement (inside the test's transaction, which rolls back)."""
    table = Provider._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA ignore_check_constraints = ON")
            cursor.execute(f"UPDATE {table} SET npi = '' WHERE id = %s", [provider.pk])  # noqa: S608
            cursor.execute("PRAGMA ignore_check_constraints = OFF")
        else:
            # Deferred foreign-key checks must run first: PostgreSQL alters no table with
            # trigger events pending.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT provider_npi_shape")
            cursor.execute(f"UPDATE {table} SET npi = '' WHERE id = %s", [provider.pk])  # noqa: S608


def statuses(claims: list[Claim]) -> list[str]:
    return list(
        Claim.objects.filter(pk__in=[c.pk for c in claims]).order_by("pk")
        .values_list("status", flat=True)
    )


def x12_envelope(transaction_set: str, version: str, body: list[str], control: int) -> bytes:
    """A small response file as a clearinghouse would leave it (envelope plus a body)."""
    isa = (
        f"ISA*00*          *00*          *ZZ*{'TESTCH01':<15}*ZZ*{'HBSUBMIT01':<15}*261123*1700*^*"
        f"00501*{control:09d}*0*T*:~"
    )
    assert len(isa) == 106
    functional_id = {"999": "FA", "277": "HN", "835": "HP"}[transaction_set]
    segments = [
        f"GS*{functional_id}*TESTCH01*HBSUBMIT01*20261123*1700*{control}*X*{version}",
        f"ST*{transaction_set}*0001*{version}",
        *body,
        f"SE*{len(body) + 2}*0001",
        f"GE*1*{control}",
        f"IEA*1*{control:09d}",
    ]
    return (isa + "~".join(segments) + "~").encode("ascii")
