"""The life of a claim, as a table of allowed moves.

draft → ready → submitted → accepted | rejected → paid | partially paid | denied →
(corrected → submitted) | appealed → closed. Anything not in the table is refused, so a claim
cannot jump from draft to paid or be reopened after it is closed.

A rejected claim never reached adjudication, so it is reopened (back to draft), fixed and sent
again as a new original. An adjudicated claim is never edited: a replacement (frequency 7) or
void (8) is a new claim that names it, and the original waits as *corrected*; if that
correction is abandoned before it is sent, the original goes back to what the payer said.
"""

from __future__ import annotations

from enum import StrEnum


class ClaimStatus(StrEnum):
    DRAFT = "draft"
    READY = "ready"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"  # the payer (277CA) took it into adjudication
    REJECTED = "rejected"  # front-end rejection (999/277CA): never adjudicated
    PAID = "paid"
    PARTIALLY_PAID = "partially_paid"
    DENIED = "denied"
    # A replacement or void of this claim exists (Claim.replaced_by); or, for a claim the payer
    # adjudicated again after all, what it was before.
    CORRECTED = "corrected"
    APPEALED = "appealed"
    CLOSED = "closed"
    VOID = "void"


S = ClaimStatus

TRANSITIONS: dict[ClaimStatus, frozenset[ClaimStatus]] = {
    S.DRAFT: frozenset({S.READY, S.VOID}),
    S.READY: frozenset({S.DRAFT, S.SUBMITTED, S.VOID}),
    S.SUBMITTED: frozenset({S.ACCEPTED, S.REJECTED, S.PAID, S.PARTIALLY_PAID, S.DENIED}),
    S.ACCEPTED: frozenset({S.PAID, S.PARTIALLY_PAID, S.DENIED}),
    # A rejected claim is fixed and sent again as a new original.
    S.REJECTED: frozenset({S.DRAFT, S.CORRECTED, S.VOID}),
    S.PAID: frozenset({S.CLOSED, S.CORRECTED, S.PARTIALLY_PAID, S.DENIED}),
    S.PARTIALLY_PAID: frozenset({S.PAID, S.CORRECTED, S.APPEALED, S.CLOSED, S.DENIED}),
    S.DENIED: frozenset({S.CORRECTED, S.APPEALED, S.CLOSED, S.PAID, S.PARTIALLY_PAID}),
    S.CORRECTED: frozenset(
        {S.SUBMITTED, S.VOID, S.PAID, S.PARTIALLY_PAID, S.DENIED, S.CLOSED}
    ),
    S.APPEALED: frozenset({S.PAID, S.PARTIALLY_PAID, S.DENIED, S.CLOSED}),
    S.CLOSED: frozenset(),
    S.VOID: frozenset(),
}

# Statuses whose claim still counts against limits and duplicates (it went, or will go, out).
LIVE = frozenset(set(ClaimStatus) - {S.VOID, S.REJECTED, S.DRAFT})


class TransitionError(ValueError):
    """A move the claim's life does not allow."""


def check_transition(current: ClaimStatus | str, target: ClaimStatus | str) -> None:
    here, there = ClaimStatus(current), ClaimStatus(target)
    if there not in TRANSITIONS[here]:
        allowed = ", ".join(sorted(TRANSITIONS[here])) or "nothing (final)"
        raise TransitionError(
            f"a {here.value} claim cannot become {there.value}; allowed: {allowed}"
        )
