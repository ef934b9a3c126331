"""Stored payer policies: shipped profiles, versioned edits, lookups, constraints and the admin."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.test import Client

from handbill.audit.models import AuditEvent
from handbill.core import policy as core_policy
from handbill.core.money import Cents
from handbill.core.policy import PayerPolicy, PolicyError, UnitRule
from handbill.policies.actions import load_shipped_policies, save_policy_version
from handbill.policies.forms import PolicyVersionForm
from handbill.policies.models import PayerPolicyVersion
from handbill.policies.store import policy_for, versions_of
from handbill.practice.models import Payer, PayerType, Practice
from tests.conftest import FIXED_NOW
from tests.factories.records import make_payer, make_practice, make_user

pytestmark = pytest.mark.django_db

SHIPPED = core_policy.read_shipped_policies()


def shipped_rules(profile: str, on: date) -> dict[str, Any]:
    found = next(item for item in SHIPPED if item.profile == profile)
    return core_policy.rules_of(found.for_date(on))


def payer_for(practice: Practice, profile: str) -> Payer:
    return Payer.objects.get(practice=practice, policy_profile=profile)


def in_force(payer: Payer, on: date) -> PayerPolicy:
    found = policy_for(payer, on)
    assert found is not None, f"no policy stored for {payer} on {on}"
    return found


def counts() -> tuple[int, int, int]:
    return (
        Payer.objects.count(),
        PayerPolicyVersion.objects.count(),
        AuditEvent.objects.count(),
    )


def test_core_payer_types_match_the_practice_choices() -> None:
    assert {member.value for member in core_policy.PayerType} == set(PayerType.values)


# --- loading the shipped profiles --------------------------------------------------------------


def test_loading_shipped_profiles_creates_payers_and_versions(now: datetime) -> None:
    practice = make_practice()
    biller = make_user(practice)
    results = load_shipped_policies(practice=practice, by=biller, at=now)

    assert {result.profile for result in results} == {item.profile for item in SHIPPED}
    assert all(result.payer_created and not result.conflicts for result in results)
    for item in SHIPPED:
        payer = payer_for(practice, item.profile)
        assert (payer.name, payer.payer_id) == (item.payer_name, item.payer_id)
        assert (payer.payer_type, payer.claim_filing_indicator) == (
            item.payer_type, item.claim_filing_indicator
        )
        stored = versions_of(payer)
        assert [(v.effective_date, v.end_date) for v in stored] == [
            (v.effective_date, v.end_date) for v in item.versions
        ]
        assert {v.source for v in stored} == {f"shipped:{item.profile}"}
        assert all(v.created_by == biller and v.created_at == now for v in stored)
    events = AuditEvent.objects.filter(practice=practice, action="policy.shipped.load")
    assert events.count() == len(SHIPPED)


def test_loading_twice_changes_nothing(now: datetime) -> None:
    practice = make_practice()
    load_shipped_policies(practice=practice, by=None, at=now)
    before = counts()
    again = load_shipped_policies(practice=practice, by=None, at=now + timedelta(days=1))
    assert counts() == before
    assert not any(result.changed or result.conflicts for result in again)
    assert sum(result.kept for result in again) == sum(len(item.versions) for item in SHIPPED)


def test_loading_reuses_the_practices_payer_for_a_profile(now: datetime) -> None:
    practice = make_practice()
    own = make_payer(
        practice, name="Cascade Mutual (our contract)", policy_profile="cascade-mutual"
    )
    results = load_shipped_policies(practice=practice, by=None, at=now)
    cascade = next(result for result in results if result.profile == "cascade-mutual")
    assert cascade.payer == own and not cascade.payer_created
    assert Payer.objects.filter(practice=practice, policy_profile="cascade-mutual").count() == 1
    assert len(versions_of(own)) == 1


def test_loading_keeps_practices_apart(now: datetime) -> None:
    first, second = make_practice(), make_practice()
    load_shipped_policies(practice=first, by=None, at=now)
    load_shipped_policies(practice=second, by=None, at=now)
    assert PayerPolicyVersion.objects.filter(practice=first).count() == (
        PayerPolicyVersion.objects.filter(practice=second).count()
    )
    for version in PayerPolicyVersion.objects.select_related("payer"):
        assert version.payer.practice_id == version.practice_id


def test_a_payer_id_clash_is_refused_with_nothing_written(now: datetime) -> None:
    practice = make_practice()
    make_payer(practice, payer_id="CLMWC", name="Another fund")
    before = counts()
    with pytest.raises(PolicyError, match="already has a payer with payer ID 'CLMWC'"):
        load_shipped_policies(practice=practice, by=None, at=now)
    assert counts() == before


def test_a_stored_version_that_differs_is_kept_and_reported(now: datetime) -> None:
    practice = make_practice()
    payer = make_payer(practice, policy_profile="cascade-mutual")
    rules = {**shipped_rules("cascade-mutual", date(2025, 1, 1)), "timely_filing_days": 120}
    mine = save_policy_version(
        payer=payer, rules=rules, effective_date=date(2025, 1, 1), by=None, at=now
    )
    results = load_shipped_policies(practice=practice, by=None, at=now)
    cascade = next(result for result in results if result.profile == "cascade-mutual")
    assert cascade.conflicts and "rules differ" in cascade.conflicts[0]
    assert versions_of(payer) == [mine]
    assert in_force(payer, date(2025, 5, 1)).timely_filing_days == 120


# --- policy_for --------------------------------------------------------------------------------


def test_policy_for_follows_the_version_change(now: datetime) -> None:
    practice = make_practice()
    load_shipped_policies(practice=practice, by=None, at=now)
    payer = payer_for(practice, "evergreen-health-ppo")

    assert policy_for(payer, date(2024, 12, 31)) is None
    december = policy_for(payer, date(2025, 12, 31))
    january = policy_for(payer, date(2026, 1, 1))
    assert december is not None and january is not None
    assert (december.visit_cap_per_year, january.visit_cap_per_year) == (24, 20)
    assert january.expected_allowed("97124") == Cents(2810)
    assert january.unit_rule is UnitRule.CPT
    assert not january.code_allowed("97140", core_policy.MASSAGE_THERAPIST)
    assert january.name == payer.name and january.profile == "evergreen-health-ppo"


def test_policy_for_a_payer_without_versions_is_none() -> None:
    payer = make_payer(make_practice())
    assert policy_for(payer, date(2026, 1, 1)) is None


def test_the_stored_policy_equals_the_shipped_one(now: datetime) -> None:
    practice = make_practice()
    load_shipped_policies(practice=practice, by=None, at=now)
    for item in SHIPPED:
        payer = payer_for(practice, item.profile)
        for version in item.versions:
            assert policy_for(payer, version.effective_date) == version


# --- a biller's edit ---------------------------------------------------------------------------


def test_an_edit_creates_a_new_version_and_closes_the_old(now: datetime) -> None:
    practice = make_practice()
    biller = make_user(practice, username="dana")
    load_shipped_policies(practice=practice, by=None, at=now)
    payer = payer_for(practice, "evergreen-health-ppo")
    old = PayerPolicyVersion.objects.get(payer=payer, effective_date=date(2026, 1, 1))
    old_rules = dict(old.rules)
    rules = {**old_rules, "visit_cap_per_year": 30, "notes": "Contract amendment"}

    new = save_policy_version(
        payer=payer, rules=rules, effective_date=date(2026, 7, 1), by=biller, at=now
    )

    old.refresh_from_db()
    assert old.end_date == date(2026, 7, 1)
    assert old.rules == old_rules
    assert (new.effective_date, new.end_date) == (date(2026, 7, 1), None)
    assert new.source == "edited by dana" and new.created_by == biller
    assert in_force(payer, date(2026, 6, 30)).visit_cap_per_year == 20
    assert in_force(payer, date(2026, 7, 1)).visit_cap_per_year == 30

    event = AuditEvent.objects.get(action="policy.version.save")
    assert (event.practice, event.actor, event.occurred_at) == (practice, biller, now)
    assert event.object_id == str(new.pk)
    assert event.detail["closed_version"] == old.pk
    assert event.detail["effective_date"] == "2026-07-01"


def test_an_edit_between_versions_ends_where_the_next_begins(now: datetime) -> None:
    practice = make_practice()
    load_shipped_policies(practice=practice, by=None, at=now)
    payer = payer_for(practice, "evergreen-health-ppo")
    rules = {**shipped_rules("evergreen-health-ppo", date(2025, 1, 1)), "daily_unit_cap": 3}
    new = save_policy_version(
        payer=payer, rules=rules, effective_date=date(2025, 6, 1), by=None, at=now
    )
    assert new.end_date == date(2026, 1, 1)
    periods = [(v.effective_date, v.end_date) for v in versions_of(payer)]
    assert periods == [
        (date(2025, 1, 1), date(2025, 6, 1)),
        (date(2025, 6, 1), date(2026, 1, 1)),
        (date(2026, 1, 1), None),
    ]
    assert in_force(payer, date(2025, 12, 31)).daily_unit_cap == 3


def test_the_first_version_of_a_new_payer_runs_on(now: datetime) -> None:
    payer = make_payer(make_practice())
    rules = shipped_rules("cascade-mutual", date(2025, 1, 1))
    version = save_policy_version(
        payer=payer, rules=rules, effective_date=date(2026, 1, 1), by=None, at=now
    )
    assert version.end_date is None and version.source == "edited"
    earlier = save_policy_version(
        payer=payer, rules=rules, effective_date=date(2025, 1, 1), by=None, at=now
    )
    assert earlier.end_date == date(2026, 1, 1)
    assert in_force(payer, date(2025, 6, 1)).profile == f"payer-{payer.pk}"


def test_invalid_rules_are_refused_with_nothing_written(now: datetime) -> None:
    practice = make_practice()
    load_shipped_policies(practice=practice, by=None, at=now)
    payer = payer_for(practice, "evergreen-health-ppo")
    before = counts()
    rules = {**shipped_rules("evergreen-health-ppo", date(2026, 1, 1)), "unit_rule": "minutes"}
    with pytest.raises(PolicyError, match="'unit_rule' is 'minutes'; use one of cms, cpt"):
        save_policy_version(
            payer=payer, rules=rules, effective_date=date(2026, 7, 1), by=None, at=now
        )
    assert counts() == before
    current = PayerPolicyVersion.objects.get(payer=payer, effective_date=date(2026, 1, 1))
    assert current.end_date is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"expected_allowed": {"97124": 28.1}}, 'quoted amount like "45.00"'),
        ({"allowed_codes": {"225700000X": ["97999"]}}, "97999 is not in Handbill's"),
        ({"visit_cap_per_yr": 20}, "did you mean 'visit_cap_per_year'"),
        ({"end_date": "2027-01-01"}, "leave end_date out"),
        ({"effective_date": "2026-08-01"}, "differs from the version's effective_date"),
    ],
)
def test_each_kind_of_bad_rule_is_refused(
    now: datetime, change: dict[str, Any], message: str
) -> None:
    payer = make_payer(make_practice())
    rules = {**shipped_rules("cascade-mutual", date(2025, 1, 1)), **change}
    with pytest.raises(PolicyError, match=message.replace("(", r"\(").replace(".", r"\.")):
        save_policy_version(
            payer=payer, rules=rules, effective_date=date(2026, 7, 1), by=None, at=now
        )
    assert not PayerPolicyVersion.objects.filter(payer=payer).exists()


def test_a_started_version_is_never_rewritten(now: datetime) -> None:
    practice = make_practice()
    load_shipped_policies(practice=practice, by=None, at=now)
    payer = payer_for(practice, "evergreen-health-ppo")
    before = counts()
    rules = {**shipped_rules("evergreen-health-ppo", date(2026, 1, 1)), "daily_unit_cap": 2}
    with pytest.raises(PolicyError, match="already has a version starting 2026-01-01"):
        save_policy_version(
            payer=payer, rules=rules, effective_date=date(2026, 1, 1), by=None, at=now
        )
    assert counts() == before


def test_a_version_that_has_not_started_can_be_replaced(now: datetime) -> None:
    practice = make_practice()
    load_shipped_policies(practice=practice, by=None, at=now)
    payer = payer_for(practice, "evergreen-health-ppo")
    base = shipped_rules("evergreen-health-ppo", date(2026, 1, 1))
    start = date(2027, 1, 1)  # after FIXED_NOW: no claim can have used it
    first = save_policy_version(
        payer=payer, rules={**base, "visit_cap_per_year": 18}, effective_date=start, by=None,
        at=now,
    )
    second = save_policy_version(
        payer=payer, rules={**base, "visit_cap_per_year": 16}, effective_date=start, by=None,
        at=now,
    )
    assert not PayerPolicyVersion.objects.filter(pk=first.pk).exists()
    assert in_force(payer, start).visit_cap_per_year == 16
    assert [v.effective_date for v in versions_of(payer)][-2:] == [date(2026, 1, 1), start]
    event = AuditEvent.objects.filter(action="policy.version.save").latest("pk")
    assert event.object_id == str(second.pk)
    assert event.detail["replaced_version"]["id"] == first.pk


def test_loading_after_an_edit_keeps_the_edit(now: datetime) -> None:
    practice = make_practice()
    load_shipped_policies(practice=practice, by=None, at=now)
    payer = payer_for(practice, "evergreen-health-ppo")
    rules = {**shipped_rules("evergreen-health-ppo", date(2026, 1, 1)), "daily_unit_cap": 6}
    save_policy_version(payer=payer, rules=rules, effective_date=date(2026, 9, 1), by=None, at=now)
    before = counts()
    results = load_shipped_policies(practice=practice, by=None, at=now)
    assert counts() == before
    assert not any(result.conflicts for result in results)
    assert in_force(payer, date(2026, 10, 1)).daily_unit_cap == 6


# --- what the database itself refuses ----------------------------------------------------------


def _row(payer: Payer, effective: date, end: date | None) -> PayerPolicyVersion:
    return PayerPolicyVersion(
        practice=payer.practice, payer=payer, effective_date=effective, end_date=end,
        rules={}, source="test", created_at=FIXED_NOW,
    )


def test_the_database_refuses_an_end_before_the_start() -> None:
    payer = make_payer(make_practice())
    with pytest.raises(IntegrityError), transaction.atomic():
        _row(payer, date(2026, 1, 1), date(2026, 1, 1)).save()


def test_the_database_refuses_two_versions_on_one_start() -> None:
    payer = make_payer(make_practice())
    _row(payer, date(2026, 1, 1), date(2026, 6, 1)).save()
    with pytest.raises(IntegrityError), transaction.atomic():
        _row(payer, date(2026, 1, 1), date(2026, 3, 1)).save()


def test_the_database_refuses_two_open_versions() -> None:
    payer = make_payer(make_practice())
    _row(payer, date(2025, 1, 1), None).save()
    with pytest.raises(IntegrityError), transaction.atomic():
        _row(payer, date(2026, 1, 1), None).save()


def test_a_stored_version_only_ever_takes_an_end_date() -> None:
    payer = make_payer(make_practice())
    version = _row(payer, date(2025, 1, 1), None)
    version.save()
    version.rules = {"unit_rule": "cpt"}
    with pytest.raises(ValueError, match="never edited"):
        version.save()
    version.end_date = date(2026, 1, 1)
    version.save(update_fields=["end_date"])
    version.refresh_from_db()
    assert version.rules == {} and version.end_date == date(2026, 1, 1)


# --- the admin ---------------------------------------------------------------------------------


def _form_data(payer: Payer, effective: date, rules: dict[str, Any]) -> dict[str, str]:
    return {
        "payer": str(payer.pk),
        "effective_date": effective.isoformat(),
        "rules": json.dumps(rules),
    }


def test_the_admin_form_shows_the_core_message() -> None:
    payer = make_payer(make_practice())
    rules = {**shipped_rules("cascade-mutual", date(2025, 1, 1)), "line_style": "per_unit"}
    form = PolicyVersionForm(data=_form_data(payer, date(2026, 1, 1), rules))
    assert not form.is_valid()
    assert "'line_style' is 'per_unit'; use one of one_line, line_per_unit" in (
        form.errors["rules"][0]
    )


def test_the_admin_form_accepts_good_rules_while_a_version_is_open(now: datetime) -> None:
    payer = make_payer(make_practice())
    rules = shipped_rules("cascade-mutual", date(2025, 1, 1))
    save_policy_version(payer=payer, rules=rules, effective_date=date(2025, 1, 1), by=None, at=now)
    form = PolicyVersionForm(data=_form_data(payer, date(2026, 1, 1), rules))
    assert form.is_valid(), form.errors


def _admin_client() -> tuple[Client, Any]:
    admin_user = get_user_model().objects.create_superuser(
        username="admin-biller", password="synthetic-pass-123"
    )
    client = Client()
    client.force_login(admin_user)
    return client, admin_user


def test_adding_in_the_admin_goes_through_the_action(now: datetime) -> None:
    payer = make_payer(make_practice())
    client, admin_user = _admin_client()
    rules = shipped_rules("cascade-mutual", date(2025, 1, 1))
    response = client.post(
        "/admin/policies/payerpolicyversion/add/", _form_data(payer, date(2025, 1, 1), rules)
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    version = PayerPolicyVersion.objects.get(payer=payer)
    assert version.source == "edited by admin-biller" and version.practice == payer.practice
    assert AuditEvent.objects.filter(action="policy.version.save", actor=admin_user).exists()


def test_changing_in_the_admin_stores_a_new_version(now: datetime) -> None:
    practice = make_practice()
    load_shipped_policies(practice=practice, by=None, at=now)
    payer = payer_for(practice, "cascade-mutual")
    old = PayerPolicyVersion.objects.get(payer=payer)
    client, _ = _admin_client()
    rules = {**old.rules, "timely_filing_days": 60}
    data = _form_data(payer, date(2026, 4, 1), rules)
    del data["payer"]  # read-only on the change page
    response = client.post(f"/admin/policies/payerpolicyversion/{old.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    old.refresh_from_db()
    assert old.end_date == date(2026, 4, 1) and old.rules["timely_filing_days"] == 90
    assert in_force(payer, date(2026, 4, 1)).timely_filing_days == 60


def test_the_admin_refuses_bad_rules_with_the_message(now: datetime) -> None:
    payer = make_payer(make_practice())
    client, _ = _admin_client()
    rules = {**shipped_rules("cascade-mutual", date(2025, 1, 1)), "timely_filing_days": "90"}
    response = client.post(
        "/admin/policies/payerpolicyversion/add/", _form_data(payer, date(2025, 1, 1), rules)
    )
    assert response.status_code == 200
    assert "&#x27;timely_filing_days&#x27; must be a whole number" in response.content.decode()
    assert not PayerPolicyVersion.objects.exists()
