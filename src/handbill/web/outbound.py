"""The claim page's view of the claim as it leaves: 837P segments, CMS-1500 and superbill.

The writers live in ``handbill.x12`` and ``handbill.documents`` and are imported only when
asked for, so the claim page works (with the buttons hidden) in a checkout that lacks them.
Each function raises :class:`OutboundUnavailable` for a missing writer and passes the writer's
own ``OutboundError`` (naming the claim and the box or segment) through for bad data.
"""

from __future__ import annotations

import importlib.util
from datetime import datetime
from functools import cache

from django.db.models import Sum

from handbill.claims.models import Claim
from handbill.core.money import Cents
from handbill.ledger.models import AccountKind, Leg, TransactionKind


class OutboundUnavailable(LookupError):
    """This checkout has no writer for that format."""


@cache
def _present(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def available() -> dict[str, bool]:
    """Which of the claim's outbound views this installation can produce."""
    return {
        "x12": _present("handbill.x12.p837") and _present("handbill.claims.outbound"),
        "cms1500": _present("handbill.documents.cms1500") and _present("handbill.claims.outbound"),
        "superbill": _present("handbill.documents.superbill")
        and _present("handbill.claims.outbound"),
    }


def _require(name: str) -> None:
    if not available()[name]:
        raise OutboundUnavailable(f"this installation cannot produce {name} output")


def segments_837(claim: Claim, *, at: datetime) -> list[str]:
    """The claim alone in a test-mode 837P interchange, one segment per item: what its part
    of a real batch will say (the envelope's IDs and control numbers are placeholders)."""
    _require("x12")
    from handbill.claims.outbound import read_claims
    from handbill.core import outbound as ob
    from handbill.x12.p837 import write_837

    practice = claim.practice
    placeholder = practice.submitter_id or "PREVIEW"
    batch = ob.Batch(
        submitter=ob.Submitter(
            name=practice.legal_name,
            etin=placeholder,
            contact_name="Billing office",
            phone="".join(ch for ch in practice.phone if ch.isdigit()) or "0000000000",
        ),
        receiver=ob.Receiver(name="PREVIEW", etin="PREVIEW"),
        groups=tuple(read_claims(Claim.objects.filter(pk=claim.pk))),
        control=ob.ControlNumbers(interchange=1, group=1, first_transaction=1),
        created_at=at,
        batch_id=f"PREVIEW-{claim.number}",
        production=False,
    )
    text = write_837(batch)
    return [segment + "~" for segment in text.replace("\n", "").split("~") if segment]


def cms1500_pdf(claim: Claim, *, at: datetime) -> bytes:
    _require("cms1500")
    from handbill.claims.outbound import read_claim
    from handbill.documents.cms1500 import render_cms1500

    billing, out = read_claim(claim)
    return render_cms1500(out, billing, signed_on=claim.practice.local_date(at))


def patient_paid(claim: Claim) -> Cents:
    """What the patient has paid towards this claim (patient payments on its A/R)."""
    found = Leg.objects.filter(
        practice=claim.practice,
        claim_ref=claim.number,
        account__kind=AccountKind.AR_PATIENT,
        transaction__kind=TransactionKind.PATIENT_PAYMENT,
    ).aggregate(paid=Sum("credit_cents"))
    return Cents(int(found["paid"] or 0))


def superbill_pdf(claim: Claim, *, at: datetime) -> bytes:
    _require("superbill")
    from handbill.claims.outbound import provider_ref, read_claim
    from handbill.documents.superbill import render_superbill

    billing, out = read_claim(claim)
    return render_superbill(
        claim=out,
        billing=billing,
        provider=out.rendering or provider_ref(claim.provider),
        amount_paid=patient_paid(claim),
        issued_on=claim.practice.local_date(at),
    )
