"""Batches over SFTP to a real OpenSSH server on 127.0.0.1, with the host key pinned."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from handbill.submissions.actions import (
    SubmissionError,
    UploadFailedError,
    fetch_inbox,
    retry_batch,
    submit_claims,
)
from handbill.submissions.models import BatchStatus, Clearinghouse, InboxFile
from handbill.submissions.transports import SftpTransport, TransportError
from tests.conftest import FIXED_NOW
from tests.integration import submission_setup as s
from tests.integration.sftp_server import (
    SftpServer,
    SshdUnavailable,
    make_key,
    running_sftp_server,
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SftpServer]:
    try:
        with running_sftp_server(tmp_path_factory.mktemp("sftp")) as running:
            yield running
    except SshdUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture
def remote(server: SftpServer) -> Iterator[SftpServer]:
    """The server with empty remote folders for each test."""
    yield server
    for folder in (server.remote_out, server.remote_in):
        for path in folder.iterdir():
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()


def _sftp_house(clinic: dict[str, Any], server: SftpServer, **overrides: Any) -> Clearinghouse:
    values: dict[str, Any] = {
        "practice": clinic["practice"],
        "name": "SFTP clearinghouse",
        "receiver_id": "TESTCH01",
        "receiver_name": "TEST CLEARINGHOUSE",
        "transport": "sftp",
        "sftp_host": server.host,
        "sftp_port": server.port,
        "sftp_username": server.username,
        "sftp_key_path": str(server.client_key),
        "known_host_key": server.host_public_key,
        "remote_out_dir": str(server.remote_out),
        "remote_in_dir": str(server.remote_in),
        "created_at": FIXED_NOW,
    }
    values.update(overrides)
    return Clearinghouse.objects.create(**values)


@pytest.fixture
def clinic(tmp_path: Path) -> dict[str, Any]:
    return s.make_clinic(tmp_path / "outbox")


@pytest.mark.django_db
def test_a_batch_goes_up_whole_and_the_claims_are_submitted(
    clinic: dict[str, Any], remote: SftpServer
) -> None:
    claims = [s.ready_claim(clinic) for _ in range(2)]
    house = _sftp_house(clinic, remote)
    batch = submit_claims(practice=clinic["practice"], claims=claims, clearinghouse=house,
                          by=clinic["biller"], at=FIXED_NOW)
    assert batch.status == BatchStatus.UPLOADED
    # Only the finished file is there: the temporary upload name was renamed away.
    assert [p.name for p in remote.remote_out.iterdir()] == [batch.file_name]
    assert (remote.remote_out / batch.file_name).read_text(encoding="ascii") == batch.x12
    assert s.statuses(claims) == ["submitted", "submitted"]


@pytest.mark.django_db
def test_a_server_with_another_host_key_gets_nothing(
    clinic: dict[str, Any], remote: SftpServer, tmp_path: Path
) -> None:
    claim = s.ready_claim(clinic)
    impostor_key = make_key(tmp_path / "impostor")
    house = _sftp_house(clinic, remote, known_host_key=impostor_key)
    with pytest.raises(UploadFailedError) as failed:
        submit_claims(practice=clinic["practice"], claims=[claim], clearinghouse=house,
                      by=clinic["biller"], at=FIXED_NOW)
    batch = failed.value.batch
    assert batch.status == BatchStatus.FAILED
    assert "not the one configured for this clearinghouse" in batch.error
    assert "nothing was sent" in batch.error
    assert list(remote.remote_out.iterdir()) == []
    assert s.statuses([claim]) == ["ready"]


@pytest.mark.django_db
def test_failed_upload_leaves_claims_ready_and_retry_succeeds(
    clinic: dict[str, Any], remote: SftpServer
) -> None:
    claims = [s.ready_claim(clinic) for _ in range(2)]
    house = _sftp_house(clinic, remote, remote_out_dir=str(remote.remote_out / "missing"))
    with pytest.raises(UploadFailedError) as failed:
        submit_claims(practice=clinic["practice"], claims=claims, clearinghouse=house,
                      by=clinic["biller"], at=FIXED_NOW)
    batch = failed.value.batch
    batch.refresh_from_db()
    assert batch.status == BatchStatus.FAILED and "upload of" in batch.error
    assert s.statuses(claims) == ["ready", "ready"]
    assert list(remote.remote_out.iterdir()) == []

    house.remote_out_dir = str(remote.remote_out)
    house.save()
    sent = retry_batch(batch=batch, by=clinic["biller"], at=FIXED_NOW + timedelta(minutes=10))
    assert sent.status == BatchStatus.UPLOADED and sent.attempts == 2
    assert (remote.remote_out / batch.file_name).read_text(encoding="ascii") == batch.x12
    assert s.statuses(claims) == ["submitted", "submitted"]


@pytest.mark.django_db
def test_inbox_fetch_downloads_each_file_once(
    clinic: dict[str, Any], remote: SftpServer
) -> None:
    house = _sftp_house(clinic, remote)
    (remote.remote_in / "ack.999").write_bytes(
        s.x12_envelope("999", "005010X231A1", ["AK1*HC*1*005010X222A1"], 21)
    )
    (remote.remote_in / "status.277").write_bytes(
        s.x12_envelope("277", "005010X214", ["BHT*0085*08*1*20261123*1700*TH"], 22)
    )
    (remote.remote_in / "subfolder").mkdir()
    first = fetch_inbox(practice=clinic["practice"], clearinghouse=house,
                        by=clinic["biller"], at=FIXED_NOW)
    assert sorted((f.name, f.kind) for f in first) == [("ack.999", "999"),
                                                       ("status.277", "277ca")]
    assert fetch_inbox(practice=clinic["practice"], clearinghouse=house,
                       by=clinic["biller"], at=FIXED_NOW) == []
    (remote.remote_in / "era.835").write_bytes(
        s.x12_envelope("835", "005010X221A1", ["BPR*I*0*C*NON"], 23)
    )
    later = fetch_inbox(practice=clinic["practice"], clearinghouse=house,
                        by=clinic["biller"], at=FIXED_NOW + timedelta(hours=1))
    assert [(f.name, f.kind) for f in later] == [("era.835", "835")]
    assert InboxFile.objects.filter(practice=clinic["practice"]).count() == 3


@pytest.mark.django_db
def test_inbox_fetch_reports_a_refused_sign_in(
    clinic: dict[str, Any], remote: SftpServer, tmp_path: Path
) -> None:
    make_key(tmp_path / "stranger")
    house = _sftp_house(clinic, remote, sftp_key_path=str(tmp_path / "stranger"))
    with pytest.raises(SubmissionError, match="refused the sign-in"):
        fetch_inbox(practice=clinic["practice"], clearinghouse=house, by=None, at=FIXED_NOW)
    assert not InboxFile.objects.exists()


def test_transport_errors_name_the_problem(server: SftpServer, tmp_path: Path) -> None:
    with pytest.raises(TransportError, match="cannot be read"):
        SftpTransport(server.host, server.port, server.username, server.client_key,
                      "ssh-ed25519 not-base64!", "out", "in")
    with pytest.raises(TransportError, match="host key is not set"):
        SftpTransport(server.host, server.port, server.username, server.client_key, "",
                      "out", "in")
    missing = SftpTransport(server.host, server.port, server.username, tmp_path / "nokey",
                            server.host_public_key, "out", "in")
    with pytest.raises(TransportError, match="does not exist"):
        missing.inbox_names()
    closed = SftpTransport("127.0.0.1", 1, server.username, server.client_key,
                           server.host_public_key, "out", "in", timeout=5)
    with pytest.raises(TransportError, match="cannot reach 127.0.0.1:1"):
        closed.inbox_names()


@pytest.mark.django_db
def test_the_command_line_sets_up_sftp_submits_and_fetches(
    clinic: dict[str, Any], remote: SftpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from handbill.cli import main

    claims = [s.ready_claim(clinic) for _ in range(2)]
    slug = clinic["practice"].slug
    assert main([
        "clearinghouse", "add", "--practice", slug, "--name", "Loopback SFTP",
        "--receiver-id", "TESTCH01", "--receiver-name", "TEST CLEARINGHOUSE",
        "--sftp-host", remote.host, "--sftp-port", str(remote.port),
        "--sftp-user", remote.username, "--sftp-key", str(remote.client_key),
        "--host-key", remote.host_public_key, "--remote-out", str(remote.remote_out),
        "--remote-in", str(remote.remote_in),
    ]) == 0
    capsys.readouterr()
    payer_id = claims[0].payer.payer_id
    assert main(["submit", "--payer", payer_id, "--practice", slug,
                 "--clearinghouse", "Loopback SFTP"]) == 0
    sent = json.loads(capsys.readouterr().out)
    assert sent["status"] == "uploaded" and sent["claims"] == 2
    assert (remote.remote_out / sent["file"]).read_text(encoding="ascii").startswith("ISA*")
    assert s.statuses(claims) == ["submitted", "submitted"]
    # Nothing is left to send: the command says so and exits 2.
    assert main(["submit", "--all-ready", "--practice", slug,
                 "--clearinghouse", "Loopback SFTP"]) == 2
    assert "no ready claims" in capsys.readouterr().err
    (remote.remote_in / "ack.999").write_bytes(
        s.x12_envelope("999", "005010X231A1", ["AK1*HC*1*005010X222A1"], 31)
    )
    assert main(["inbox", "fetch", "--practice", slug, "--clearinghouse", "Loopback SFTP"]) == 0
    fetched = json.loads(capsys.readouterr().out)
    assert [(f["name"], f["kind"]) for f in fetched["new_files"]] == [("ack.999", "999")]
