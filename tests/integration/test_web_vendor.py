"""htmx comes from the npm registry at setup, checked against the pinned sha512; without it
the pages leave the script out and work with full page loads."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import io
import json
import tarfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from django.test import Client

from handbill.web.templatetags import handbill as tags

ROOT = Path(__file__).resolve().parents[2]


def _dev() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dev_script", ROOT / "dev.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tarball(body: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("package/dist/htmx.min.js")
        info.size = len(body)
        archive.addfile(info, io.BytesIO(body))
    return buffer.getvalue()


def _integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


class _Response(io.BytesIO):
    def __enter__(self) -> _Response:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


@pytest.fixture
def fake_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    dev = _dev()
    tarball = _tarball(b"/* htmx */")
    lock = tmp_path / "vendor.lock.json"
    monkeypatch.setattr(dev, "VENDOR_LOCK", lock)
    monkeypatch.setattr(dev, "VENDOR_DIR", tmp_path / "vendor")
    fetched: list[str] = []

    def urlopen(url: str, timeout: int) -> _Response:
        fetched.append(url)
        return _Response(tarball)

    monkeypatch.setattr(dev.urllib.request, "urlopen", urlopen)

    def write_lock(integrity: str) -> None:
        lock.write_text(json.dumps({"packages": {"htmx.org": {
            "version": "2.0.11", "integrity": integrity,
            "files": {"dist/htmx.min.js": "htmx.min.js"}}}}))

    return dev, tarball, write_lock, fetched, tmp_path / "vendor"


def test_the_fetcher_checks_the_pinned_integrity_then_extracts(fake_registry: Any) -> None:
    dev, tarball, write_lock, fetched, vendor = fake_registry
    write_lock(_integrity(tarball))
    dev.ensure_vendor()
    assert (vendor / "htmx.min.js").read_bytes() == b"/* htmx */"
    assert fetched == ["https://registry.npmjs.org/htmx.org/-/htmx.org-2.0.11.tgz"]
    dev.ensure_vendor()  # already there: no second download
    assert len(fetched) == 1


def test_a_tampered_download_is_refused(fake_registry: Any) -> None:
    dev, _tarball_bytes, write_lock, _fetched, vendor = fake_registry
    write_lock(_integrity(b"something else"))
    with pytest.raises(SystemExit, match="does not match the pinned integrity"):
        dev.ensure_vendor()
    assert not (vendor / "htmx.min.js").exists()


def test_the_lock_pins_a_sha512_for_htmx() -> None:
    lock = json.loads((ROOT / "src/handbill/web/vendor.lock.json").read_text())
    htmx = lock["packages"]["htmx.org"]
    assert htmx["integrity"].startswith("sha512-")
    assert len(base64.b64decode(htmx["integrity"].removeprefix("sha512-"))) == 64


@pytest.mark.django_db
def test_pages_work_without_htmx(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tags, "_htmx_present", lambda: False)
    page = client.get("/sign-in/")
    assert page.status_code == 200 and b"htmx.min.js" not in page.content
    monkeypatch.setattr(tags, "_htmx_present", lambda: True)
    assert b"vendor/htmx.min.js" in client.get("/sign-in/").content
