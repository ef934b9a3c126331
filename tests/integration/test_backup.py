"""Whole-database backups: SQLite's online copy is one consistent moment and restores; a
PostgreSQL dump (when this suite runs on PostgreSQL and pg_dump is installed) restores the data
it saw, not what changed after. The command-line round trip on a fresh install is in
test_portability.py."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from handbill.portability.backup import (
    BackupError,
    backup_sqlite,
    pg_environment,
    restore_sqlite,
)
from handbill.practice.models import Practice
from tests.factories import records as f

AT = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)


def _handbill_like(path: Path) -> sqlite3.Connection:
    """A small database with the two tables restore looks for, in WAL mode like Handbill's."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE django_migrations (id INTEGER PRIMARY KEY, app TEXT, name TEXT)")
    db.execute("CREATE TABLE practice_practice (id INTEGER PRIMARY KEY, legal_name TEXT)")
    db.execute("INSERT INTO practice_practice (legal_name) VALUES ('Cedar Street')")
    return db


def _names(path: Path) -> list[str]:
    db = sqlite3.connect(path)
    try:
        return [r[0] for r in db.execute("SELECT legal_name FROM practice_practice ORDER BY id")]
    finally:
        db.close()


def test_sqlite_backup_is_one_moment_while_a_writer_is_busy(tmp_path: Path) -> None:
    live = tmp_path / "handbill.sqlite3"
    app = _handbill_like(live)
    app.execute("BEGIN IMMEDIATE")
    app.execute("INSERT INTO practice_practice (legal_name) VALUES ('not committed yet')")
    result = backup_sqlite(live, tmp_path / "copy.sqlite3")  # while the write is open
    app.execute("COMMIT")
    assert _names(result.path) == ["Cedar Street"]
    assert result.path.stat().st_mode & 0o777 == 0o600  # every patient is in it
    assert _names(live) == ["Cedar Street", "not committed yet"]
    # The copy stands alone: no -wal file is needed to read it.
    assert not (tmp_path / "copy.sqlite3-wal").exists()
    with pytest.raises(BackupError, match="already exists"):
        backup_sqlite(live, result.path)

    app.execute("UPDATE practice_practice SET legal_name = 'Changed'")
    app.close()
    kept = restore_sqlite(result.path, live, at=AT)
    assert _names(live) == ["Cedar Street"]
    assert kept is not None and _names(kept) == ["Changed", "Changed"]


def test_restore_refuses_what_is_not_a_handbill_backup(tmp_path: Path) -> None:
    live = tmp_path / "handbill.sqlite3"
    _handbill_like(live).close()
    stranger = tmp_path / "other.sqlite3"
    sqlite3.connect(stranger).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(BackupError, match="not a Handbill database"):
        restore_sqlite(stranger, live, at=AT)
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(BackupError, match="not a SQLite database"):
        restore_sqlite(junk, live, at=AT)
    assert _names(live) == ["Cedar Street"]


@pytest.mark.django_db(transaction=True)
def test_postgresql_dump_restores_what_it_saw(tmp_path: Path) -> None:
    if connection.vendor != "postgresql" or shutil.which("pg_restore") is None:
        pytest.skip("needs DATABASE_URL on PostgreSQL and the PostgreSQL client tools")
    from handbill.portability.backup import backup_database

    practice = f.make_practice(legal_name="Before Backup Clinic")
    database = settings.DATABASES["default"]
    result = backup_database(database, tmp_path / "handbill.dump")
    assert result.engine == "postgresql" and result.bytes > 0
    Practice.objects.filter(pk=practice.pk).update(legal_name="After Backup Clinic")

    import psycopg

    scratch = f"{database['NAME']}_restore_check"
    args, env = pg_environment(database)
    admin = psycopg.connect(host=database["HOST"], port=database["PORT"] or 5432,
                            user=database["USER"], password=database["PASSWORD"] or None,
                            dbname="postgres", autocommit=True)
    admin.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
    admin.execute(f'CREATE DATABASE "{scratch}"')
    try:
        done = subprocess.run(  # noqa: S603 - the documented restore step
            [shutil.which("pg_restore") or "pg_restore", "--no-owner", *args, "--dbname",
             scratch, str(result.path)], env=env, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        with psycopg.connect(host=database["HOST"], port=database["PORT"] or 5432,
                             user=database["USER"], password=database["PASSWORD"] or None,
                             dbname=scratch) as restored:
            name = restored.execute("SELECT legal_name FROM practice_practice WHERE id = %s",
                                    [practice.pk]).fetchone()
        assert name == ("Before Backup Clinic",)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
        admin.close()
