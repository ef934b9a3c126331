"""Stored NCCI tables: each imported CMS file and its rows.

These are reference code tables shared by every practice (no patient or money data), so they
carry no practice. Rows are written once, by :func:`handbill.coding.actions.import_edit_file`,
and never edited: a new quarter is a new load.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class EditKind(models.TextChoices):
    PTP = "ptp", "PTP pair edits"
    MUE = "mue", "Medically unlikely edits (MUE)"


class Program(models.TextChoices):
    MEDICARE = "medicare", "Medicare"
    MEDICAID = "medicaid", "Medicaid"


class ModifierIndicator(models.TextChoices):
    NOT_ALLOWED = "0", "0: no modifier bypasses it"
    ALLOWED = "1", "1: 59/X modifier bypasses it when documented"
    NOT_APPLICABLE = "9", "9: not applicable (deleted)"


class AdjudicationIndicator(models.TextChoices):
    LINE = "1", "1 Line Edit"
    DATE_POLICY = "2", "2 Date of Service Edit: Policy"
    DATE_CLINICAL = "3", "3 Date of Service Edit: Clinical"


class EditTableLoad(models.Model):
    """One CMS file as imported. The sha256 makes a second import of the same file a no-op."""

    kind = models.CharField(max_length=3, choices=EditKind.choices)
    program = models.CharField(max_length=8, choices=Program.choices, default=Program.MEDICARE)
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, unique=True)
    layout = models.CharField(max_length=32)
    # The quarter the file is for; a newer quarter's rows supersede an older one's.
    effective_date = models.DateField()
    # Where effective_date came from: "file name", "argument" or "latest row".
    effective_date_from = models.CharField(max_length=16)
    row_count = models.IntegerField()
    skipped_lines = models.IntegerField(default=0)
    duplicates_resolved = models.IntegerField(default=0)
    loaded_at = models.DateTimeField()
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="edit_table_loads",
    )

    class Meta:
        indexes = [models.Index(fields=["kind", "program", "effective_date"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=EditKind.values), name="edit_table_load_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(program__in=Program.values), name="edit_table_load_program_valid"
            ),
            models.CheckConstraint(
                condition=Q(row_count__gte=0) & Q(skipped_lines__gte=0)
                & Q(duplicates_resolved__gte=0),
                name="edit_table_load_counts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(sha256__regex=r"^[0-9a-f]{64}$"), name="edit_table_load_sha256_shape"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file_name} ({self.effective_date})"

    @property
    def source(self) -> str:
        return f"CMS file {self.file_name}"


class PtpEditRow(models.Model):
    load = models.ForeignKey(EditTableLoad, on_delete=models.CASCADE, related_name="ptp_rows")
    column1 = models.CharField(max_length=5)
    column2 = models.CharField(max_length=5)
    effective_date = models.DateField()
    # None = still in force. [effective_date, deletion_date)
    deletion_date = models.DateField(null=True, blank=True)
    modifier_indicator = models.CharField(max_length=1, choices=ModifierIndicator.choices)
    rationale = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["column1", "column2"])]
        constraints = [
            models.UniqueConstraint(
                fields=["load", "column1", "column2"], name="ptp_edit_row_one_per_pair_per_load"
            ),
            models.CheckConstraint(
                condition=Q(modifier_indicator__in=ModifierIndicator.values),
                name="ptp_edit_row_modifier_indicator_valid",
            ),
            # Equal dates are real: CMS deletes an edit retroactively with MI 9.
            models.CheckConstraint(
                condition=Q(deletion_date__isnull=True)
                | Q(deletion_date__gte=F("effective_date")),
                name="ptp_edit_row_deletion_not_before_effective",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.column1}/{self.column2} MI {self.modifier_indicator}"


class MueLimitRow(models.Model):
    load = models.ForeignKey(EditTableLoad, on_delete=models.CASCADE, related_name="mue_rows")
    code = models.CharField(max_length=5)
    units = models.IntegerField()
    adjudication_indicator = models.CharField(
        max_length=1, choices=AdjudicationIndicator.choices
    )
    rationale = models.TextField(blank=True)
    # The load's effective date, kept on the row so "in force on D" is one indexed query.
    effective_date = models.DateField()

    class Meta:
        indexes = [models.Index(fields=["code", "effective_date"])]
        constraints = [
            models.UniqueConstraint(fields=["load", "code"], name="mue_limit_row_one_per_load"),
            models.CheckConstraint(
                condition=Q(units__gte=0), name="mue_limit_row_units_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(adjudication_indicator__in=AdjudicationIndicator.values),
                name="mue_limit_row_adjudication_indicator_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} MUE {self.units} (MAI {self.adjudication_indicator})"
