"""The dashboard and the reports on a small practice whose numbers are known: A/R aging by
payer, denials by payer and reason, payments by period, units by code and provider, the
clean-claim rate, CSV downloads — and another practice's rows never counted."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

import pytest

from handbill.claims import actions as claim_actions
from handbill.claims.models import Claim, ClaimLine
from handbill.core.money import Cents
from handbill.ledger import posting
from handbill.practice.models import Role
from handbill.remittance.models import Adjustment, ClaimPayment, EraFile
from handbill.web.queries import home as home_queries
from handbill.web.queries import money
from tests.conftest import FIXED_NOW
from tests.integration.web_clinic import Clinic, make_clinic, signed_visit

pytestmark = pytest.mark.django_db

TODAY = FIXED_NOW.astimezone().date()  # 2026-11-23 in UTC; the clinic's zone is behind it
AS_OF = date(2026, 11, 23)


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    from handbill.web.views import home, reports

    monkeypatch.setattr(home, "now", lambda: FIXED_NOW)
    monkeypatch.setattr(reports, "now", lambda: FIXED_NOW)


def _ready(clinic: Clinic, on: date) -> Claim:
    biller = clinic.users[Role.BILLER.value]
    claim = claim_actions.build_claim(visit=signed_visit(clinic, on=on), by=biller,
                                      at=FIXED_NOW)
    for finding in claim_actions.unresolved_blocking(claim):
        claim_actions.override_finding(claim=claim, rule=finding.rule, line=finding.line,
                                       reason="test", by=biller, at=FIXED_NOW)
    return claim_actions.mark_ready(claim=claim, by=biller, at=FIXED_NOW)


def _answer(clinic: Clinic, claim: Claim, *, outcome: str, paid: int, on: date,
            adjustments: list[tuple[str, str, int, str]], trace: str) -> None:
    """An 835's answer to ``claim`` as the posting would have stored it."""
    payer = clinic.payers["rainier-uniform-plan"]
    era = EraFile.objects.create(
        practice=clinic.practice, sha256=trace * 4, raw="ISA*", payer=payer,
        payer_identifier=payer.payer_id, payer_name=payer.name, trace_number=trace,
        payment_amount_cents=paid, payment_date=on, status="posted", imported_at=FIXED_NOW,
        posted_at=FIXED_NOW,
    )
    payment = ClaimPayment.objects.create(
        era=era, practice=clinic.practice, position=0, claim=claim,
        patient_control_number=claim.number, status_code="1", charge_cents=claim.total_charge_cents,
        paid_cents=paid, patient_responsibility_cents=0, outcome=outcome,
    )
    for group, reason, cents, effect in adjustments:
        Adjustment.objects.create(claim_payment=payment, group=group, reason=reason,
                                  amount_cents=cents, effect=effect)


@pytest.fixture
def books() -> dict[str, Any]:
    """Three Rainier claims 10, 45 and 100 days old; a payment, a transfer to the patient,
    the patient's payment, a denial — and another practice with money of its own."""
    clinic = make_clinic()
    rainier = clinic.payers["rainier-uniform-plan"]
    biller = clinic.users[Role.BILLER.value]
    fresh, month, old = (_ready(clinic, AS_OF - timedelta(days=n)) for n in (10, 45, 100))
    common = {"practice": clinic.practice, "by": biller, "at": FIXED_NOW}
    # The oldest claim: the payer paid 20.00, wrote 5.00 off, passed 10.00 to the patient.
    posting.post_insurance_payment(payer=rainier, amount=Cents(2000), claim_ref=old.number,
                                   patient_ref="A10001", effective_date=date(2026, 11, 5),
                                   **common)
    posting.post_contractual_adjustment(payer=rainier, amount=Cents(500), claim_ref=old.number,
                                        patient_ref="A10001", effective_date=date(2026, 11, 5),
                                        **common)
    posting.post_transfer_to_patient(payer=rainier, amount=Cents(1000), claim_ref=old.number,
                                     patient_ref="A10001", effective_date=date(2026, 11, 5),
                                     **common)
    posting.post_patient_payment(amount=Cents(400), claim_ref=old.number, patient_ref="A10001",
                                 effective_date=date(2026, 11, 20), **common)
    _answer(clinic, old, outcome="paid", paid=2000, on=date(2026, 11, 5), trace="T1",
            adjustments=[("CO", "45", 500, "contractual"), ("PR", "3", 1000, "patient")])
    # The month-old claim: denied, no authorization (CO-197), and a PR-204 line.
    _answer(clinic, month, outcome="denied", paid=0, on=date(2026, 11, 12), trace="T2",
            adjustments=[("CO", "197", 3000, "denied"), ("PR", "204", 700, "patient")])

    other = make_clinic("Birch Hollow Bodywork", patient_last="Otherside")
    elsewhere = _ready(other, AS_OF - timedelta(days=10))
    posting.post_insurance_payment(
        payer=other.payers["rainier-uniform-plan"], amount=Cents(99900),
        claim_ref=elsewhere.number, patient_ref="A10001", effective_date=date(2026, 11, 6),
        practice=other.practice, by=other.users[Role.BILLER.value], at=FIXED_NOW)
    _answer(other, elsewhere, outcome="denied", paid=0, on=date(2026, 11, 12), trace="T9",
            adjustments=[("CO", "96", 12300, "denied")])
    return {"clinic": clinic, "fresh": fresh, "month": month, "old": old, "other": other}


