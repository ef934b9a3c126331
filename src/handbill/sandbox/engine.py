"""``adjudicate``: answer an 837P file the way the payer profiles would.

One call reads the file, judges its syntax (999), runs the claim-level front-end edits
(277CA), adjudicates every accepted claim by its payer's policy and writes one 835 per payer.
Everything is a function of the file, the policies, the receipt date and the seed: the same
inputs give byte-identical files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from handbill.core.edits import EditTables, starter_tables
from handbill.core.money import Cents, total
from handbill.core.outbound import (
    Address,
    BillingProvider,
    OutboundError,
    OutClaim,
    PersonName,
)
from handbill.core.policy import PayerType, PolicyFile
from handbill.sandbox import seeded
from handbill.sandbox.adjudication import Adjudicator, LineOutcome, Visit
from handbill.sandbox.front_door import Reception, Rejection, policy_for, rejections
from handbill.sandbox.intake import Intake, SandboxInputError, receive
from handbill.x12.p837 import Transaction837
from handbill.x12.w277ca import (
    ClaimAckBatch,
    ClaimAckOut,
    ClaimAckTransaction,
    ClaimStatusOut,
    ProviderAckOut,
    write_277ca,
)
from handbill.x12.w835 import (
    BankAccount,
    ClaimPaymentOut,
    PaymentMethod,
    ProviderAdjustmentOut,
    RemittanceBatch,
    RemittanceOut,
    RemittancePayee,
    RemittancePayer,
    ServicePaymentOut,
    filing_code_for_835,
    write_835,
)
from handbill.x12.w999 import AckBatch, write_999
from handbill.x12.writer import InterchangeHeader

# Payers that pay by paper check in the sandbox; the others by EFT.
_CHECK_PAYERS = frozenset({PayerType.WORKERS_COMP, PayerType.AUTO})


@dataclass(frozen=True, slots=True)
class ClaimOutcome:
    """What happened to one claim of the file."""

    claim_id: str
    payer_id: str
    payer_name: str
    member_id: str
    frequency: str
    charge: Cents
    status: str  # rejected, void, denied, partially_paid, paid
    rejections: tuple[Rejection, ...] = ()
    payer_claim_number: str = ""
    claim_status: str = ""  # CLP02
    paid: Cents = Cents(0)
    patient_responsibility: Cents = Cents(0)
    visit_number: int | None = None
    lines: tuple[LineOutcome, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "claim_id": self.claim_id, "payer_id": self.payer_id, "payer": self.payer_name,
            "member_id": self.member_id, "frequency": self.frequency,
            "charge": self.charge.to_decimal_string(), "status": self.status,
            "accepted": self.status != "rejected",
        }
        if self.rejections:
            result["rejections"] = [r.as_dict() for r in self.rejections]
            return result
        result["payer_claim_number"] = self.payer_claim_number
        if self.status == "void":
            return result
        result.update({
            "claim_status": self.claim_status, "visit_number": self.visit_number,
            "paid": self.paid.to_decimal_string(),
            "patient_responsibility": self.patient_responsibility.to_decimal_string(),
            "denied_lines": [
                {"line": o.line.number, "code": o.line.code,
                 "control_number": o.line.control_number,
                 "group": o.denial.group, "reason": o.denial.reason,
                 "remarks": list(o.denial.remarks), "message": o.denial.message,
                 "units_denied": o.units_denied}
                for o in self.lines if o.denial is not None
            ],
        })
        return result


@dataclass(frozen=True, slots=True)
class PaymentOutcome:
    payer_id: str
    payer_name: str
    payee_npi: str
    trace_number: str
    method: str
    amount: Cents
    claims: int
    interest: Cents = Cents(0)

    def as_dict(self) -> dict[str, Any]:
        return {"payer_id": self.payer_id, "payer": self.payer_name,
                "payee_npi": self.payee_npi, "trace_number": self.trace_number,
                "method": self.method, "amount": self.amount.to_decimal_string(),
                "claims": self.claims, "interest": self.interest.to_decimal_string()}


@dataclass(frozen=True, slots=True)
class SandboxResult:
    """The answer files and what they say, claim by claim."""

    as_of: date
    seed: int
    ack_999: str
    ack_277ca: str | None  # None when no claim got past the 999
    remittances: tuple[str, ...]  # one 835 interchange per payer, in payer-ID order
    remittance_payers: tuple[str, ...]  # the payer ID of each remittance
    transactions: tuple[dict[str, Any], ...]  # the 999 verdict per 837 transaction set
    claims: tuple[ClaimOutcome, ...] = ()
    payments: tuple[PaymentOutcome, ...] = ()
    group_problems: tuple[str, ...] = field(default=())

    @property
    def summary(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for claim in self.claims:
            counts[claim.status] = counts.get(claim.status, 0) + 1
        return {
            "as_of": self.as_of.isoformat(), "seed": self.seed,
            "acknowledgement": {"transactions": list(self.transactions),
                                "group_problems": list(self.group_problems)},
            "counts": dict(sorted(counts.items())),
            "paid": total(c.paid for c in self.claims).to_decimal_string(),
            "claims": [c.as_dict() for c in self.claims],
            "payments": [p.as_dict() for p in self.payments],
        }

    def files(self, stem: str) -> dict[str, str]:
        """File name → content, named after the 837 they answer (``stem``)."""
        result = {f"{stem}.999": self.ack_999}
        if self.ack_277ca is not None:
            result[f"{stem}.277ca"] = self.ack_277ca
        for payer_id, text in zip(self.remittance_payers, self.remittances, strict=True):
            result[f"{stem}.{payer_id}.835"] = text
        return result


@dataclass(frozen=True, slots=True)
class _Received:
    """An accepted 837 claim on its way through the sandbox."""

    index: int  # order in the file
    claim: OutClaim
    billing: BillingProvider
    transaction: Transaction837
    policy_file: PolicyFile | None
    rejections: tuple[Rejection, ...]
    payer_claim_number: str


def adjudicate(
    text_837: str,
    *,
    policies: Mapping[str, PolicyFile],
    as_of: date | None,
    seed: int,
    payer_history: Mapping[str, int] | None = None,
    edits: EditTables | None = None,
    interest: bool = True,
) -> SandboxResult:
    """Answer ``text_837`` as the payers in ``policies`` (keyed by payer ID) would.

    ``as_of`` is the day the payer received the claims (and processes them); None takes the
    day the submitter created the file (its GS04 date). ``seed`` makes
    every choice (claim numbers, member cost-share plans, trace numbers, which payer adds an
    interest line) repeatable. ``payer_history`` maps a member ID to the visits the payer has
    already paid for it this year (``as_of``'s year), for the visit caps. ``edits`` are the
    NCCI tables (Handbill's starter table when None). Raises :class:`SandboxInputError` when
    the file is not an 837P interchange.
    """
    by_payer = {payer_id.strip().upper(): f for payer_id, f in policies.items()}
    history = {member.strip().upper(): count for member, count in (payer_history or {}).items()}
    intake = receive(text_837)
    if as_of is None:
        as_of = intake.sent_on
        if as_of is None:
            raise SandboxInputError("the file has no creation date (GS04) to take as the day "
                                    "of receipt: give the date explicitly")
    try:
        ack_999 = write_999(AckBatch(
            _header(intake, "999", seed, as_of, time(6, 0)),
            _control(intake, "999", seed), tuple(g.ack for g in intake.groups)))
    except OutboundError as exc:
        raise SandboxInputError(f"cannot answer this interchange: {exc}") from None
    received = _front_door(intake, by_payer, as_of, seed)
    transactions = tuple(
        {"control_number": t.ack.control_number, "status": t.ack.status.value,
         "claims": len(t.claims.claims) if t.claims is not None else None,
         "problems": list(t.problems)}
        for g in intake.groups for t in g.transactions)
    ack_277ca = _write_277ca(intake, received, as_of, seed) if received else None
    outcomes, payments, remittances = _adjudicate_all(
        intake, received, as_of, seed, history, edits or starter_tables(), interest)
    return SandboxResult(
        as_of=as_of, seed=seed, ack_999=ack_999, ack_277ca=ack_277ca,
        remittances=tuple(text for _payer, text in remittances),
        remittance_payers=tuple(payer for payer, _text in remittances),
        transactions=transactions, claims=outcomes, payments=payments,
        group_problems=intake.group_problems,
    )


# -- envelopes ---------------------------------------------------------------------------------


def _control(intake: Intake, kind: str, seed: int, *names: str) -> int:
    return seeded.control_number(seed, kind, intake.interchange.control_number, *names)


def _header(intake: Intake, kind: str, seed: int, as_of: date, at: time, *,
            sender: str | None = None) -> InterchangeHeader:
    """The envelope of an answer: from the clearinghouse (or ``sender``) back to the
    submitter of the 837."""
    isa = intake.interchange
    return InterchangeHeader(
        sender_id=(sender or isa.receiver_id)[:15], receiver_id=isa.sender_id,
        control_number=_control(intake, kind, seed, *([sender] if sender else [])),
        created_at=datetime.combine(as_of, at, tzinfo=UTC),
        sender_qualifier=isa.receiver_qualifier if sender is None else "ZZ",
        receiver_qualifier=isa.sender_qualifier, production=isa.usage == "P",
    )


# -- 277CA ---------------------------------------------------------------------------------


def _front_door(intake: Intake, policies: Mapping[str, PolicyFile], as_of: date,
                seed: int) -> list[_Received]:
    found: list[_Received] = []
    for transaction in intake.accepted:
        for group in transaction.groups:
            for claim in group.claims:
                policy_file = policy_for(claim, policies)
                problems = rejections(Reception(claim, group.billing, policy_file, as_of))
                number = "" if problems else _payer_claim_number(seed, claim)
                found.append(_Received(len(found), claim, group.billing, transaction,
                                       policy_file, problems, number))
    return found


def _payer_claim_number(seed: int, claim: OutClaim) -> str:
    payer = claim.payer.payer_id.strip().upper()
    return seeded.digits(14, seed, "payer claim number", payer, claim.claim_id)


def _patient_name(claim: OutClaim) -> PersonName:
    return claim.patient.name if claim.patient is not None else claim.subscriber.name


def _claim_ack(item: _Received) -> ClaimAckOut:
    claim = item.claim
    statuses = tuple(ClaimStatusOut(r.category, r.code, r.entity) for r in item.rejections)
    message = "; ".join(r.message for r in item.rejections)
    if not statuses:
        statuses = (ClaimStatusOut("A2", "20"),)
        message = "accepted for adjudication"
    return ClaimAckOut(
        claim_id=claim.claim_id, patient=_patient_name(claim),
        member_id=claim.subscriber.member_id, total_charge=claim.total_charge,
        service_from=min(line.date_of_service for line in claim.lines),
        service_to=max(line.date_of_service_end or line.date_of_service
                       for line in claim.lines),
        statuses=statuses, payer_claim_number=item.payer_claim_number, message=message,
    )


def _write_277ca(intake: Intake, received: list[_Received], as_of: date, seed: int) -> str:
    isa = intake.interchange
    transactions: list[ClaimAckTransaction] = []
    for transaction in intake.accepted:
        items = [r for r in received if r.transaction is transaction]
        if not items:
            continue
        providers: dict[str, tuple[BillingProvider, list[ClaimAckOut]]] = {}
        for item in items:
            entry = providers.setdefault(item.billing.npi, (item.billing, []))
            entry[1].append(_claim_ack(item))
        control = _control(intake, "277ca", seed)
        transactions.append(ClaimAckTransaction(
            reference=f"CA{control:09d}{len(transactions) + 1:03d}",
            source_name=transaction.receiver.name or isa.receiver_id,
            source_id=transaction.receiver.etin or isa.receiver_id,
            receiver_name=transaction.submitter.name, receiver_id=transaction.submitter.etin,
            batch_reference=transaction.batch_id or transaction.control_number,
            received_on=as_of, processed_on=as_of,
            providers=tuple(
                ProviderAckOut(npi=billing.npi, organization_name=billing.organization_name,
                               person=billing.person, claims=tuple(acks))
                for billing, acks in providers.values()),
            trace=f"{control}{len(transactions) + 1:03d}", created_time="0700",
        ))
    header = _header(intake, "277ca", seed, as_of, time(7, 0))
    try:
        return write_277ca(ClaimAckBatch(header, header.control_number, tuple(transactions)))
    except OutboundError as exc:
        raise SandboxInputError(f"cannot acknowledge these claims: {exc}") from None


# -- 835 -------------------------------------------------------------------------------------


def _visit_numbers(items: list[_Received], as_of: date,
                   history: Mapping[str, int]) -> dict[int, int]:
    """Each claim's visit of the year for its member at its payer: earlier dates first, then
    file order, after the visits ``history`` says were already paid this year."""
    numbers: dict[int, int] = {}
    counted: dict[tuple[str, str, int], int] = {}
    for item in sorted(items, key=lambda r: (_first_date(r.claim), r.index)):
        day = _first_date(item.claim)
        member = item.claim.subscriber.member_id.strip().upper()
        key = (item.claim.payer.payer_id.strip().upper(), member, day.year)
        if key not in counted:
            counted[key] = history.get(member, 0) if day.year == as_of.year else 0
        counted[key] += 1
        numbers[item.index] = counted[key]
    return numbers


def _first_date(claim: OutClaim) -> date:
    return min(line.date_of_service for line in claim.lines)


def _adjudicate_all(
    intake: Intake, received: list[_Received], as_of: date, seed: int,
    history: Mapping[str, int], edits: EditTables, interest: bool,
) -> tuple[tuple[ClaimOutcome, ...], tuple[PaymentOutcome, ...], list[tuple[str, str]]]:
    adjudicable = [r for r in received if not r.rejections and r.claim.frequency != "8"
                   and r.policy_file is not None]
    numbers = _visit_numbers(adjudicable, as_of, history)
    adjudicator = Adjudicator(as_of=as_of, seed=seed, edits=edits)
    lines_of: dict[int, tuple[LineOutcome, ...]] = {}
    for item in sorted(adjudicable, key=lambda r: (_first_date(r.claim), r.index)):
        assert item.policy_file is not None  # noqa: S101 - filtered above
        policy = item.policy_file.for_date(_first_date(item.claim))
        visit = Visit(item.claim, item.billing, policy,
                      item.claim.payer.payer_id.strip().upper(),
                      str(item.policy_file.payer_type), numbers[item.index])
        lines_of[item.index] = adjudicator.adjudicate(visit)

    outcomes: list[ClaimOutcome] = []
    payments_by_payer: dict[str, list[tuple[_Received, ClaimPaymentOut]]] = {}
    for item in received:
        outcomes.append(_outcome(item, lines_of.get(item.index), numbers.get(item.index)))
        lines = lines_of.get(item.index)
        if lines is not None:
            payment = _claim_payment(item, lines, as_of)
            payer = item.claim.payer.payer_id.strip().upper()
            payments_by_payer.setdefault(payer, []).append((item, payment))

    remittances: list[tuple[str, str]] = []
    payments: list[PaymentOutcome] = []
    interest_payer = _interest_payer(payments_by_payer, seed, intake) if interest else None
    for payer_id in sorted(payments_by_payer):
        entries = payments_by_payer[payer_id]
        built = _remittances(intake, payer_id, entries, as_of, seed,
                             with_interest=payer_id == interest_payer)
        header = _header(intake, "835", seed, as_of, time(8, 0), sender=payer_id)
        try:
            text = write_835(RemittanceBatch(header, header.control_number,
                                             tuple(r for r, _ in built)))
        except OutboundError as exc:  # pragma: no cover - the adjudicator balances by design
            raise AssertionError(f"the sandbox built an unbalanced 835: {exc}") from exc
        remittances.append((payer_id, text))
        payments.extend(p for _, p in built)
    return tuple(outcomes), tuple(payments), remittances


def _outcome(item: _Received, lines: tuple[LineOutcome, ...] | None,
             visit_number: int | None) -> ClaimOutcome:
    claim = item.claim
    payer_name = item.policy_file.payer_name if item.policy_file else claim.payer.name
    base: dict[str, Any] = {
        "claim_id": claim.claim_id, "payer_id": claim.payer.payer_id,
        "payer_name": payer_name, "member_id": claim.subscriber.member_id,
        "frequency": claim.frequency, "charge": claim.total_charge,
    }
    if item.rejections:
        return ClaimOutcome(status="rejected", rejections=item.rejections, **base)
    if lines is None:
        return ClaimOutcome(status="void", payer_claim_number=item.payer_claim_number, **base)
    paid = total(o.paid for o in lines)
    if all(o.fully_denied for o in lines):
        status = "denied"
    elif any(o.denial is not None for o in lines):
        status = "partially_paid"
    else:
        status = "paid"
    return ClaimOutcome(
        status=status, payer_claim_number=item.payer_claim_number,
        claim_status=_clp_status(claim, lines), paid=paid,
        patient_responsibility=total(o.patient_responsibility for o in lines),
        visit_number=visit_number, lines=lines, **base,
    )


def _clp_status(claim: OutClaim, lines: tuple[LineOutcome, ...]) -> str:
    if all(o.fully_denied for o in lines):
        return "4"
    return {"P": "1", "S": "2", "T": "3"}[claim.subscriber.responsibility.value]


def _claim_payment(item: _Received, lines: tuple[LineOutcome, ...],
                   as_of: date) -> ClaimPaymentOut:
    claim = item.claim
    # A denied line reports the billed units (SVC05 0 would read as a change of units); a line
    # cut by the daily cap reports the units paid, with the billed units in SVC07.
    services = tuple(
        ServicePaymentOut(
            code=o.line.code, modifiers=o.line.modifiers, charge=o.line.charge, paid=o.paid,
            units_paid=o.units_paid or o.line.units, date_of_service=o.line.date_of_service,
            adjustments=o.adjustments, control_number=o.line.control_number,
            allowed=o.allowed if o.allowed else None, remarks=o.remarks,
            units_billed=o.line.units,
            date_of_service_end=o.line.date_of_service_end,
        )
        for o in lines
    )
    rendering = claim.rendering
    return ClaimPaymentOut(
        claim_id=claim.claim_id, status=_clp_status(claim, lines),
        charge=total(line.charge for line in claim.lines),
        paid=total(o.paid for o in lines),
        patient_responsibility=total(o.patient_responsibility for o in lines),
        filing_code=filing_code_for_835(claim.subscriber.claim_filing_indicator),
        payer_claim_number=item.payer_claim_number,
        patient=_patient_name(claim), member_id=claim.subscriber.member_id,
        lines=services,
        insured=claim.subscriber.name if claim.patient is not None else None,
        rendering_npi=rendering.npi if rendering is not None else "",
        rendering_name=rendering.name if rendering is not None else None,
        facility_code=claim.place_of_service, frequency=claim.frequency,
        received_on=as_of,
    )


def _interest_payer(payments: Mapping[str, list[tuple[_Received, ClaimPaymentOut]]],
                    seed: int, intake: Intake) -> str | None:
    paying = sorted(payer for payer, entries in payments.items()
                    if any(p.paid for _, p in entries))
    if not paying:
        return None
    return seeded.pick(paying, seed, "interest", intake.interchange.control_number)


def _payer_party(payer_id: str, item: _Received, seed: int) -> RemittancePayer:
    policy_file = item.policy_file
    name = policy_file.payer_name if policy_file is not None else item.claim.payer.name
    address = item.claim.payer.address or Address(
        f"PO BOX {1000 + seeded.number(0, 'payer box', payer_id) % 9000}", "OLYMPIA", "WA",
        "98501")
    # The payer's identity does not change with the seed: an EIN and a phone of its own.
    return RemittancePayer(
        name=name, payer_id=payer_id,
        company_id="1" + seeded.digits(9, 0, "payer ein", payer_id),
        contact_phone="80055501" + seeded.digits(2, 0, "payer phone", payer_id),
        address=address,
    )


def _remittances(intake: Intake, payer_id: str,
                 entries: list[tuple[_Received, ClaimPaymentOut]], as_of: date, seed: int,
                 *, with_interest: bool) -> list[tuple[RemittanceOut, PaymentOutcome]]:
    """One payment per payee (billing provider NPI), in the order they first appear."""
    by_payee: dict[str, list[tuple[_Received, ClaimPaymentOut]]] = {}
    for entry in entries:
        by_payee.setdefault(entry[0].billing.npi, []).append(entry)
    payer = _payer_party(payer_id, entries[0][0], seed)
    policy_file = entries[0][0].policy_file
    payer_type = str(policy_file.payer_type) if policy_file is not None else ""
    isa13 = intake.interchange.control_number
    result: list[tuple[RemittanceOut, PaymentOutcome]] = []
    interest_left = with_interest
    for npi, items in by_payee.items():
        billing = items[0][0].billing
        claims = tuple(payment for _, payment in items)
        adjustments: tuple[ProviderAdjustmentOut, ...] = ()
        first_paid = next((c for c in claims if c.paid), None)
        amount_interest = Cents(0)
        if interest_left and first_paid is not None:
            amount_interest = Cents(25 + seeded.number(seed, "interest amount", payer_id,
                                                       isa13) % 476)
            adjustments = (ProviderAdjustmentOut(
                provider_id=npi, fiscal_period_end=date(as_of.year, 12, 31), reason="L6",
                amount=-amount_interest, reference=first_paid.claim_id),)
            interest_left = False
        paid = total(c.paid for c in claims) + amount_interest
        if not paid:
            method = PaymentMethod.NONE
        elif payer_type in _CHECK_PAYERS:
            method = PaymentMethod.CHECK
        else:
            method = PaymentMethod.ACH
        size = 8 if method is PaymentMethod.CHECK else 12
        trace = seeded.digits(size, seed, "trace", payer_id, npi, isa13)
        remittance = RemittanceOut(
            payer=payer,
            payee=RemittancePayee(billing.display_name, npi, billing.tax_id, billing.address),
            method=method, payment_date=as_of, trace_number=trace, claims=claims,
            production_date=as_of, provider_adjustments=adjustments,
            payer_account=BankAccount(seeded.routing_number(0, "payer", payer_id),
                                      seeded.digits(10, 0, "payer account", payer_id))
            if method is PaymentMethod.ACH else None,
            payee_account=BankAccount(seeded.routing_number(0, "payee", npi),
                                      seeded.digits(10, 0, "payee account", npi))
            if method is PaymentMethod.ACH else None,
        )
        result.append((remittance, PaymentOutcome(
            payer_id=payer_id, payer_name=payer.name, payee_npi=npi, trace_number=trace,
            method=method.value, amount=remittance.total_paid, claims=len(claims),
            interest=amount_interest)))
    return result
