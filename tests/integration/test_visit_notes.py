"""Notes: validation on the way in, locking on signature, addenda after."""

from __future__ import annotations

from datetime import date

import pytest

from handbill.audit.models import AuditEvent
from handbill.visits import actions
from handbill.visits.models import NoteLockedError, ServiceEntry, Visit
from tests.conftest import FIXED_NOW
from tests.factories import records as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup() -> tuple:
    practice = f.make_practice()
    return practice, f.make_provider(practice), f.make_patient(practice)


def test_signing_locks_the_note_and_addenda_follow(setup: tuple) -> None:
    practice, provider, patient = setup
    visit = f.make_signed_visit(provider, patient)
    assert visit.signed and visit.signed_at == FIXED_NOW
    with pytest.raises(NoteLockedError):
        actions.update_note(visit=visit, note=f.FULL_NOTE, diagnoses=["M54.2"],
                            services=[actions.ServiceInput("97124", 30)], by=None, at=FIXED_NOW)
    # Not even a stray save() gets past the lock.
    stored = Visit.objects.get(pk=visit.pk)
    stored.plan = "changed"
    with pytest.raises(NoteLockedError):
        stored.save()
    entry = ServiceEntry.objects.filter(visit=visit).first()
    assert entry is not None
    entry.minutes = 60
    with pytest.raises(NoteLockedError):
        entry.save()
    with pytest.raises(NoteLockedError):
        entry.delete()
    assert Visit.objects.get(pk=visit.pk).plan == f.FULL_NOTE.plan
    addendum = actions.add_addendum(visit=visit, text="Late entry: ice advised.", by=None,
                                    at=FIXED_NOW)
    assert addendum.visit_id == visit.pk
    assert AuditEvent.objects.filter(action="visit.addendum", object_id=str(visit.pk)).exists()


@pytest.mark.parametrize(
    ("diagnoses", "services", "message"),
    [
        (["M54.5"], [actions.ServiceInput("97124", 30)], "M54.5"),
        (["NOTACODE"], [actions.ServiceInput("97124", 30)], "NOTACODE"),
        (["M54.2"], [actions.ServiceInput("99999", 30)], "99999"),
        (["M54.2"], [actions.ServiceInput("97124", -3)], "minutes"),
        (["M54.2", "M54.2"], [actions.ServiceInput("97124", 30)], "twice"),
    ],
)
def test_bad_notes_are_refused_and_nothing_is_written(
    setup: tuple, diagnoses: list[str], services: list, message: str
) -> None:
    practice, provider, patient = setup
    with pytest.raises(actions.NoteError, match=message):
        actions.create_visit(
            practice=practice, patient=patient, provider=provider,
            date_of_service=date(2026, 11, 2), note=f.FULL_NOTE, diagnoses=diagnoses,
            services=services, by=None, at=FIXED_NOW,
        )
    assert not Visit.objects.exists()
    assert not AuditEvent.objects.exists()


def test_unsigned_notes_can_be_edited_and_empty_notes_cannot_be_signed(setup: tuple) -> None:
    practice, provider, patient = setup
    visit = f.make_signed_visit(provider, patient, sign=False)
    actions.update_note(visit=visit, note=f.FULL_NOTE, diagnoses=["M54.2"],
                        services=[actions.ServiceInput("97124", 45, "Swedish", "neck")],
                        by=None, at=FIXED_NOW)
    assert [(s.code, s.minutes) for s in visit.services.all()] == [("97124", 45)]
    actions.update_note(visit=visit, note=f.FULL_NOTE, diagnoses=["M54.2"], services=[],
                        by=None, at=FIXED_NOW)
    with pytest.raises(actions.NoteError, match="without services"):
        actions.sign_visit(visit=visit, by=None, at=FIXED_NOW)
    assert not Visit.objects.get(pk=visit.pk).signed


def test_a_therapist_of_another_practice_cannot_write_here(setup: tuple) -> None:
    practice, provider, patient = setup
    other = f.make_practice()
    outsider = f.make_user(other, role="therapist")
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        actions.create_visit(
            practice=practice, patient=patient, provider=provider,
            date_of_service=date(2026, 11, 2), note=f.FULL_NOTE, diagnoses=["M54.2"],
            services=[actions.ServiceInput("97124", 30)], by=outsider, at=FIXED_NOW,
        )
    # Nor can objects of two practices be mixed in one call.
    foreign_patient = f.make_patient(other)
    with pytest.raises(PermissionDenied):
        actions.create_visit(
            practice=practice, patient=foreign_patient, provider=provider,
            date_of_service=date(2026, 11, 2), note=f.FULL_NOTE, diagnoses=["M54.2"],
            services=[actions.ServiceInput("97124", 30)], by=None, at=FIXED_NOW,
        )
    front_desk = f.make_user(practice, role="front_desk")
    with pytest.raises(PermissionDenied, match="front desk"):
        actions.create_visit(
            practice=practice, patient=patient, provider=provider,
            date_of_service=date(2026, 11, 2), note=f.FULL_NOTE, diagnoses=["M54.2"],
            services=[actions.ServiceInput("97124", 30)], by=front_desk, at=FIXED_NOW,
        )
    assert not Visit.objects.exists()
