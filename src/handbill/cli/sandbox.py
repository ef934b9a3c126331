"""``handbill sandbox adjudicate``: answer an 837P file like the payers would, offline.

    handbill sandbox adjudicate var/clearinghouse/cedar-street-demo/outbox/FILE.837 --seed 7

Writes the 999, the 277CA and one 835 per payer where an outbox clearinghouse reads its
answers (the ``inbox`` folder beside the outbox folder holding the file), so ``handbill inbox
fetch`` picks them up; prints what happened to each claim as JSON. Pure: no Django.
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from handbill.cli import CommandError

_VISITS = re.compile(r"^([A-Za-z0-9]{1,80})=(\d{1,3})$")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sandbox",
        help="a payer sandbox that answers 837P files offline (999, 277CA, 835)",
        description="Answer claim files the way Handbill's payer profiles would, so the "
        "whole billing loop runs without a clearinghouse.",
    )
    actions = parser.add_subparsers(dest="sandbox_command", required=True, metavar="ACTION")
    adjudicate = actions.add_parser(
        "adjudicate",
        help="write the 999, 277CA and 835s answering one 837P file",
        description=(
            "Read an 837P file, judge its syntax (999), run the payers' front-end edits "
            "(277CA) and adjudicate each accepted claim by its payer's policy: fee schedule, "
            "patient cost share, and denials for codes not covered for the provider type, "
            "missing authorizations, visit caps, NCCI pairs without a modifier and timely "
            "filing (one 835 per payer). The same file, date and seed give the same files."
        ),
    )
    adjudicate.add_argument("file", type=Path, metavar="FILE.837", help="the 837P to answer")
    adjudicate.add_argument(
        "--out", type=Path, metavar="DIR",
        help="where to write the answers (default: the inbox an outbox clearinghouse whose "
        "folder holds FILE reads from, i.e. FILE's folder/../inbox)",
    )
    adjudicate.add_argument("--seed", type=int, default=1,
                            help="makes every choice repeatable (default: 1)")
    adjudicate.add_argument(
        "--as-of", metavar="YYYY-MM-DD",
        help="the day the payer receives and processes the claims (default: the day the "
        "file was created, its GS04 date)",
    )
    adjudicate.add_argument(
        "--visits", metavar="MEMBER=N", action="append", default=[],
        help="visits the payer already paid this year for a member ID (repeat per member); "
        "they count towards the visit caps",
    )
    adjudicate.set_defaults(func=run_adjudicate)


def default_out_dir(file: Path) -> Path:
    """Where an outbox clearinghouse looks for answers to a file it holds.

    The same rule as ``handbill.submissions.transports.OutboxTransport``: responses go in the
    ``inbox`` folder beside the outbox folder.
    """
    return file.resolve().parent.parent / "inbox"


def _as_of(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--as-of {text!r} is not a date: write it as YYYY-MM-DD, e.g. "
                           "2026-11-23") from None


def _history(items: list[str]) -> dict[str, int]:
    history: dict[str, int] = {}
    for item in items:
        match = _VISITS.match(item.strip())
        if match is None:
            raise CommandError(f"--visits {item!r}: write MEMBER=N, e.g. EVH123456789=5")
        history[match.group(1).upper()] = int(match.group(2))
    return history


def run_adjudicate(args: argparse.Namespace) -> dict[str, Any]:
    from handbill.core.policy import PolicyError, read_shipped_policies
    from handbill.sandbox import SandboxInputError, adjudicate

    path: Path = args.file
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        policies = {p.payer_id: p for p in read_shipped_policies() if p.payer_id}
    except PolicyError as exc:
        raise CommandError(f"the payer policies cannot be read: {exc}") from None
    try:
        result = adjudicate(text, policies=policies, as_of=_as_of(args.as_of),
                            seed=args.seed, payer_history=_history(args.visits))
    except SandboxInputError as exc:
        raise CommandError(f"{path}: {exc}") from None
    out: Path = args.out if args.out is not None else default_out_dir(path)
    stem = path.name.rsplit(".", 1)[0] if "." in path.name else path.name
    written = _write_all(out, result.files(stem))
    return {"file": str(path), "out": str(out), "files": written, **result.summary}


def _write_all(folder: Path, files: dict[str, str]) -> list[str]:
    """Write every answer, or none: refuse before writing when a file of the same name holds
    something else, and remove what was written if a later file fails. Each file appears
    whole (written under a hidden name, then renamed), so an inbox fetch running at the same
    time never reads half a file."""
    data = {name: content.encode("utf-8") for name, content in files.items()}
    targets = {name: folder / name for name in files}
    for name, target in targets.items():
        if target.exists() and target.read_bytes() != data[name]:
            raise CommandError(
                f"{target} already exists with other content (an answer with another seed or "
                "date?): remove it or choose another folder with --out")
    created: list[Path] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in data.items():
            target = targets[name]
            if target.exists():
                continue  # the same answer again
            handle, temp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".part")
            try:
                with os.fdopen(handle, "wb") as stream:
                    stream.write(content)
                os.replace(temp, target)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
            created.append(target)
    except OSError as exc:
        for target in created:
            target.unlink(missing_ok=True)
        raise CommandError(f"cannot write the answers into {folder}: "
                           f"{exc.strerror or exc}") from None
    return [str(targets[name]) for name in files]
