"""pyx12 as an independent judge of the X12 we write (a test dependency only).

pyx12 validates a file against the implementation guide's map and reports its findings in a
JSON document; the command-line tool's exit status does not tell valid from invalid, so the
tests call the Python API and collect every ``err_str`` in that document, with the segment
each belongs to.
"""

from __future__ import annotations

import io
import json
import logging
import tempfile
from pathlib import Path
from typing import Any

import pyx12.errors
import pyx12.params
import pyx12.x12n_document


def pyx12_errors(text: str | bytes, *, want_999: bool = True) -> list[str]:
    """Every error pyx12 finds in ``text``; an empty list means the file passes.

    ``want_999=False`` for 835 files, where pyx12's 999 writer is known to crash.
    """
    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    data = text.encode("ascii") if isinstance(text, str) else text
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "input.x12"
        path.write_bytes(data)
        report, ack = io.StringIO(), io.StringIO()
        try:
            passed = pyx12.x12n_document.x12n_document(
                param=pyx12.params.params(), src_file=str(path),
                fd_997=ack if want_999 else None, fd_html=None, fd_xmldoc=None,
                fd_json=report,
            )
        except pyx12.errors.EngineError as exc:
            return [f"pyx12 could not validate the file: {exc}"]
    errors: list[str] = []
    raw = report.getvalue()
    if raw.strip():
        _collect(json.loads(raw), "", errors)
    if not passed and not errors:
        errors.append("pyx12 rejected the file without naming an error")
    return errors


def _collect(node: Any, where: str, errors: list[str]) -> None:
    if isinstance(node, dict):
        if "seg_id" in node:
            where = f"{node['seg_id']} (line {node.get('cur_line')})"
        for error in node.get("errors") or []:
            if isinstance(error, dict) and "err_str" in error:
                errors.append(f"{where or 'envelope'}: {error['err_str']}")
        for value in node.values():
            if isinstance(value, dict | list):
                _collect(value, where, errors)
    elif isinstance(node, list):
        for value in node:
            _collect(value, where, errors)
