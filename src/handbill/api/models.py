"""API tokens and idempotency keys. Rows are written only by ``api.tokens`` and
``api.idempotency``."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class ApiToken(models.Model):
    """A bearer token for one user in one practice: it acts with that membership's role.

    Only the SHA-256 of the token is kept; the token itself is shown once, when it is made.
    """

    membership = models.ForeignKey(
        "practice.Membership", on_delete=models.CASCADE, related_name="api_tokens"
    )
    # Copied from the membership so every token query can be scoped to the practice.
    practice = models.ForeignKey(
        "practice.Practice", on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=60)
    # The first characters of the token, so a person can tell their tokens apart.
    prefix = models.CharField(max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="api_token_named"),
            models.CheckConstraint(
                condition=Q(token_hash__regex=r"^[0-9a-f]{64}$"),  # noqa: S106 - a shape
                name="api_token_hash_shape",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class IdempotencyKey(models.Model):
    """One ``Idempotency-Key`` a client sent with a POST that creates claims or money.

    The row is taken before the work starts (``status`` empty while it runs) and holds the
    response once it succeeded, so a retry with the same key and body gets the same answer
    instead of a second claim or a second posting.
    """

    practice = models.ForeignKey(
        "practice.Practice", on_delete=models.CASCADE, related_name="idempotency_keys"
    )
    key = models.CharField(max_length=100)
    # SHA-256 of the method, the path and the request's parsed body.
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "key"], name="idempotency_key_once"),
        ]

    def __str__(self) -> str:
        return self.key
