"""Whole-database backups: every practice, every table, at one moment.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies a consistent snapshot
while Handbill keeps running; the copy is checked (``PRAGMA integrity_check``) and switched to
a single self-contained file. PostgreSQL: ``pg_dump --format=custom`` when the client tools are
installed; restore with ``pg_restore`` (docs/backup.md). ``restore_sqlite`` puts a SQLite backup
back, keeping the database it replaces beside it.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from handbill.portability.manifest import sha256_of


class BackupError(ValueError):
    """The backup or restore cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    engine: str
    bytes: int
    sha256: str
    seconds: float
    tool: str


def backup_sqlite(database: Path, out: Path) -> BackupResult:
    if not database.is_file():
        raise BackupError(f"{database} does not exist: nothing to back up")
    _refuse_existing(out)
    started = time.perf_counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    _private_file(partial)
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    target = sqlite3.connect(partial)
    try:
        # Pages are copied in steps; a writer in between restarts the copy, so the result is
        # always one consistent moment.
        source.backup(target, pages=1024)
        target.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
        _check_integrity(target, partial)
    finally:
        target.close()
        source.close()
    partial.replace(out)
    return BackupResult(out, "sqlite", out.stat().st_size, sha256_of(out),
                        time.perf_counter() - started, f"sqlite3 {sqlite3.sqlite_version}")


def restore_sqlite(backup: Path, database: Path, *, at: datetime) -> Path | None:
    """Put ``backup`` in place of ``database``; return where the replaced database was kept.

    Stop Handbill first: a page served while the file changes under it may fail."""
    if not backup.is_file():
        raise BackupError(f"{backup} does not exist")
    check = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        _check_integrity(check, backup)
        tables = {r[0] for r in check.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{backup} is not a SQLite database ({exc})") from None
    finally:
        check.close()
    if "django_migrations" not in tables or "practice_practice" not in tables:
        raise BackupError(f"{backup} is a SQLite file but not a Handbill database")
    kept: Path | None = None
    if database.exists():
        kept = database.with_name(f"{database.name}.before-restore-{at:%Y%m%dT%H%M%SZ}")
        backup_sqlite(database, kept)
    source = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    target = sqlite3.connect(database)
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode=WAL")  # as settings.py runs it
    finally:
        target.close()
        source.close()
    return kept


def _regexp(pattern: str | None, text: Any) -> bool:
    return pattern is not None and text is not None and re.search(pattern, str(text)) is not None


def _check_integrity(connection: sqlite3.Connection, path: Path) -> None:
    # The integrity check re-evaluates CHECK constraints; Handbill's use REGEXP, which SQLite
    # leaves to the application (Django defines it the same way on its connections).
    connection.create_function("REGEXP", 2, _regexp, deterministic=True)
    result = connection.execute("PRAGMA integrity_check").fetchone()
    if not result or result[0] != "ok":
        raise BackupError(f"{path} failed SQLite's integrity check: {result}")


def _private_file(path: Path) -> None:
    """Create ``path`` empty, readable by this user only: a backup holds every patient."""
    path.unlink(missing_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _refuse_existing(out: Path) -> None:
    if out.exists():
        raise BackupError(f"{out} already exists: give a new file name (backups are never "
                          "overwritten)")


def pg_environment(settings_db: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    """Connection arguments for pg_dump/pg_restore; the password goes in the environment,
    never on the command line where other users could read it."""
    args = []
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if settings_db.get(key):
            args += [flag, str(settings_db[key])]
    env = dict(os.environ)
    if settings_db.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings_db["PASSWORD"])
    return args, env


def backup_postgresql(settings_db: dict[str, Any], out: Path) -> BackupResult:
    tool = shutil.which("pg_dump")
    if tool is None:
        raise BackupError("pg_dump is not installed here: install the PostgreSQL client tools "
                          "(e.g. apt-get install postgresql-client) matching your server, or "
                          "use your database host's backups")
    _refuse_existing(out)
    started = time.perf_counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    args, env = pg_environment(settings_db)
    partial = out.with_name(out.name + ".partial")
    _private_file(partial)
    command = [tool, "--format=custom", "--no-owner", "--file", str(partial), *args,
               str(settings_db["NAME"])]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
    partial.replace(out)
    version = subprocess.run([tool, "--version"], capture_output=True, text=True,  # noqa: S603
                             check=False).stdout.strip()
    return BackupResult(out, "postgresql", out.stat().st_size, sha256_of(out),
                        time.perf_counter() - started, version)


def backup_database(settings_db: dict[str, Any], out: Path) -> BackupResult:
    engine = str(settings_db["ENGINE"])
    if engine.endswith("sqlite3"):
        return backup_sqlite(Path(str(settings_db["NAME"])), out)
    if engine.endswith("postgresql"):
        return backup_postgresql(settings_db, out)
    raise BackupError(f"backups of {engine} are not supported; use the database's own tools")
