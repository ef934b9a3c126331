"""The payer sandbox behind a clearinghouse: 270s sent to it are answered at once with 271s.

The switch is the clearinghouse's receiver ID: a clearinghouse whose ISA08 receiver is
``HBSANDBOX`` is the sandbox (the demo practice's "Demo outbox" is one), and the commands'
``--sandbox`` / ``--no-sandbox`` flags override it. The sandbox never talks to a server: for
an outbox clearinghouse the 270 is written to its outbox folder like any file and the 271
appears in the sibling inbox folder; for an SFTP clearinghouse forced into sandbox mode both
go to a local folder under ``var/eligibility-sandbox/<practice>/`` instead, so no test inquiry
reaches a real clearinghouse. Answers follow ``handbill.core.sandbox_eligibility``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from zoneinfo import ZoneInfo

from django.conf import settings

from handbill.core import sandbox_eligibility
from handbill.core.money import Cents
from handbill.core.sandbox_eligibility import PLAN_TERMS, PlanTerms
from handbill.eligibility.requests import visits_billed_this_year
from handbill.patients.models import Coverage
from handbill.practice.models import Payer, Practice
from handbill.submissions.inbox import decode
from handbill.submissions.models import Clearinghouse, TransportKind
from handbill.submissions.transports import OutboxTransport, Transport, TransportError
from handbill.x12.eligibility import EligibilityReadError, Envelope, read_270, write_271

SANDBOX_RECEIVER_ID = "HBSANDBOX"
# The claims sandbox's default seed: the member's cost share is drawn the same way there.
CLAIMS_SANDBOX_SEED = 1
# A commercial plan's yearly deductible when the member still has some of it to meet.
_COMMERCIAL_DEDUCTIBLE = Cents(50000)


def uses_sandbox(clearinghouse: Clearinghouse) -> bool:
    return clearinghouse.receiver_id.strip().upper() == SANDBOX_RECEIVER_ID


def member_terms(payer: Payer, member_id: str) -> PlanTerms:
    """The member's plan terms, agreeing with the claims sandbox's cost share."""
    from handbill.sandbox.benefits import cost_share

    base = PLAN_TERMS.get(payer.payer_type, PLAN_TERMS["other"])
    share = cost_share(payer.payer_type, payer.payer_id, member_id, CLAIMS_SANDBOX_SEED)
    deductible = base.deductible
    if share.deductible and deductible is None:
        deductible = _COMMERCIAL_DEDUCTIBLE
    if deductible is not None and share.deductible > deductible:
        deductible = share.deductible
    return PlanTerms(
        insurance_type=base.insurance_type,
        copay=share.copay if share.kind == "copay" else None,
        coinsurance=(Decimal(share.coinsurance_percent) / 100
                     if share.coinsurance_percent else None),
        deductible=deductible,
        out_of_pocket=base.out_of_pocket,
        deductible_left=share.deductible if deductible is not None else None,
    )


def answer_270(practice: Practice, text: str, *, at: datetime) -> str:
    """The sandbox's 271 for a 270 of ``practice`` (payers and counts from its records)."""
    from handbill.policies.store import policy_for

    inquiry = read_270(text)
    answers = []
    for request in inquiry.requests:
        payer = Payer.objects.filter(practice=practice, payer_id=request.payer_id).first()
        policy = policy_for(payer, request.service_date) if payer is not None else None
        coverage = (
            Coverage.objects.filter(practice=practice, payer=payer,
                                    member_id=request.subscriber.member_id).first()
            if payer is not None else None
        )
        used = visits_billed_this_year(coverage, request.service_date) if coverage else 0
        answers.append(sandbox_eligibility.answer(
            request, policy=policy, payer_type=payer.payer_type if payer else "other",
            visits_used=used,
            terms=member_terms(payer, request.subscriber.member_id) if payer else None,
        ))
    control = int(inquiry.interchange_control)
    envelope = Envelope(
        sender_id=inquiry.receiver_id, receiver_id=inquiry.sender_id,
        interchange_control=control, group_control=control, transaction_control=1,
        created_at=at.astimezone(ZoneInfo(practice.timezone)), production=False,
    )
    return write_271(answers, envelope)


class SandboxTransport:
    """A transport whose far end is the sandbox: every 270 uploaded gets its 271 in the inbox."""

    def __init__(self, practice: Practice, inner: OutboxTransport, *, at: datetime) -> None:
        self.practice = practice
        self.inner = inner
        self.at = at

    def __enter__(self) -> SandboxTransport:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self.inner.close()

    def upload(self, name: str, content: bytes) -> str:
        where = self.inner.upload(name, content)
        try:
            reply = answer_270(self.practice, decode(content), at=self.at)
        except EligibilityReadError as exc:
            raise TransportError(f"the sandbox could not read {name}: {exc}") from exc
        answer_name = f"{Path(name).stem}.271"
        OutboxTransport(self.inner.inbox).upload(answer_name, reply.encode("ascii"))
        return where

    def inbox_names(self) -> list[str]:
        return self.inner.inbox_names()

    def download(self, name: str) -> bytes:
        return self.inner.download(name)


def transport_for_checks(clearinghouse: Clearinghouse, *, sandbox: bool | None,
                         at: datetime) -> Transport:
    """Where this practice's 270s go: the clearinghouse itself, or the sandbox behind it."""
    from handbill.submissions.actions import transport_for

    use_sandbox = uses_sandbox(clearinghouse) if sandbox is None else sandbox
    if not use_sandbox:
        return transport_for(clearinghouse)
    practice = clearinghouse.practice
    if clearinghouse.transport == TransportKind.OUTBOX and clearinghouse.outbox_path:
        inner = OutboxTransport(clearinghouse.outbox_path)
    else:
        local = Path(settings.VAR_DIR) / "eligibility-sandbox" / practice.slug
        inner = OutboxTransport(local / "outbox", local / "inbox")
    return SandboxTransport(practice, inner, at=at)
