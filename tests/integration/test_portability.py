"""A practice is never locked in: export, verify, import into another database, back up.

The round trips build a busy practice (claims out, 999/277CA/835 back and posted, eligibility,
reversal, replacement, addendum), export it, roll it back so the database no longer has it,
and import the export: the practice's rows, read without their ids, must be what they were.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction

from handbill.audit.models import AuditEvent
from handbill.portability import canonical, registry
from handbill.portability.export import USERS_FILE, ExportError, data_file, export_practice
from handbill.portability.importing import ImportRefused, _Loader, import_practice
from handbill.portability.manifest import MANIFEST_NAME, sha256_of
from handbill.practice.models import Membership, Practice
from tests.conftest import FIXED_NOW
from tests.factories import records as f
from tests.integration.portability_setup import busy_practice, run

REPO = Path(__file__).resolve().parents[2]
IMPORT_ACTIONS = frozenset({"practice.import"})


def _table_counts() -> dict[str, int]:
    return {registry.label(m): m._default_manager.count() for m in registry.all_models()}


def _exported_then_gone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[
        Path, dict[str, Any], dict[str, Any]]:
    """Export a busy practice, then roll it back: the database no longer has it."""
    out = tmp_path / "export"
    with transaction.atomic():
        practice = busy_practice(tmp_path / "a", capsys)["practice"]
        before = canonical.dump(practice)
        manifest = export_practice(practice=practice, out=out, by=None, at=FIXED_NOW).manifest
        transaction.set_rollback(True)
    assert not Practice.objects.filter(slug=manifest["practice"]["slug"]).exists()
    return out, before, manifest


# --- every model has a decision -----------------------------------------------------------------


def test_every_model_is_exported_or_excluded_with_a_reason() -> None:
    assert registry.problems() == []
    assert all(len(reason.split()) >= 4 for reason in registry.EXCLUDED.values())
    # Every table with a practice key is decided (exported, or excluded with its reason).
    decided = registry.EXPORTED | set(registry.EXCLUDED)
    for model in registry.all_models():
        if Practice in {f.related_model for f in registry.foreign_keys(model)}:
            assert registry.label(model) in decided, registry.label(model)


def test_a_model_without_a_decision_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "EXPORTED", registry.EXPORTED - {"visits.addendum"})
    assert registry.problems()[0].startswith("visits.addendum: no export decision")


# --- the round trip -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_import_reproduces_the_practice_with_new_ids(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, before, manifest = _exported_then_gone(tmp_path, capsys)
    counts = manifest["counts"]
    for name in ("remittance.erafile", "remittance.claimpayment", "remittance.adjustment",
                 "remittance.acknowledgement", "eligibility.eligibilitycheck",
                 "submissions.submissionbatch", "submissions.inboxfile", "visits.addendum",
                 "ledger.leg", "audit.auditevent", "claims.claimevent",
                 "submissions.submissionjob", "submissions.submissionjobitem",
                 "followup.workitem"):
        assert counts[name] > 0, name
    assert any(row["replaces_id"] for row in before["claims.claim"])
    assert any(row["primary_claim_id"] for row in before["claims.claim"])
    assert any(row["reverses_id"] for row in before["ledger.ledgertransaction"])
    # Another practice now holds the ids the exported one had: a key left unrenumbered
    # would land on its rows and the comparison below would fail.
    busy_practice(tmp_path / "b", capsys, last_name="Zanzibarro")

    result = import_practice(source=out, by=None, at=FIXED_NOW)

    assert result.practice is not None
    assert canonical.dump(result.practice, ignore_audit_actions=IMPORT_ACTIONS) == before
    assert result.counts == counts
    maps = result.id_maps
    assert any(old != new for old, new in maps["claims.claim"].items())
    # Ids named in text follow their rows: the ledger's charges name the new claims.
    from handbill.ledger.models import LedgerTransaction

    charge_sources = set(LedgerTransaction.objects.filter(
        practice=result.practice, source_type="claim").values_list("source_id", flat=True))
    assert charge_sources <= {str(pk) for pk in maps["claims.claim"].values()}
    audit = AuditEvent.objects.get(practice=result.practice, action="practice.import")
    assert audit.detail["manifest_sha256"] == sha256_of(out / MANIFEST_NAME)
    # The sums the ledger keeps are not in the export; inserting the legs rebuilt them.
    from handbill.ledger.balances import daily_total_drift, open_receivables, receivable_drift

    assert open_receivables(result.practice).exists()
    assert receivable_drift(result.practice) == []
    assert daily_total_drift(result.practice) == []


@pytest.mark.django_db
def test_exports_hold_nothing_of_another_practice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = busy_practice(tmp_path / "a", capsys, last_name="Quillfeather")
    b = busy_practice(tmp_path / "b", capsys, last_name="Zanzibarro")
    folders = {}
    for clinic, name in ((a, "a"), (b, "b")):
        folders[name] = tmp_path / f"export-{name}"
        export_practice(practice=clinic["practice"], out=folders[name], by=None, at=FIXED_NOW)

    def text_of(folder: Path) -> str:
        return "\n".join(p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*"))
                         if p.is_file())

    for mine, theirs, their_name in ((a, b, "Zanzibarro"), (b, a, "Quillfeather")):
        folder = folders["a" if mine is a else "b"]
        text = text_of(folder)
        practice = theirs["practice"]
        for marker in (their_name, practice.slug + '"', practice.billing_npi,
                       practice.legal_name, theirs["biller"].username + '"'):
            assert marker not in text, marker
        assert mine["practice"].legal_name in text
        # The rows name only their own practice.
        own = mine["practice"].pk
        for path in (folder / "data").glob("*.jsonl"):
            for line in path.read_text(encoding="utf-8").splitlines():
                row = json.loads(line)
                if "practice_id" in row:
                    assert row["practice_id"] == own, path.name
        users = [json.loads(line)["username"] for line in
                 (folder / USERS_FILE).read_text(encoding="utf-8").splitlines()]
        members = set(Membership.objects.filter(practice=mine["practice"]).values_list(
            "user__username", flat=True))
        assert members <= set(users) and theirs["biller"].username not in users


@pytest.mark.django_db
def test_export_writes_sheets_x12_and_a_manifest_and_is_audited(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clinic = busy_practice(tmp_path / "a", capsys)
    practice = clinic["practice"]
    out = tmp_path / "export"
    result = export_practice(practice=practice, out=out, by=None, at=FIXED_NOW)
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    assert manifest["format"] == "handbill-practice-export" and manifest["format_version"] == 1
    assert manifest["practice"]["slug"] == practice.slug
    assert manifest["users"]["password_hashes"] is False
    listed = {e["path"]: e for e in manifest["files"]}
    for path in out.rglob("*"):
        if path.is_file() and path.name != MANIFEST_NAME:
            entry = listed.pop(path.relative_to(out).as_posix())
            assert entry["sha256"] == sha256_of(path) and entry["bytes"] == path.stat().st_size
    assert listed == {}
    paths = registry.practice_paths()
    for model in registry.exported_models():
        name = registry.label(model)
        lines = (out / data_file(name)).read_text(encoding="utf-8").splitlines()
        stored = model._default_manager.filter(
            **{paths[name]: practice} if paths[name] else {"pk": practice.pk}).count()
        written_after = 1 if name == "audit.auditevent" else 0  # the export's own audit row
        assert len(lines) == manifest["counts"][name] == stored - written_after, name
    kinds = {p.parent.name for p in (out / "x12").rglob("*") if p.is_file()}
    assert kinds >= {"837", "999", "277ca", "835", "270", "271"}
    sent = (out / "x12" / "837").iterdir().__next__().read_text()
    assert sent.startswith("ISA*") and "CLM*" in sent
    claims_csv = (out / "csv" / "claims.csv").read_text().splitlines()
    assert claims_csv[0].startswith("claim_number,status,")
    assert len(claims_csv) == 1 + manifest["counts"]["claims.claim"]
    ledger_csv = (out / "csv" / "ledger.csv").read_text()
    assert ".00" in ledger_csv  # dollars with two decimals for the spreadsheet
    for sheet in ("patients", "claim_lines", "payments"):
        assert len((out / "csv" / f"{sheet}.csv").read_text().splitlines()) > 1, sheet
    event = AuditEvent.objects.get(practice=practice, action="practice.export")
    assert event.detail["manifest_sha256"] == result.manifest_sha256
    assert event.occurred_at == FIXED_NOW
    # The export does not carry its own audit row (written after the reads).
    audit_rows = (out / data_file("audit.auditevent")).read_text()
    assert "practice.export" not in audit_rows


@pytest.mark.django_db
def test_only_an_owner_exports_and_never_into_a_used_folder(tmp_path: Path) -> None:
    from django.core.exceptions import PermissionDenied

    practice = f.make_practice()
    biller = f.make_user(practice, role="biller")
    with pytest.raises(PermissionDenied):
        export_practice(practice=practice, out=tmp_path / "x", by=biller, at=FIXED_NOW)
    used = tmp_path / "used"
    used.mkdir()
    (used / "notes.txt").write_text("mine")
    with pytest.raises(ExportError, match="not empty"):
        export_practice(practice=practice, out=used, by=None, at=FIXED_NOW)
    assert (used / "notes.txt").read_text() == "mine"
    owner = f.make_user(practice, role="owner")
    export_practice(practice=practice, out=tmp_path / "ok", by=owner, at=FIXED_NOW)
    assert AuditEvent.objects.get(action="practice.export").actor == owner


# --- refusals -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_tampered_added_or_missing_file_is_refused_and_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, _before, _manifest = _exported_then_gone(tmp_path, capsys)
    counts = _table_counts()
    patients = out / data_file("patients.patient")
    original = patients.read_bytes()

    patients.write_bytes(original.replace(b'"Jordan"', b'"Jordon"', 1))
    with pytest.raises(ImportRefused, match="patients.patient.jsonl does not match its sha256"):
        import_practice(source=out, by=None, at=FIXED_NOW)
    patients.write_bytes(original)

    (out / "x12" / "837" / "extra.837").write_text("ISA*")
    with pytest.raises(ImportRefused, match="extra.837 is not in the manifest"):
        import_practice(source=out, by=None, at=FIXED_NOW)
    (out / "x12" / "837" / "extra.837").unlink()

    patients.unlink()
    with pytest.raises(ImportRefused, match="listed in the manifest but missing"):
        import_practice(source=out, by=None, at=FIXED_NOW)
    assert _table_counts() == counts

    patients.write_bytes(original)
    assert run(capsys, "import", "--in", str(out), "--verify-only")["verified"] is True
    assert _table_counts() == counts


@pytest.mark.django_db
def test_a_failure_half_way_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out, _before, _manifest = _exported_then_gone(tmp_path, capsys)
    counts = _table_counts()
    load = _Loader.load

    def failing(self: _Loader, model: Any) -> None:
        if registry.label(model) == "remittance.adjustment":
            raise RuntimeError("disk full")
        load(self, model)

    monkeypatch.setattr(_Loader, "load", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        import_practice(source=out, by=None, at=FIXED_NOW)
    assert _table_counts() == counts

    monkeypatch.setattr(_Loader, "load", load)
    dry = run(capsys, "import", "--in", str(out), "--dry-run")
    assert dry["dry_run"] is True and dry["rows"] > 100
    assert _table_counts() == counts


@pytest.mark.django_db
def test_import_refuses_a_practice_that_exists(tmp_path: Path) -> None:
    practice = f.make_practice()
    f.make_patient(practice)
    out = tmp_path / "export"
    export_practice(practice=practice, out=out, by=None, at=FIXED_NOW)
    counts = _table_counts()
    with pytest.raises(ImportRefused, match="already exists"):
        import_practice(source=out, by=None, at=FIXED_NOW)
    assert _table_counts() == counts
    from handbill.cli import main

    assert main(["import", "--in", str(out)]) == 2
    # A manifest edited to name another slug gets as far as the database, which refuses the
    # practice row; the whole import rolls back.
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    manifest["practice"]["slug"] = "someone-else"
    (out / MANIFEST_NAME).write_text(json.dumps(manifest))
    with pytest.raises(ImportRefused, match="the database refused a row"):
        import_practice(source=out, by=None, at=FIXED_NOW)
    assert _table_counts() == counts


def _rewrite(out: Path, relative: str, text: str) -> None:
    """Change a file and its manifest entry, as a newer or older Handbill would have written."""
    (out / relative).write_text(text, encoding="utf-8")
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    for entry in manifest["files"]:
        if entry["path"] == relative:
            entry["bytes"] = (out / relative).stat().st_size
            entry["sha256"] = sha256_of(out / relative)
    (out / MANIFEST_NAME).write_text(json.dumps(manifest))


@pytest.mark.django_db
def test_newer_exports_are_refused_and_older_ones_take_defaults(tmp_path: Path) -> None:
    out = tmp_path / "export"
    with transaction.atomic():
        practice = f.make_practice(claim_sequence=41)
        export_practice(practice=practice, out=out, by=None, at=FIXED_NOW)
        transaction.set_rollback(True)
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    saved = json.dumps(manifest)
    manifest["migrations"]["claims"].append("0999_from_the_future")
    (out / MANIFEST_NAME).write_text(json.dumps(manifest))
    with pytest.raises(ImportRefused, match=r"newer Handbill \(claims.0999_from_the_future"):
        import_practice(source=out, by=None, at=FIXED_NOW)
    (out / MANIFEST_NAME).write_text(saved)

    # Written before claim_sequence existed: the column takes its default.
    relative = data_file("practice.practice")
    row = json.loads((out / relative).read_text())
    del row["claim_sequence"]
    _rewrite(out, relative, json.dumps(row) + "\n")
    imported = import_practice(source=out, by=None, at=FIXED_NOW).practice
    assert imported is not None and imported.claim_sequence == 0
    assert imported.legal_name == practice.legal_name


# --- people -------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("hashes", [False, True])
def test_people_travel_with_or_without_password_hashes(tmp_path: Path, hashes: bool) -> None:
    out = tmp_path / "export"
    with transaction.atomic():
        practice = f.make_practice()
        owner = f.make_user(practice, role="owner", username="moving-owner")
        owner.is_superuser = owner.is_staff = True
        owner.save()
        export_practice(practice=practice, out=out, by=None, at=FIXED_NOW,
                        include_password_hashes=hashes)
        transaction.set_rollback(True)
    users = (out / USERS_FILE).read_text()
    assert ('"password"' in users) is hashes
    f.make_user(None, username="already-here")
    result = import_practice(source=out, by=None, at=FIXED_NOW)
    moved = get_user_model().objects.get(username="moving-owner")
    assert result.users_created == ["moving-owner"]
    assert moved.check_password("synthetic-pass-123") is hashes
    assert moved.has_usable_password() is hashes
    assert not moved.is_staff and not moved.is_superuser  # an import never grants those
    assert Membership.objects.get(user=moved).practice == result.practice


@pytest.mark.django_db
def test_someone_already_here_keeps_their_account(tmp_path: Path) -> None:
    out = tmp_path / "export"
    with transaction.atomic():
        practice = f.make_practice()
        f.make_user(practice, role="biller", username="shared-biller")
        export_practice(practice=practice, out=out, by=None, at=FIXED_NOW)
        transaction.set_rollback(True)
    here = f.make_user(f.make_practice(), role="biller", username="shared-biller")
    result = import_practice(source=out, by=None, at=FIXED_NOW)
    assert result.users_matched == ["shared-biller"] and result.users_created == []
    assert set(Membership.objects.filter(user=here).values_list("practice__slug", flat=True)) >= {
        result.slug}


# --- a fresh database, from the command line ----------------------------------------------------


def _handbill(database: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` (or ``handbill ARGS`` when the first is "handbill") on ``database``."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}",
           "HANDBILL_VAR_DIR": str(database.parent)}
    command = ([str(Path(sys.executable).parent / "handbill"), *argv[1:]]
               if argv[0] == "handbill" else [sys.executable, *argv])
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True,  # noqa: S603
                          text=True, check=False, timeout=300)


CANONICAL = (
    "import json, sys, django; django.setup();"
    "from handbill.portability.canonical import dump;"
    "from handbill.practice.models import Practice;"
    "print(json.dumps(dump(Practice.objects.get(slug=sys.argv[1]),"
    " ignore_audit_actions=frozenset({'practice.import'})), sort_keys=True))"
)


def _canonical_in(database: Path, slug: str) -> Any:
    done = _handbill(database, "-c", CANONICAL, slug)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.django_db
def test_fresh_database_import_then_backup_and_restore(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The whole story on a new SQLite install, whatever database this suite runs on:
    migrate, import, compare; back up, change a row, restore, and the row is back."""
    out = tmp_path / "export"
    practice = busy_practice(tmp_path / "a", capsys)["practice"]
    before = json.loads(json.dumps(canonical.dump(practice), sort_keys=True))
    exported = run(capsys, "export", "--practice", practice.slug, "--out", str(out))
    assert exported["bytes"] > 0 and exported["manifest_sha256"]

    fresh = tmp_path / "fresh" / "handbill.sqlite3"
    fresh.parent.mkdir()
    migrate = _handbill(fresh, "manage.py", "migrate", "--verbosity", "0")
    assert migrate.returncode == 0, migrate.stderr
    env_cli = ["handbill"]
    done = _handbill(fresh, *env_cli, "import", "--in", str(out))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["imported"] is True
    assert _canonical_in(fresh, practice.slug) == before

    again = _handbill(fresh, *env_cli, "import", "--in", str(out))
    assert again.returncode == 2 and "already exists" in again.stderr

    backup = tmp_path / "backups" / "handbill-backup.sqlite3"
    done = _handbill(fresh, *env_cli, "backup", "--out", str(backup))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["engine"] == "sqlite" and report["sha256"] == sha256_of(backup)
    with sqlite3.connect(fresh) as db:
        db.execute("UPDATE patients_patient SET last_name = 'Changed'")
        db.execute("DELETE FROM claims_claimfinding")
    db.close()
    assert _canonical_in(fresh, practice.slug) != before
    refused = _handbill(fresh, *env_cli, "backup", "--out", str(backup))
    assert refused.returncode == 2 and "already exists" in refused.stderr

    done = _handbill(fresh, *env_cli, "restore", "--from", str(backup))
    assert done.returncode == 0, done.stderr
    kept = Path(json.loads(done.stdout)["previous_kept_as"])
    assert kept.is_file()
    assert _canonical_in(fresh, practice.slug) == before
    with sqlite3.connect(kept) as db:
        assert db.execute("SELECT DISTINCT last_name FROM patients_patient").fetchall() == [
            ("Changed",)]
    db.close()


@pytest.mark.django_db(transaction=True)
def test_an_export_outside_any_transaction_reads_one_snapshot(tmp_path: Path) -> None:
    """As the command runs it: its own transaction (repeatable read on PostgreSQL)."""
    practice = f.make_practice()
    f.make_patient(practice, last_name="Snapshot")
    out = tmp_path / "export"
    result = export_practice(practice=practice, out=out, by=None, at=FIXED_NOW)
    assert result.manifest["counts"]["patients.patient"] == 1
    assert "Snapshot" in (out / "csv" / "patients.csv").read_text()
    assert out.stat().st_mode & 0o777 == 0o700
    assert AuditEvent.objects.filter(practice=practice, action="practice.export").count() == 1
