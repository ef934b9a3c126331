"""The dashboard's and the reports' charts: values in, a drawing plan out.

Charts are drawn by the ``web/_bar_chart.html`` template as inline SVG (no script): each bar
carries its label and its value as text, the SVG has a title and a description for screen
readers, and a table with the same numbers follows it.
"""

from __future__ import annotations

from handbill.core.codes import carc
from handbill.core.money import Cents
from handbill.web.queries.money import Aging, Chart, DenialRow

QUEUES = "/queues/"  # the work queues' page (handbill.web.views.followup)


def _dollars(cents: int) -> str:
    return Cents(cents).display()


def aging_chart(aging: Aging) -> Chart:
    values = list(aging.buckets)
    return Chart(
        title="A/R aging",
        description=(
            f"What payers and patients owe, {_dollars(aging.total)} in all, by days since the "
            "date of service: " + "; ".join(
                f"{label} days {_dollars(v)}" for label, v in zip(aging.labels, values,
                                                                   strict=True))
        ),
        labels=[f"{label} days" for label in aging.labels],
        values=values,
        display=[_dollars(v) for v in values],
    )


def carc_words(reason: str) -> str:
    """A CARC's meaning in our own short words ("" when Handbill does not list it)."""
    entry = carc.carc(reason)
    return entry.meaning if entry.known else ""


def denial_chart(rows: list[DenialRow], *, limit: int = 8) -> Chart:
    shown = rows[:limit]
    labels = [row.code for row in shown]
    return Chart(
        title="Denials by reason",
        description=(
            "Claims denied (in whole or in part) by reason code: "
            + ("; ".join(f"{row.code} {row.claims} claims" for row in shown) or "none")
        ),
        labels=labels,
        values=[row.claims for row in shown],
        display=[f"{row.claims} claim{'s' if row.claims != 1 else ''} · {_dollars(row.cents)}"
                 for row in shown],
        links=[f"{QUEUES}?kind=denials" for _ in shown],
    )
