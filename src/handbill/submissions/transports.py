"""How a batch file reaches the clearinghouse, and how its answers come back.

Two transports with one shape: ``upload(name, content)``, ``inbox_names()``, ``download(name)``.
Both make a file appear whole or not at all (written under a temporary name, then renamed), so a
clearinghouse that polls the folder never picks up half a claim file.

SFTP checks the server's host key against the one configured for the clearinghouse and refuses
any other (paramiko's RejectPolicy, never AutoAddPolicy): a batch of patient claims must not go
to a machine that only claims to be the clearinghouse.
"""

from __future__ import annotations

import base64
import binascii
import io
import os
import stat
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Protocol

import paramiko

CONNECT_TIMEOUT_SECONDS = 20.0
_PARTIAL = ".part"


class TransportError(Exception):
    """An upload or download that did not happen; the message says why and what to check."""


class Transport(Protocol):
    def upload(self, name: str, content: bytes) -> str: ...

    def inbox_names(self) -> list[str]: ...

    def download(self, name: str) -> bytes: ...

    def close(self) -> None: ...

    def __enter__(self) -> Transport: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


def _plain_name(name: str) -> str:
    if not name or name != os.path.basename(name) or name.startswith("."):
        raise TransportError(f"{name!r} is not a plain file name")
    return name


class OutboxTransport:
    """A local folder (often one the clearinghouse's desktop uploader watches)."""

    def __init__(self, folder: str | Path, inbox: str | Path | None = None) -> None:
        self.folder = Path(folder)
        # Responses go in a sibling folder: …/outbox → …/inbox.
        self.inbox = Path(inbox) if inbox is not None else self.folder.parent / "inbox"

    def __enter__(self) -> OutboxTransport:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        pass

    def upload(self, name: str, content: bytes) -> str:
        target = self.folder / _plain_name(name)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            if target.exists():
                if target.read_bytes() == content:
                    return str(target)  # the same file again (a retry after a crash)
                raise TransportError(
                    f"{target} already exists with other content; batch files are never "
                    "overwritten"
                )
            handle, temp = tempfile.mkstemp(dir=self.folder, prefix=f".{name}.", suffix=_PARTIAL)
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(content)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temp, target)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise TransportError(
                f"cannot write {target}: {exc.strerror or exc}; check the clearinghouse's "
                "outbox folder exists and is writable"
            ) from exc
        return str(target)

    def inbox_names(self) -> list[str]:
        if not self.inbox.is_dir():
            return []
        return sorted(
            entry.name
            for entry in self.inbox.iterdir()
            if entry.is_file() and not entry.name.startswith(".")
        )

    def download(self, name: str) -> bytes:
        path = self.inbox / _plain_name(name)
        try:
            return path.read_bytes()
        except OSError as exc:
            raise TransportError(f"cannot read {path}: {exc.strerror or exc}") from exc


def parse_host_key(text: str) -> paramiko.PKey:
    """A server public key as written in known_hosts or ``ssh-keyscan`` output
    (``[host] ssh-ed25519 AAAA… [comment]``)."""
    fields = text.split()
    # known_hosts lines start with the host name; a bare public key starts with its type.
    while fields and not fields[0].startswith(("ssh-", "ecdsa-", "sk-")):
        fields = fields[1:]
    if len(fields) < 2:
        raise TransportError(
            "the clearinghouse's host key is not set or not readable; paste the server's public "
            "key as one line, e.g. 'ssh-ed25519 AAAAC3…' (ssh-keyscan prints it)"
        )
    key_type, data = fields[0], fields[1]
    try:
        return paramiko.PKey.from_type_string(key_type, base64.b64decode(data, validate=True))
    except (binascii.Error, ValueError, paramiko.SSHException) as exc:
        raise TransportError(f"the configured host key ({key_type}) cannot be read: {exc}") from exc


