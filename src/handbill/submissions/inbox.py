"""What kind of response file the clearinghouse sent, read from its own envelope."""

from __future__ import annotations

from handbill.submissions.models import InboxKind

_ISA_LENGTH = 106


def decode(content: bytes) -> str:
    """X12 is ASCII by rule; a stray byte from a payer's system must not lose the file."""
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content.decode("latin-1")


def sniff_kind(text: str) -> InboxKind:
    """999, 277CA or 835 from the first transaction set's ST01 (and the 277's version)."""
    body = text.lstrip("\ufeff \t\r\n")
    if not body.startswith("ISA") or len(body) < _ISA_LENGTH:
        return InboxKind.UNKNOWN
    element, terminator = body[3], body[_ISA_LENGTH - 1]
    version = ""
    for raw in body.split(terminator):
        fields = raw.strip().split(element)
        if fields[0] == "GS" and len(fields) > 8:
            version = fields[8]
        if fields[0] != "ST" or len(fields) < 2:
            continue
        kind = fields[1]
        version = fields[3] if len(fields) > 3 and fields[3] else version
        if kind == "999":
            return InboxKind.ACK_999
        if kind == "835":
            return InboxKind.REMITTANCE_835
        # A 277 answering a 276 status request is not a claim acknowledgement.
        if kind == "277" and version.startswith("005010X214"):
            return InboxKind.CLAIM_ACK_277CA
        return InboxKind.UNKNOWN
    return InboxKind.UNKNOWN
