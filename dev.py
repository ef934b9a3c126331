#!/usr/bin/env python3
"""Set up and run Handbill on a fresh machine that has only Python 3.11.

    python3 dev.py demo   # install, migrate, load the demo practice, serve http://127.0.0.1:8000
    python3 dev.py test   # install, then lint, type-check, migration check and the test suite

The first run creates .venv/ and installs the pinned dependencies from requirements.lock
(hash-checked). Later runs reinstall only when the lock file or pyproject.toml change.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import urllib.request
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


VENDOR_LOCK = ROOT / "src/handbill/web/vendor.lock.json"
VENDOR_DIR = ROOT / "src/handbill/web/static/vendor"


def ensure_vendor() -> None:
    """Browser libraries (htmx) come from the npm registry at setup, never from the repository.

    Each tarball is checked against the sha512 ``integrity`` pinned in vendor.lock.json before
    anything is extracted. Offline, the app still works: pages fall back to full page loads.
    """
    lock = json.loads(VENDOR_LOCK.read_text())
    for name, package in lock["packages"].items():
        version, integrity = package["version"], package["integrity"]
        stamp = VENDOR_DIR / f".{name}.version"
        targets = [VENDOR_DIR / target for target in package["files"].values()]
        if stamp.exists() and stamp.read_text().strip() == version and all(
            t.exists() for t in targets
        ):
            continue
        url = f"https://registry.npmjs.org/{name}/-/{name}-{version}.tgz"
        print(f"Fetching {name} {version} from the npm registry …", flush=True)
        try:
            with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - fixed https URL
                tarball = response.read()
        except OSError as exc:
            print(f"warning: could not fetch {url} ({exc}); pages will use full reloads",
                  file=sys.stderr)
            continue
        algorithm, _, expected = integrity.partition("-")
        actual = base64.b64encode(hashlib.new(algorithm, tarball).digest()).decode()
        if actual != expected:
            sys.exit(f"{name} {version}: the download does not match the pinned integrity "
                     f"in {VENDOR_LOCK.name}; refusing to use it")
        VENDOR_DIR.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
            for source, target in package["files"].items():
                member = archive.extractfile(f"package/{source}")  # npm tarballs nest in package/
                if member is None:
                    sys.exit(f"{name} {version}: {source} is missing from the package")
                (VENDOR_DIR / target).write_bytes(member.read())
        stamp.write_text(version)


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


def ensure_chromium() -> None:
    """The functional tests drive Debian's Chromium through Playwright (no browser download).
    Install it when it is missing and we can (root on Debian); elsewhere those tests skip."""
    if Path("/usr/bin/chromium").exists() or not Path("/etc/debian_version").exists():
        return
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "chromium"]
    if subprocess.run(install, env=env).returncode != 0:  # a stale package list: refresh once
        subprocess.run(["apt-get", "update", "-q"], env=env)
        subprocess.run(install, env=env)


def test(extra: list[str]) -> None:
    env = project_env()
    ensure_sshd()
    ensure_chromium()
    run(BIN / "ruff", "check", "src", "tests", "bench", "dev.py", env=env)
    run(BIN / "mypy", "--strict", "-p", "handbill.core", "-p", "handbill.x12",
        "-p", "handbill.documents", "-p", "handbill.sandbox", env=env)
    run(PY, ROOT / "manage.py", "makemigrations", "--check", "--dry-run", env=env)
    run(PY, "-m", "pytest", *extra, env=env)


def main() -> None:
    commands = {"demo": demo, "test": test, "install": lambda _extra: None}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit("usage: python3 dev.py demo [ADDRESS:PORT] | test [PYTEST ARGS…] | install")
    ensure_installed()
    ensure_vendor()
    commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
