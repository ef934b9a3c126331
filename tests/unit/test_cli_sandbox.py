"""``handbill sandbox adjudicate``: answers land where the outbox clearinghouse reads them, the
JSON says what happened to each claim, bad input exits 2 with the reason, and nothing is
half-written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from handbill.cli import main
from handbill.cli.sandbox import default_out_dir
from handbill.submissions.transports import OutboxTransport
from tests.unit.test_sandbox import file_of, visit
from tests.unit.x12_validation import pyx12_errors


def outbox_file(tmp_path: Path, text: str | None = None, name: str = "clinic-000000001.837",
                ) -> Path:
    folder = tmp_path / "clearinghouse" / "outbox"
    folder.mkdir(parents=True)
    path = folder / name
    path.write_text(text if text is not None else file_of(
        visit("C1"), visit("C2", member="AB1"), visit("C3", "RNRUM")))
    return path


def adjudicate(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["sandbox", "adjudicate", *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_answers_go_to_the_inbox_the_outbox_transport_reads(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = outbox_file(tmp_path)
    status, out, err = adjudicate(capsys, str(path), "--seed", "3", "--as-of", "2026-11-23")
    assert (status, err) == (0, "")
    data = json.loads(out)
    inbox = OutboxTransport(path.parent).inbox
    assert Path(data["out"]) == inbox.resolve() == default_out_dir(path)
    names = sorted(OutboxTransport(path.parent).inbox_names())
    assert names == ["clinic-000000001.277ca", "clinic-000000001.999",
                     "clinic-000000001.EVGHP.835", "clinic-000000001.RNRUM.835"]
    assert sorted(Path(p).name for p in data["files"]) == names
    for name in names:
        text = (inbox / name).read_text()
        assert pyx12_errors(text, want_999=not name.endswith(".835")) == []
    claims = {c["claim_id"]: c for c in data["claims"]}
    assert claims["C2"]["status"] == "rejected"
    assert claims["C2"]["rejections"][0]["code"] == "164"
    assert claims["C1"]["accepted"] and claims["C1"]["paid"] != "0.00"
    assert data["seed"] == 3 and data["as_of"] == "2026-11-23"
    assert data["acknowledgement"]["transactions"][0]["status"] == "A"


def test_running_again_is_harmless_and_another_seed_changes_nothing_on_disk(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = outbox_file(tmp_path)
    out_dir = tmp_path / "answers"
    assert adjudicate(capsys, str(path), "--out", str(out_dir))[0] == 0
    before = {p.name: p.read_bytes() for p in out_dir.iterdir()}
    assert adjudicate(capsys, str(path), "--out", str(out_dir))[0] == 0
    status, out, err = adjudicate(capsys, str(path), "--out", str(out_dir), "--seed", "99")
    assert status == 2 and out == ""
    assert "already exists with other content" in err
    assert {p.name: p.read_bytes() for p in out_dir.iterdir()} == before


def test_the_default_date_is_the_files_creation_date(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = outbox_file(tmp_path)
    status, out, _ = adjudicate(capsys, str(path), "--out", str(tmp_path / "a"))
    assert status == 0 and json.loads(out)["as_of"] == "2026-11-23"


def test_visits_already_paid_count_towards_the_cap(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = outbox_file(tmp_path, file_of(visit("CAP")))
    status, out, _ = adjudicate(capsys, str(path), "--out", str(tmp_path / "a"),
                                "--visits", "EVH123456789=20")
    claim = json.loads(out)["claims"][0]
    assert status == 0 and claim["status"] == "denied"
    assert claim["denied_lines"][0]["reason"] == "119"


@pytest.mark.parametrize(("content", "message"), [
    ("not an edi file", "not a readable X12 interchange"),
    ("", "the 837 file is empty"),
])
def test_a_malformed_837_exits_2_and_writes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str) -> None:
    path = outbox_file(tmp_path, content)
    out_dir = tmp_path / "answers"
    status, out, err = adjudicate(capsys, str(path), "--out", str(out_dir))
    assert (status, out) == (2, "")
    assert err.startswith("handbill sandbox: ") and message in err and str(path) in err
    assert not out_dir.exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--as-of", "23/11/2026"], "--as-of '23/11/2026' is not a date"),
    (["--visits", "EVH1"], "write MEMBER=N"),
])
def test_bad_options_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                            args: list[str], message: str) -> None:
    path = outbox_file(tmp_path)
    status, _out, err = adjudicate(capsys, str(path), *args)
    assert status == 2 and message in err


def test_a_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _out, err = adjudicate(capsys, str(tmp_path / "nope.837"))
    assert status == 2 and "cannot read" in err


def test_the_command_never_starts_django(tmp_path: Path) -> None:
    path = outbox_file(tmp_path)
    script = (
        "import sys\n"
        "from handbill.cli import main\n"
        f"code = main(['sandbox', 'adjudicate', {str(path)!r}, '--out', "
        f"{str(tmp_path / 'a')!r}])\n"
        "assert code == 0, code\n"
        "assert not any(m == 'django' or m.startswith('django.') for m in sys.modules), "
        "'django was imported'\n"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
