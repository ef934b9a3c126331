"""Data safety from the command line.

    handbill export --practice SLUG --out DIR [--include-password-hashes]
    handbill import --in DIR [--dry-run | --verify-only]
    handbill backup --out FILE
    handbill restore --from FILE          (SQLite; PostgreSQL restores with pg_restore)

``export`` writes everything of one practice (docs/export.md); ``import`` reads it into a
database that does not have that practice yet. ``backup`` copies the whole database while
Handbill runs; ``restore`` puts a SQLite backup back (docs/backup.md). Run by the operator,
these act as the system (``by=None``) and the export and import are in the audit trail.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from handbill.cli import CommandError, setup_django


def register(subparsers: Any) -> None:
    export = subparsers.add_parser(
        "export", help="write everything of one practice to a folder (JSON Lines, CSV, X12)",
        description="Write one practice's rows (JSON Lines), spreadsheet copies (CSV), its X12 "
        "files and a manifest with the sha256 of every file, to a new folder.",
    )
    export.add_argument("--practice", required=True, help="the practice's slug")
    export.add_argument("--out", required=True, type=Path, help="a new (or empty) folder")
    export.add_argument(
        "--include-password-hashes", action="store_true",
        help="carry the members' password hashes, so they sign in with the same passwords on "
        "the new install (guard the folder like the database)",
    )
    export.set_defaults(func=_export)

    load = subparsers.add_parser(
        "import", help="read a practice export into this database",
        description="Verify an export's manifest and hashes, then insert its practice with new "
        "ids in one transaction. Refused when the practice already exists here.",
    )
    load.add_argument("--in", dest="source", required=True, type=Path,
                      help="the folder handbill export wrote")
    mode = load.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true",
                      help="import, report, and roll everything back")
    mode.add_argument("--verify-only", action="store_true",
                      help="check the manifest and every file's hash; touch nothing")
    load.set_defaults(func=_import)

    backup = subparsers.add_parser(
        "backup", help="copy the whole database to a file while Handbill runs",
        description="SQLite: the online backup API (a consistent copy, checked). PostgreSQL: "
        "pg_dump --format=custom.",
    )
    backup.add_argument("--out", required=True, type=Path, help="a new file")
    backup.set_defaults(func=_backup)

    restore = subparsers.add_parser(
        "restore", help="put a SQLite backup back in place of the database (stop Handbill "
        "first)",
        description="Replace the SQLite database with a backup made by handbill backup; the "
        "replaced database is kept beside it. PostgreSQL: see docs/backup.md (pg_restore).",
    )
    restore.add_argument("--from", dest="source", required=True, type=Path,
                         help="the backup file")
    restore.set_defaults(func=_restore)


def _export(args: argparse.Namespace) -> dict[str, Any]:
    setup_django()
    from django.utils import timezone

    from handbill.portability.export import ExportError, export_practice
    from handbill.practice.models import Practice

    practice = Practice.objects.filter(slug=args.practice).first()
    if practice is None:
        raise CommandError(f"no practice {args.practice!r}: see the slugs in the web app's "
                           "practice switcher")
    try:
        result = export_practice(practice=practice, out=args.out, by=None, at=timezone.now(),
                                 include_password_hashes=args.include_password_hashes)
    except ExportError as exc:
        raise CommandError(str(exc)) from None
    return {
        "practice": practice.slug,
        "folder": str(result.folder),
        "manifest_sha256": result.manifest_sha256,
        "files": len(result.manifest["files"]),
        "bytes": result.total_bytes,
        "seconds": round(result.seconds, 2),
        "counts": result.manifest["counts"],
        "password_hashes": args.include_password_hashes,
    }


def _import(args: argparse.Namespace) -> dict[str, Any]:
    setup_django()
    from django.utils import timezone

    from handbill.portability.importing import ImportRefused, import_practice, verify_export

    try:
        if args.verify_only:
            manifest = verify_export(args.source)
            return {"verified": True, "practice": manifest["practice"]["slug"],
                    "files": len(manifest["files"]), "counts": manifest["counts"]}
        result = import_practice(source=args.source, by=None, at=timezone.now(),
                                 dry_run=args.dry_run)
    except ImportRefused as exc:
        raise CommandError(str(exc)) from None
    return {
        "imported": not result.dry_run,
        "dry_run": result.dry_run,
        "practice": result.slug,
        "rows": sum(result.counts.values()),
        "seconds": round(result.seconds, 2),
        "counts": result.counts,
        "users_created": result.users_created,
        "users_matched": result.users_matched,
    }


def _backup(args: argparse.Namespace) -> dict[str, Any]:
    setup_django()
    from django.conf import settings

    from handbill.portability.backup import BackupError, backup_database

    try:
        result = backup_database(settings.DATABASES["default"], args.out)
    except BackupError as exc:
        raise CommandError(str(exc)) from None
    return {"file": str(result.path), "engine": result.engine, "bytes": result.bytes,
            "sha256": result.sha256, "seconds": round(result.seconds, 2), "tool": result.tool}


def _restore(args: argparse.Namespace) -> dict[str, Any]:
    setup_django()
    from django.conf import settings
    from django.db import connections
    from django.utils import timezone

    from handbill.portability.backup import BackupError, restore_sqlite

    database = settings.DATABASES["default"]
    if not str(database["ENGINE"]).endswith("sqlite3"):
        raise CommandError("handbill restore puts back SQLite backups; for PostgreSQL use "
                           "pg_restore as docs/backup.md shows")
    connections.close_all()
    try:
        kept = restore_sqlite(args.source, Path(str(database["NAME"])), at=timezone.now())
    except BackupError as exc:
        raise CommandError(str(exc)) from None
    return {"restored": str(args.source), "database": str(database["NAME"]),
            "previous_kept_as": str(kept) if kept else None}