class SftpTransport:
    """An SFTP account at the clearinghouse, with a key file (or a password) and a pinned host
    key."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        key_path: str | Path | None,
        known_host_key: str,
        remote_out: str,
        remote_in: str,
        *,
        password: str | None = None,
        timeout: float = CONNECT_TIMEOUT_SECONDS,
    ) -> None:
        self.host, self.port, self.username = host, port, username
        self.key_path = Path(key_path) if key_path else None
        self.host_key = parse_host_key(known_host_key)
        self.remote_out = remote_out.rstrip("/") or "."
        self.remote_in = remote_in.rstrip("/") or "."
        self.password = password
        self.timeout = timeout
        self._client: paramiko.SSHClient | None = None
        self._sftp: paramiko.SFTPClient | None = None

    def __enter__(self) -> SftpTransport:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def where(self) -> str:
        return f"{self.username}@{self.host}:{self.port}"

    def _client_key(self) -> paramiko.PKey | None:
        if self.key_path is None:
            return None
        try:
            return paramiko.PKey.from_path(self.key_path)
        except FileNotFoundError:
            raise TransportError(f"the SFTP key file {self.key_path} does not exist") from None
        except (OSError, paramiko.SSHException, ValueError) as exc:
            raise TransportError(
                f"the SFTP key file {self.key_path} cannot be read ({exc}); it must be an "
                "unencrypted OpenSSH or PEM private key"
            ) from exc

    def _connect(self) -> paramiko.SFTPClient:
        if self._sftp is not None:
            return self._sftp
        if self.key_path is None and not self.password:
            raise TransportError(f"no key file or password for {self.where}")
        key = self._client_key()
        client = paramiko.SSHClient()
        # Only the configured key is trusted: no ~/.ssh/known_hosts, no trust on first use.
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        host_keys = client.get_host_keys()
        for name in (self.host, f"[{self.host}]:{self.port}"):
            host_keys.add(name, self.host_key.get_name(), self.host_key)
        try:
            client.connect(
                self.host,
                port=self.port,
                username=self.username,
                pkey=key,
                password=self.password if key is None else None,
                timeout=self.timeout,
                banner_timeout=self.timeout,
                auth_timeout=self.timeout,
                allow_agent=False,
                look_for_keys=False,
            )
            self._sftp = client.open_sftp()
        except paramiko.BadHostKeyException as exc:
            client.close()
            raise TransportError(
                f"{self.host}:{self.port} presented host key {exc.key.get_name()} "
                f"{exc.key.fingerprint}, not the one configured for this clearinghouse; "
                "nothing was sent. If the clearinghouse really changed its key, "
                "confirm the new one with them and update the clearinghouse settings"
            ) from exc
        except paramiko.AuthenticationException as exc:
            client.close()
            raise TransportError(
                f"{self.where} refused the sign-in ({exc}); check the user name and that the "
                "clearinghouse has our public key"
            ) from exc
        except TimeoutError as exc:
            client.close()
            raise TransportError(
                f"{self.host}:{self.port} did not answer within {self.timeout:g} s"
            ) from exc
        except paramiko.SSHException as exc:
            client.close()
            if "known_hosts" in str(exc):
                # RejectPolicy: the server offered only key types other than the pinned one.
                raise TransportError(
                    f"{self.host}:{self.port} did not present the {self.host_key.get_name()} "
                    "host key configured for this clearinghouse; nothing was sent"
                ) from exc
            raise TransportError(f"SSH with {self.host}:{self.port} failed: {exc}") from exc
        except OSError as exc:
            client.close()
            raise TransportError(
                f"cannot reach {self.host}:{self.port}: {exc.strerror or exc}; check the host, "
                "the port and the network"
            ) from exc
        self._client = client
        return self._sftp

    def close(self) -> None:
        if self._sftp is not None:
            self._sftp.close()
            self._sftp = None
        if self._client is not None:
            self._client.close()
            self._client = None

    def upload(self, name: str, content: bytes) -> str:
        sftp = self._connect()
        final = f"{self.remote_out}/{_plain_name(name)}"
        partial = f"{self.remote_out}/.{name}{_PARTIAL}"
        try:
            try:
                existing = sftp.stat(final)
            except FileNotFoundError:
                existing = None
            if existing is not None:
                if self._read(sftp, final) == content:
                    return final  # the same file again (a retry after a lost answer)
                raise TransportError(f"{final} already exists on {self.host} with other content")
            sftp.putfo(io.BytesIO(content), partial, file_size=len(content), confirm=True)
            try:
                sftp.posix_rename(partial, final)
            except OSError:
                sftp.rename(partial, final)
        except TransportError:
            raise
        except (OSError, paramiko.SSHException) as exc:
            raise TransportError(
                f"upload of {name} to {self.where}{self.remote_out} failed: {exc}"
            ) from exc
        return final

    def inbox_names(self) -> list[str]:
        sftp = self._connect()
        try:
            entries = sftp.listdir_attr(self.remote_in)
        except (OSError, paramiko.SSHException) as exc:
            raise TransportError(
                f"cannot list {self.remote_in} on {self.where}: {exc}"
            ) from exc
        return sorted(
            entry.filename
            for entry in entries
            if entry.st_mode is not None
            and stat.S_ISREG(entry.st_mode)
            and not entry.filename.startswith(".")
        )

    def download(self, name: str) -> bytes:
        sftp = self._connect()
        path = f"{self.remote_in}/{_plain_name(name)}"
        try:
            return self._read(sftp, path)
        except (OSError, paramiko.SSHException) as exc:
            raise TransportError(f"cannot download {path} from {self.where}: {exc}") from exc

    @staticmethod
    def _read(sftp: paramiko.SFTPClient, path: str) -> bytes:
        buffer = io.BytesIO()
        sftp.getfo(path, buffer)
        return buffer.getvalue()
