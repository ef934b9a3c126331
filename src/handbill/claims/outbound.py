"""Stored claims → the outbound values the 837P writer and the printed forms read.

A batch can hold thousands of claims, so this reads them in a fixed number of queries whatever
the count: one for the claims (with patient, coverage, authorization and referral columns joined
in), one for their lines, and one each for the few practices, providers, payers and locations
they point at. Rows come back as tuples (``values_list``), not model instances, and the values
shared by many claims (a payer, a therapist, a location) are built once.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast

from handbill.claims.models import Claim, ClaimLine
from handbill.core import outbound as ob
from handbill.core.codes import cpt
from handbill.core.money import Cents
from handbill.core.secondary import prior_payer_from_json
from handbill.practice.models import Location, Payer, PayerType, Practice, Provider, TaxIdKind

# CMS-1500 box 1 by payer type; Medicare Advantage plans are billed as group health plans.
_PROGRAM = {
    PayerType.MEDICARE: "medicare",
    PayerType.MEDICAID: "medicaid",
    PayerType.COMMERCIAL: "group",
    PayerType.MEDICARE_ADVANTAGE: "group",
    PayerType.AUTO: "other",
    PayerType.WORKERS_COMP: "other",
    PayerType.OTHER: "other",
}
_RESPONSIBILITY = {
    1: ob.PayerResponsibility.PRIMARY,
    2: ob.PayerResponsibility.SECONDARY,
    3: ob.PayerResponsibility.TERTIARY,
}
_SELF = "18"
# Post-nominal letters that end a referring provider's typed name ("Pat Example, MD").
_CREDENTIALS = frozenset(
    {"MD", "DO", "DC", "DPM", "DDS", "NP", "PA", "PA-C", "ARNP", "DPT", "PT", "ND", "PHD"}
)

# The claim columns read for each claim, in the order ``_claim_from_row`` unpacks them.
_CLAIM_COLUMNS = (
    "pk", "number", "practice_id", "provider_id", "payer_id", "visit__location_id",
    "date_of_service", "patient_id",
    "frequency", "payer_claim_number", "replaces__payer_claim_number", "place_of_service",
    "prior_payers", "msp_type",
    "diagnoses_text", "total_charge_cents",
    "patient__account_number", "patient__first_name", "patient__middle_initial",
    "patient__last_name", "patient__birth_date", "patient__sex", "patient__address_line1",
    "patient__address_line2", "patient__city", "patient__state", "patient__postal_code",
    "patient__phone",
    "coverage_id", "coverage__order", "coverage__member_id", "coverage__group_number",
    "coverage__plan_name", "coverage__relationship", "coverage__subscriber_first_name",
    "coverage__subscriber_last_name", "coverage__subscriber_birth_date",
    "coverage__subscriber_sex", "coverage__claim_number", "coverage__accident_date",
    "coverage__accident_state", "coverage__employer_name",
    "authorization__number",
    "referral__kind", "referral__number", "referral__referring_provider_name",
    "referral__referring_provider_npi",
)
_LINE_COLUMNS = (
    "claim_id", "number", "code", "modifiers_text", "charge_cents", "units", "pointers_text",
    "control_number",
)


class _JsonLists:
    """JSON lists read as text and parsed once per distinct value: a batch repeats the same few
    (``["GP"]``, ``[1, 2]``), and json.loads on every row would cost more than the query."""

    def __init__(self) -> None:
        self._seen: dict[str | None, tuple[Any, ...]] = {None: (), "": ()}

    def __call__(self, text: str | None) -> tuple[Any, ...]:
        found = self._seen.get(text)
        if found is None:
            found = self._seen[text] = tuple(json.loads(text or "[]"))  # type: ignore[arg-type]
        return found


def address(line1: str, line2: str, city: str, state: str, postal_code: str) -> ob.Address:
    # ZIP+4 is typed with or without the dash; X12 and the form want the digits only.
    return ob.Address(
        line1=line1.strip(),
        line2=line2.strip(),
        city=city.strip(),
        state=state.strip().upper(),
        postal_code=postal_code.replace("-", "").replace(" ", ""),
    )


def _same_place(a: ob.Address, b: ob.Address) -> bool:
    def key(x: ob.Address) -> tuple[str, ...]:
        return (
            " ".join(x.line1.upper().split()),
            " ".join(x.line2.upper().split()),
            x.city.upper(),
            x.state,
            x.postal_code[:5],
        )

    return key(a) == key(b)


def billing_provider(practice: Practice) -> ob.BillingProvider:
    """The practice as the billing provider (loop 2010AA, CMS-1500 box 33)."""
    return ob.BillingProvider(
        npi=practice.billing_npi,
        tax_id=practice.tax_id,
        tax_id_qualifier=(
            ob.TaxIdQualifier.SSN
            if practice.tax_id_kind == TaxIdKind.SSN
            else ob.TaxIdQualifier.EIN
        ),
        taxonomy=practice.taxonomy,
        address=practice_address(practice),
        organization_name=practice.legal_name,
        phone=_digits(practice.phone),
        contact_name="Billing office",
    )


def practice_address(practice: Practice) -> ob.Address:
    return address(
        practice.address_line1, practice.address_line2, practice.city, practice.state,
        practice.postal_code,
    )


_NOT_DIGIT = re.compile(r"\D")


def _digits(text: str) -> str:
    return _NOT_DIGIT.sub("", text) if text else ""


def provider_ref(provider: Provider, *, qualifier: str = "82") -> ob.ProviderRef:
    return ob.ProviderRef(
        name=ob.PersonName(last=provider.last_name, first=provider.first_name),
        npi=provider.npi,
        taxonomy=provider.taxonomy,
        qualifier=qualifier,
        credentials=provider.credentials,
        license_number=provider.license_number,
        license_state=provider.license_state,
    )


def referring_name(typed: str) -> ob.PersonName:
    """Split a referring provider's name as typed on a prescription ("Dr. Pat Example, MD",
    "Example, Pat") into last and first name for NM103/NM104 and box 17."""
    text = " ".join(typed.replace(".", ". ").split())
    for title in ("Dr. ", "Doctor "):
        if text.startswith(title):
            text = text[len(title):]
    if "," in text:
        before, after = (part.strip() for part in text.split(",", 1))
        if after.replace(".", "").replace(" ", "").upper() in _CREDENTIALS:
            text = before
        elif after:
            return ob.PersonName(last=before, first=after)
    parts = text.split()
    if not parts:
        return ob.PersonName(last="")
    if len(parts) == 1:
        return ob.PersonName(last=parts[0])
    return ob.PersonName(last=parts[-1], first=" ".join(parts[:-1]))


def _payer_value(payer: Payer) -> ob.Payer:
    mailing = None
    if payer.address_line1 and payer.city:
        mailing = address(
            payer.address_line1, payer.address_line2, payer.city, payer.state, payer.postal_code
        )
    return ob.Payer(
        name=payer.name,
        payer_id=payer.payer_id,
        address=mailing,
        program=_PROGRAM.get(PayerType(payer.payer_type), "other")
        if payer.payer_type in PayerType.values
        else "other",
    )


# Self-pay visits have no payer; their values still print on a superbill.
SELF_PAY = ob.Payer(name="Self-pay", payer_id="", program="other")


class _Lookups:
    """The shared records behind a set of claims, each read once and turned into values once."""

    def __init__(self, rows: Sequence[tuple[Any, ...]]) -> None:
        ids = {
            name: {row[_CLAIM_COLUMNS.index(name)] for row in rows} - {None}
            for name in ("practice_id", "payer_id", "provider_id", "visit__location_id")
        }
        self.practices = {p.pk: p for p in Practice.objects.filter(pk__in=ids["practice_id"])}
        self.billing = {pk: billing_provider(p) for pk, p in self.practices.items()}
        self.payers = {p.pk: p for p in Payer.objects.filter(pk__in=ids["payer_id"])}
        self.payer_values = {pk: _payer_value(p) for pk, p in self.payers.items()}
        self.providers = {p.pk: p for p in Provider.objects.filter(pk__in=ids["provider_id"])}
        self.provider_refs = {pk: provider_ref(p) for pk, p in self.providers.items()}
        self.facilities: dict[int, ob.Facility | None] = {}
        for location in Location.objects.filter(pk__in=ids["visit__location_id"]):
            where = address(
                location.address_line1, location.address_line2, location.city,
                location.state, location.postal_code,
            )
            home = self.billing.get(location.practice_id)
            same = home is not None and _same_place(where, home.address)
            self.facilities[location.pk] = (
                None if same else ob.Facility(name=location.name, address=where, npi=location.npi)
            )
        self._referring: dict[tuple[str, str], ob.ProviderRef] = {}
        self.parties: dict[tuple[int, int | None, int | None], _Parties] = {}

    def referring(self, typed_name: str, npi: str) -> ob.ProviderRef:
        # A practice sees the same few prescribers on many claims.
        key = (typed_name, npi)
        found = self._referring.get(key)
        if found is None:
            found = self._referring[key] = ob.ProviderRef(
                name=referring_name(typed_name), npi=npi, qualifier="DN"
            )
        return found


def read_claims(claims: QuerySet[Claim]) -> list[ob.ClaimGroup]:
    """The claims as outbound values, one group per billing provider (practice), each group's
    claims in claim-number order."""
    rows = list(
        claims.order_by("practice_id", "number")
        .annotate(diagnoses_text=Cast("diagnoses", TextField()))
        .values_list(*_CLAIM_COLUMNS)
    )
    if not rows:
        return []
    lookups = _Lookups(rows)
    parse = _JsonLists()
    lines = _lines_by_claim(claims, parse)
    grouped: dict[int, list[ob.OutClaim]] = {}
    for row in rows:
        practice_id = row[2]
        grouped.setdefault(practice_id, []).append(
            _claim_from_row(row, lines.get(row[0], ()), lookups, parse)
        )
    return [
        ob.ClaimGroup(billing=lookups.billing[practice_id], claims=tuple(out))
        for practice_id, out in grouped.items()
    ]


def read_claim(claim: Claim) -> tuple[ob.BillingProvider, ob.OutClaim]:
    """One claim and its billing provider (for a printed form)."""
    groups = read_claims(Claim.objects.filter(pk=claim.pk))
    return groups[0].billing, groups[0].claims[0]


_Parties = tuple[ob.Subscriber, ob.Patient | None]
_LineRow = tuple[int, str, tuple[str, ...], Cents, int, tuple[int, ...], str, str]


def _lines_by_claim(claims: QuerySet[Claim], parse: _JsonLists) -> dict[int, list[_LineRow]]:
    """Each claim's lines, in order; the OutLines are made with the claim (which has the date)."""
    found: dict[int, list[_LineRow]] = {}
    labels: dict[str, str] = {}
    query = ClaimLine.objects.filter(claim__in=claims.order_by().values("pk")).annotate(
        modifiers_text=Cast("modifiers", TextField()), pointers_text=Cast("pointers", TextField())
    )
    for claim_id, number, code, modifiers, charge, units, pointers, control in (
        query.order_by("claim_id", "number").values_list(*_LINE_COLUMNS).iterator(chunk_size=5000)
    ):
        label = labels.get(code)
        if label is None:
            label = labels[code] = cpt.get(code).label if cpt.is_known(code) else ""
        found.setdefault(claim_id, []).append(
            (number, code, parse(modifiers), Cents(charge), units, parse(pointers), control, label)
        )
    return found


