"""Test support for remittance posting: submitted claims with chosen lines, and 835 text.

``write_835`` is a deliberately small generator (not the sandbox's writer): it computes CLP03,
CLP04, CLP05 and BPR02 from the lines and adjustments a test states, so every file it makes
balances unless a test overrides an amount on purpose. Synthetic people and numbers only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from handbill.claims.models import Claim, ClaimLine
from handbill.core.money import Cents
from handbill.ledger import posting
from tests.conftest import FIXED_NOW
from tests.factories import records as f

DOS = date(2026, 11, 2)
PAID_ON = date(2026, 11, 20)


# --------------------------------------------------------------------------------------------
# Claims
# --------------------------------------------------------------------------------------------


@dataclass
class Clinic:
    practice: Any
    payer: Any
    provider: Any
    biller: Any
    patients: list[Any] = field(default_factory=list)


def make_clinic(payer_id: str = "SYN01") -> Clinic:
    practice = f.make_practice()
    payer = f.make_payer(practice, name="Synthetic Health Plan", payer_id=payer_id)
    provider = f.make_provider(practice)
    return Clinic(practice, payer, provider, f.make_user(practice, role="biller"))


def make_submitted_claim(
    clinic: Clinic,
    lines: Sequence[tuple[str, Sequence[str], int, int]],
    *,
    status: str = "submitted",
    patient: Any = None,
    payer: Any = None,
    on: date = DOS,
) -> Claim:
    """A claim with ``lines`` = (code, modifiers, units, charge cents), its charge posted to
    the payer's A/R as the claim workflow does when a claim becomes ready."""
    payer = payer or clinic.payer
    if patient is None:
        patient = f.make_patient(clinic.practice)
        clinic.patients.append(patient)
    visit = f.make_signed_visit(clinic.provider, patient, on=on)
    number = f"HB{Claim.objects.filter(practice=clinic.practice).count() + 1:07d}"
    claim = Claim.objects.create(
        practice=clinic.practice, number=number, visit=visit, patient=patient,
        provider=clinic.provider, payer=payer, status=status, date_of_service=on,
        place_of_service="11", diagnoses=["M62.830"],
        total_charge_cents=sum(line[3] for line in lines), created_at=FIXED_NOW,
    )
    ClaimLine.objects.bulk_create(
        ClaimLine(claim=claim, number=n, code=code, modifiers=list(mods), units=units,
                  pointers=[1], charge_cents=charge, control_number=f"{number}-{n}")
        for n, (code, mods, units, charge) in enumerate(lines, start=1)
    )
    posting.post_charge(
        practice=clinic.practice, payer=payer, amount=Cents(claim.total_charge_cents),
        claim_ref=claim.number, patient_ref=patient.account_number, effective_date=on,
        at=FIXED_NOW, by=None, memo=f"Charge for claim {claim.number}", source=("claim", claim.pk),
    )
    return claim


# --------------------------------------------------------------------------------------------
# 835 text
# --------------------------------------------------------------------------------------------


@dataclass
class Svc:
    code: str
    charge: int  # cents
    paid: int
    cas: Sequence[tuple[str, str, int]] = ()  # (group, reason, cents)
    modifiers: Sequence[str] = ()
    units: int | None = None
    control: str = ""
    on: date | None = DOS
    allowed: int | None = None
    original_units: int | None = None
    remarks: Sequence[str] = ()


@dataclass
class Clp:
    id: str
    lines: Sequence[Svc] = ()
    status: str = "1"
    cas: Sequence[tuple[str, str, int]] = ()  # claim level
    payer_claim_number: str = "PCN0001"
    charge: int | None = None  # computed from the lines unless given
    paid: int | None = None
    patient_responsibility: int | None = None


def _amount(cents: int) -> str:
    return Cents(cents).to_x12()


def _cas(adjustments: Sequence[tuple[str, str, int]]) -> list[str]:
    by_group: dict[str, list[tuple[str, int]]] = {}
    for group, reason, cents in adjustments:
        by_group.setdefault(group, []).append((reason, cents))
    segments = []
    for group, items in by_group.items():
        for start in range(0, len(items), 6):
            parts = ["CAS", group]
            for reason, cents in items[start:start + 6]:
                parts += [reason, _amount(cents), ""]
            segments.append("*".join(parts).rstrip("*"))
    return segments


def claim_paid(claim: Clp) -> int:
    if claim.paid is not None:
        return claim.paid
    return sum(s.paid for s in claim.lines) - sum(c for _g, _r, c in claim.cas)


