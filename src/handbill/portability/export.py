"""``export_practice``: everything of one practice, in files any program can read.

The folder holds ``data/<app>.<model>.jsonl`` (every row of every exported table, the record
the import reads), ``data/users.jsonl`` (the people the rows name), ``csv/`` (spreadsheet
copies), ``x12/`` (every X12 file as sent or received) and ``manifest.json`` with counts and
the sha256 of every file. See docs/export.md.

All rows are read in one transaction, so the export is one moment of the practice even while
people keep working (PostgreSQL: a repeatable-read snapshot; SQLite: one transaction, begun
IMMEDIATE as Handbill's settings ask, so writers wait the second or so an export takes).
Before anything is written, every foreign key of every row is checked to land inside the
export: a row of another practice can never ride along.
"""

from __future__ import annotations

import re
import shutil
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.migrations.recorder import MigrationRecorder

import handbill
from handbill.audit.record import record
from handbill.portability import manifest as mf
from handbill.portability import registry
from handbill.portability.rows import columns, dump_line
from handbill.portability.spreadsheets import SHEETS, write_sheet
from handbill.practice.access import authorize
from handbill.practice.models import Membership, Practice

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

USERS_FILE = "data/users.jsonl"
# What an exported person carries. The password hash only with include_password_hashes.
USER_COLUMNS = ("id", "username", "first_name", "last_name", "email", "is_active",
                "date_joined", "last_login")


class ExportError(ValueError):
    """The export cannot be written; the message says why and what to do."""


@dataclass(frozen=True)
class ExportResult:
    folder: Path
    manifest: dict[str, Any]
    manifest_sha256: str
    total_bytes: int
    seconds: float


def data_file(model_label: str) -> str:
    return f"data/{model_label}.jsonl"


def export_practice(
    *,
    practice: Practice,
    out: Path,
    by: AbstractBaseUser | None,
    at: datetime,
    include_password_hashes: bool = False,
) -> ExportResult:
    """Write ``practice`` to the new folder ``out``. Only an owner (or the operator, by=None)
    may export: the folder holds every patient's record."""
    authorize(by, practice, "administer")
    if at.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    problems = registry.problems()
    if problems:
        raise ExportError("the export registry is incomplete: " + "; ".join(problems))
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ExportError(f"{out} already exists and is not empty: give a new folder")
    started = time.perf_counter()
    try:
        result = _export(practice, out, by, at, include_password_hashes)
    except BaseException:
        # Half an export must not pass for a whole one: the folder was new or empty.
        shutil.rmtree(out, ignore_errors=True)
        raise
    return ExportResult(out, *result, time.perf_counter() - started)


def _export(practice: Practice, out: Path, by: AbstractBaseUser | None, at: datetime,
            include_password_hashes: bool) -> tuple[dict[str, Any], str, int]:
    snapshot = not connection.in_atomic_block
    with transaction.atomic():
        if snapshot and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        practice = Practice.objects.get(pk=practice.pk)
        out.mkdir(parents=True, exist_ok=True)
        # Every patient's record is in here: only the owner of the process may open it.
        out.chmod(0o700)
        writer = _Writer(out, practice)
        writer.write_tables()
        writer.write_users(include_password_hashes)
        writer.check_closure()
        writer.write_sheets()
        writer.write_x12()
        manifest = writer.manifest(at=at, by=by, include_password_hashes=include_password_hashes)
        manifest_sha = mf.write_manifest(out, manifest)
        total = sum(e["bytes"] for e in manifest["files"]) + (out / mf.MANIFEST_NAME).stat().st_size
        # Who took which practice's records, when, and which manifest: written after the
        # reads, so the export does not carry its own audit row.
        record(action="practice.export", at=at, by=by, practice=practice, target=practice,
               folder=str(out.resolve()), manifest_sha256=manifest_sha, rows=sum(
                   manifest["counts"].values()), password_hashes=include_password_hashes)
    return manifest, manifest_sha, total


