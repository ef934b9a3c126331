"""Reading 270 inquiries and 271 answers (005010X279A1) into eligibility values.

The tokenizer (:mod:`handbill.x12.tokens`) takes the separators from the ISA and checks the
envelope (SE/GE/IEA counts and control numbers); this module walks the HL tree of each
transaction set. Anything it cannot read raises :class:`EligibilityReadError` naming the
segment (its position in the file and its id) and the reason, so a bad 271 is reported and
nothing is stored from it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from handbill.core.codes import eligibility as codes
from handbill.core.eligibility_values import (
    Benefit,
    DatePeriod,
    EligibilityAnswer,
    EligibilityRequest,
    Member,
    Provider,
    Rejection,
)
from handbill.core.money import Cents, MoneyError
from handbill.x12.tokens import RawSegment, Source, Transaction, X12Error, iter_transactions

_CONVENTIONS = ("005010X279", "005010X279A1")
_LEVEL_NAMES = {"20": "payer", "21": "provider", "22": "subscriber", "23": "dependent"}
_PARENT_LEVEL = {"21": "20", "22": "21", "23": "22"}
# Segments of a 271 this reader skips: addresses, contacts, provider and diagnosis details,
# delivery patterns and the related-entity loop's own segments.
_SKIPPED_271 = frozenset({"N3", "N4", "PER", "PRV", "HI", "MPI", "HSD", "III"})
_SKIPPED_270 = frozenset({"N3", "N4", "HI", "AMT", "III"})


class EligibilityReadError(ValueError):
    """A 270/271 that cannot be read: which segment (position in the file and id) and why."""

    def __init__(self, reason: str, *, position: int | None = None, segment_id: str = "") -> None:
        self.reason = reason
        self.position = position
        self.segment_id = segment_id
        where = ""
        if position is not None:
            where = f"segment {position} ({segment_id}): " if segment_id else \
                f"segment {position}: "
        super().__init__(where + reason)


@dataclass(frozen=True, slots=True)
class Inquiry270:
    """The requests of a 270 file and who sent it."""

    sender_id: str  # ISA06
    receiver_id: str  # ISA08
    interchange_control: str  # ISA13
    production: bool  # ISA15 = P
    requests: tuple[EligibilityRequest, ...]
    references: tuple[str, ...]  # BHT03 of each request's transaction set, in order


@dataclass(frozen=True, slots=True)
class Response271:
    """The answers of a 271 file and who sent it."""

    sender_id: str
    receiver_id: str
    interchange_control: str
    answers: tuple[EligibilityAnswer, ...]


def _transactions(source: Source, set_id: str) -> list[Transaction]:
    try:
        found = list(iter_transactions(source, strict=True))
    except X12Error as exc:
        raise EligibilityReadError(exc.reason, position=exc.position,
                                   segment_id=exc.segment_id) from None
    if not found:
        raise EligibilityReadError(f"the file holds no transaction set; a {set_id} was expected")
    for transaction in found:
        if transaction.set_id != set_id:
            raise EligibilityReadError(
                f"this is a {transaction.set_id or 'unknown'} transaction set, not a {set_id}",
                position=transaction.start, segment_id="ST",
            )
        if transaction.convention not in _CONVENTIONS:
            raise EligibilityReadError(
                f"implementation guide {transaction.convention!r} is not 005010X279A1 "
                "(eligibility 5010)", position=transaction.start, segment_id="ST",
            )
    return found


def _el(segment: RawSegment, n: int) -> str:
    return segment[n] if n < len(segment) else ""


def _d8(text: str, what: str) -> date:
    if len(text) != 8 or not text.isdigit():
        raise ValueError(f"{what} {text!r} is not a CCYYMMDD date")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise ValueError(f"{what} {text!r} is not a calendar date") from None


def _period(segment: RawSegment) -> DatePeriod:
    qualifier, form, value = _el(segment, 1), _el(segment, 2), _el(segment, 3)
    if len(qualifier) != 3:
        raise ValueError(f"DTP01 {qualifier!r} must be a 3-character date qualifier")
    if form == "D8":
        return DatePeriod(qualifier, _d8(value, "DTP03"))
    if form == "RD8":
        first, _dash, last = value.partition("-")
        start, end = _d8(first, "DTP03 start"), _d8(last, "DTP03 end")
        if end < start:
            raise ValueError(f"DTP03 range {value!r} ends before it starts")
        return DatePeriod(qualifier, start, end)
    raise ValueError(f"DTP02 {form!r} must be D8 (a date) or RD8 (a range)")


def _decimal(text: str, what: str) -> Decimal | None:
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{what} {text!r} is not a number") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"{what} {text!r} must be a number of 0 or more")
    return value


def _repeats(text: str, separator: str) -> tuple[str, ...]:
    if not text:
        return ()
    parts = text.split(separator) if separator else [text]
    return tuple(part for part in parts if part)


@dataclass(slots=True)
class _BenefitDraft:
    """An EB and the segments after it (dates, rejections, messages) until the next EB."""

    benefit: Benefit
    dates: list[DatePeriod] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)

    def finish(self) -> Benefit:
        b = self.benefit
        return Benefit(
            b.code, b.coverage_level, b.service_types, b.insurance_type, b.plan, b.period,
            b.amount, b.percent, b.quantity_qualifier, b.quantity, b.authorization,
            b.in_network, b.procedure, dates=tuple(self.dates),
            messages=tuple(self.messages), rejections=tuple(self.rejections),
        )


@dataclass(slots=True)
class _Patient:
    """A subscriber (HL 22) or dependent (HL 23) loop while it is being read."""

    hl_id: str
    level: str
    parent: str
    position: int
    trace: str = ""
    originator: str = ""
    named: bool = False
    member: Member = field(default_factory=lambda: Member(last_name=""))
    dates: list[DatePeriod] = field(default_factory=list)
    benefits: list[Benefit] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    service_date: date | None = None
    service_types: list[str] = field(default_factory=list)


class _Walk:
    """The HL tree of one transaction set; subclasses read the segments of each loop."""

    set_id = ""

    def __init__(self, transaction: Transaction) -> None:
        self.transaction = transaction
        self.repetition = transaction.repetition_separator
        self.component = transaction.component_separator
        self.reference = ""
        self.levels: dict[str, str] = {}
        self.level = ""
        self.payer_name = ""
        self.payer_id = ""
        self.provider = Provider(identifier="")
        self.patients: dict[str, _Patient] = {}
        self.patient: _Patient | None = None
        self.position = transaction.start

    def run(self) -> None:
        handlers: dict[str, Callable[[RawSegment], None]] = self.handlers()
        for index, segment in enumerate(self.transaction.segments):
            tag = segment[0]
            position = self.transaction.position_of(index)
            self.position = position
            try:
                handler = handlers.get(tag)
                if handler is not None:
                    handler(segment)
                elif tag not in self.skipped():
                    raise ValueError(f"{tag} is not a segment of a {self.set_id}")
            except (ValueError, MoneyError) as exc:
                raise EligibilityReadError(str(exc), position=position, segment_id=tag) from None
        for patient in self.patients.values():
            if not patient.named:
                wanted = "NM1*IL" if patient.level == "22" else "NM1*03"
                raise EligibilityReadError(
                    f"the {_LEVEL_NAMES[patient.level]} loop (HL {patient.hl_id}) has no "
                    f"{wanted} naming the person", position=patient.position, segment_id="HL",
                )

    def handlers(self) -> dict[str, Callable[[RawSegment], None]]:
        return {"ST": lambda s: None, "SE": lambda s: None, "BHT": self.bht, "HL": self.hl,
                "NM1": self.nm1, "TRN": self.trn, "DMG": self.dmg}

    def skipped(self) -> frozenset[str]:
        return frozenset()

    def bht(self, s: RawSegment) -> None:
        if _el(s, 1) != "0022":
            raise ValueError(f"BHT01 {_el(s, 1)!r} must be 0022 (information source, receiver, "
                             "subscriber, dependent)")
        self.reference = _el(s, 3)

    def hl(self, s: RawSegment) -> None:
        hl_id, parent, level = _el(s, 1), _el(s, 2), _el(s, 3)
        if not hl_id:
            raise ValueError("HL01 (the level's ID) is empty")
        if hl_id in self.levels:
            raise ValueError(f"HL01 {hl_id!r} is used twice")
        if level not in _LEVEL_NAMES:
            raise ValueError(f"HL03 {level!r} must be 20 (payer), 21 (provider), 22 "
                             "(subscriber) or 23 (dependent)")
        wanted_parent = _PARENT_LEVEL.get(level)
        if wanted_parent is not None and self.levels.get(parent) != wanted_parent:
            raise ValueError(
                f"HL02 {parent!r} must name an earlier {_LEVEL_NAMES[wanted_parent]} level "
                f"(HL03 {wanted_parent}) as the parent of this {_LEVEL_NAMES[level]} level"
            )
        self.levels[hl_id] = level
        self.level = level
        self.patient = None
        if level in ("22", "23"):
            patient = _Patient(hl_id, level, parent, self.position)
            self.patients[hl_id] = patient
            self.patient = patient
        self.opened_hl()

    def opened_hl(self) -> None:
        pass

    def need_patient(self, tag: str) -> _Patient:
        if self.patient is None:
            raise ValueError(f"{tag} belongs in a subscriber or dependent loop (after HL*…*22 "
                             "or HL*…*23)")
        return self.patient

    def nm1(self, s: RawSegment) -> None:
        entity, kind = _el(s, 1), _el(s, 2)
        if self.level == "20":
            self.payer_name, self.payer_id = _el(s, 3), _el(s, 9)
        elif self.level == "21":
            identifier, qualifier = _el(s, 9), _el(s, 8) or "XX"
            if kind == "1":
                self.provider = Provider(identifier=identifier, id_qualifier=qualifier,
                                         last_name=_el(s, 3), first_name=_el(s, 4))
            else:
                self.provider = Provider(identifier=identifier, id_qualifier=qualifier,
                                         organization_name=_el(s, 3))
        else:
            patient = self.need_patient("NM1")
            wanted = "IL" if patient.level == "22" else "03"
            if entity != wanted:
                raise ValueError(f"NM101 {entity!r} must be {wanted} in a "
                                 f"{_LEVEL_NAMES[patient.level]} loop")
            old = patient.member
            patient.member = Member(
                last_name=_el(s, 3), first_name=_el(s, 4), middle_name=_el(s, 5),
                member_id=_el(s, 9), birth_date=old.birth_date, sex=old.sex,
                group_number=old.group_number, relationship=old.relationship,
            )
            patient.named = True

    def trn(self, s: RawSegment) -> None:
        patient = self.need_patient("TRN")
        if _el(s, 1) == self.echo_trace_type and not patient.trace:
            if not _el(s, 2):
                raise ValueError("TRN02 (the trace number) is empty")
            patient.trace, patient.originator = _el(s, 2), _el(s, 3)

    echo_trace_type = "1"

    def dmg(self, s: RawSegment) -> None:
        patient = self.need_patient("DMG")
        birth = patient.member.birth_date
        if _el(s, 2):
            if _el(s, 1) != "D8":
                raise ValueError(f"DMG01 {_el(s, 1)!r} must be D8")
            birth = _d8(_el(s, 2), "DMG02 birth date")
        sex = _el(s, 3) if _el(s, 3) in ("F", "M") else ""
        old = patient.member
        patient.member = Member(old.last_name, old.first_name, old.middle_name, old.member_id,
                                birth, sex, old.group_number, old.relationship)

    def ref(self, s: RawSegment) -> None:
        patient = self.need_patient("REF")
        if _el(s, 1) == "6P":
            old = patient.member
            patient.member = Member(old.last_name, old.first_name, old.middle_name,
                                    old.member_id, old.birth_date, old.sex, _el(s, 2),
                                    old.relationship)

    def ins(self, s: RawSegment) -> None:
        patient = self.need_patient("INS")
        if patient.level == "23" and _el(s, 2):
            old = patient.member
            patient.member = Member(old.last_name, old.first_name, old.middle_name,
                                    old.member_id, old.birth_date, old.sex, old.group_number,
                                    _el(s, 2))

    def pairs(self) -> list[tuple[_Patient, _Patient | None]]:
        """(subscriber, dependent or None) for each patient the set is about."""
        found: list[tuple[_Patient, _Patient | None]] = []
        children: dict[str, list[_Patient]] = {}
        for patient in self.patients.values():
            if patient.level == "23":
                children.setdefault(patient.parent, []).append(patient)
        for patient in self.patients.values():
            if patient.level != "22":
                continue
            dependents = children.get(patient.hl_id, [])
            # A subscriber's own rejections travel with its dependents' answers.
            if not dependents or patient.benefits:
                found.append((patient, None))
            found.extend((patient, dependent) for dependent in dependents)
        return found


# -- 270 -----------------------------------------------------------------------------------------


class _Walk270(_Walk):
    set_id = "270"

    def handlers(self) -> dict[str, Callable[[RawSegment], None]]:
        return {**super().handlers(), "DTP": self.dtp, "EQ": self.eq, "REF": self.ref,
                "INS": self.ins, "PRV": self.prv}

    def skipped(self) -> frozenset[str]:
        return _SKIPPED_270

    def prv(self, s: RawSegment) -> None:
        if self.level == "21" and _el(s, 2) == "PXC":
            old = self.provider
            self.provider = Provider(old.identifier, old.organization_name, old.last_name,
                                     old.first_name, old.id_qualifier, _el(s, 3))

    def dtp(self, s: RawSegment) -> None:
        patient = self.need_patient("DTP")
        period = _period(s)
        if period.qualifier == "291":
            patient.service_date = period.start

    def eq(self, s: RawSegment) -> None:
        patient = self.need_patient("EQ")
        patient.service_types.extend(_repeats(_el(s, 1), self.repetition))

    def requests(self) -> list[EligibilityRequest]:
        found: list[EligibilityRequest] = []
        for subscriber, dependent in self.pairs():
            asking = dependent or subscriber
            if asking.service_date is None:
                raise EligibilityReadError(
                    f"the {_LEVEL_NAMES[asking.level]} loop (HL {asking.hl_id}) has no "
                    "DTP*291 date to ask about", position=asking.position, segment_id="HL",
                )
            trace = asking.trace or subscriber.trace
            found.append(EligibilityRequest(
                trace_number=trace,
                originator_id=asking.originator or subscriber.originator,
                payer_name=self.payer_name,
                payer_id=self.payer_id,
                provider=self.provider,
                subscriber=subscriber.member,
                service_date=asking.service_date,
                service_types=tuple(asking.service_types),
                dependent=dependent.member if dependent is not None else None,
            ))
        return found


def read_270(source: Source) -> Inquiry270:
    """Every request in a 270 file (one per subscriber or dependent asked about)."""
    requests: list[EligibilityRequest] = []
    references: list[str] = []
    transactions = _transactions(source, "270")
    for transaction in transactions:
        walk = _Walk270(transaction)
        walk.run()
        found = walk.requests()
        requests.extend(found)
        references.extend(walk.reference for _ in found)
    first = transactions[0].interchange
    return Inquiry270(first.sender_id, first.receiver_id, first.control_number,
                      first.usage == "P", tuple(requests), tuple(references))


# -- 271 -----------------------------------------------------------------------------------------


class _Walk271(_Walk):
    set_id = "271"
    echo_trace_type = "2"  # TRN*2: "referenced transaction trace number", our TRN*1 echoed

    def __init__(self, transaction: Transaction) -> None:
        super().__init__(transaction)
        self.source_rejections: list[Rejection] = []
        self.benefit: _BenefitDraft | None = None
        self.in_related_entity = False

    def handlers(self) -> dict[str, Callable[[RawSegment], None]]:
        return {**super().handlers(), "NM1": self.nm1_271, "DTP": self.dtp, "EB": self.eb,
                "MSG": self.msg, "AAA": self.aaa, "LS": self.ls, "LE": self.le,
                "REF": self.ref_271, "INS": self.ins, "SE": self.se}

    def skipped(self) -> frozenset[str]:
        return _SKIPPED_271

    def opened_hl(self) -> None:
        self.close_benefit()
        if self.in_related_entity:
            raise ValueError("a new HL level starts before the LE that closes the LS loop")

    def close_benefit(self) -> None:
        if self.benefit is None:
            return
        self.need_patient("EB").benefits.append(self.benefit.finish())
        self.benefit = None

    def se(self, s: RawSegment) -> None:
        if self.in_related_entity:
            raise ValueError("the transaction set ends inside an LS loop without its LE")
        self.close_benefit()

    def nm1_271(self, s: RawSegment) -> None:
        if self.in_related_entity:
            return  # a benefit's related entity (a primary care provider, another payer …)
        if self.benefit is not None:
            raise ValueError("NM1 after an EB must sit between LS and LE")
        self.nm1(s)

    def ref_271(self, s: RawSegment) -> None:
        if self.benefit is None:
            self.ref(s)

    def dtp(self, s: RawSegment) -> None:
        if self.in_related_entity:
            return
        period = _period(s)
        if self.benefit is not None:
            self.benefit.dates.append(period)
        else:
            self.need_patient("DTP").dates.append(period)

    def aaa(self, s: RawSegment) -> None:
        valid, code, follow_up = _el(s, 1), _el(s, 3), _el(s, 4)
        if valid not in ("Y", "N"):
            raise ValueError(f"AAA01 {valid!r} must be Y or N")
        if len(code) != 2:
            raise ValueError(f"AAA03 {code!r} must be a 2-character reject reason code")
        if follow_up and follow_up not in codes.FOLLOW_UP_ACTIONS:
            raise ValueError(f"AAA04 {follow_up!r} is not a follow-up action code "
                             f"({', '.join(codes.FOLLOW_UP_ACTIONS)})")
        if self.benefit is not None:
            self.benefit.rejections.append(Rejection(code, follow_up, "benefit", valid == "Y"))
            return
        level = _LEVEL_NAMES.get(self.level, "payer")
        rejection = Rejection(code, follow_up, level, valid == "Y")
        if self.patient is not None:
            self.patient.rejections.append(rejection)
        else:
            self.source_rejections.append(rejection)

    def msg(self, s: RawSegment) -> None:
        if self.benefit is None:
            raise ValueError("MSG (a message) belongs after an EB benefit segment")
        if not self.in_related_entity:
            self.benefit.messages.append(_el(s, 1))

    def ls(self, s: RawSegment) -> None:
        if self.benefit is None:
            raise ValueError("LS (a related entity loop) belongs after an EB benefit segment")
        self.in_related_entity = True

    def le(self, s: RawSegment) -> None:
        if not self.in_related_entity:
            raise ValueError("LE without an LS before it")
        self.in_related_entity = False

    def eb(self, s: RawSegment) -> None:
        if self.in_related_entity:
            raise ValueError("EB inside an LS … LE loop; close it with LE first")
        self.need_patient("EB")
        self.close_benefit()
        code = _el(s, 1)
        if code not in codes.BENEFIT_CODES:
            raise ValueError(f"EB01 {code!r} is not an eligibility or benefit code")
        period = _el(s, 6)
        if period and period not in codes.TIME_PERIODS:
            raise ValueError(f"EB06 {period!r} is not a time period code")
        amount_text = _el(s, 7)
        try:
            amount = Cents.parse(amount_text) if amount_text else None
        except MoneyError:
            raise ValueError(f"EB07 {amount_text!r} is not an amount") from None
        qualifier, quantity_text = _el(s, 9), _el(s, 10)
        if bool(qualifier) != bool(quantity_text):
            raise ValueError("EB09 and EB10 come together: a quantity needs its qualifier "
                             "(e.g. VS visits) and the qualifier its quantity")
        authorization, network = _el(s, 11), _el(s, 12)
        if authorization not in ("", "Y", "N", "U"):
            raise ValueError(f"EB11 {authorization!r} must be Y, N or U (authorization "
                             "required?)")
        if network not in ("", "Y", "N", "U", "W"):
            raise ValueError(f"EB12 {network!r} must be Y, N, U or W (in network?)")
        procedure = ":".join(_el(s, 13).split(self.component)) if _el(s, 13) else ""
        self.benefit = _BenefitDraft(Benefit(
            code=code, coverage_level=_el(s, 2),
            service_types=_repeats(_el(s, 3), self.repetition),
            insurance_type=_el(s, 4), plan=_el(s, 5), period=period, amount=amount,
            percent=_decimal(_el(s, 8), "EB08 percent"), quantity_qualifier=qualifier,
            quantity=_decimal(quantity_text, "EB10 quantity"), authorization=authorization,
            in_network=network, procedure=procedure,
        ))

    def answers(self) -> list[EligibilityAnswer]:
        found: list[EligibilityAnswer] = []
        source = tuple(self.source_rejections)
        control = self.transaction.control_number
        for subscriber, dependent in self.pairs():
            patient = dependent or subscriber
            rejections = source + tuple(subscriber.rejections)
            if dependent is not None:
                rejections += tuple(dependent.rejections)
            found.append(EligibilityAnswer(
                trace_number=patient.trace or subscriber.trace,
                reference=self.reference,
                payer_name=self.payer_name,
                payer_id=self.payer_id,
                provider=self.provider,
                subscriber=subscriber.member,
                dependent=dependent.member if dependent is not None else None,
                originator_id=patient.originator or subscriber.originator,
                dates=tuple(patient.dates),
                benefits=tuple(patient.benefits),
                rejections=rejections,
                control_number=control,
            ))
        if not found:
            if not source:
                raise EligibilityReadError(
                    "the 271 has no subscriber loop and no rejection: there is no answer in it",
                    position=self.transaction.start, segment_id="ST",
                )
            # Rejected before reaching the patient (payer or provider not recognised).
            found.append(EligibilityAnswer(
                trace_number="", reference=self.reference, payer_name=self.payer_name,
                payer_id=self.payer_id, provider=self.provider,
                subscriber=Member(last_name=""), rejections=source, control_number=control,
            ))
        return found


def read_271(source: Source) -> Response271:
    """Every answer in a 271 file; raises :class:`EligibilityReadError` on the first problem."""
    answers: list[EligibilityAnswer] = []
    transactions = _transactions(source, "271")
    for transaction in transactions:
        walk = _Walk271(transaction)
        walk.run()
        answers.extend(walk.answers())
    first = transactions[0].interchange
    return Response271(first.sender_id, first.receiver_id, first.control_number,
                       tuple(answers))