def write_835(
    claims: Sequence[Clp],
    *,
    trace: str = "EFT0001",
    payer_id: str = "SYN01",
    payer_name: str = "SYNTHETIC HEALTH PLAN",
    company_id: str = "1999999999",
    plb: Sequence[tuple[str, str, int]] = (),  # (reason, reference, cents as in PLB04)
    paid_on: date = PAID_ON,
    payment: int | None = None,  # BPR02 in cents, computed unless given
    control: int = 1,
    line_break: str = "",
) -> str:
    body: list[str] = []
    for lx, claim in enumerate(claims, start=1):
        charge = claim.charge if claim.charge is not None else sum(s.charge for s in claim.lines)
        pr = claim.patient_responsibility
        if pr is None:
            pr = sum(c for g, _r, c in claim.cas if g == "PR") + sum(
                c for s in claim.lines for g, _r, c in s.cas if g == "PR")
        body.append(f"LX*{lx}")
        body.append(f"CLP*{claim.id}*{claim.status}*{_amount(charge)}*"
                    f"{_amount(claim_paid(claim))}*{_amount(pr)}*12*{claim.payer_claim_number}")
        body.extend(_cas(claim.cas))
        body.append("NM1*QC*1*SAMPLE*JORDAN****MI*M00000001")
        for s in claim.lines:
            code = ":".join(("HC", s.code, *s.modifiers))
            svc = f"SVC*{code}*{_amount(s.charge)}*{_amount(s.paid)}"
            if s.units is not None or s.original_units is not None:
                svc += f"**{s.units if s.units is not None else 1}"
            if s.original_units is not None:
                svc += f"**{s.original_units}"
            body.append(svc)
            if s.on is not None:
                body.append(f"DTM*472*{s.on:%Y%m%d}")
            body.extend(_cas(s.cas))
            if s.control:
                body.append(f"REF*6R*{s.control}")
            if s.allowed is not None:
                body.append(f"AMT*B6*{_amount(s.allowed)}")
            body.extend(f"LQ*HE*{code}" for code in s.remarks)
    for reason, reference, cents in plb:
        composite = f"{reason}:{reference}" if reference else reason
        body.append(f"PLB*1234567893*{paid_on.year}1231*{composite}*{_amount(cents)}")
    total = payment if payment is not None else (
        sum(claim_paid(c) for c in claims) - sum(c for _r, _ref, c in plb))
    credit = "C" if total >= 0 else "D"
    header = [
        f"ST*835*{control:04d}*005010X221A1",
        f"BPR*I*{_amount(abs(total))}*{credit}*CHK************{paid_on:%Y%m%d}",
        f"TRN*1*{trace}*{company_id}",
        f"DTM*405*{paid_on:%Y%m%d}",
        f"N1*PR*{payer_name}",
        "N3*1 INSURANCE WAY",
        "N4*SEATTLE*WA*98101",
        f"REF*2U*{payer_id}",
        "PER*BL*EDI SUPPORT*TE*8005550100",
        "N1*PE*TEST MASSAGE CLINIC*XX*1234567893",
    ]
    transaction = [*header, *body]
    transaction.append(f"SE*{len(transaction) + 1}*{control:04d}")
    isa = (f"ISA*00*{'':10}*00*{'':10}*ZZ*{'PAYERSEND':<15}*ZZ*{'CLINICRECV':<15}*"
           f"261120*1200*^*00501*{control:09d}*0*T*:")
    segments = [isa, f"GS*HP*PAYERSEND*CLINICRECV*20261120*1200*{control}*X*005010X221A1",
                *transaction, f"GE*1*{control}", f"IEA*1*{control:09d}"]
    return "".join(segment + "~" + line_break for segment in segments)


# --------------------------------------------------------------------------------------------
# Acknowledgements and the inbox
# --------------------------------------------------------------------------------------------


def _interchange(functional_id: str, version: str, body: list[str], control: int = 7) -> str:
    transaction = [*body]
    transaction.append(f"SE*{len(transaction) + 1}*0001")
    isa = (f"ISA*00*{'':10}*00*{'':10}*ZZ*{'CLEARINGHOUSE':<15}*ZZ*{'CLINICRECV':<15}*"
           f"261120*1200*^*00501*{control:09d}*0*T*:")
    segments = [isa, f"GS*{functional_id}*CLEARINGHOUSE*CLINICRECV*20261120*1200*{control}*X*"
                f"{version}", *transaction, f"GE*1*{control}", f"IEA*1*{control:09d}"]
    return "".join(segment + "~" for segment in segments)


