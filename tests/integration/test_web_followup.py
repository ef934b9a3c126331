"""The queues and proposals pages: tabs, rows in words, the biller's moves, pagination, roles
and tenancy (another practice's item or proposal is a 404)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from handbill.core.policy import MASSAGE_THERAPIST
from handbill.followup import actions, queries
from handbill.followup.models import RuleProposal, WorkItem
from handbill.ledger.balances import patient_balance
from handbill.policies.store import policy_for
from handbill.practice.models import Role
from tests.conftest import FIXED_NOW
from tests.factories import records as f
from tests.integration import followup_setup as fs

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic(tmp_path: Path, capsys: pytest.CaptureFixture[str],
           monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    # Views read the clock through handbill.web.pages.now; the round trip is dated FIXED_NOW.
    monkeypatch.setattr("handbill.web.views.followup.now", lambda: FIXED_NOW)
    return fs.round_trip(tmp_path, capsys)


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _denial_keys(clinic: dict[str, Any]) -> list[str]:
    return [r.key for r in queries.worklist(clinic["practice"], at=FIXED_NOW, kind="denials")
            if r.step.codes == "CO-170 N130"]


def test_queues_tabs_and_rows_in_words(clinic: dict[str, Any]) -> None:
    client = _client(clinic["biller"])
    page = client.get(reverse("web:queues"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "A/R follow-up" in html and "Denials" in html and "Timely filing" in html
    assert html.count('data-key="followup:') == 3
    denials = client.get(reverse("web:queues"), {"kind": "denials"}).content.decode()
    assert "CO-170 N130" in denials
    assert "does not pay this service when this provider type" in denials
    assert "write it off and drop the code" in denials
    assert "$90.00" in denials
    claim = clinic["claims"][0]
    assert reverse("web:claim", args=[claim.pk]) in denials
    assert "Mark worked" in denials and "Snooze" in denials and "Assign" in denials
    assert "Bill patient" in denials
    # An unknown tab shows the follow-up queue rather than an error.
    assert client.get(reverse("web:queues"), {"kind": "nonsense"}).status_code == 200


def test_htmx_tab_gets_the_fragment(clinic: dict[str, Any]) -> None:
    client = _client(clinic["biller"])
    part = client.get(reverse("web:queues"), {"kind": "denials"}, HTTP_HX_REQUEST="true")
    html = part.content.decode()
    assert "<html" not in html and "queue-table" in html


def test_mark_worked_snooze_assign_from_the_page(clinic: dict[str, Any]) -> None:
    client = _client(clinic["biller"])
    first, second, third = _denial_keys(clinic)
    url = reverse("web:queue_work")
    answer = client.post(url, {"key": first, "op": "worked", "kind": "denials",
                               "note": "wrote it off"})
    assert answer.status_code == 302 and "kind=denials" in answer["Location"]
    assert WorkItem.objects.get(key=first).worked_at is not None
    listing = client.get(reverse("web:queues"), {"kind": "denials"}).content.decode()
    assert f'data-key="{first}"' not in listing and f'data-key="{second}"' in listing

    until = (FIXED_NOW.date() + timedelta(days=5)).isoformat()
    client.post(url, {"key": second, "op": "snooze", "until": until, "kind": "denials"})
    assert WorkItem.objects.get(key=second).snoozed_until.isoformat() == until
    bad = client.post(url, {"key": third, "op": "snooze", "until": "soon", "kind": "denials"},
                      follow=True)
    assert "pick the day to snooze until" in bad.content.decode()

    colleague = f.make_user(clinic["practice"], role="biller")
    client.post(url, {"key": third, "op": "assign", "to": str(colleague.pk),
                      "kind": "denials"})
    assert WorkItem.objects.get(key=third).assigned_to == colleague
    outsider = f.make_user(f.make_practice(), role="biller")
    refused = client.post(url, {"key": third, "op": "assign", "to": str(outsider.pk),
                                "kind": "denials"}, follow=True)
    assert "pick an owner or biller" in refused.content.decode()
    assert WorkItem.objects.get(key=third).assigned_to == colleague


def test_bill_patient_from_the_page(clinic: dict[str, Any]) -> None:
    client = _client(clinic["biller"])
    key = _denial_keys(clinic)[0]
    row = queries.find_row(clinic["practice"], key, at=FIXED_NOW)
    assert row is not None
    account = row.claim.patient.account_number
    before = patient_balance(clinic["practice"], account)
    url = reverse("web:queue_work")
    refused = client.post(url, {"key": key, "op": "bill_patient", "kind": "denials"},
                          follow=True)
    assert "agreed in writing" in refused.content.decode()
    assert patient_balance(clinic["practice"], account) == before
    done = client.post(url, {"key": key, "op": "bill_patient", "agreed": "on",
                             "kind": "denials"}, follow=True)
    assert "Moved $90.00 to the patient" in done.content.decode()
    assert (patient_balance(clinic["practice"], account) - before).value == 9000


def test_another_practice_item_is_404(clinic: dict[str, Any]) -> None:
    other = f.make_practice()
    stranger = f.make_user(other, role="biller")
    client = _client(stranger)
    key = _denial_keys(clinic)[0]
    answer = client.post(reverse("web:queue_work"), {"key": key, "op": "worked"})
    assert answer.status_code == 404
    assert not WorkItem.objects.filter(key=key).exists()
    assert "CO-170" not in client.get(reverse("web:queues"), {"kind": "denials"}).content.decode()
    [proposal] = actions.refresh_proposals(practice=clinic["practice"], by=None, at=FIXED_NOW)
    assert client.post(reverse("web:proposal_accept", args=[proposal.pk])).status_code == 404
    assert client.post(reverse("web:proposal_dismiss", args=[proposal.pk])).status_code == 404
    assert RuleProposal.objects.get(pk=proposal.pk).status == "proposed"
    assert "97124" not in client.get(reverse("web:proposals")).content.decode()


def test_roles(clinic: dict[str, Any]) -> None:
    therapist = f.make_user(clinic["practice"], role=Role.THERAPIST)
    client = _client(therapist)
    assert client.get(reverse("web:queues")).status_code == 403
    assert client.get(reverse("web:proposals")).status_code == 403
    anonymous = Client().get(reverse("web:queues"))
    assert anonymous.status_code == 302
    # The header shows Queues to a biller only.
    biller_home = _client(clinic["biller"]).get(reverse("web:claims")).content.decode()
    assert reverse("web:queues") in biller_home
    assert reverse("web:queues") not in client.get(reverse("web:claims")).content.decode()


def test_proposals_page_refresh_accept_dismiss(clinic: dict[str, Any]) -> None:
    client = _client(clinic["biller"])
    assert "No proposals yet" in client.get(reverse("web:proposals")).content.decode()
    found = client.post(reverse("web:proposals_refresh"), follow=True).content.decode()
    assert "1 new proposal." in found
    assert "Stop billing 97124" in found and "Cascade Mutual Health Plan" in found
    proposal = RuleProposal.objects.get(practice=clinic["practice"])
    day = FIXED_NOW.date() + timedelta(days=8)
    accepted = client.post(reverse("web:proposal_accept", args=[proposal.pk]),
                           {"effective_date": day.isoformat()}, follow=True).content.decode()
    assert "new policy version from" in accepted
    payer = clinic["payers"][fs.PROFILE]
    assert not policy_for(payer, day).code_allowed("97124", MASSAGE_THERAPIST)
    assert policy_for(payer, day - timedelta(days=1)).code_allowed("97124", MASSAGE_THERAPIST)
    again = client.post(reverse("web:proposal_dismiss", args=[proposal.pk]),
                        follow=True).content.decode()
    assert "already accepted" in again


def test_queue_paginates(clinic: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("handbill.web.views.followup.PER_PAGE", 2)
    client = _client(clinic["biller"])
    first = client.get(reverse("web:queues"), {"kind": "followup"}).content.decode()
    assert first.count('data-key="followup:') == 2 and "Page 1 of 2" in first
    second = client.get(reverse("web:queues"), {"kind": "followup", "page": 2}).content.decode()
    assert second.count('data-key="followup:') == 1


def test_timely_tab_shows_the_countdown(clinic: dict[str, Any]) -> None:
    from tests.integration import remittance_setup as rs

    holder = rs.Clinic(clinic["practice"], clinic["payers"][fs.PROFILE], clinic["provider"],
                       clinic["biller"])
    today = FIXED_NOW.date()
    rs.make_submitted_claim(holder, [("97140", ["GP"], 1, 4500)], status="ready",
                            on=today - timedelta(days=80))
    rs.make_submitted_claim(holder, [("97140", ["GP"], 1, 4500)], status="rejected",
                            on=today - timedelta(days=95))
    html = _client(clinic["biller"]).get(reverse("web:queues"),
                                         {"kind": "timely"}).content.decode()
    assert "10 days left" in html and "5 days ago" in html
    assert 'class="filing filing-near"' in html and 'class="filing filing-past"' in html
    assert "Appeal letter (PDF)" in html and "Fix and send again" in html