def _claim_from_row(
    row: tuple[Any, ...], lines: Iterable[_LineRow], lookups: _Lookups, parse: _JsonLists
) -> ob.OutClaim:
    (
        _pk, number, practice_id, provider_id, payer_id, location_id, date_of_service,
        patient_id, frequency, payer_claim_number, replaced_payer_claim_number, place_of_service,
        prior_payers, msp_type,
        diagnoses, total_charge_cents,
        account_number, first_name, middle_initial, last_name, birth_date, sex,
        line1, line2, city, state, postal_code, phone,
        coverage_id, order, member_id, group_number, plan_name, relationship,
        subscriber_first, subscriber_last, subscriber_birth_date, subscriber_sex,
        pc_claim_number, accident_date, accident_state, employer_name,
        authorization_number,
        referral_kind, referral_number, referring_name_typed, referring_npi,
    ) = row
    billing = lookups.billing[practice_id]
    payer = lookups.payers.get(payer_id)
    payer_type = payer.payer_type if payer is not None else ""
    # A patient's claims in one batch share their subscriber and patient values.
    parties = lookups.parties.get((patient_id, coverage_id, payer_id))
    if parties is None:
        patient_name = ob.PersonName(last=last_name, first=first_name, middle=middle_initial)
        home = address(line1, line2, city, state, postal_code)
        self_insured = coverage_id is None or relationship == _SELF
        patient: ob.Patient | None = None
        if self_insured:
            subscriber_name, subscriber_dob, subscriber_sex_code = patient_name, birth_date, sex
        else:
            subscriber_name = ob.PersonName(last=subscriber_last, first=subscriber_first)
            subscriber_dob, subscriber_sex_code = subscriber_birth_date, subscriber_sex or "U"
            patient = ob.Patient(
                name=patient_name, birth_date=birth_date, sex=sex, address=home,
                relationship=relationship, phone=_digits(phone),
            )
        subscriber = ob.Subscriber(
            name=subscriber_name,
            member_id=member_id or "",
            birth_date=subscriber_dob,
            sex=subscriber_sex_code,
            # The subscriber's own address is kept only when she is the patient.
            address=home if self_insured else None,
            responsibility=_RESPONSIBILITY.get(order or 1, ob.PayerResponsibility.PRIMARY),
            claim_filing_indicator=payer.claim_filing_indicator if payer is not None else "",
            group_number=group_number or "",
            plan_name=plan_name or "",
            employer_name=employer_name or "",
            phone=_digits(phone) if self_insured else "",
        )
        parties = lookups.parties[(patient_id, coverage_id, payer_id)] = (subscriber, patient)
    subscriber, patient = parties
    if msp_type:
        # Medicare as the secondary payer: SBR05 says why the other plan paid first.
        subscriber = dataclasses.replace(subscriber, insurance_type_code=msp_type)
    provider = lookups.providers[provider_id]
    rendering = None if provider.npi == billing.npi else lookups.provider_refs[provider_id]
    referring = None
    if referring_name_typed and referring_npi:
        referring = lookups.referring(referring_name_typed, referring_npi)
    causes: tuple[ob.RelatedCause, ...] = ()
    casualty = payer_type in (PayerType.AUTO, PayerType.WORKERS_COMP)
    if payer_type == PayerType.AUTO:
        causes = (ob.RelatedCause.AUTO_ACCIDENT,)
    elif payer_type == PayerType.WORKERS_COMP:
        causes = (ob.RelatedCause.EMPLOYMENT,)
    return ob.OutClaim(
        claim_id=number,
        total_charge=Cents(total_charge_cents),
        place_of_service=place_of_service,
        frequency=frequency,
        diagnoses=parse(diagnoses),
        lines=tuple(
            ob.OutLine(
                number=line_number, code=code, modifiers=modifiers, charge=charge, units=units,
                pointers=pointers, date_of_service=date_of_service, control_number=control,
                label=label,
            )
            for line_number, code, modifiers, charge, units, pointers, control, label in lines
        ),
        subscriber=subscriber,
        payer=lookups.payer_values[payer_id] if payer is not None else SELF_PAY,
        patient=patient,
        patient_account_number=account_number,
        # REF*F8 names the claim being corrected: the original's payer claim number (this
        # claim's own, once its payer answers, is a different one).
        payer_claim_number=(
            (replaced_payer_claim_number or payer_claim_number or "") if frequency != "1" else ""
        ),
        prior_authorization=authorization_number or "",
        referral_number=(referral_number or "") if referral_kind == "referral" else "",
        related_causes=causes,
        accident_state=(accident_state or "") if payer_type == PayerType.AUTO else "",
        accident_date=_date_or_none(accident_date) if casualty else None,
        property_casualty_claim_number=(pc_claim_number or "") if casualty else "",
        rendering=rendering,
        referring=referring,
        facility=lookups.facilities.get(location_id) if location_id is not None else None,
        prior_payers=tuple(prior_payer_from_json(data) for data in prior_payers or ()),
    )


def _date_or_none(value: date | None) -> date | None:
    return value if isinstance(value, date) else None
