"""``import_practice``: a practice export read into this database, as new rows.

In order: the manifest and every file's sha256 are verified (a changed, missing or added file
stops the import before any write); the export's migrations must all be known here; the
practice's slug must be free. Then, in one transaction, every row is inserted with a new id
and every foreign key (and every id named in text: audit objects, ledger sources) renumbered
to the new rows. Any failure rolls the whole import back.

People are matched by username: someone who already has an account here (a billing company's
biller moving a client practice in) keeps it and gains the membership; anyone else gets a new
account with the exported password hash, or with no usable password when the export carried
none (they set one through "forgot password" or the operator's ``changepassword``). Nobody
becomes staff or superuser through an import.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, models, transaction
from django.db.migrations.recorder import MigrationRecorder

from handbill.audit.record import record
from handbill.portability import manifest as mf
from handbill.portability import registry
from handbill.portability.rows import decode_row
from handbill.practice.models import Practice

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

BATCH = 1000
# A soft reference whose row was not in the export (deleted since) must not land on whichever
# new row took its old number.
MISSING_PREFIX = "missing:"


class ImportRefused(ValueError):
    """Nothing was imported; the message names the problem and the fix."""


@dataclass
class ImportResult:
    practice: Practice | None
    slug: str
    counts: dict[str, int]
    users_created: list[str]
    users_matched: list[str]
    seconds: float
    dry_run: bool
    # label -> old id -> new id; tests use it, and it is the record of what became what.
    id_maps: dict[str, dict[Any, Any]] = field(default_factory=dict)


def verify_export(source: Path) -> dict[str, Any]:
    """The manifest once every file matches it and this database can take the export."""
    try:
        manifest = mf.verify(source)
    except mf.ManifestError as exc:
        raise ImportRefused(f"{exc}; nothing was imported") from None
    missing = _unknown_migrations(manifest.get("migrations") or {})
    if missing:
        raise ImportRefused(
            f"the export was made by a newer Handbill ({', '.join(missing[:3])} not applied "
            "here): upgrade this Handbill and run migrate, then import again")
    return manifest


def import_practice(
    *,
    source: Path,
    by: AbstractBaseUser | None,
    at: datetime,
    dry_run: bool = False,
) -> ImportResult:
    if at.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    started = time.perf_counter()
    manifest = verify_export(source)
    problems = registry.problems()
    if problems:
        raise ImportRefused("the export registry is incomplete: " + "; ".join(problems))
    slug = str(manifest["practice"]["slug"])
    if Practice.objects.filter(slug=slug).exists():
        raise ImportRefused(
            f"a practice with slug {slug!r} already exists here; nothing was imported (import "
            "into a database without it)")
    files = {e["model"]: e for e in manifest["files"] if isinstance(e, dict) and "model" in e}
    unknown = sorted(set(files) - registry.EXPORTED - {registry.user_label()})
    if unknown:
        raise ImportRefused(f"the export holds tables this Handbill does not import: {unknown}")
    loader = _Loader(source, files, manifest)
    try:
        practice = _load_all(loader, manifest, source, by=by, at=at, dry_run=dry_run)
    except DatabaseError as exc:
        # A constraint of this database refused a row (a changed manifest naming another slug,
        # a hand-edited file whose hashes were recomputed): the transaction is rolled back.
        raise ImportRefused(f"the database refused a row ({exc}); nothing was imported"
                            ) from None
    return ImportResult(
        practice=None if dry_run else practice, slug=slug, counts=loader.counts,
        users_created=loader.users_created, users_matched=loader.users_matched,
        seconds=time.perf_counter() - started, dry_run=dry_run, id_maps=loader.id_maps)


def _load_all(loader: _Loader, manifest: dict[str, Any], source: Path, *,
              by: AbstractBaseUser | None, at: datetime, dry_run: bool) -> Practice:
    with transaction.atomic():
        loader.load_users()
        for model in registry.import_order():
            loader.load(model)
        practice_id = loader.id_maps[registry.PRACTICE][manifest_practice_id(loader)]
        practice = Practice.objects.get(pk=practice_id)
        if practice.slug != manifest["practice"]["slug"]:
            raise ImportRefused(f"the manifest names practice {manifest['practice']['slug']!r} "
                                f"but the data holds {practice.slug!r}; nothing was imported")
        record(action="practice.import", at=at, by=by, practice=practice, target=practice,
               folder=str(source.resolve()),
               manifest_sha256=mf.sha256_of(source / mf.MANIFEST_NAME),
               exported_at=manifest.get("exported_at"), rows=sum(loader.counts.values()),
               users_created=len(loader.users_created))
        if dry_run:
            transaction.set_rollback(True)
    return practice


def manifest_practice_id(loader: _Loader) -> Any:
    old = list(loader.id_maps[registry.PRACTICE])
    if len(old) != 1:
        raise ImportRefused(f"the export holds {len(old)} practices; it must hold exactly one")
    return old[0]


def _decoded(model: type[models.Model], row: dict[str, Any], old: Any, *,
             partial: bool = False) -> dict[str, Any]:
    try:
        return decode_row(model, row, partial=partial)
    except (ValueError, ValidationError) as exc:
        message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        raise ImportRefused(f"{model._meta.label_lower} row {old}: {message}") from None


def _unknown_migrations(exported: dict[str, list[str]]) -> list[str]:
    here = set(MigrationRecorder(connection).applied_migrations())
    return [f"{app}.{name}" for app, names in sorted(exported.items()) for name in names
            if (app, name) not in here]


class _Loader:
    def __init__(self, root: Path, files: dict[str, dict[str, Any]],
                 manifest: dict[str, Any]) -> None:
        self.root = root
        self.files = files
        self.expected = manifest.get("counts") or {}
        self.id_maps: dict[str, dict[Any, Any]] = {}
        self.counts: dict[str, int] = {}
        self.users_created: list[str] = []
        self.users_matched: list[str] = []
        self._text_maps: dict[str, dict[str, Any]] = {}

    def rows(self, name: str) -> Iterator[dict[str, Any]]:
        entry = self.files.get(name)
        if entry is None:
            return
        with (self.root / entry["path"]).open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ImportRefused(f"{entry['path']} line {number} is not JSON ({exc})"
                                        ) from None
                if not isinstance(row, dict):
                    raise ImportRefused(f"{entry['path']} line {number} is not a row")
                yield row

    def _counted(self, name: str, count: int) -> None:
        self.counts[name] = count
        expected = self.expected.get(name, 0)
        if expected != count:
            raise ImportRefused(f"{name}: the manifest counts {expected} rows, the file holds "
                                f"{count}")

    def load_users(self) -> None:
        user_model = get_user_model()
        name = registry.user_label()
        username_field = user_model.USERNAME_FIELD
        known = {f.attname for f in user_model._meta.concrete_fields}
        mapping: dict[Any, Any] = {}
        count = 0
        for row in self.rows(name):
            count += 1
            old = row.pop("id")
            username = row[username_field]
            existing = user_model._default_manager.filter(**{username_field: username}).first()
            if existing is not None:
                mapping[old] = existing.pk
                self.users_matched.append(username)
                continue
            values = {k: v for k, v in row.items() if k in known and k != "password"}
            user = user_model(**_decoded(user_model, values, old, partial=True))
            user.is_staff = False
            user.is_superuser = False
            if row.get("password"):
                user.password = row["password"]
            else:
                user.set_unusable_password()
            user.save()
            mapping[old] = user.pk
            self.users_created.append(username)
        self._counted(name, count)
        self.id_maps[name] = mapping

    def load(self, model: type[models.Model]) -> None:
        name = registry.label(model)
        pk_name = model._meta.pk.attname  # type: ignore[union-attr]
        keys = registry.foreign_keys(model)
        self_keys = set(registry.self_keys(model))
        soft = [s for s in registry.SOFT_REFERENCES if s.model == name]
        plain_ids = registry.id_columns(model)
        mapping: dict[Any, Any] = {}
        self.id_maps[name] = mapping
        pending: list[tuple[Any, models.Model]] = []
        waiting: list[dict[str, Any]] = []
        count = 0

        def flush() -> None:
            if not pending:
                return
            created = model._base_manager.bulk_create([obj for _old, obj in pending],
                                                      batch_size=BATCH)
            for (old, _obj), new in zip(pending, created, strict=True):
                if new.pk is None:
                    raise ImportRefused(f"this database did not return new ids for {name}")
                mapping[old] = new.pk
            pending.clear()

        def build(row: dict[str, Any]) -> models.Model:
            values = _decoded(model, row, row.get(pk_name))
            old = values.pop(pk_name)
            for key in keys:
                value = values[key.attname]
                if value is None:
                    continue
                target = registry.user_label() if registry.is_user_key(key) else registry.label(
                    key.related_model)  # type: ignore[arg-type]
                try:
                    values[key.attname] = self.id_maps[target][value]
                except KeyError:
                    raise ImportRefused(f"{name} row {old}: {key.attname}={value} names a "
                                        f"{target} row that is not in the export") from None
            for ref in soft:
                values[ref.id_field] = self._soft(values[ref.type_field], values[ref.id_field])
            for plain in plain_ids:
                if values[plain.column] is not None:
                    # The row it named may be gone (no foreign key): then it names nothing.
                    values[plain.column] = self.id_maps[plain.target].get(values[plain.column])
            obj = model(**values)
            pending.append((old, obj))
            return obj

        for row in self.rows(name):
            count += 1
            refs = [row.get(k) for k in self_keys if row.get(k) is not None]
            if any(r not in mapping for r in refs):
                # Points at a row of its own table: that row must have its new id first.
                flush()
                if any(r not in mapping for r in refs):
                    waiting.append(row)
                    continue
            build(row)
            if len(pending) >= BATCH:
                flush()
        flush()
        while waiting:
            ready = [r for r in waiting if all(r.get(k) is None or r[k] in mapping
                                               for k in self_keys)]
            if not ready:
                raise ImportRefused(f"{name}: rows refer to each other in a loop, or to rows "
                                    "not in the export")
            waiting = [r for r in waiting if r not in ready]
            for row in ready:
                build(row)
            flush()
        self._counted(name, count)

    def _soft(self, type_name: str, old_id: str) -> str:
        if not type_name or not old_id:
            return old_id
        target = registry.soft_target(type_name)
        if target is None:
            return old_id  # names no exported table (e.g. demo bookkeeping): kept as written
        if target not in self.id_maps:
            raise ImportRefused(f"{type_name} ids are named before its rows are imported; "
                                "registry.import_order needs fixing")
        new = self._lookup_text(target, old_id)
        return str(new) if new is not None else f"{MISSING_PREFIX}{old_id}"[:64]

    def _lookup_text(self, target: str, old_id: str) -> Any:
        mapping = self.id_maps[target]
        text_map = self._text_maps.get(target)
        if text_map is None or len(text_map) != len(mapping):
            text_map = {str(k): v for k, v in mapping.items()}
            self._text_maps[target] = text_map
        return text_map.get(old_id)