def write_837_stub(claim_numbers: Sequence[str], *, group: int = 41, st02: str = "0001") -> str:
    """Just enough of an 837 for the 999 reader to find which claims a transaction set held."""
    body = [f"ST*837*{st02}*005010X222A1", "BHT*0019*00*BATCH1*20261120*1200*CH"]
    body += [f"CLM*{n}*190***11:B:1*Y*A*Y*Y" for n in claim_numbers]
    text = _interchange("HC", "005010X222A1", body, control=group)
    return text.replace(f"SE*{len(body) + 1}*0001", f"SE*{len(body) + 1}*{st02}")


def write_999(group: int, results: Sequence[tuple[str, str]]) -> str:
    """A 999 for our group ``group``: (ST02, IK5 code) per transaction set."""
    body = ["ST*999*0001*005010X231A1", f"AK1*HC*{group}*005010X222A1"]
    for st02, code in results:
        body.append(f"AK2*837*{st02}*005010X222A1")
        if code != "A":
            body += ["IK3*NM1*8*2010BA*8", "IK4*9*67*7*BADID"]
        body.append(f"IK5*{code}" + ("" if code == "A" else "*5"))
    accepted = sum(1 for _st, code in results if code in ("A", "E"))
    verdict = "A" if accepted == len(results) else ("R" if not accepted else "P")
    body.append(f"AK9*{verdict}*{len(results)}*{len(results)}*{accepted}")
    return _interchange("FA", "005010X231A1", body)


def write_277ca(claims: Sequence[tuple[str, str, str]]) -> str:
    """A 277CA: (CLM01, STC01 such as 'A2:20:PR' or 'A7:21:85', payer claim number)."""
    body = [
        "ST*277*0001*005010X214", "BHT*0085*08*ACK1*20261120*1200*TH",
        "HL*1**20*1", "NM1*PR*2*SYNTHETIC HEALTH PLAN*****PI*SYN01", "TRN*1*ACK1",
        "DTP*050*D8*20261120", "DTP*009*D8*20261120",
        "HL*2*1*21*1", "NM1*41*2*TEST MASSAGE CLINIC*****46*ETIN01", "TRN*2*BATCH1",
        "STC*A1:19:PR*20261120*WQ*190", f"QTY*90*{len(claims)}",
        "HL*3*2*19*1", "NM1*85*2*TEST MASSAGE CLINIC*****XX*1234567893", "TRN*1*0",
        "STC*A1:19:PR*20261120*WQ*190",
    ]
    for n, (number, stc, payer_number) in enumerate(claims, start=4):
        action = "U" if stc.split(":")[0] in ("A3", "A6", "A7", "A8") else "WQ"
        body += [f"HL*{n}*3*PT", "NM1*QC*1*SAMPLE*JORDAN****MI*M00000001", f"TRN*2*{number}",
                 f"STC*{stc}*20261120*{action}*190"]
        if payer_number:
            body.append(f"REF*1K*{payer_number}")
        body.append("DTP*472*D8*20261102")
    return _interchange("HN", "005010X214", body)


def inbox_file(practice: Any, name: str, text: str, *, kind: str, minute: int = 0) -> Any:
    import hashlib
    from datetime import timedelta

    from handbill.submissions.models import InboxFile

    return InboxFile.objects.create(
        practice=practice, name=name, sha256=hashlib.sha256(text.encode()).hexdigest(),
        size=len(text), kind=kind, content=text,
        received_at=FIXED_NOW + timedelta(minutes=minute))


def sent_batch(practice: Any, claims: Sequence[Claim], *, group: int = 41) -> Any:
    from handbill.submissions.models import Clearinghouse, SubmissionBatch

    house, _ = Clearinghouse.objects.get_or_create(
        practice=practice, name="Test clearinghouse",
        defaults={"receiver_id": "CH01", "receiver_name": "CLEARINGHOUSE",
                  "outbox_path": "unused-outbox", "created_at": FIXED_NOW})
    text = write_837_stub([c.number for c in claims], group=group)
    return SubmissionBatch.objects.create(
        practice=practice, clearinghouse=house, file_name=f"batch-{group}.837", x12=text,
        sha256="0" * 64, interchange_control=group, group_control=group,
        first_transaction_control=1, transaction_count=1, status="uploaded",
        claim_count=len(claims), total_charge_cents=0, created_at=FIXED_NOW,
        uploaded_at=FIXED_NOW)
