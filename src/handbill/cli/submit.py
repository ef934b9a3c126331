"""Claims out from the command line: send ready claims, fetch the answers, print the forms.

    handbill clearinghouse add --name N --receiver-id ID --receiver-name NAME
                               (--outbox DIR | --sftp-host HOST --sftp-user … --host-key …)
    handbill clearinghouse list
    handbill submit (--payer PAYER_ID | --all-ready | --retry BATCH_ID)
                    [--practice SLUG] [--clearinghouse NAME]
    handbill inbox fetch [--practice SLUG] [--clearinghouse NAME]
    handbill forms cms1500 CLAIM [--data-only] --out FILE.pdf
    handbill forms superbill CLAIM --out FILE.pdf [--paid AMOUNT]

These are top-level commands (not under ``handbill claims``) so each command module stays
with one owner. Run by the operator on the server, they act as the system (``by=None``), which
the audit trail records as such.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from handbill.cli import CommandError, setup_django


def register(subparsers: Any) -> None:
    _register_clearinghouse(subparsers)
    _register_submit(subparsers)
    _register_inbox(subparsers)
    _register_forms(subparsers)


def _register_clearinghouse(subparsers: Any) -> None:
    parser = subparsers.add_parser("clearinghouse", help="set up where claim files go")
    actions = parser.add_subparsers(dest="clearinghouse_command", required=True,
                                    metavar="ACTION")
    add = actions.add_parser(
        "add", help="add a clearinghouse (an outbox folder, or SFTP with a pinned host key)"
    )
    add.add_argument("--practice", help="practice slug (needed when there are several)")
    add.add_argument("--name", required=True)
    add.add_argument("--receiver-id", required=True, help="ISA08 / 1000B ID of the receiver")
    add.add_argument("--receiver-name", required=True)
    add.add_argument("--submitter-etin", default="",
                     help="our submitter ID at this clearinghouse (default: the practice's)")
    add.add_argument("--production", action="store_true",
                     help="send as production (ISA15 P); the default is test (T)")
    add.add_argument("--outbox", help="folder the 837 files are written to")
    add.add_argument("--sftp-host")
    add.add_argument("--sftp-port", type=int, default=22)
    add.add_argument("--sftp-user")
    add.add_argument("--sftp-key", help="path to our private key file")
    add.add_argument("--sftp-password-env",
                     help="name of an environment variable holding the password")
    add.add_argument("--host-key", help="the server's public key, 'ssh-ed25519 AAAA…'")
    add.add_argument("--remote-out", default="", help="remote folder for 837 files")
    add.add_argument("--remote-in", default="", help="remote folder with 999/277CA/835 files")
    add.set_defaults(func=_clearinghouse_add)
    listing = actions.add_parser("list", help="the practice's clearinghouses")
    listing.add_argument("--practice")
    listing.set_defaults(func=_clearinghouse_list)


SUBMIT_HELP = "send ready claims to the clearinghouse in one 837P batch"
SUBMIT_DESCRIPTION = (
    "Build one 837P batch of ready claims, upload it and mark the claims submitted. Any claim "
    "with a problem stops the whole batch before a file is written."
)


def _register_submit(subparsers: Any) -> None:
    parser = subparsers.add_parser("submit", help=SUBMIT_HELP, description=SUBMIT_DESCRIPTION)
    add_submit_arguments(parser)


def add_submit_arguments(parser: Any) -> None:
    """The options of ``handbill submit``; ``handbill claims submit`` is the same command."""
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--payer", help="the ready claims of one payer (its payer ID)")
    which.add_argument("--all-ready", action="store_true", help="every ready claim")
    which.add_argument("--retry", type=int, metavar="BATCH_ID",
                       help="send a failed batch's file again")
    parser.add_argument("--practice", help="practice slug (needed when there are several)")
    parser.add_argument("--clearinghouse", help="clearinghouse name (needed when several)")
    parser.set_defaults(func=_submit)


def _register_inbox(subparsers: Any) -> None:
    parser = subparsers.add_parser("inbox", help="response files from the clearinghouse")
    actions = parser.add_subparsers(dest="inbox_command", required=True, metavar="ACTION")
    fetch = actions.add_parser("fetch", help="download new 999, 277CA and 835 files")
    fetch.add_argument("--practice")
    fetch.add_argument("--clearinghouse")
    fetch.set_defaults(func=_inbox_fetch)


def _register_forms(subparsers: Any) -> None:
    parser = subparsers.add_parser("forms", help="print a claim as a CMS-1500 or a superbill")
    actions = parser.add_subparsers(dest="forms_command", required=True, metavar="FORM")
    cms = actions.add_parser("cms1500", help="the CMS-1500 (02/12) paper claim as a PDF")
    cms.add_argument("claim", help="claim number (e.g. HB0000012) or database id")
    cms.add_argument("--data-only", action="store_true",
                     help="only the values, for printing on pre-printed red forms")
    cms.add_argument("--out", required=True, type=Path, help="PDF file to write")
    cms.add_argument("--practice")
    cms.set_defaults(func=_cms1500)
    superbill = actions.add_parser("superbill", help="a superbill the client files herself")
    superbill.add_argument("claim")
    superbill.add_argument("--out", required=True, type=Path)
    superbill.add_argument("--paid", help="amount the client paid, e.g. 95.00 (default: the "
                           "client payments posted for this claim)")
    superbill.add_argument("--practice")
    superbill.set_defaults(func=_superbill)


def _practice(slug: str | None) -> Any:
    from handbill.practice.models import Practice

    if slug:
        found = Practice.objects.filter(slug=slug).first()
        if found is None:
            raise CommandError(f"no practice {slug!r}")
        return found
    practices = list(Practice.objects.order_by("slug")[:6])
    if len(practices) == 1:
        return practices[0]
    if not practices:
        raise CommandError("there is no practice yet; load the demo with: handbill demo")
    names = ", ".join(p.slug for p in practices[:5])
    raise CommandError(f"several practices; name one with --practice (e.g. {names})")


def _clearinghouse(practice: Any, name: str | None) -> Any:
    from handbill.submissions.models import Clearinghouse

    houses = Clearinghouse.objects.filter(practice=practice, active=True)
    if name:
        found = houses.filter(name=name).first()
        if found is None:
            raise CommandError(f"{practice.slug} has no active clearinghouse {name!r}")
        return found
    listed = list(houses.order_by("name")[:6])
    if len(listed) == 1:
        return listed[0]
    if not listed:
        raise CommandError(
            f"{practice.slug} has no clearinghouse yet; add one with: handbill clearinghouse "
            "add --name NAME --receiver-id ID --receiver-name NAME --outbox FOLDER"
        )
    names = ", ".join(h.name for h in listed)
    raise CommandError(f"several clearinghouses ({names}); choose one with --clearinghouse")


def _house_json(house: Any) -> dict[str, Any]:
    where = (
        house.outbox_path
        if house.transport == "outbox"
        else f"sftp://{house.sftp_username}@{house.sftp_host}:{house.sftp_port}"
        f"{house.remote_out_dir}"
    )
    return {
        "id": house.pk,
        "name": house.name,
        "transport": house.transport,
        "receiver_id": house.receiver_id,
        "production": house.production,
        "where": where,
        "active": house.active,
    }


def _clearinghouse_add(args: argparse.Namespace) -> dict[str, Any]:
    setup_django()
    from django.db import IntegrityError, transaction
    from django.utils import timezone

    from handbill.audit.record import record
    from handbill.submissions.models import Clearinghouse, TransportKind
    from handbill.submissions.transports import TransportError, parse_host_key

    practice = _practice(args.practice)
    sftp = bool(args.sftp_host)
    if sftp == bool(args.outbox):
        raise CommandError("give either --outbox FOLDER or --sftp-host HOST (with its settings)")
    if sftp:
        missing = [flag for flag, value in (("--sftp-user", args.sftp_user),
                                            ("--host-key", args.host_key)) if not value]
        if not (args.sftp_key or args.sftp_password_env):
            missing.append("--sftp-key or --sftp-password-env")
        if missing:
            raise CommandError("SFTP needs " + ", ".join(missing))
        try:
            parse_host_key(args.host_key)
        except TransportError as exc:
            raise CommandError(str(exc)) from None
    at = timezone.now()
    try:
        with transaction.atomic():
            house = Clearinghouse.objects.create(
                practice=practice,
                name=args.name,
                receiver_id=args.receiver_id,
                receiver_name=args.receiver_name,
                submitter_etin=args.submitter_etin,
                production=args.production,
                transport=TransportKind.SFTP if sftp else TransportKind.OUTBOX,
                outbox_path=str(Path(args.outbox).resolve()) if args.outbox else "",
                sftp_host=args.sftp_host or "",
                sftp_port=args.sftp_port,
                sftp_username=args.sftp_user or "",
                sftp_key_path=str(Path(args.sftp_key).resolve()) if args.sftp_key else "",
                sftp_password_env=args.sftp_password_env or "",
                remote_out_dir=args.remote_out,
                remote_in_dir=args.remote_in,
                known_host_key=args.host_key or "",
                created_at=at,
            )
            record(action="clearinghouse.add", at=at, by=None, practice=practice,
                   target=house, name=house.name, transport=house.transport)
    except IntegrityError:
        raise CommandError(f"{practice.slug} already has a clearinghouse {args.name!r}") from None
    return _house_json(house)


def _clearinghouse_list(args: argparse.Namespace) -> list[dict[str, Any]]:
    setup_django()
    from handbill.submissions.models import Clearinghouse

    practice = _practice(args.practice)
    return [_house_json(h) for h in Clearinghouse.objects.filter(practice=practice)
            .order_by("name")]


def _batch_json(batch: Any) -> dict[str, Any]:
    from handbill.core.money import Cents

    return {
        "batch": batch.pk,
        "file": batch.file_name,
        "status": batch.status,
        "clearinghouse": batch.clearinghouse.name,
        "claims": batch.claim_count,
        "total_charge": Cents(batch.total_charge_cents).to_decimal_string(),
        "interchange_control_number": f"{batch.interchange_control:09d}",
        "group_control_number": batch.group_control,
        "transaction_sets": batch.transaction_count,
        "attempts": batch.attempts,
        "uploaded_at": batch.uploaded_at.isoformat() if batch.uploaded_at else None,
        "sha256": batch.sha256,
        "warnings": batch.error or None,
    }


def _submit(args: argparse.Namespace) -> dict[str, Any]:
    setup_django()
    from django.utils import timezone

    from handbill.claims.models import Claim
    from handbill.submissions.actions import (
        SubmissionError,
        UploadFailedError,
        retry_batch,
        submit_claims,
    )
    from handbill.submissions.models import SubmissionBatch

    practice = _practice(args.practice)
    at = timezone.now()
    try:
        if args.retry is not None:
            batch = SubmissionBatch.objects.filter(practice=practice, pk=args.retry).first()
            if batch is None:
                raise CommandError(f"{practice.slug} has no batch {args.retry}")
            return _batch_json(retry_batch(batch=batch, by=None, at=at))
        house = _clearinghouse(practice, args.clearinghouse)
        claims = Claim.objects.filter(practice=practice, status="ready").order_by("number")
        if args.payer:
            claims = claims.filter(payer__payer_id=args.payer)
        else:
            claims = claims.exclude(payer__isnull=True)
        ids = list(claims.values_list("pk", flat=True))
        if not ids:
            which = f"for payer {args.payer}" if args.payer else ""
            raise CommandError(f"no ready claims {which} in {practice.slug}".replace("  ", " "))
        batch = submit_claims(practice=practice, claims=ids, clearinghouse=house, by=None, at=at)
    except UploadFailedError as exc:
        raise CommandError(str(exc)) from None
    except SubmissionError as exc:
        if exc.problems:
            listed = "\n  ".join(exc.problems)
            raise CommandError(
                f"{len(exc.problems)} problem(s); nothing was written or sent:\n  {listed}"
            ) from None
        raise CommandError(str(exc)) from None
    return _batch_json(batch)


def _inbox_fetch(args: argparse.Namespace) -> dict[str, Any]:
    setup_django()
    from django.utils import timezone

    from handbill.submissions.actions import SubmissionError, fetch_inbox

    practice = _practice(args.practice)
    house = _clearinghouse(practice, args.clearinghouse)
    try:
        new = fetch_inbox(practice=practice, clearinghouse=house, by=None, at=timezone.now())
    except SubmissionError as exc:
        raise CommandError(str(exc)) from None
    return {
        "clearinghouse": house.name,
        "new_files": [
            {"id": f.pk, "name": f.name, "kind": f.kind, "bytes": f.size} for f in new
        ],
    }


def _find_claim(ref: str, practice_slug: str | None) -> Any:
    from handbill.claims.models import Claim

    claims = Claim.objects.select_related("practice", "provider")
    if practice_slug:
        claims = claims.filter(practice__slug=practice_slug)
    found = list(claims.filter(number=ref.strip().upper())[:2])
    if not found and ref.strip().isdigit():
        found = list(claims.filter(pk=int(ref))[:1])
    if not found:
        raise CommandError(f"no claim {ref!r}; give a claim number such as HB0000012 or an id")
    if len(found) > 1:
        raise CommandError(f"claim number {ref} exists in several practices; add --practice")
    return found[0]


def _write_pdf(path: Path, content: bytes) -> dict[str, Any]:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.part")
        temp.write_bytes(content)
        temp.replace(path)
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from None
    return {"file": str(path), "bytes": len(content)}


def _cms1500(args: argparse.Namespace) -> dict[str, Any]:
    setup_django()
    from django.utils import timezone

    from handbill.claims.outbound import provider_ref, read_claim
    from handbill.core.outbound import OutboundError
    from handbill.documents.cms1500 import render_cms1500

    claim = _find_claim(args.claim, args.practice)
    billing, out = read_claim(claim)
    try:
        # Box 31 is signed by the therapist who gave the service.
        pdf = render_cms1500(out, billing, data_only=args.data_only,
                             signed_on=claim.practice.local_date(timezone.now()),
                             signer=provider_ref(claim.provider))
    except OutboundError as exc:
        raise CommandError(str(exc)) from None
    return {"claim": claim.number, "form": "CMS-1500", "data_only": args.data_only,
            **_write_pdf(args.out, pdf)}


def client_paid(claim: Any) -> Any:
    """What the client paid toward this claim: her payments posted to the ledger, less any
    reversed."""
    from django.db.models import Q, Sum

    from handbill.core.money import Cents
    from handbill.ledger.models import AccountKind, Leg, TransactionKind

    cash = Leg.objects.filter(
        practice=claim.practice, claim_ref=claim.number, account__kind=AccountKind.CASH
    ).filter(
        Q(transaction__kind=TransactionKind.PATIENT_PAYMENT)
        | Q(transaction__reverses__kind=TransactionKind.PATIENT_PAYMENT)
    )
    sums = cash.aggregate(debit=Sum("debit_cents"), credit=Sum("credit_cents"))
    return Cents((sums["debit"] or 0) - (sums["credit"] or 0))


def _superbill(args: argparse.Namespace) -> dict[str, Any]:
    setup_django()
    from django.utils import timezone

    from handbill.claims.outbound import provider_ref, read_claim
    from handbill.core.money import Cents, MoneyError
    from handbill.core.outbound import OutboundError
    from handbill.documents.superbill import render_superbill

    claim = _find_claim(args.claim, args.practice)
    billing, out = read_claim(claim)
    if args.paid is not None:
        try:
            paid = Cents.parse(args.paid)
        except MoneyError as exc:
            raise CommandError(f"--paid: {exc}") from None
    else:
        paid = client_paid(claim)
    try:
        pdf = render_superbill(
            claim=out, billing=billing, provider=provider_ref(claim.provider),
            amount_paid=paid, issued_on=claim.practice.local_date(timezone.now()),
        )
    except OutboundError as exc:
        raise CommandError(str(exc)) from None
    return {"claim": claim.number, "form": "superbill", "amount_paid":
            paid.to_decimal_string(), **_write_pdf(args.out, pdf)}
