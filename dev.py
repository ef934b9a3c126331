#!/usr/bin/env python3
"""Set up and run Handbill on a fresh machine that has only Python 3.11.

    python3 dev.py demo   # install, migrate, load the demo practice, serve http://127.0.0.1:8000
    python3 dev.py test   # install, then lint, type-check, migration check and the test suite

The first run creates .venv/ and installs the pinned dependencies from requirements.lock
(hash-checked). Later runs reinstall only when the lock file or pyproject.toml change.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
STAMP = VENV / ".handbill-installed"


def run(*args: str | Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    completed = subprocess.run([str(a) for a in args], cwd=ROOT, env=env)
    if completed.returncode != 0:
        sys.exit(completed.returncode)


def ensure_installed() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - this file runs before the venv exists
        sys.exit("Handbill needs Python 3.11 or newer; run this with python3.11")
    if not PY.exists():
        print(f"Creating {VENV.name}/ …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256()
    for name in ("requirements.lock", "pyproject.toml"):
        digest.update((ROOT / name).read_bytes())
    wanted = digest.hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    run(PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--require-hashes", "-r", ROOT / "requirements.lock")
    run(PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-deps", "--no-build-isolation", "-e", ROOT)
    STAMP.write_text(wanted)


def project_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "handbill.settings")
    env.setdefault("HANDBILL_HOME", str(ROOT))
    return env


def demo(extra: list[str]) -> None:
    env = project_env()
    (ROOT / "var").mkdir(exist_ok=True)
    run(PY, ROOT / "manage.py", "migrate", "--no-input", env=env)
    if (ROOT / "src/handbill/demo").exists():
        run(BIN / "handbill", "demo", env=env)
    address = extra[0] if extra else "127.0.0.1:8000"
    print(f"\nHandbill is starting at http://{address}/  (Ctrl-C stops it)\n", flush=True)
    run(PY, ROOT / "manage.py", "runserver", "--noreload", address, env=env)


def ensure_sshd() -> None:
    """The SFTP tests start a real OpenSSH server on 127.0.0.1 (Debian's openssh-server).
    Install it when it is missing and we can (root on Debian); elsewhere those tests skip."""
    if Path("/usr/sbin/sshd").exists() or not Path("/etc/debian_version").exists():
        return
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "openssh-server"]
    if subprocess.run(install, env=env).returncode != 0:  # a stale package list: refresh once
        subprocess.run(["apt-get", "update", "-q"], env=env)
        subprocess.run(install, env=env)


def test(extra: list[str]) -> None:
    env = project_env()
    ensure_sshd()
    run(BIN / "ruff", "check", "src", "tests", "bench", "dev.py", env=env)
    run(BIN / "mypy", "--strict", "-p", "handbill.core", "-p", "handbill.x12",
        "-p", "handbill.documents", env=env)
    run(PY, ROOT / "manage.py", "makemigrations", "--check", "--dry-run", env=env)
    run(PY, "-m", "pytest", *extra, env=env)


def main() -> None:
    commands = {"demo": demo, "test": test, "install": lambda _extra: None}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit("usage: python3 dev.py demo [ADDRESS:PORT] | test [PYTEST ARGS…] | install")
    ensure_installed()
    commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
