"""How long the demo practice takes to export, import into a fresh database, and back up.

    .venv/bin/python bench/portability_speed.py

Everything runs through the ``handbill`` command on SQLite files in a temporary folder: the
demo practice is built and sent round the payer sandbox once (claims submitted, 999/277CA/835s
read and posted, an eligibility batch) — that set-up is not measured — then ``export``,
``import`` into a freshly migrated database, and ``backup`` are timed (wall clock, including
the command's start) and the export's size is reported. The import is checked by comparing the
practice's rows without ids in both databases.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HANDBILL = str(Path(sys.executable).parent / "handbill")
SLUG = "cedar-street-demo"
CANONICAL = (
    "import json, sys, django; django.setup();"
    "from handbill.portability.canonical import dump;"
    "from handbill.practice.models import Practice;"
    "print(json.dumps(dump(Practice.objects.get(slug=sys.argv[1]), ignore_audit_actions="
    "frozenset({'practice.import', 'practice.export'})), sort_keys=True))"
)


def _run(folder: Path, *argv: str) -> tuple[Any, float]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{folder / 'handbill.sqlite3'}",
           "HANDBILL_VAR_DIR": str(folder), "DJANGO_SETTINGS_MODULE": "handbill.settings"}
    started = time.perf_counter()
    done = subprocess.run(list(argv), cwd=ROOT, env=env, capture_output=True, text=True,  # noqa: S603
                          check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr}")
    try:
        return json.loads(done.stdout), seconds
    except json.JSONDecodeError:
        return done.stdout, seconds


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="hb-portability-") as tmp:
        source, target = Path(tmp) / "source", Path(tmp) / "target"
        source.mkdir()
        target.mkdir()
        _run(source, sys.executable, "manage.py", "migrate", "--verbosity", "0")
        _run(source, HANDBILL, "demo")
        _run(source, HANDBILL, "claims", "submit", "--all-ready")
        for sent in sorted((source / "outbox" / SLUG).glob("*.837")):
            _run(source, HANDBILL, "sandbox", "adjudicate", str(sent))
        _run(source, HANDBILL, "inbox", "fetch")
        _run(source, HANDBILL, "inbox", "process")
        _run(source, HANDBILL, "eligibility", "batch", "--date", "tomorrow")

        out = Path(tmp) / "export"
        exported, export_wall = _run(source, HANDBILL, "export", "--practice", SLUG, "--out",
                                     str(out))
        _run(target, sys.executable, "manage.py", "migrate", "--verbosity", "0")
        imported, import_wall = _run(target, HANDBILL, "import", "--in", str(out))
        backup, backup_wall = _run(source, HANDBILL, "backup", "--out",
                                   str(Path(tmp) / "backup.sqlite3"))
        before, _ = _run(source, sys.executable, "-c", CANONICAL, SLUG)
        after, _ = _run(target, sys.executable, "-c", CANONICAL, SLUG)
        print(json.dumps({
            "rows": imported["rows"],
            "export": {"seconds": exported["seconds"], "wall_seconds": round(export_wall, 2),
                       "bytes": exported["bytes"], "files": exported["files"]},
            "import": {"seconds": imported["seconds"], "wall_seconds": round(import_wall, 2)},
            "backup": {"seconds": backup["seconds"], "wall_seconds": round(backup_wall, 2),
                       "bytes": backup["bytes"]},
            "import_equals_source": before == after,
        }, indent=2))


if __name__ == "__main__":
    main()
