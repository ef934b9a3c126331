"""The submit page: choose ready claims, send them as a job one file per step with a progress
bar, see each claim's result; a failed upload leaves the claims ready and offers a retry;
another practice's job is a 404."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from handbill.claims import actions as claim_actions
from handbill.claims.models import Claim
from handbill.submissions import jobs
from handbill.submissions.models import (
    BatchStatus,
    Clearinghouse,
    JobStatus,
    SubmissionBatch,
    SubmissionJob,
)
from tests.conftest import FIXED_NOW
from tests.integration.web_clinic import Clinic, draft_claim, make_clinic, signed_visit

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def _house(clinic: Clinic, outbox: Path) -> Clearinghouse:
    clinic.practice.submitter_id = "HBWEB0001"
    clinic.practice.save(update_fields=["submitter_id"])
    return Clearinghouse.objects.create(
        practice=clinic.practice, name="Test clearinghouse", receiver_id="TESTCH01",
        receiver_name="TEST CLEARINGHOUSE", transport="outbox", outbox_path=str(outbox),
        created_at=FIXED_NOW,
    )


_DAYS = iter(range(10_000))


def ready(clinic: Clinic) -> Claim:
    """A ready claim on a day of its own (two on one day would be duplicate lines)."""
    on = date(2026, 10, 1) + timedelta(days=next(_DAYS) % 50)
    claim = draft_claim(clinic, signed_visit(clinic, on=on))
    return claim_actions.mark_ready(claim=claim, by=clinic.users["biller"], at=FIXED_NOW)


@pytest.fixture
def clinic() -> Clinic:
    return make_clinic()


@pytest.fixture
def house(clinic: Clinic, tmp_path: Path) -> Clearinghouse:
    return _house(clinic, tmp_path / "outbox")


def _statuses(claims: list[Claim]) -> list[str]:
    return [Claim.objects.get(pk=c.pk).status for c in claims]


def _run(client: object, job: SubmissionJob, limit: int = 20) -> SubmissionJob:
    """Poll the step URL as the progress bar does until the job stops running."""
    for _ in range(limit):
        job.refresh_from_db()
        if job.status != JobStatus.RUNNING:
            return job
        response = client.post(f"/submit/jobs/{job.pk}/step/", headers=HTMX)  # type: ignore[attr-defined]
        assert response.status_code == 200
    raise AssertionError("the job never finished")


def test_the_page_lists_ready_claims_by_payer_and_only_billers_see_it(
    clinic: Clinic, house: Clearinghouse
) -> None:
    claims = [ready(clinic) for _ in range(2)]
    draft = draft_claim(clinic)
    client = clinic.client_for("biller")
    page = client.get("/submit/")
    assert page.status_code == 200
    listed = [c.pk for c in page.context["page"].object_list]
    assert listed == [c.pk for c in claims] and draft.pk not in listed
    text = page.content.decode()
    assert 'aria-label="Main"' in text and ">Submit</a>" in text  # the nav item
    assert "Submit all 2 ready claims" in text
    assert f'<label for="claim-{claims[0].pk}" class="visually-hidden">' in text
    other_payer = next(p for k, p in clinic.payers.items() if k != "rainier-uniform-plan")
    filtered = client.get("/submit/", {"payer": other_payer.pk}, headers=HTMX)
    assert filtered.templates[0].name == "web/submit/_claims.html"
    assert b"No claims are ready to submit for this payer" in filtered.content
    assert clinic.client_for("therapist").get("/submit/").status_code == 403
    assert ">Submit</a>" not in clinic.client_for("therapist").get("/patients/").content.decode()


def test_a_large_choice_goes_out_file_by_file_with_a_progress_bar(
    clinic: Clinic, house: Clearinghouse, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(jobs, "STEP_SIZE", 2)
    claims = [ready(clinic) for _ in range(5)]
    client = clinic.client_for("biller")
    started = client.post("/submit/start/", {
        "clearinghouse": house.pk, "claims": [c.pk for c in claims]})
    job = SubmissionJob.objects.get()
    assert started.status_code == 302 and started["Location"] == f"/submit/jobs/{job.pk}/"
    assert _statuses(claims) == ["ready"] * 5  # nothing is sent before the first poll

    page = client.get(f"/submit/jobs/{job.pk}/")
    text = page.content.decode()
    assert 'hx-trigger="every 1s"' in text and 'hx-post="/submit/jobs/' in text
    assert '<progress id="job-progress" max="5" value="0"' in text
    assert "Sending file 1 of 3" in text

    first = client.post(f"/submit/jobs/{job.pk}/step/", headers=HTMX)
    assert first.templates[0].name == "web/submit/_job.html"
    assert b'value="2"' in first.content and b"Sending file 2 of 3" in first.content
    assert _statuses(claims) == ["submitted"] * 2 + ["ready"] * 3

    job = _run(client, job)
    assert job.status == JobStatus.DONE and job.finished_at is not None
    assert _statuses(claims) == ["submitted"] * 5
    batches = list(SubmissionBatch.objects.order_by("pk"))
    assert [b.claim_count for b in batches] == [2, 2, 1]
    assert all(b.status == BatchStatus.UPLOADED for b in batches)
    assert sorted(p.name for p in (tmp_path / "outbox").iterdir()) == sorted(
        b.file_name for b in batches)
    done = client.get(f"/submit/jobs/{job.pk}/")
    text = done.content.decode()
    assert "every 1s" not in text  # polling stops
    assert [i.outcome for i in done.context["page"].object_list] == ["submitted"] * 5
    assert batches[2].file_name in text
    # A poll after the end changes nothing.
    assert client.post(f"/submit/jobs/{job.pk}/step/").status_code == 302
    assert SubmissionBatch.objects.count() == 3


def test_a_claim_with_a_problem_is_refused_with_its_reason_and_the_rest_go(
    clinic: Clinic, house: Clearinghouse
) -> None:
    good, bad = ready(clinic), ready(clinic)
    bad.lines.filter(number=1).update(pointers=[])  # as an old import might have left it
    client = clinic.client_for("biller")
    client.post("/submit/start/", {"clearinghouse": house.pk, "everything": "on"})
    job = _run(client, SubmissionJob.objects.get())
    assert job.status == JobStatus.DONE
    assert _statuses([good, bad]) == ["submitted", "ready"]
    results = {i.claim_id: i for i in job.items.all()}
    assert results[good.pk].outcome == "submitted"
    assert results[bad.pk].outcome == "refused"
    assert results[bad.pk].reason.startswith(f"claim {bad.number}:")
    assert "line 1" in results[bad.pk].reason and "pointer" in results[bad.pk].reason
    refused = client.get(f"/submit/jobs/{job.pk}/", {"outcome": "refused"})
    assert [i.claim_id for i in refused.context["page"].object_list] == [bad.pk]
    assert "pointer" in refused.content.decode()


def test_a_failed_upload_leaves_claims_ready_and_retry_sends_the_same_file(
    clinic: Clinic, house: Clearinghouse, tmp_path: Path
) -> None:
    claims = [ready(clinic) for _ in range(2)]
    good_path = house.outbox_path
    (tmp_path / "blocker").write_text("a file where the outbox folder should be")
    house.outbox_path = str(tmp_path / "blocker" / "outbox")
    house.save()
    client = clinic.client_for("biller")
    client.post("/submit/start/", {"clearinghouse": house.pk, "claims": [c.pk for c in claims]})
    job = _run(client, SubmissionJob.objects.get())
    assert job.status == JobStatus.FAILED and "upload of" in job.error
    batch = job.failed_batch
    assert batch is not None and batch.status == BatchStatus.FAILED
    assert _statuses(claims) == ["ready", "ready"]
    page = client.get(f"/submit/jobs/{job.pk}/").content.decode()
    assert "Retry the upload of " + batch.file_name in page and 'role="alert"' in page
    assert {i.outcome for i in job.items.all()} == {"upload_failed"}

    house.outbox_path = good_path
    house.save()
    retried = client.post(f"/submit/jobs/{job.pk}/retry/", follow=True)
    assert b"The file arrived" in retried.content
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.failed_batch is None
    assert _statuses(claims) == ["submitted", "submitted"]
    assert SubmissionBatch.objects.count() == 1  # the same file, sent again
    assert (Path(good_path) / batch.file_name).exists()
    again = client.post(f"/submit/jobs/{job.pk}/retry/", follow=True)
    assert b"only a job whose upload failed is retried" in again.content


def test_a_problem_of_the_whole_batch_stops_the_job(
    clinic: Clinic, house: Clearinghouse
) -> None:
    claim = ready(clinic)
    clinic.practice.submitter_id = ""
    clinic.practice.save(update_fields=["submitter_id"])
    client = clinic.client_for("biller")
    client.post("/submit/start/", {"clearinghouse": house.pk, "claims": [claim.pk]})
    job = _run(client, SubmissionJob.objects.get())
    assert job.status == JobStatus.STOPPED and "no submitter ID" in job.error
    assert _statuses([claim]) == ["ready"]
    assert "no submitter ID" in client.get(f"/submit/jobs/{job.pk}/").content.decode()


def test_refusals_at_the_start_and_other_practices_jobs_are_404(
    clinic: Clinic, house: Clearinghouse, tmp_path: Path
) -> None:
    claim = ready(clinic)
    client = clinic.client_for("biller")
    nothing = client.post("/submit/start/", {"clearinghouse": house.pk})
    assert nothing.status_code == 422 and "tick the claims to send" in nothing.content.decode()

    other = make_clinic("Birch Lane Bodywork", patient_last="Oakhollow")
    other_house = _house(other, tmp_path / "other")
    foreign = ready(other)
    wrong = client.post("/submit/start/", {"clearinghouse": house.pk, "claims": [foreign.pk]})
    assert wrong.status_code == 422
    assert "not claims of this practice" in wrong.content.decode()
    foreign_house = client.post("/submit/start/", {
        "clearinghouse": other_house.pk, "claims": [claim.pk]})
    assert foreign_house.status_code == 422 and SubmissionJob.objects.count() == 0

    theirs = jobs.start_job(practice=other.practice, claims=[foreign],
                            clearinghouse=other_house, by=None, at=FIXED_NOW)
    for url in (f"/submit/jobs/{theirs.pk}/",):
        assert client.get(url).status_code == 404
    for url in (f"/submit/jobs/{theirs.pk}/step/", f"/submit/jobs/{theirs.pk}/retry/"):
        assert client.post(url).status_code == 404
    assert clinic.client_for("therapist").post("/submit/start/", {
        "clearinghouse": house.pk, "claims": [claim.pk]}).status_code == 403
    assert Claim.objects.get(pk=foreign.pk).status == "ready"


def test_a_poll_during_a_running_step_waits_and_a_dead_step_is_taken_over(
    clinic: Clinic, house: Clearinghouse
) -> None:
    claim = ready(clinic)
    biller = clinic.users["biller"]
    job = jobs.start_job(practice=clinic.practice, claims=[claim], clearinghouse=house,
                         by=biller, at=FIXED_NOW)
    SubmissionJob.objects.filter(pk=job.pk).update(step_started_at=FIXED_NOW)
    # Another request is sending this step: the poll shows the bar and sends nothing.
    waited = jobs.advance_job(job=job, by=biller, at=FIXED_NOW + timedelta(seconds=5))
    assert waited.status == JobStatus.RUNNING and not SubmissionBatch.objects.exists()
    assert _statuses([claim]) == ["ready"]
    # A step that never finished (its process died) is taken over after the lease.
    later = FIXED_NOW + jobs.STEP_LEASE + timedelta(seconds=1)
    done = jobs.advance_job(job=job, by=biller, at=later)
    assert done.status == JobStatus.DONE and done.step_started_at is None
    assert _statuses([claim]) == ["submitted"]


def test_the_lists_take_a_fixed_number_of_queries(
    clinic: Clinic, house: Clearinghouse, django_assert_max_num_queries: object
) -> None:
    claims = [ready(clinic) for _ in range(3)]
    client = clinic.client_for("biller")
    client.post("/submit/start/", {"clearinghouse": house.pk, "everything": "on"})
    job = _run(client, SubmissionJob.objects.get())
    for _ in range(3):
        ready(clinic)
    with django_assert_max_num_queries(14):  # type: ignore[operator]
        assert len(client.get("/submit/").context["page"].object_list) == 3
    with django_assert_max_num_queries(14):  # type: ignore[operator]
        page = client.get(f"/submit/jobs/{job.pk}/")
        assert len(page.context["page"].object_list) == len(claims)
