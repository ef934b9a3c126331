"""Checking eligibility: write the 270s, send them, read the 271s that answer them.

Like claims (``submissions.actions``), a check is written and recorded in one transaction,
uploaded outside any transaction (a network call must not hold the database), and its outcome
recorded in a second one. Each check is its own interchange, so its stored 270 is exactly
what was sent and one bad answer never holds up another.

Answers are read from the clearinghouse's inbox (the same outbox/SFTP transport as claims, and
any 271 that ``handbill inbox fetch`` already stored). Each 271 finds its check by the trace
number it echoes. A 271 that cannot be read is reported with the segment and the reason, and
nothing from it is stored: its checks stay *sent* until a good answer comes.

The batch (:func:`run_batch`) checks everyone on the schedule of a day and every coverage not
checked in the last 30 days. Visits are notes in Handbill; a visit dated that day whose note is
not signed yet is a planned visit, which is how the schedule is read. Running the batch again
for the same day sends nothing twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q

from handbill.audit.record import record
from handbill.core.eligibility import describe, summarize
from handbill.eligibility.models import (
    ANSWERED,
    OUTSTANDING_OR_ANSWERED,
    CheckStatus,
    EligibilityCheck,
)
from handbill.eligibility.requests import policy_for, request_for
from handbill.eligibility.sandbox import transport_for_checks, uses_sandbox
from handbill.patients.models import Coverage
from handbill.practice.access import authorize
from handbill.practice.models import Practice
from handbill.submissions.inbox import decode
from handbill.submissions.models import Clearinghouse, InboxFile, InboxKind
from handbill.submissions.transports import Transport, TransportError
from handbill.x12.eligibility import (
    EligibilityReadError,
    Envelope,
    Response271,
    read_271,
    request_problems,
    write_270,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

RECHECK_AFTER_DAYS = 30


class EligibilityError(ValueError):
    """A check that cannot be made as asked; the message says what to fix."""

    def __init__(self, message: str, problems: Iterable[str] = ()) -> None:
        self.problems = list(problems)
        super().__init__(message)


@dataclass
class AnswerReport:
    """What reading the inbox did."""

    answered: list[EligibilityCheck] = field(default_factory=list)
    # 271 files that could not be read: "file: segment N (EB): reason …". Nothing stored.
    problems: list[str] = field(default_factory=list)
    # Answers in readable files that match no check of this practice.
    unmatched: list[str] = field(default_factory=list)
    # Open claims (draft or ready) of the answered coverages, scrubbed again with the answer.
    rescrubbed: list[str] = field(default_factory=list)


@dataclass
class BatchReport:
    on: date
    sent: list[EligibilityCheck] = field(default_factory=list)
    failed: list[EligibilityCheck] = field(default_factory=list)
    # Coverages that could not be checked, with the reason (nothing was written for them).
    skipped: list[str] = field(default_factory=list)
    already_checked: int = 0
    answers: AnswerReport = field(default_factory=AnswerReport)


def _authorize(by: AbstractBaseUser | None, practice: Practice) -> None:
    # The front desk checks eligibility as often as the biller does.
    try:
        authorize(by, practice, "edit_patients")
    except PermissionDenied:
        authorize(by, practice, "bill")


def _aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("times must be timezone-aware")


def default_clearinghouse(practice: Practice) -> Clearinghouse:
    houses = list(Clearinghouse.objects.filter(practice=practice, active=True).order_by("name"))
    if len(houses) == 1:
        return houses[0]
    if not houses:
        raise EligibilityError(
            f"{practice.legal_name} has no active clearinghouse: add one (handbill "
            "clearinghouse add …) before checking eligibility"
        )
    names = ", ".join(h.name for h in houses)
    raise EligibilityError(f"several clearinghouses ({names}): choose the one to check with")


def _trace_number(practice: Practice, interchange: int) -> str:
    # Unique per practice (the interchange number is), and recognisably ours in a shared inbox.
    return f"HB{practice.pk}E{interchange:09d}"


@transaction.atomic
def _build(*, coverage: Coverage, on: date, clearinghouse: Clearinghouse, sandbox: bool,
           by: AbstractBaseUser | None, at: datetime) -> EligibilityCheck:
    from handbill.submissions.actions import take_control_numbers

    practice = coverage.practice
    who = f"{coverage.patient} ({coverage.payer.name}, member {coverage.member_id})"
    submitter = clearinghouse.submitter_etin or practice.submitter_id
    if not submitter:
        raise EligibilityError(
            f"no submitter ID: set the ID the clearinghouse gave {practice.legal_name} on "
            f"clearinghouse {clearinghouse.name}"
        )
    control = take_control_numbers(practice=practice, transactions=1)
    trace = _trace_number(practice, control.interchange)
    request = request_for(coverage, on=on, trace_number=trace, policy=policy_for(coverage, on))
    problems = request_problems(request)
    if problems:
        raise EligibilityError(f"{who}: " + "; ".join(problems), problems)
    envelope = Envelope(
        sender_id=submitter, receiver_id=clearinghouse.receiver_id,
        interchange_control=control.interchange, group_control=control.group,
        transaction_control=control.first_transaction,
        created_at=at.astimezone(ZoneInfo(practice.timezone)),
        production=clearinghouse.production,
    )
    check = EligibilityCheck.objects.create(
        practice=practice, coverage=coverage, patient=coverage.patient,
        clearinghouse=clearinghouse, service_date=on, status=CheckStatus.BUILT,
        trace_number=trace, interchange_control=control.interchange,
        file_name=f"{practice.slug}-{control.interchange:09d}.270",
        request_270=write_270(request, envelope), sandbox=sandbox, created_at=at,
        created_by=by if by is not None and by.is_authenticated else None,
    )
    record(action="eligibility.build", at=at, by=by, practice=practice, target=check,
           coverage=coverage.pk, service_date=on.isoformat(), trace_number=trace)
    return check


def _upload(checks: list[EligibilityCheck], transport: Transport) -> dict[int, str]:
    """Sends each check's 270; returns the error per check that did not arrive."""
    errors: dict[int, str] = {}
    with transport as open_transport:
        for index, check in enumerate(checks):
            try:
                open_transport.upload(check.file_name, check.request_270.encode("ascii"))
            except TransportError as exc:
                # The connection is gone or the folder unwritable: the rest would fail alike.
                for rest in checks[index:]:
                    errors[rest.pk] = str(exc)
                break
    return errors


