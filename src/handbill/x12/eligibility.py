"""Eligibility and benefits, 005010X279A1: the 270 inquiry out and the 271 answer in.

``write_270(request, envelope)`` writes one inquiry as its own interchange: information
source (the payer, HL 20), information receiver (the practice's NPI and taxonomy, HL 21),
subscriber (HL 22) and, when the patient is not the subscriber, the dependent (HL 23), with a
TRN*1 trace number the 271 echoes back, the date asked about (DTP*291) and one EQ per service
type. ``read_271(text)`` (in :mod:`handbill.x12.eligibility_read`, re-exported here) reads the
answers back into :class:`~handbill.core.eligibility_values.EligibilityAnswer` values.

``write_271`` exists for Handbill's payer sandbox, which answers our own 270s; ``read_270``
lets the sandbox (and the tests) read a 270 back into the request it came from.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from handbill.core.codes import eligibility as codes
from handbill.core.codes.npi import check_npi
from handbill.core.eligibility_values import (
    Benefit,
    DatePeriod,
    EligibilityAnswer,
    EligibilityRequest,
    Member,
    Provider,
    Rejection,
)
from handbill.core.outbound import OutboundError
from handbill.x12.eligibility_read import (
    EligibilityReadError,
    Inquiry270,
    Response271,
    read_270,
    read_271,
)
from handbill.x12.writer import (
    DEFAULT_SEPARATORS,
    Element,
    GroupHeader,
    InterchangeHeader,
    Repeated,
    Separators,
    X12Writer,
    clean_text,
    text_problem,
    x12_date,
    x12_time,
)

__all__ = [
    "X279A1",
    "EligibilityReadError",
    "Envelope",
    "Inquiry270",
    "Response271",
    "read_270",
    "read_271",
    "request_problems",
    "write_270",
    "write_271",
]

X279A1 = "005010X279A1"
_TAXONOMY = re.compile(r"^[0-9]{3}[0-9A-Z]{6}X$")
# INS02 for a dependent in the 270: spouse, child, or any other adult the plan covers.
DEPENDENT_RELATIONSHIPS = frozenset({"01", "19", "34"})


@dataclass(frozen=True, slots=True)
class Envelope:
    """Who sends the interchange to whom, its control numbers and when it was made."""

    sender_id: str  # ISA06 / GS02
    receiver_id: str  # ISA08 / GS03
    interchange_control: int  # ISA13
    group_control: int  # GS06
    transaction_control: int  # ST02 of the first transaction set
    created_at: datetime  # timezone-aware, the practice's local time
    production: bool = False  # ISA15 P, else T
    sender_qualifier: str = "ZZ"
    receiver_qualifier: str = "ZZ"


def _begin(writer: X12Writer, envelope: Envelope, functional_id: str) -> None:
    writer.begin_interchange(InterchangeHeader(
        sender_id=envelope.sender_id, receiver_id=envelope.receiver_id,
        control_number=envelope.interchange_control, created_at=envelope.created_at,
        sender_qualifier=envelope.sender_qualifier,
        receiver_qualifier=envelope.receiver_qualifier, production=envelope.production,
    ))
    writer.begin_group(GroupHeader(
        functional_id=functional_id, sender_code=envelope.sender_id,
        receiver_code=envelope.receiver_id, control_number=envelope.group_control,
        created_at=envelope.created_at, version=X279A1,
    ))


def _end(writer: X12Writer) -> str:
    writer.end_group()
    writer.end_interchange()
    return writer.getvalue()


# -- checks --------------------------------------------------------------------------------------


def _text(problems: list[str], value: str, field: str, *, max_length: int,
          required: bool = True, separators: Separators = DEFAULT_SEPARATORS) -> None:
    if not value.strip():
        if required:
            problems.append(f"{field} is empty")
        return
    problem = text_problem(value, field, max_length=max_length, separators=separators)
    if problem:
        problems.append(problem.replace("the 837 allows", "the 270 allows"))


def _member_problems(problems: list[str], member: Member, who: str,
                     separators: Separators) -> None:
    _text(problems, clean_text(member.last_name), f"the {who}'s last name", max_length=60,
          separators=separators)
    _text(problems, clean_text(member.first_name), f"the {who}'s first name", max_length=35,
          required=who == "patient (dependent)", separators=separators)
    _text(problems, clean_text(member.middle_name), f"the {who}'s middle name", max_length=25,
          required=False, separators=separators)
    if member.sex not in ("", "F", "M", "U"):
        problems.append(f"the {who}'s sex {member.sex!r} must be F, M or U")


def request_problems(request: EligibilityRequest,
                     separators: Separators = DEFAULT_SEPARATORS) -> list[str]:
    """Every reason ``request`` cannot go out as a 270, each with the field to fix."""
    problems: list[str] = []
    _text(problems, request.trace_number, "the trace number (TRN02)", max_length=50,
          separators=separators)
    if len(request.originator_id) != 10 or not request.originator_id.isalnum():
        problems.append(
            f"the originator ID (TRN03) {request.originator_id!r} must be 10 letters or digits: "
            "1 followed by the practice's 9-digit EIN"
        )
    _text(problems, clean_text(request.payer_name), "the payer's name", max_length=60,
          separators=separators)
    _text(problems, request.payer_id, "the payer's electronic payer ID", max_length=80,
          separators=separators)
    provider = request.provider
    if provider.id_qualifier == "XX":
        npi = check_npi(provider.identifier)
        if not npi.valid:
            problems.append(f"the practice's NPI: {npi.reason}")
    else:
        _text(problems, provider.identifier, "the provider's ID", max_length=80,
              separators=separators)
    name = provider.organization_name or provider.last_name
    _text(problems, clean_text(name), "the practice's name", max_length=60,
          separators=separators)
    if provider.taxonomy and not _TAXONOMY.match(provider.taxonomy):
        problems.append(f"the taxonomy code {provider.taxonomy!r} must be 10 characters ending "
                        "in X, e.g. 225700000X")
    _member_problems(problems, request.subscriber, "subscriber", separators)
    _text(problems, request.subscriber.member_id.strip(), "the member ID", max_length=80,
          separators=separators)
    _text(problems, request.subscriber.group_number, "the group number", max_length=50,
          required=False, separators=separators)
    dependent = request.dependent
    if dependent is not None:
        _member_problems(problems, dependent, "patient (dependent)", separators)
        if dependent.relationship and dependent.relationship not in DEPENDENT_RELATIONSHIPS:
            problems.append(f"the patient's relationship {dependent.relationship!r} must be 01 "
                            "(spouse), 19 (child) or 34 (other adult) in a 270")
    if not request.service_types:
        problems.append("no service type to ask about: give at least 30 (health benefit plan)")
    for code in request.service_types:
        if code not in codes.SERVICE_TYPES:
            problems.append(f"service type {code!r} is not one Handbill asks about "
                            f"({', '.join(sorted(codes.SERVICE_TYPES))})")
    if len(request.service_types) > 99:
        problems.append("a 270 asks about at most 99 service types")
    return problems


# -- the 270 -------------------------------------------------------------------------------------


def _dtp(day: date) -> tuple[str, str]:
    return "D8", x12_date(day)


def _name_elements(member: Member) -> list[str]:
    return [clean_text(member.last_name), clean_text(member.first_name),
            clean_text(member.middle_name)]


def _dmg(writer: X12Writer, member: Member) -> None:
    if member.birth_date is None:
        return
    sex = member.sex if member.sex in ("F", "M") else ""
    writer.segment("DMG", *_dtp(member.birth_date), sex)


def _provider_nm1(writer: X12Writer, provider: Provider) -> None:
    if provider.person:
        writer.segment("NM1", "1P", "1", clean_text(provider.last_name),
                       clean_text(provider.first_name), "", "", "", provider.id_qualifier,
                       provider.identifier)
    else:
        writer.segment("NM1", "1P", "2", clean_text(provider.organization_name), "", "", "",
                       "", provider.id_qualifier, provider.identifier)


def write_270(request: EligibilityRequest, envelope: Envelope,
              separators: Separators = DEFAULT_SEPARATORS) -> str:
    """One eligibility inquiry as a complete interchange (ISA … IEA)."""
    problems = request_problems(request, separators)
    if problems:
        raise OutboundError("the 270 cannot be written: " + "; ".join(problems))
    writer = X12Writer(separators)
    _begin(writer, envelope, "HS")
    writer.begin_transaction("270", envelope.transaction_control, X279A1)
    created = envelope.created_at
    writer.segment("BHT", "0022", "13", request.trace_number, x12_date(created.date()),
                   x12_time(created))
    writer.segment("HL", "1", "", "20", "1")
    writer.segment("NM1", "PR", "2", clean_text(request.payer_name), "", "", "", "", "PI",
                   request.payer_id)
    writer.segment("HL", "2", "1", "21", "1")
    _provider_nm1(writer, request.provider)
    if request.provider.taxonomy:
        writer.segment("PRV", "PE", "PXC", request.provider.taxonomy)
    dependent = request.dependent
    writer.segment("HL", "3", "2", "22", "1" if dependent is not None else "0")
    trace = ("1", request.trace_number, request.originator_id)
    subscriber = request.subscriber
    if dependent is None:
        writer.segment("TRN", *trace)
    writer.segment("NM1", "IL", "1", *_name_elements(subscriber), "", "", "MI",
                   subscriber.member_id.strip())
    if subscriber.group_number:
        writer.segment("REF", "6P", subscriber.group_number)
    _dmg(writer, subscriber)
    if dependent is None:
        _inquiry(writer, request)
    else:
        writer.segment("HL", "4", "3", "23", "0")
        writer.segment("TRN", *trace)
        writer.segment("NM1", "03", "1", *_name_elements(dependent))
        _dmg(writer, dependent)
        if dependent.relationship:
            writer.segment("INS", "N", dependent.relationship)
        _inquiry(writer, request)
    writer.end_transaction()
    return _end(writer)


def _inquiry(writer: X12Writer, request: EligibilityRequest) -> None:
    writer.segment("DTP", "291", *_dtp(request.service_date))
    # One EQ per service type: some payers answer only the first repeat of a repeated EQ01.
    for code in request.service_types:
        writer.segment("EQ", code)


# -- the 271 (the sandbox's answers) -------------------------------------------------------------


def _number(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _eb(benefit: Benefit) -> list[Element]:
    procedure: Element = tuple(benefit.procedure.split(":")) if benefit.procedure else ""
    return [
        benefit.code,
        benefit.coverage_level,
        Repeated(benefit.service_types) if benefit.service_types else "",
        benefit.insurance_type,
        clean_text(benefit.plan),
        benefit.period,
        benefit.amount.to_x12() if benefit.amount is not None else "",
        _number(benefit.percent) if benefit.percent is not None else "",
        benefit.quantity_qualifier,
        _number(benefit.quantity) if benefit.quantity is not None else "",
        benefit.authorization,
        benefit.in_network,
        procedure,
    ]


def _date_segment(writer: X12Writer, period: DatePeriod) -> None:
    if period.end is None:
        writer.segment("DTP", period.qualifier, *_dtp(period.start))
    else:
        writer.segment("DTP", period.qualifier, "RD8",
                       f"{x12_date(period.start)}-{x12_date(period.end)}")


def _aaa(writer: X12Writer, rejections: Sequence[Rejection], level: str) -> None:
    for rejection in rejections:
        if rejection.level == level:
            writer.segment("AAA", "Y" if rejection.valid_request else "N", "", rejection.code,
                           rejection.follow_up)


def _benefits(writer: X12Writer, benefits: Sequence[Benefit]) -> None:
    for benefit in benefits:
        writer.segment("EB", *_eb(benefit))
        for period in benefit.dates:
            _date_segment(writer, period)
        _aaa(writer, benefit.rejections, "benefit")
        for message in benefit.messages:
            writer.segment("MSG", clean_text(message)[:264])


def write_271(answers: Sequence[EligibilityAnswer], envelope: Envelope,
              separators: Separators = DEFAULT_SEPARATORS) -> str:
    """One interchange with a 271 transaction set per answer (the sandbox's reply)."""
    if not answers:
        raise OutboundError("a 271 needs at least one answer")
    writer = X12Writer(separators)
    _begin(writer, envelope, "HB")
    created = envelope.created_at
    for offset, answer in enumerate(answers):
        writer.begin_transaction("271", envelope.transaction_control + offset, X279A1)
        writer.segment("BHT", "0022", "11", answer.reference, x12_date(created.date()),
                       x12_time(created))
        writer.segment("HL", "1", "", "20", "1")
        writer.segment("NM1", "PR", "2", clean_text(answer.payer_name), "", "", "", "", "PI",
                       answer.payer_id)
        _aaa(writer, answer.rejections, "payer")
        writer.segment("HL", "2", "1", "21", "1")
        _provider_nm1(writer, answer.provider)
        _aaa(writer, answer.rejections, "provider")
        dependent = answer.dependent
        writer.segment("HL", "3", "2", "22", "1" if dependent is not None else "0")
        trace = ("2", answer.trace_number, answer.originator_id)
        if dependent is None:
            writer.segment("TRN", *trace)
        subscriber = answer.subscriber
        writer.segment("NM1", "IL", "1", *_name_elements(subscriber), "", "", "MI",
                       subscriber.member_id)
        if subscriber.group_number:
            writer.segment("REF", "6P", subscriber.group_number)
        _aaa(writer, answer.rejections, "subscriber")
        _dmg(writer, subscriber)
        if dependent is None:
            for period in answer.dates:
                _date_segment(writer, period)
            _benefits(writer, answer.benefits)
        else:
            writer.segment("HL", "4", "3", "23", "0")
            writer.segment("TRN", *trace)
            writer.segment("NM1", "03", "1", *_name_elements(dependent))
            _aaa(writer, answer.rejections, "dependent")
            _dmg(writer, dependent)
            if dependent.relationship:
                writer.segment("INS", "N", dependent.relationship)
            for period in answer.dates:
                _date_segment(writer, period)
            _benefits(writer, answer.benefits)
        writer.end_transaction()
    return _end(writer)