class _Writer:
    def __init__(self, root: Path, practice: Practice) -> None:
        self.root = root
        self.practice = practice
        self.ids: dict[str, set[Any]] = {}
        self.counts: dict[str, int] = {}
        # (model label, column, target label) -> ids the rows point at
        self.pointers: dict[tuple[str, str, str], set[Any]] = defaultdict(set)
        self.user_ids: set[Any] = set()
        self.files: list[dict[str, Any]] = []
        self.x12_names: set[str] = set()

    def _add(self, path: Path, **extra: Any) -> None:
        self.files.append(mf.file_entry(self.root, path, **extra))

    def write_tables(self) -> None:
        (self.root / "data").mkdir()
        paths = registry.practice_paths()
        for model in registry.exported_models():
            name = registry.label(model)
            lookup = paths[name] or "pk"
            value = self.practice if paths[name] else self.practice.pk
            keys = registry.foreign_keys(model)
            cols = columns(model)
            pk_name = model._meta.pk.attname  # type: ignore[union-attr]
            ids: set[Any] = set()
            query = (model._default_manager.filter(**{lookup: value})
                     .order_by("pk").values(*cols))
            path = self.root / data_file(name)
            with path.open("w", encoding="utf-8", newline="\n") as handle:
                for row in query.iterator(chunk_size=2000):
                    ids.add(row[pk_name])
                    for field in keys:
                        ref = row[field.attname]
                        if ref is None:
                            continue
                        if registry.is_user_key(field):
                            self.user_ids.add(ref)
                        else:
                            target = registry.label(field.related_model)  # type: ignore[arg-type]
                            self.pointers[(name, field.attname, target)].add(ref)
                    handle.write(dump_line(row) + "\n")
            self.ids[name] = ids
            self.counts[name] = len(ids)
            self._add(path, model=name, rows=len(ids))

    def write_users(self, include_password_hashes: bool) -> None:
        user_model = get_user_model()
        members = Membership.objects.filter(practice=self.practice).values_list("user_id",
                                                                                flat=True)
        self.user_ids.update(members)
        wanted = [c for c in USER_COLUMNS if c in {f.attname for f in
                                                    user_model._meta.concrete_fields}]
        if include_password_hashes:
            wanted.append("password")
        path = self.root / USERS_FILE
        count = 0
        with path.open("w", encoding="utf-8", newline="\n") as handle:
            for row in (user_model._default_manager.filter(pk__in=self.user_ids).order_by("pk")
                        .values(*wanted).iterator(chunk_size=2000)):
                handle.write(dump_line(row) + "\n")
                count += 1
        self.counts[registry.user_label()] = count
        self._add(path, model=registry.user_label(), rows=count)

    def check_closure(self) -> None:
        """Every key points inside the export; otherwise a row of another practice (or a
        broken one) is named, and the export stops before it can be handed out."""
        for (name, column, target), wanted in sorted(self.pointers.items()):
            stray = wanted - self.ids.get(target, set())
            if stray:
                raise ExportError(
                    f"{name}.{column} of {self.practice.slug} points at {target} row(s) "
                    f"{sorted(stray)[:5]} outside this practice; nothing was exported "
                    "(fix the rows, or report this as a bug)")

    def write_sheets(self) -> None:
        (self.root / "csv").mkdir()
        for sheet in SHEETS:
            path = self.root / "csv" / sheet.file_name
            rows = write_sheet(sheet, self.practice, path)
            self._add(path, rows=rows)

    def write_x12(self) -> None:
        """Each X12 text once, under the name it was sent or received with."""
        from handbill.eligibility.models import EligibilityCheck
        from handbill.remittance.models import EraFile
        from handbill.submissions.models import InboxFile, SubmissionBatch

        practice = self.practice
        for batch in SubmissionBatch.objects.filter(practice=practice).order_by("pk").values(
                "pk", "file_name", "x12").iterator(chunk_size=500):
            self._x12("837", batch["file_name"], batch["x12"],
                      f"submissions.submissionbatch:{batch['pk']}")
        for inbox in InboxFile.objects.filter(practice=practice).order_by("pk").values(
                "pk", "name", "kind", "content").iterator(chunk_size=500):
            self._x12(str(inbox["kind"]), inbox["name"], inbox["content"],
                      f"submissions.inboxfile:{inbox['pk']}")
        # 835s imported by hand have no inbox file; those that came by the inbox are there.
        for era in EraFile.objects.filter(practice=practice, inbox_file__isnull=True).order_by(
                "pk").values("pk", "file_name", "raw").iterator(chunk_size=500):
            self._x12("835", era["file_name"] or f"era-{era['pk']}.835", era["raw"],
                      f"remittance.erafile:{era['pk']}")
        for check in EligibilityCheck.objects.filter(practice=practice).order_by("pk").values(
                "pk", "file_name", "request_270", "response_file", "response_271").iterator(
                chunk_size=500):
            source = f"eligibility.eligibilitycheck:{check['pk']}"
            self._x12("270", check["file_name"], check["request_270"], source)
            if check["response_271"]:
                self._x12("271", check["response_file"] or f"{check['file_name']}.271",
                          check["response_271"], source)

    def _x12(self, kind: str, name: str, text: str, source: str) -> None:
        if not text:
            return
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name or "file").name).lstrip(".") or "file"
        relative = f"x12/{kind}/{safe}"
        if relative in self.x12_names:
            # The same name twice (a re-sent file): keep both, told apart by their row.
            relative = f"x12/{kind}/{source.replace(':', '-')}-{safe}"
        self.x12_names.add(relative)
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
        self._add(path, kind=kind, source=source)

    def manifest(self, *, at: datetime, by: Any, include_password_hashes: bool) -> dict[str, Any]:
        return {
            "format": mf.FORMAT,
            "format_version": mf.FORMAT_VERSION,
            "handbill_version": handbill.__version__,
            "exported_at": at.isoformat(),
            "exported_by": getattr(by, "username", None) or "operator (handbill command)",
            "database": connection.vendor,
            "practice": {"slug": self.practice.slug, "legal_name": self.practice.legal_name},
            "migrations": applied_migrations(),
            "users": {
                "file": USERS_FILE,
                "password_hashes": include_password_hashes,
            },
            "counts": dict(sorted(self.counts.items())),
            "excluded": dict(sorted(registry.EXCLUDED.items())),
            "files": self.files,
        }


def applied_migrations() -> dict[str, list[str]]:
    applied: dict[str, list[str]] = defaultdict(list)
    for app, name in MigrationRecorder(connection).applied_migrations():
        applied[app].append(name)
    return {app: sorted(names) for app, names in sorted(applied.items())}