@transaction.atomic
def _record_sent(checks: list[EligibilityCheck], errors: dict[int, str], *,
                 by: AbstractBaseUser | None, at: datetime) -> None:
    sent = [c.pk for c in checks if c.pk not in errors]
    EligibilityCheck.objects.filter(pk__in=sent).update(status=CheckStatus.SENT, sent_at=at)
    for pk, error in errors.items():
        EligibilityCheck.objects.filter(pk=pk).update(status=CheckStatus.FAILED, error=error)
    if checks:
        record(action="eligibility.send", at=at, by=by, practice=checks[0].practice,
               target=checks[0].clearinghouse, sent=len(sent), failed=len(errors),
               files=[c.file_name for c in checks])
    for check in checks:
        check.refresh_from_db()


def _transport(clearinghouse: Clearinghouse, transport: Transport | None, sandbox: bool | None,
               at: datetime) -> tuple[Transport, bool]:
    if transport is not None:
        return transport, bool(sandbox) if sandbox is not None else uses_sandbox(clearinghouse)
    use = uses_sandbox(clearinghouse) if sandbox is None else sandbox
    return transport_for_checks(clearinghouse, sandbox=use, at=at), use


def check_eligibility(
    *,
    coverage: Coverage,
    on: date,
    by: AbstractBaseUser | None,
    at: datetime,
    clearinghouse: Clearinghouse | None = None,
    transport: Transport | None = None,
    sandbox: bool | None = None,
) -> EligibilityCheck:
    """Ask ``coverage``'s payer whether it covers a visit on ``on``, and read the answers that
    have come in. With the sandbox the answer is there at once; with a real clearinghouse the
    check stays *sent* until :func:`read_answers` finds its 271.

    ``transport`` replaces the clearinghouse's own (tests); ``sandbox`` forces the sandbox on
    or off (default: on when the clearinghouse's receiver ID is ``HBSANDBOX``).
    """
    _aware(at)
    practice = coverage.practice
    _authorize(by, practice)
    house = clearinghouse or default_clearinghouse(practice)
    if house.practice_id != practice.pk:
        raise EligibilityError(f"clearinghouse {house.name} belongs to another practice")
    chosen, use_sandbox = _transport(house, transport, sandbox, at)
    check = _build(coverage=coverage, on=on, clearinghouse=house, sandbox=use_sandbox, by=by,
                   at=at)
    _record_sent([check], _upload([check], chosen), by=by, at=at)
    if check.status == CheckStatus.FAILED:
        raise EligibilityError(
            f"the 270 for {coverage.patient} was written but not sent: {check.error}. Check "
            f"the clearinghouse settings and check again."
        )
    report = _read(practice, house, chosen, by=by, at=at)
    check.refresh_from_db()
    if not check.answered and report.problems:
        raise EligibilityError(
            "the 270 was sent, but an answer in the inbox could not be read; nothing from it "
            "was stored and the check waits for a good answer: " + "; ".join(report.problems),
            report.problems,
        )
    return check


