"""The export's manifest: what is in the folder, and the sha256 of every file.

Verification reads nothing into the database: it checks the manifest's own shape, then that
each listed file is there with the listed size and hash, and that nothing unlisted was added.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

FORMAT = "handbill-practice-export"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"


class ManifestError(ValueError):
    """The folder is not an intact Handbill export; the message says which file and why."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_entry(root: Path, path: Path, **extra: Any) -> dict[str, Any]:
    return {
        "path": path.relative_to(root).as_posix(),
        "bytes": path.stat().st_size,
        "sha256": sha256_of(path),
        **extra,
    }


def write_manifest(root: Path, manifest: dict[str, Any]) -> str:
    """Write manifest.json; return its own sha256 (to note down, or compare later)."""
    path = root / MANIFEST_NAME
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    return sha256_of(path)


def read_manifest(root: Path) -> dict[str, Any]:
    path = root / MANIFEST_NAME
    if not root.is_dir():
        raise ManifestError(f"{root} is not a folder: give the folder handbill export wrote")
    if not path.is_file():
        raise ManifestError(f"{root} has no {MANIFEST_NAME}: it is not a Handbill export")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{path} is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ManifestError(f"{path} is not a {FORMAT} manifest")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise ManifestError(f"{path} is format version {version!r}; this Handbill reads version "
                            f"{FORMAT_VERSION}")
    if not isinstance(manifest.get("files"), list):
        raise ManifestError(f"{path} lists no files")
    return manifest


def verify(root: Path) -> dict[str, Any]:
    """The manifest, once every file matches it; otherwise ManifestError naming the first
    problem (a changed, missing or added file)."""
    manifest = read_manifest(root)
    listed: set[str] = set()
    for entry in manifest["files"]:
        relative = entry.get("path") if isinstance(entry, dict) else None
        if not isinstance(relative, str) or relative.startswith("/") or ".." in relative.split("/"):
            raise ManifestError(f"the manifest lists a file outside the export: {relative!r}")
        path = root / relative
        listed.add(relative)
        if not path.is_file():
            raise ManifestError(f"{relative} is listed in the manifest but missing")
        if path.stat().st_size != entry.get("bytes"):
            raise ManifestError(f"{relative} has {path.stat().st_size} bytes, the manifest says "
                                f"{entry.get('bytes')}: the file was changed after export")
        if sha256_of(path) != entry.get("sha256"):
            raise ManifestError(f"{relative} does not match its sha256 in the manifest: the file "
                                "was changed after export")
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_file() and relative != MANIFEST_NAME and relative not in listed:
            raise ManifestError(f"{relative} is not in the manifest: it was added after export")
    return manifest
