"""The one adapter between the X12 readers and the posting logic.

Everything that knows the field names of ``handbill.x12.r835`` (and of the 999/277CA readers)
lives here: a rename there costs an edit here only. It also decides what makes an 835 unfit to
post — it cannot be read, it does not balance, it has no trace number — and says so with the
segment and the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from handbill.core.money import Cents
from handbill.core.posting_plan import ClaimLike, ProviderAdjustmentLike, Remit
from handbill.x12 import r277ca, r835, r999
from handbill.x12.tokens import X12Error, iter_transactions


class RemittanceRefused(ValueError):
    """An 835 that will not be posted; ``problems`` lists each reason with its segment."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        shown = "; ".join(problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(f"this 835 is refused and nothing was stored: {shown}{more}")


@dataclass(frozen=True, slots=True)
class ReadPayment:
    """One 835 transaction set, read and checked, with what identifies its payer."""

    index: int  # 0-based place among the file's transaction sets
    remittance: r835.Remittance
    remit: Remit
    payer_ids: tuple[str, ...]  # every id the file gives the payer, most specific first
    warnings: tuple[str, ...]


def read_payments(text: str) -> list[ReadPayment]:
    """Every 835 payment in ``text``, or :class:`RemittanceRefused` naming each problem."""
    problems: list[str] = []
    found: list[ReadPayment] = []
    try:
        for index, transaction in enumerate(iter_transactions(text)):
            if transaction.set_id != "835":
                problems.append(
                    f"segment {transaction.start} (ST): transaction set "
                    f"{transaction.set_id or '?'} is not an 835 remittance")
                continue
            remittance = r835.read_835(transaction)
            where = f"payment {index + 1} (ST02 {remittance.control_number})"
            problems.extend(f"{where} does not balance: {e}" for e in remittance.balance_errors)
            payment = remittance.payment
            if not payment.trace:
                problems.append(f"{where}: TRN02, the check or EFT trace number, is missing; "
                                "it is what keeps a payment from being posted twice")
            if payment.credit_debit not in ("C", "D"):
                problems.append(f"{where}: BPR03 {payment.credit_debit!r} must be C or D")
            found.append(ReadPayment(index, remittance, to_remit(remittance),
                                     payer_ids(remittance),
                                     tuple(remittance.warnings + remittance.problems)))
    except X12Error as exc:
        problems.append(str(exc))
    if not found and not problems:
        problems.append("the file holds no 835 transaction set")
    if problems:
        raise RemittanceRefused(problems)
    return found


def payer_ids(remittance: r835.Remittance) -> tuple[str, ...]:
    payer = remittance.payer
    candidates = (payer.reference("2U"), payer.id, payer.reference("NF"),
                  remittance.payment.originator)
    return tuple(dict.fromkeys(c.strip() for c in candidates if c and c.strip()))


def to_remit(remittance: r835.Remittance) -> Remit:
    """The planner's view of one payment. Claims, lines and adjustments pass through as the
    reader made them; mypy checks here that they still have the fields the planner reads."""
    payment = remittance.payment
    claims: Sequence[ClaimLike] = remittance.claims
    provider: Sequence[ProviderAdjustmentLike] = remittance.provider_adjustments
    return Remit(
        trace=payment.trace,
        payer_identifier=payment.originator or next(iter(payer_ids(remittance)), ""),
        payer_name=remittance.payer.name,
        amount=Cents(payment.signed_amount.value),
        method=payment.method,
        payment_date=payment.payment_date or payment.production_date,
        claims=claims,
        provider_adjustments=provider,
    )


# --------------------------------------------------------------------------------------------
# Acknowledgements
# --------------------------------------------------------------------------------------------


class AcknowledgementUnreadable(ValueError):
    """A 999 or 277CA that cannot be read; the message names the segment."""


@dataclass(frozen=True, slots=True)
class TransactionVerdict:
    """What a 999 said about one transaction set we sent."""

    group_control: str  # AK102: our GS06
    transaction_control: str  # AK202: our ST02
    status: str  # IK501: A, E, R, M, W, X
    accepted: bool
    words: str


@dataclass(frozen=True, slots=True)
class ClaimVerdict:
    """What a 277CA said about one claim we sent."""

    claim_number: str  # TRN*2: our CLM01
    result: str  # accepted, rejected, pending or other
    code: str  # STC01 as category:status:entity (all STC composites, comma-separated)
    words: str
    payer_claim_number: str  # REF*1K


