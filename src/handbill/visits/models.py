"""A visit is the therapist's signed record of one session; claims are coded from it.

A signed note is locked: its fields, diagnoses and service entries no longer change (the
actions refuse, and the models refuse too, so a stray ``save()`` cannot slip past). A later
correction is an Addendum with who and when.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from handbill.patients.models import Coverage, Patient
from handbill.practice.models import Location, Practice, Provider


class NoteLockedError(ValueError):
    """The note is signed; write an addendum instead."""


class Visit(models.Model):
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="visits")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="visits")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="visits")
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="visits"
    )
    # The coverage to bill first; empty means self-pay (a superbill).
    coverage = models.ForeignKey(
        Coverage, null=True, blank=True, on_delete=models.PROTECT, related_name="visits"
    )
    date_of_service = models.DateField()
    place_of_service = models.CharField(max_length=2, default="11")
    subjective = models.TextField(blank=True)
    objective = models.TextField(blank=True)
    assessment = models.TextField(blank=True)
    plan = models.TextField(blank=True)
    medical_necessity = models.TextField(blank=True)
    response_to_treatment = models.TextField(blank=True)
    created_at = models.DateTimeField()
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="signed_visits",
    )

    class Meta:
        indexes = [
            models.Index(fields=["practice", "date_of_service"]),
            models.Index(fields=["patient", "date_of_service"]),
        ]

    def __str__(self) -> str:
        return f"{self.patient} {self.date_of_service.isoformat()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            stored = Visit.objects.filter(pk=self.pk).values_list("signed_at", flat=True).first()
            if stored is not None:
                raise NoteLockedError("this note is signed and locked; add an addendum instead")
        super().save(*args, **kwargs)

    @property
    def signed(self) -> bool:
        return self.signed_at is not None


class _NotePart(models.Model):
    """A row that belongs to a note and is locked with it."""

    visit: models.ForeignKey[Visit, Visit]

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        self._refuse_if_signed()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        self._refuse_if_signed()
        return super().delete(*args, **kwargs)

    def _refuse_if_signed(self) -> None:
        visit_id = self.visit_id  # type: ignore[attr-defined]
        if Visit.objects.filter(pk=visit_id, signed_at__isnull=False).exists():
            raise NoteLockedError("this note is signed and locked; add an addendum instead")


class VisitDiagnosis(_NotePart):
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="diagnoses")
    position = models.PositiveSmallIntegerField()  # 1 = primary
    code = models.CharField(max_length=8)  # dotted form, e.g. M62.830

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["visit", "position"], name="diagnosis_position"),
            models.UniqueConstraint(fields=["visit", "code"], name="diagnosis_once_per_visit"),
            models.CheckConstraint(
                condition=Q(position__gte=1) & Q(position__lte=12), name="diagnosis_position_1_12"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.code}"


class ServiceEntry(_NotePart):
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="services")
    position = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=5)
    minutes = models.PositiveSmallIntegerField()
    technique = models.CharField(max_length=200, blank=True)
    body_region = models.CharField(max_length=60, blank=True)
    start_time = models.TimeField(null=True, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["visit", "position"], name="service_position"),
            models.CheckConstraint(condition=Q(minutes__lte=480), name="service_minutes_sane"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.minutes} min"


class Addendum(models.Model):
    """A dated correction or addition to a signed note; the note itself never changes."""

    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="addenda")
    text = models.TextField()
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="addenda",
    )
    written_at = models.DateTimeField()

    class Meta:
        ordering = ["written_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(text=""), name="addendum_not_empty"),
        ]

    def __str__(self) -> str:
        return f"Addendum {self.written_at:%Y-%m-%d}"
