"""Payer pages: the list, a payer's policy versions with their dates, a new version through the
policies app's write path (the old version closes with its rules unchanged), errors next to
the fields with what was typed kept, and 404 for another practice's payer."""

from __future__ import annotations

from datetime import date

import pytest

from handbill.audit.models import AuditEvent
from handbill.policies.models import PayerPolicyVersion
from tests.integration.web_clinic import Clinic, make_clinic

pytestmark = pytest.mark.django_db

PROFILE = "rainier-uniform-plan"


@pytest.fixture
def clinic() -> Clinic:
    return make_clinic()


def _form(client: object, url: str) -> dict[str, object]:
    """The edit form's initial values, as a browser would post them back."""
    form = client.get(url).context["form"]  # type: ignore[attr-defined]
    data: dict[str, object] = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if isinstance(value, bool):
            if value:
                data[name] = "on"
            continue
        data[name] = "" if value is None else value
    return data


def test_the_list_and_a_payers_versions(clinic: Clinic) -> None:
    client = clinic.client_for("therapist")
    page = client.get("/payers/")
    assert page.status_code == 200
    names = [p.name for p in page.context["page"].object_list]
    assert names == sorted(names) and len(names) == len(clinic.payers)
    payer = clinic.payers[PROFILE]
    listed = next(p for p in page.context["page"].object_list if p.pk == payer.pk)
    current = PayerPolicyVersion.objects.get(payer=payer, end_date__isnull=True)
    assert listed.policy_since == current.effective_date
    assert ">Payers</a>" in page.content.decode()  # the nav item

    detail = client.get(f"/payers/{payer.pk}/")
    text = detail.content.decode()
    assert "web/payers/_proposals.html" in [t.name for t in detail.templates]
    assert "In force" in text and "Minutes to units" in text
    assert current.effective_date.strftime("%m/%d/%Y") in text
    assert "New rules from a date" not in text  # a therapist reads, a biller edits
    assert client.get(f"/payers/{payer.pk}/policy/new/").status_code == 403


def test_new_rules_from_a_date_close_the_old_version_unchanged(clinic: Clinic) -> None:
    payer = clinic.payers[PROFILE]
    old = PayerPolicyVersion.objects.get(payer=payer, end_date__isnull=True)
    old_rules = dict(old.rules)
    client = clinic.client_for("biller")
    url = f"/payers/{payer.pk}/policy/new/"
    data = _form(client, url)
    assert data["timely_filing_days"] == old_rules["timely_filing_days"]
    data.update(effective_date="2027-01-01", timely_filing_days=90,
                notes="Filing limit cut to 90 days")
    saved = client.post(url, data)
    assert saved.status_code == 302 and saved["Location"] == f"/payers/{payer.pk}/"
    old.refresh_from_db()
    assert old.end_date == date(2027, 1, 1) and old.rules == old_rules
    new = PayerPolicyVersion.objects.get(payer=payer, effective_date=date(2027, 1, 1))
    assert new.end_date is None and new.rules["timely_filing_days"] == 90
    assert new.rules["allowed_codes"] == old_rules["allowed_codes"]
    assert new.rules["expected_allowed"] == old_rules["expected_allowed"]
    assert new.source.startswith("edited by ")
    assert AuditEvent.objects.filter(action="policy.version.save",
                                     object_id=str(new.pk)).exists()
    page = client.get(f"/payers/{payer.pk}/").content.decode()
    assert "Upcoming" in page and "01/01/2027" in page


def test_errors_stand_next_to_their_fields_and_keep_what_was_typed(clinic: Clinic) -> None:
    payer = clinic.payers[PROFILE]
    before = PayerPolicyVersion.objects.count()
    client = clinic.client_for("biller")
    url = f"/payers/{payer.pk}/policy/new/"
    data = _form(client, url)

    bad_code = {**data, "effective_date": "2027-01-01", "expected_allowed": "99999: 10.00"}
    response = client.post(url, bad_code)
    assert response.status_code == 422
    form = response.context["form"]
    assert "expected_allowed" in form.errors, form.errors
    assert "99999" in form.errors["expected_allowed"][0]
    assert "99999: 10.00" in response.content.decode()  # kept as typed
    assert 'id="id_expected_allowed_error"' in response.content.decode()

    no_colon = client.post(url, {**data, "effective_date": "2027-01-01",
                                 "allowed_codes": "225700000X 97124"})
    assert "needs a colon" in no_colon.context["form"].errors["allowed_codes"][0]

    started = PayerPolicyVersion.objects.filter(payer=payer).earliest("effective_date")
    past = client.post(url, {**data, "effective_date": started.effective_date.isoformat()})
    assert past.status_code == 422
    assert "already has a version starting" in past.context["form"].errors["effective_date"][0]

    missing = client.post(url, {**data, "effective_date": "2027-01-01",
                                "timely_filing_days": ""})
    assert "timely_filing_days" in missing.context["form"].errors
    assert PayerPolicyVersion.objects.count() == before


def test_another_practices_payer_is_404(clinic: Clinic) -> None:
    other = make_clinic("Birch Lane Bodywork", patient_last="Oakhollow")
    theirs = other.payers[PROFILE]
    client = clinic.client_for("biller")
    assert client.get(f"/payers/{theirs.pk}/").status_code == 404
    assert client.get(f"/payers/{theirs.pk}/policy/new/").status_code == 404
    assert client.post(f"/payers/{theirs.pk}/policy/new/", {}).status_code == 404
    listed = {p.pk for p in client.get("/payers/").context["page"].object_list}
    assert theirs.pk not in listed