def due_coverages(practice: Practice, on: date, at: datetime) -> tuple[list[Coverage], int]:
    """(coverages to check for ``on``, how many were already checked for it): the coverages of
    visits planned on ``on`` (unsigned notes dated that day) first, then every coverage in
    force on ``on`` whose last check is more than 30 days old, or that was never checked."""
    from handbill.claims.actions import billing_coverage
    from handbill.visits.models import Visit

    scheduled: dict[int, Coverage] = {}
    planned = (Visit.objects.filter(practice=practice, date_of_service=on, signed_at__isnull=True)
               .select_related("coverage", "patient").order_by("pk"))
    for visit in planned:
        coverage = billing_coverage(visit)
        if coverage is not None:
            scheduled.setdefault(coverage.pk, coverage)
    in_force = (Coverage.objects.filter(practice=practice, start_date__lte=on)
                .filter(Q(end_date__isnull=True) | Q(end_date__gt=on))
                .exclude(pk__in=list(scheduled))
                .order_by("patient__last_name", "patient__first_name", "order", "pk"))
    counted = [s.value for s in OUTSTANDING_OR_ANSWERED]
    recent = set(EligibilityCheck.objects.filter(
        practice=practice, status__in=counted,
        created_at__gte=at - timedelta(days=RECHECK_AFTER_DAYS),
    ).values_list("coverage_id", flat=True))
    done = set(EligibilityCheck.objects.filter(
        practice=practice, service_date=on, status__in=counted,
    ).values_list("coverage_id", flat=True))
    due: list[Coverage] = []
    already = 0
    for coverage in [*scheduled.values(), *in_force]:
        if coverage.pk in done:
            already += 1
        elif coverage.pk in scheduled or coverage.pk not in recent:
            due.append(coverage)
    return due, already


def run_batch(
    *,
    practice: Practice,
    on: date,
    by: AbstractBaseUser | None,
    at: datetime,
    clearinghouse: Clearinghouse | None = None,
    transport: Transport | None = None,
    sandbox: bool | None = None,
) -> BatchReport:
    """Check everyone due for ``on`` (see :func:`due_coverages`) in one run, then read the
    answers. A coverage whose request cannot be written is skipped with the reason; the
    others go ahead."""
    _aware(at)
    _authorize(by, practice)
    house = clearinghouse or default_clearinghouse(practice)
    if house.practice_id != practice.pk:
        raise EligibilityError(f"clearinghouse {house.name} belongs to another practice")
    chosen, use_sandbox = _transport(house, transport, sandbox, at)
    due, already = due_coverages(practice, on, at)
    report = BatchReport(on=on, already_checked=already)
    built: list[EligibilityCheck] = []
    for coverage in due:
        try:
            built.append(_build(coverage=coverage, on=on, clearinghouse=house,
                                sandbox=use_sandbox, by=by, at=at))
        except EligibilityError as exc:
            report.skipped.append(str(exc))
    if built:
        _record_sent(built, _upload(built, chosen), by=by, at=at)
    report.sent = [c for c in built if c.status != CheckStatus.FAILED]
    report.failed = [c for c in built if c.status == CheckStatus.FAILED]
    report.answers = _read(practice, house, chosen, by=by, at=at)
    for check in report.sent:
        check.refresh_from_db()
    return report


# -- answers -------------------------------------------------------------------------------------


def _set_id(text: str) -> str:
    """ST01 of the first transaction set, read straight from the envelope ("" if none)."""
    body = text.lstrip("\ufeff \t\r\n")
    if not body.startswith("ISA") or len(body) < 106:
        return ""
    element, terminator = body[3], body[105]
    for raw in body.split(terminator)[:3]:
        fields = raw.strip().split(element)
        if fields[0] == "ST":
            return fields[1] if len(fields) > 1 else ""
    return ""


