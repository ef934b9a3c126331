"""A coverage as the core's eligibility request, and the practice's own counts the sandbox
needs (visits already billed this year)."""

from __future__ import annotations

from datetime import date

from handbill.core.claim_status import LIVE
from handbill.core.eligibility import service_types_for
from handbill.core.eligibility_values import EligibilityRequest, Member, Provider
from handbill.core.policy import PayerPolicy
from handbill.patients.models import Coverage, Relationship
from handbill.practice.models import Practice

# INS02 of a 270 dependent: spouse and child as they are; anyone else is "other adult" (34).
_DEPENDENT_RELATIONSHIP = {Relationship.SPOUSE: "01", Relationship.CHILD: "19"}


def policy_for(coverage: Coverage, on: date) -> PayerPolicy | None:
    from handbill.policies.store import policy_for as stored_policy

    return stored_policy(coverage.payer, on)


def originator_id(practice: Practice) -> str:
    """TRN03: "1" and the practice's EIN, the usual form of an originating company ID."""
    return "1" + practice.tax_id


def request_for(coverage: Coverage, *, on: date, trace_number: str,
                policy: PayerPolicy | None) -> EligibilityRequest:
    practice = coverage.practice
    patient = coverage.patient
    payer = coverage.payer
    person = Member(
        last_name=patient.last_name, first_name=patient.first_name,
        middle_name=patient.middle_initial, birth_date=patient.birth_date,
        sex=patient.sex if patient.sex in ("F", "M") else "",
    )
    if coverage.relationship == Relationship.SELF:
        subscriber = Member(
            last_name=person.last_name, first_name=person.first_name,
            middle_name=person.middle_name, member_id=coverage.member_id.strip(),
            birth_date=person.birth_date, sex=person.sex, group_number=coverage.group_number,
        )
        dependent = None
    else:
        subscriber = Member(
            last_name=coverage.subscriber_last_name, first_name=coverage.subscriber_first_name,
            member_id=coverage.member_id.strip(), birth_date=coverage.subscriber_birth_date,
            sex=coverage.subscriber_sex if coverage.subscriber_sex in ("F", "M") else "",
            group_number=coverage.group_number,
        )
        dependent = Member(
            last_name=person.last_name, first_name=person.first_name,
            middle_name=person.middle_name, birth_date=person.birth_date, sex=person.sex,
            relationship=_DEPENDENT_RELATIONSHIP.get(Relationship(coverage.relationship), "34"),
        )
    return EligibilityRequest(
        trace_number=trace_number,
        originator_id=originator_id(practice),
        payer_name=payer.name,
        payer_id=payer.payer_id,
        provider=Provider(identifier=practice.billing_npi,
                          organization_name=practice.legal_name, taxonomy=practice.taxonomy),
        subscriber=subscriber,
        service_date=on,
        service_types=service_types_for(policy),
        dependent=dependent,
    )


def visits_billed_this_year(coverage: Coverage, before: date) -> int:
    """Visits of this coverage already billed in ``before``'s calendar year, before it."""
    from handbill.claims.models import Claim

    return (
        Claim.objects.filter(
            coverage=coverage, status__in=[s.value for s in LIVE], frequency="1",
            date_of_service__gte=date(before.year, 1, 1), date_of_service__lt=before,
        ).values("visit_id").distinct().count()
    )
