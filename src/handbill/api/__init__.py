"""The REST API under /api/v1/ (django-ninja), its tokens and idempotency keys."""