def read_answers(
    *,
    practice: Practice,
    by: AbstractBaseUser | None,
    at: datetime,
    clearinghouse: Clearinghouse | None = None,
    transport: Transport | None = None,
    sandbox: bool | None = None,
) -> AnswerReport:
    """Read the 271s waiting in the clearinghouse's inbox into their checks."""
    _aware(at)
    _authorize(by, practice)
    house = clearinghouse or default_clearinghouse(practice)
    chosen, _use = _transport(house, transport, sandbox, at)
    return _read(practice, house, chosen, by=by, at=at)


def _read(practice: Practice, house: Clearinghouse, transport: Transport, *,
          by: AbstractBaseUser | None, at: datetime) -> AnswerReport:
    applied_names = set(
        EligibilityCheck.objects.filter(practice=practice, clearinghouse=house)
        .exclude(response_file="").values_list("response_file", flat=True)
    )
    applied_digests = set(
        EligibilityCheck.objects.filter(practice=practice)
        .exclude(response_sha256="").values_list("response_sha256", flat=True)
    )
    files: dict[str, tuple[str, str, InboxFile | None]] = {}
    try:
        with transport as open_transport:
            for name in open_transport.inbox_names():
                if name in applied_names:
                    continue
                text = decode(open_transport.download(name))
                files.setdefault(hashlib.sha256(text.encode()).hexdigest(), (name, text, None))
    except TransportError as exc:
        raise EligibilityError(f"reading the inbox of {house.name} failed: {exc}") from exc
    # 271s that `handbill inbox fetch` already downloaded (stored there as "unknown").
    for stored in InboxFile.objects.filter(practice=practice, clearinghouse=house,
                                           kind=InboxKind.UNKNOWN, processed_at__isnull=True):
        files.setdefault(hashlib.sha256(stored.content.encode()).hexdigest(),
                         (stored.name, stored.content, stored))
    report = AnswerReport()
    for digest, (name, text, stored) in sorted(files.items(), key=lambda item: item[1][0]):
        if digest in applied_digests or _set_id(text) != "271":
            continue
        try:
            response = read_271(text)
        except EligibilityReadError as exc:
            report.problems.append(
                f"{name}: {exc}. Nothing from this file was stored; ask the clearinghouse to "
                "send the answer again"
            )
            continue
        _apply(practice, name, text, digest, response, stored, report, by=by, at=at)
    _rescrub({c.coverage_id for c in report.answered}, report, by=by, at=at)
    return report


def _rescrub(coverage_ids: set[int], report: AnswerReport, *, by: AbstractBaseUser | None,
             at: datetime) -> None:
    """Open claims of these coverages get the payer's answer among their findings now."""
    from handbill.claims.actions import scrub_claim
    from handbill.claims.models import Claim, Status

    if not coverage_ids:
        return
    open_claims = (Claim.objects.filter(coverage_id__in=coverage_ids,
                                        status__in=[Status.DRAFT, Status.READY])
                   .select_related("practice").order_by("number"))
    for claim in open_claims:
        scrub_claim(claim=claim, by=by, at=at)
        report.rescrubbed.append(claim.number)


@transaction.atomic
def _apply(practice: Practice, name: str, text: str, digest: str, response: Response271,
           stored: InboxFile | None, report: AnswerReport, *, by: AbstractBaseUser | None,
           at: datetime) -> None:
    checked_on = practice.local_date(at)
    ours = _trace_number(practice, 0)[:-9]
    for answer in response.answers:
        trace = answer.trace_number or answer.reference
        if not trace.startswith(ours):
            continue  # another practice's answer in a shared inbox folder
        check = (EligibilityCheck.objects.select_for_update()
                 .filter(practice=practice, trace_number=trace).first())
        if check is None:
            report.unmatched.append(f"{name}: trace number {trace or '(none)'} matches no "
                                    "eligibility check of this practice")
            continue
        if check.status in ANSWERED:
            continue  # answered already (the same answer sent twice)
        summary = summarize(answer, service_date=check.service_date, checked_on=checked_on)
        check.status = CheckStatus(summary.status.value)
        check.response_271 = text
        check.response_file = name
        check.response_sha256 = digest
        check.benefits = answer.to_json()
        check.summary = describe(summary)
        check.answered_at = at
        check.error = ""
        check.save(update_fields=["status", "response_271", "response_file", "response_sha256",
                                  "benefits", "summary", "answered_at", "error"])
        record(action="eligibility.answer", at=at, by=by, practice=practice, target=check,
               status=check.status, file=name, alerts=summary.alerts())
        report.answered.append(check)
    if stored is not None:
        InboxFile.objects.filter(pk=stored.pk).update(processed_at=at)
