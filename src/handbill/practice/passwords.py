"""Password rules of our own, beside Django's (length 12, common, numeric, like the name)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

MIN_DISTINCT = 6


class VarietyValidator:
    """Refuse a long password made of few characters ("aaaaaaaaaaaa", "abcabcabcabc"): the
    length rule alone lets those through."""

    def validate(self, password: str, user: Any = None) -> None:
        if len(set(password)) < MIN_DISTINCT:
            raise ValidationError(
                f"This password repeats too few characters; use at least {MIN_DISTINCT} "
                "different ones (a few unrelated words work well).",
                code="password_too_repetitive",
            )

    def get_help_text(self) -> str:
        return f"Your password must use at least {MIN_DISTINCT} different characters."
