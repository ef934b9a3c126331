"""Synthetic eligibility requests and envelopes for the 270/271 tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from handbill.core.eligibility_values import EligibilityRequest, Member, Provider
from handbill.x12.eligibility import Envelope

SERVICE_DATE = date(2026, 11, 24)
CREATED_AT = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def envelope(**changes: Any) -> Envelope:
    base = Envelope(sender_id="HBSUBMIT01", receiver_id="HBSANDBOX", interchange_control=41,
                    group_control=41, transaction_control=41, created_at=CREATED_AT)
    return replace(base, **changes)


def subscriber(**changes: Any) -> Member:
    base = Member(last_name="SAMPLE", first_name="JORDAN", middle_name="Q",
                  member_id="EVH123456789", birth_date=date(1980, 5, 17), sex="F",
                  group_number="G100200")
    return replace(base, **changes)


def dependent(**changes: Any) -> Member:
    base = Member(last_name="SAMPLE", first_name="RILEY", birth_date=date(2012, 2, 29),
                  sex="M", relationship="19")
    return replace(base, **changes)


def request(**changes: Any) -> EligibilityRequest:
    base = EligibilityRequest(
        trace_number="E000000041",
        originator_id="1123456789",
        payer_name="EVERGREEN HEALTH PPO",
        payer_id="EVGHP",
        provider=Provider("1234567893", organization_name="CEDAR STREET MASSAGE THERAPY",
                          taxonomy="225700000X"),
        subscriber=subscriber(),
        service_date=SERVICE_DATE,
        service_types=("30", "AE", "PT", "BE"),
    )
    return replace(base, **changes)