# Claim status codes (code list 508) a massage practice meets most, in our words.
STATUS_CODES = {
    "0": "cannot provide further status electronically",
    "3": "claim has been adjudicated and is awaiting payment",
    "15": "requested information not provided as described",
    "16": "claim/encounter has been forwarded to the entity",
    "19": "entity acknowledges receipt of the claim",
    "20": "accepted for processing",
    "21": "missing or invalid information",
    "33": "subscriber/insured identification number",
    "35": "claim or encounter not found",
    "116": "claim submitted to the wrong payer",
    "145": "entity's specialty or taxonomy code",
    "164": "entity's contract or member number",
    "187": "date(s) of service",
    "254": "principal diagnosis code",
    "255": "diagnosis code",
    "453": "procedure code modifier(s) for services rendered",
    "454": "procedure code for services rendered",
    "562": "entity's National Provider Identifier (NPI)",
}
ENTITY_CODES = {
    "03": "dependent", "40": "receiver", "41": "submitter", "77": "service location",
    "82": "rendering provider", "85": "billing provider", "DN": "referring provider",
    "IL": "subscriber", "PR": "payer", "QC": "patient",
}


def _ack_transactions(text: str, set_id: str) -> list[Any]:
    try:
        found = [t for t in iter_transactions(text) if t.set_id == set_id]
    except X12Error as exc:
        raise AcknowledgementUnreadable(str(exc)) from None
    if not found:
        raise AcknowledgementUnreadable(f"the file holds no {set_id} transaction set")
    return found


def read_999s(text: str) -> list[TransactionVerdict]:
    """Each transaction set verdict of every 999 in ``text``."""
    verdicts = []
    for transaction in _ack_transactions(text, "999"):
        try:
            ack = r999.read_999(transaction)
        except X12Error as exc:
            raise AcknowledgementUnreadable(str(exc)) from None
        for t in ack.transactions:
            parts = [f"999 {t.status_meaning} (IK5 {t.status or '?'})"]
            parts += [f"{code}: {r999.TRANSACTION_ERRORS.get(code, 'code ' + code)}"
                      for code in t.codes]
            for seg in t.segment_errors:
                where = f"{seg.segment_id} at position {seg.position}"
                where += f" in loop {seg.loop}" if seg.loop else ""
                detail = "; ".join(
                    f"element {e.position}: {e.meaning}"
                    + (f" (sent {e.bad_value!r})" if e.bad_value else "")
                    for e in seg.elements)
                parts.append(f"{where}: {seg.meaning}" + (f" — {detail}" if detail else ""))
            verdicts.append(TransactionVerdict(ack.group_control_number, t.control_number,
                                               t.status, t.accepted, "; ".join(parts)))
    return verdicts


def _stc_words(status: r277ca.Status) -> tuple[str, str]:
    codes = []
    words = []
    for c in status.codes:
        codes.append(":".join(p for p in (c.category, c.status, c.entity) if p))
        phrase = f"{c.category_meaning} ({c.category})"
        if c.status:
            phrase += f", {STATUS_CODES.get(c.status, 'status code ' + c.status)}"
        if c.entity:
            phrase += f" of the {ENTITY_CODES.get(c.entity, 'entity ' + c.entity)}"
        words.append(phrase)
    if status.message:
        words.append(status.message)
    return ",".join(codes), "; ".join(words)


def read_277cas(text: str) -> list[ClaimVerdict]:
    """Each claim verdict of every 277CA in ``text``."""
    verdicts = []
    for transaction in _ack_transactions(text, "277"):
        try:
            ack = r277ca.read_277ca(transaction)
        except X12Error as exc:
            raise AcknowledgementUnreadable(str(exc)) from None
        for claim in ack.claims:
            pairs = [_stc_words(s) for s in claim.statuses]
            code = ",".join(p[0] for p in pairs)
            words = "; ".join(p[1] for p in pairs) or "no STC status"
            categories = claim.categories
            if claim.rejected:
                result = "rejected"
            elif claim.accepted:
                result = "accepted"
            elif any(c.startswith("P") for c in categories):
                result = "pending"
            else:
                result = "other"
            verdicts.append(ClaimVerdict(claim.claim_id, result, code[:30], words,
                                         claim.payer_claim_number))
    return verdicts
