"""A real OpenSSH SFTP server on 127.0.0.1 for the transport tests.

Debian's ``openssh-server`` runs from a throwaway folder: its own host key, one authorized
client key, a config that listens on a free loopback port and serves ``internal-sftp``. Nothing
of the machine's own SSH setup is read or changed (the one exception: ``/run/sshd``, the empty
privilege-separation folder sshd insists on when it runs as root, is created if missing).
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SSHD = Path("/usr/sbin/sshd")
SSH_KEYGEN = "ssh-keygen"
START_TIMEOUT_SECONDS = 15.0


class SshdUnavailable(RuntimeError):
    """OpenSSH's server is not installed and could not be installed here."""


@dataclass(frozen=True)
class SftpServer:
    host: str
    port: int
    username: str
    client_key: Path
    host_public_key: str  # "ssh-ed25519 AAAA…", as a clearinghouse would publish it
    remote_out: Path  # where uploads land
    remote_in: Path  # where the clearinghouse leaves responses
    log: Path


def ensure_sshd() -> Path:
    """The sshd binary; installs Debian's package when we are root and it is missing."""
    if SSHD.exists():
        return SSHD
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in (["apt-get", "install", "-y", "-q", "openssh-server"],
                        ["apt-get", "update", "-q"],
                        ["apt-get", "install", "-y", "-q", "openssh-server"]):
            subprocess.run(command, env=env, capture_output=True, check=False)  # noqa: S603
            if SSHD.exists():
                return SSHD
    raise SshdUnavailable(
        "OpenSSH server is not installed and could not be installed (needs root and apt-get): "
        "apt-get install openssh-server"
    )


def _keygen(path: Path) -> str:
    subprocess.run(  # noqa: S603 - fixed arguments
        [SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", "handbill-test", "-f", str(path)],
        check=True, capture_output=True,
    )
    kind, data = path.with_suffix(".pub").read_text().split()[:2]
    return f"{kind} {data}"


def make_key(path: Path) -> str:
    """A fresh ed25519 key pair at ``path``; returns the public key line."""
    return _keygen(path)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_serving(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    """Poll until sshd answers with its SSH banner; bounded, and stops early if sshd died."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        try:
            # Waiting on the process doubles as the pause between polls and notices an exit.
            process.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            pass
        else:
            raise RuntimeError(f"sshd exited at start: {log.read_text(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0) as conn:
                conn.settimeout(2.0)
                if conn.recv(64).startswith(b"SSH-2.0"):
                    return
        except OSError:
            continue
    raise RuntimeError(f"sshd did not answer on port {port}: {log.read_text(errors='replace')}")


@contextmanager
def running_sftp_server(folder: Path) -> Iterator[SftpServer]:
    sshd = ensure_sshd()
    folder.mkdir(parents=True, exist_ok=True)
    host_key = folder / "host_ed25519"
    host_public = _keygen(host_key)
    client_key = folder / "client_ed25519"
    client_public = _keygen(client_key)
    authorized = folder / "authorized_keys"
    authorized.write_text(client_public + "\n")
    remote_out, remote_in = folder / "remote" / "to-clearinghouse", folder / "remote" / "responses"
    remote_out.mkdir(parents=True)
    remote_in.mkdir(parents=True)
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    user = getpass.getuser()
    log = folder / "sshd.log"
    process: subprocess.Popen[bytes] | None = None
    port = 0
    for _attempt in range(3):  # another process may take the free port before sshd binds it
        port = _free_port()
        config = folder / "sshd_config"
        config.write_text(
            "\n".join(
                [
                    f"Port {port}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {host_key}",
                    f"PidFile {folder / 'sshd.pid'}",
                    f"AuthorizedKeysFile {authorized}",
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "PermitRootLogin prohibit-password",
                    f"AllowUsers {user}",
                    "StrictModes no",
                    "UsePAM no",
                    "PrintMotd no",
                    "LogLevel VERBOSE",
                    "Subsystem sftp internal-sftp",
                    "",
                ]
            )
        )
        with log.open("wb") as log_file:
            process = subprocess.Popen(  # noqa: S603 - fixed arguments
                [str(sshd), "-D", "-e", "-f", str(config)],
                stdout=log_file, stderr=subprocess.STDOUT,
            )
        try:
            _wait_until_serving(process, port, log)
            break
        except RuntimeError:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
            if "Address already in use" not in log.read_text(errors="replace"):
                raise
    else:
        raise RuntimeError(f"sshd could not bind a port: {log.read_text(errors='replace')}")
    assert process is not None
    try:
        yield SftpServer(
            host="127.0.0.1", port=port, username=user, client_key=client_key,
            host_public_key=host_public, remote_out=remote_out, remote_in=remote_in, log=log,
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def main() -> None:
    """Run the test server by hand, to try the SFTP transport on the demo practice:

        .venv/bin/python -m tests.integration.sftp_server

    prints the ``handbill clearinghouse add`` command that points the demo practice at it and
    serves until Ctrl-C. Its keys and folders live in a fresh folder under ``var/sftp/``.
    """
    import shlex
    import tempfile

    base = Path("var") / "sftp"
    base.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="server-", dir=base)).resolve()
    with running_sftp_server(folder) as server:
        command = [
            "handbill", "clearinghouse", "add", "--name", "Test SFTP",
            "--receiver-id", "HBSANDBOX", "--receiver-name", "HANDBILL PAYER SANDBOX",
            "--sftp-host", server.host, "--sftp-port", str(server.port),
            "--sftp-user", server.username, "--sftp-key", str(server.client_key),
            "--host-key", server.host_public_key,
            "--remote-out", str(server.remote_out), "--remote-in", str(server.remote_in),
        ]
        print(f"SFTP server on {server.host}:{server.port}; uploads land in {server.remote_out}")
        print("Point the demo practice at it with:\n")
        print("  " + shlex.join(command) + "\n")
        print("then: handbill claims submit --all-ready --clearinghouse 'Test SFTP'")
        print("Ctrl-C stops the server.", flush=True)
        try:
            signal_wait()
        except KeyboardInterrupt:
            print("\nstopped")


def signal_wait() -> None:
    """Block until Ctrl-C (no busy loop, no sleeping in steps)."""
    import signal

    signal.pause()


if __name__ == "__main__":
    main()
