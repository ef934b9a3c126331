"""Read a visit and its claim from the database into the core's plain values.

Everything the builder and the scrubber need is gathered here in a handful of queries, so the
rules stay pure functions of values.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Sum

from handbill.core import claimdata as cd
from handbill.core.claim_status import LIVE
from handbill.core.money import Cents
from handbill.patients.models import Authorization, Coverage
from handbill.practice.models import PayerEnrollment, Provider
from handbill.visits.models import Visit

EARLIER_NOTES_COMPARED = 3


def note_of(visit: Visit) -> cd.Note:
    return cd.Note(
        date_of_service=visit.date_of_service,
        signed_at=visit.signed_at,
        subjective=visit.subjective,
        objective=visit.objective,
        assessment=visit.assessment,
        plan=visit.plan,
        medical_necessity=visit.medical_necessity,
        response_to_treatment=visit.response_to_treatment,
        diagnoses=tuple(d.code for d in visit.diagnoses.all()),
        entries=tuple(
            cd.ServiceEntry(
                code=s.code,
                minutes=s.minutes,
                technique=s.technique,
                body_region=s.body_region,
                start_time=s.start_time,
            )
            for s in visit.services.all()
        ),
    )


def coverage_of(coverage: Coverage | None) -> cd.Coverage | None:
    if coverage is None:
        return None
    return cd.Coverage(
        payer_name=coverage.payer.name,
        payer_type=coverage.payer.payer_type,
        order=coverage.order,
        member_id=coverage.member_id,
        start_date=coverage.start_date,
        end_date=coverage.end_date,
        claim_number=coverage.claim_number,
        accident_date=coverage.accident_date,
        accident_state=coverage.accident_state,
    )


def provider_of(provider: Provider, payer_id: int | None, on: date) -> cd.Provider:
    status = None
    if payer_id is not None:
        enrollment = (
            PayerEnrollment.objects.filter(
                provider=provider, payer_id=payer_id, effective_date__lte=on
            )
            .exclude(end_date__lte=on)
            .order_by("-effective_date")
            .first()
        )
        status = enrollment.status if enrollment else None
    return cd.Provider(
        name=str(provider),
        npi=provider.npi,
        taxonomy=provider.taxonomy,
        license_state=provider.license_state,
        license_expires_date=provider.license_expires_date,
        enrollment_status=status,
    )


def authorization_usage(
    authorization: Authorization, *, excluding_claim_id: int | None
) -> tuple[int, dict[str, int], Cents]:
    """Visits, units per code and dollars that live claims have drawn on an authorization."""
    from handbill.claims.models import Claim, ClaimLine

    # A corrected claim's visit is counted through its replacement, and a void uses nothing:
    # a visit billed, replaced and voided draws on the authorization once, or not at all.
    counted = [s.value for s in LIVE if s.value != "corrected"]
    claims = (
        Claim.objects.filter(status__in=counted).filter(authorization=authorization)
        | Claim.objects.filter(status__in=counted).filter(referral=authorization)
    ).exclude(frequency="8")
    if excluding_claim_id is not None:
        claims = claims.exclude(pk=excluding_claim_id)
    claim_ids = list(claims.values_list("pk", flat=True).distinct())
    units: dict[str, int] = {}
    for row in (
        ClaimLine.objects.filter(claim_id__in=claim_ids).values("code").annotate(total=Sum("units"))
    ):
        units[row["code"]] = int(row["total"])
    dollars = Claim.objects.filter(pk__in=claim_ids).aggregate(total=Sum("total_charge_cents"))
    return len(claim_ids), units, Cents(int(dollars["total"] or 0))


def authorizations_of(
    coverage: Coverage | None, on: date, *, excluding_claim_id: int | None
) -> tuple[cd.Authorization, ...]:
    if coverage is None:
        return ()
    found = []
    for auth in coverage.authorizations.all().order_by("start_date", "pk"):
        visits, units, dollars = authorization_usage(auth, excluding_claim_id=excluding_claim_id)
        found.append(
            cd.Authorization(
                kind=cd.AuthorizationKind(auth.kind),
                number=auth.number,
                start_date=auth.start_date,
                end_date=auth.end_date,
                codes=frozenset(auth.codes),
                visits_allowed=auth.visits_allowed,
                units_allowed={str(k): int(v) for k, v in auth.units_allowed.items()},
                dollars_allowed=(
                    Cents(auth.dollars_allowed_cents)
                    if auth.dollars_allowed_cents is not None
                    else None
                ),
                visits_used=visits,
                units_used=units,
                dollars_used=dollars,
                referring_provider_name=auth.referring_provider_name,
                referring_provider_npi=auth.referring_provider_npi,
            )
        )
    return tuple(found)


def history_of(
    visit: Visit, coverage: Coverage | None, *, excluding_claim_id: int | None
) -> cd.History:
    from handbill.claims.models import Claim, ClaimLine

    live = [s.value for s in LIVE]
    visits_this_year = 0
    if coverage is not None:
        year_start = date(visit.date_of_service.year, 1, 1)
        others = Claim.objects.filter(
            coverage=coverage,
            status__in=live,
            frequency="1",
            date_of_service__gte=year_start,
            date_of_service__lte=visit.date_of_service,
        ).exclude(visit=visit)
        visits_this_year = others.values("visit_id").distinct().count()
    prior_lines = tuple(
        cd.PriorClaimLine(
            claim_id=line.claim.number,
            date_of_service=line.claim.date_of_service,
            code=line.code,
            status=line.claim.status,
        )
        for line in ClaimLine.objects.filter(
            claim__patient_id=visit.patient_id, claim__date_of_service=visit.date_of_service
        )
        .exclude(claim_id=excluding_claim_id)
        .exclude(claim__visit=visit, claim__status__in=["void", "draft"])
        .select_related("claim")
    )
    earlier = Visit.objects.filter(
        patient_id=visit.patient_id,
        signed_at__isnull=False,
        date_of_service__lt=visit.date_of_service,
    ).order_by("-date_of_service")[:EARLIER_NOTES_COMPARED]
    earlier_notes = tuple(note_of(v).text for v in earlier)
    return cd.History(
        visits_this_year=visits_this_year, prior_lines=prior_lines, earlier_notes=earlier_notes
    )