def test_aging_by_payer_from_the_date_of_service(books: dict[str, Any]) -> None:
    clinic, fresh, month, old = (books[k] for k in ("clinic", "fresh", "month", "old"))
    aging = money.ar_aging(clinic.practice, as_of=AS_OF)
    by_label = {row.label: row.buckets for row in aging.rows}
    assert set(by_label) == {"Rainier Uniform Medical Plan", money.PATIENTS}
    assert by_label["Rainier Uniform Medical Plan"] == (
        fresh.total_charge_cents, month.total_charge_cents, 0,
        old.total_charge_cents - 2000 - 500 - 1000, 0)
    assert by_label[money.PATIENTS] == (0, 0, 0, 1000 - 400, 0)
    assert aging.total == (fresh.total_charge_cents + month.total_charge_cents
                           + old.total_charge_cents - 2000 - 500 - 400)
    # As of an earlier day, later money does not count and claims are younger.
    earlier = money.ar_aging(clinic.practice, as_of=date(2026, 11, 1))
    assert earlier.buckets == (month.total_charge_cents, 0, old.total_charge_cents, 0, 0)


def test_totals_denials_payments_units_and_the_clean_claim_rate(books: dict[str, Any]) -> None:
    clinic, fresh, month, old = (books[k] for k in ("clinic", "fresh", "month", "old"))
    practice = clinic.practice
    start, end = date(2026, 11, 1), date(2026, 12, 1)
    totals = money.totals(practice, start=start, end=end, receivable=0)
    # Charges count on the date of service: only the 10-day-old claim is in November.
    assert totals.charges == fresh.total_charge_cents
    assert (totals.insurance_payments, totals.patient_payments) == (2000, 400)

    rows = money.denials_by_payer(practice)
    assert [(r.payer, r.code, r.claims, r.cents) for r in rows] == [
        ("Rainier Uniform Medical Plan", "CO-197", 1, 3000),
        ("Rainier Uniform Medical Plan", "PR-204", 1, 700),
    ]
    assert money.denials_by_payer(practice, start=date(2026, 11, 13)) == []
    assert [r.code for r in money.denials_by_reason(practice)] == ["CO-197", "PR-204"]

    weeks = money.payments_by_period(practice, start=start, end=end, period="week")
    assert [(w.start, w.insurance, w.patient) for w in weeks] == [
        (date(2026, 11, 2), 2000, 0), (date(2026, 11, 16), 0, 400)]
    months = money.payments_by_period(practice, start=start, end=end)
    assert [(m.start, m.total) for m in months] == [(date(2026, 11, 1), 2400)]

    units = money.units_by_code_and_provider(practice, start=date(2026, 8, 1), end=end)
    lines = ClaimLine.objects.filter(claim__practice=practice)
    assert sum(u.units for u in units) == sum(line.units for line in lines)
    assert {u.provider for u in units} == {"Mara Quill"}

    clean = money.clean_claim_rate(practice)
    assert (clean.answered, clean.clean, clean.percent) == (2, 1, 50)


def test_refunds_and_reversals_count_on_their_own_side(books: dict[str, Any]) -> None:
    """Period figures come from the ledger's daily totals, except refunds, whose side is on
    their other leg: a refund to the patient lowers patient payments, one to the payer (an
    overpayment returned) insurance payments, and a reversed payment counts on the day of
    its reversal, on the insurance side (as before the daily totals)."""
    clinic, old = books["clinic"], books["old"]
    practice = clinic.practice
    rainier = clinic.payers["rainier-uniform-plan"]
    common = {"practice": practice, "by": clinic.users[Role.BILLER.value], "at": FIXED_NOW,
              "claim_ref": old.number, "patient_ref": "A10001"}
    posting.post_refund(payer=None, amount=Cents(150), effective_date=date(2026, 11, 21),
                        **common)
    posting.post_refund(payer=rainier, amount=Cents(300), effective_date=date(2026, 11, 22),
                        **common)
    extra = posting.post_patient_payment(amount=Cents(50), effective_date=date(2026, 11, 9),
                                         **common)
    posting.reverse(extra, by=None, at=FIXED_NOW, reason="card declined",
                    effective_date=date(2026, 11, 22))
    start, end = date(2026, 11, 1), date(2026, 12, 1)
    totals = money.totals(practice, start=start, end=end, receivable=0)
    assert (totals.insurance_payments, totals.patient_payments) == (2000 - 300 - 50,
                                                                    400 - 150 + 50)
    weeks = money.payments_by_period(practice, start=start, end=end, period="week")
    assert [(w.start, w.insurance, w.patient) for w in weeks] == [
        (date(2026, 11, 2), 2000, 0), (date(2026, 11, 9), 0, 50),
        (date(2026, 11, 16), -350, 250)]
    # Only the days asked for: the refunds of the 21st and 22nd are outside the 1st-20th.
    early = money.totals(practice, start=start, end=date(2026, 11, 21), receivable=0)
    assert (early.insurance_payments, early.patient_payments) == (2000, 450)


