"""The payer page's proposed rule changes: this payer's open proposals in words, accept and
dismiss from there (back to the payer page), and another practice's proposal is a 404."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from handbill.core.policy import MASSAGE_THERAPIST
from handbill.followup import actions
from handbill.followup.models import RuleProposal
from handbill.policies.models import PayerPolicyVersion
from handbill.policies.store import policy_for
from handbill.practice.models import Role
from tests.conftest import FIXED_NOW
from tests.factories import records as f
from tests.integration import followup_setup as fs

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic(tmp_path: Path, capsys: pytest.CaptureFixture[str],
           monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setattr("handbill.web.views.followup.now", lambda: FIXED_NOW)
    monkeypatch.setattr("handbill.web.views.payers.now", lambda: FIXED_NOW)
    found = fs.round_trip(tmp_path, capsys)
    [found["proposal"]] = actions.refresh_proposals(practice=found["practice"], by=None,
                                                    at=FIXED_NOW)
    return found


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_payer_page_shows_its_open_proposal(clinic: dict[str, Any]) -> None:
    payer = clinic["payers"][fs.PROFILE]
    proposal = clinic["proposal"]
    html = _client(clinic["biller"]).get(reverse("web:payer", args=[payer.pk])).content.decode()
    assert "Proposed rule changes" in html
    assert f'data-proposal="{proposal.pk}"' in html
    assert "Stop billing 97124 for provider type" in html
    assert ">170<" in html and f">{proposal.count}<" in html and proposal.count == 3
    assert reverse("web:proposal_accept", args=[proposal.pk]) in html
    assert reverse("web:proposal_dismiss", args=[proposal.pk]) in html
    # Another payer of the practice has none: the panel is not there.
    other = next(p for key, p in clinic["payers"].items() if key != fs.PROFILE)
    assert "Proposed rule changes" not in _client(clinic["biller"]).get(
        reverse("web:payer", args=[other.pk])).content.decode()
    # A therapist reads the payer's rules but does not work denials.
    therapist = f.make_user(clinic["practice"], role=Role.THERAPIST)
    seen = _client(therapist).get(reverse("web:payer", args=[payer.pk]))
    assert seen.status_code == 200 and "Proposed rule changes" not in seen.content.decode()


def test_accept_from_the_payer_page_saves_a_new_version(clinic: dict[str, Any]) -> None:
    payer = clinic["payers"][fs.PROFILE]
    proposal = clinic["proposal"]
    versions = PayerPolicyVersion.objects.filter(payer=payer).count()
    day = FIXED_NOW.date() + timedelta(days=3)
    client = _client(clinic["biller"])
    answer = client.post(reverse("web:proposal_accept", args=[proposal.pk]),
                         {"effective_date": day.isoformat(), "back": "payer"})
    assert answer.status_code == 302
    assert answer["Location"] == reverse("web:payer", args=[payer.pk])
    assert PayerPolicyVersion.objects.filter(payer=payer).count() == versions + 1
    proposal.refresh_from_db()
    assert proposal.status == "accepted"
    assert proposal.policy_version is not None
    assert proposal.policy_version.effective_date == day
    assert not policy_for(payer, day).code_allowed("97124", MASSAGE_THERAPIST)
    page = client.get(answer["Location"]).content.decode()
    assert "new policy version from" in page
    assert "Proposed rule changes" not in page  # decided: no longer open


def test_dismiss_from_the_payer_page(clinic: dict[str, Any]) -> None:
    payer = clinic["payers"][fs.PROFILE]
    proposal = clinic["proposal"]
    versions = PayerPolicyVersion.objects.filter(payer=payer).count()
    answer = _client(clinic["biller"]).post(
        reverse("web:proposal_dismiss", args=[proposal.pk]), {"back": "payer"})
    assert answer["Location"] == reverse("web:payer", args=[payer.pk])
    proposal.refresh_from_db()
    assert proposal.status == "dismissed"
    assert PayerPolicyVersion.objects.filter(payer=payer).count() == versions


def test_another_practices_proposal_is_404(clinic: dict[str, Any]) -> None:
    proposal = clinic["proposal"]
    stranger = _client(f.make_user(f.make_practice(), role=Role.OWNER))
    for name in ("web:proposal_accept", "web:proposal_dismiss"):
        answer = stranger.post(reverse(name, args=[proposal.pk]), {"back": "payer"})
        assert answer.status_code == 404
    assert RuleProposal.objects.get(pk=proposal.pk).status == "proposed"
    payer = clinic["payers"][fs.PROFILE]
    assert stranger.get(reverse("web:payer", args=[payer.pk])).status_code == 404