def test_the_dashboard_shows_money_charts_and_queue_links(books: dict[str, Any]) -> None:
    clinic = books["clinic"]
    page = clinic.client_for(Role.BILLER.value).get("/today/")
    assert page.status_code == 200
    html = page.content.decode()
    aging = money.ar_aging(clinic.practice, as_of=AS_OF)
    assert Cents(aging.total).display() in html
    # Charts are inline SVG with a title, a description and a table of the same numbers.
    assert html.count('<svg class="bar-chart"') == 2
    assert '<title id="aging-title">A/R aging</title>' in html
    assert "over 120 days" in html and "CO-197" in html
    assert "as a table" in html
    for kind in ("rejections", "denials", "timely"):
        assert f'href="/queues/?kind={kind}"' in html
    assert "50%" in html  # the clean-claim rate
    assert "99" + "9.00" not in html  # the other practice's payment
    # A therapist sees the work, not the money.
    therapist = clinic.client_for(Role.THERAPIST.value).get("/today/")
    assert therapist.status_code == 200 and "bar-chart" not in therapist.content.decode()


def test_timely_limit_and_authorizations_running_out(books: dict[str, Any]) -> None:
    clinic = books["clinic"]
    # A draft 355 days old at Rainier (365 days to file) is near the limit; a fresh one is not.
    biller = clinic.users[Role.BILLER.value]
    claim_actions.build_claim(visit=signed_visit(clinic, on=AS_OF - timedelta(days=355)),
                              by=biller, at=FIXED_NOW)
    claim_actions.build_claim(visit=signed_visit(clinic, on=AS_OF - timedelta(days=3)),
                              by=biller, at=FIXED_NOW)
    near = home_queries.near_timely_limit(clinic.practice, as_of=AS_OF)
    assert [c.date_of_service for c in near] == [AS_OF - timedelta(days=355)]
    # The prescription allows 12 visits; the three ready claims used three of them.
    assert home_queries.authorizations_running_out(clinic.practice, as_of=AS_OF) == []
    clinic.prescription.visits_allowed = 5
    clinic.prescription.save(update_fields=["visits_allowed"])
    running = home_queries.authorizations_running_out(clinic.practice, as_of=AS_OF)
    assert [(r.authorization.pk, r.visits_left) for r in running] == [
        (clinic.prescription.pk, 2)]


def _csv(response: Any) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment; filename=")
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_reports_page_and_csv_downloads(books: dict[str, Any]) -> None:
    clinic, old = books["clinic"], books["old"]
    client = clinic.client_for(Role.BILLER.value)
    page = client.get("/reports/", {"start": "2026-08-01", "to": "2026-11-23"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "A/R aging by payer" in html and "Units by code and provider" in html
    assert "Birch Hollow" not in html and "CO-96" not in html

    query = {"start": "2026-08-01", "to": "2026-11-23", "period": "week"}
    aging = _csv(client.get("/reports/ar-aging.csv", query))
    assert aging[0][0] == "payer" and aging[-1][0] == "Total"
    patients = next(row for row in aging if row[0] == money.PATIENTS)
    assert patients[1:] == ["0.00", "0.00", "0.00", "6.00", "0.00", "6.00"]
    denials = _csv(client.get("/reports/denials.csv", query))
    assert [row[1:3] + row[4:] for row in denials[1:]] == [
        ["CO", "197", "1", "30.00"], ["PR", "204", "1", "7.00"]]
    payments = _csv(client.get("/reports/payments.csv", query))
    assert payments[1:] == [["2026-11-02", "20.00", "0.00", "20.00"],
                            ["2026-11-16", "0.00", "4.00", "4.00"]]
    units = _csv(client.get("/reports/units.csv", query))
    assert units[0] == ["code", "provider", "lines", "units", "charges"]
    assert all(row[1] == "Mara Quill" for row in units[1:])
    assert old.number  # the oldest claim is in range, so its units are there
    assert client.get("/reports/nothing.csv").status_code == 404


def test_report_filters_refuse_a_backwards_range_next_to_the_field(
    books: dict[str, Any],
) -> None:
    client = books["clinic"].client_for(Role.BILLER.value)
    page = client.get("/reports/", {"start": "2026-11-20", "to": "2026-11-01"})
    assert page.status_code == 422
    assert "the last day is before the first day" in page.content.decode()
    assert 'value="2026-11-20"' in page.content.decode()
    assert client.get("/reports/units.csv", {"start": "2026-11-20", "to": "2026-11-01"}
                      ).status_code == 400


def test_reports_are_for_billers_and_owners(books: dict[str, Any]) -> None:
    clinic = books["clinic"]
    assert clinic.client_for(Role.THERAPIST.value).get("/reports/").status_code == 403
    assert clinic.client_for(Role.OWNER.value).get("/reports/units.csv").status_code == 200
