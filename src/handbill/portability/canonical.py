"""A practice's rows without their database ids, to compare two databases.

Ids differ between a practice and its import, so each key is written as the place of the row
it names among that table's rows of the practice (in id order: the import keeps that order),
each person as their username, and each id named in text (audit objects, ledger sources) the
same way. Two practices with equal dumps hold the same records.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model

from handbill.portability import registry
from handbill.portability.rows import columns, encode_value
from handbill.practice.models import Practice


def dump(practice: Practice, *, ignore_audit_actions: frozenset[str] = frozenset()) -> dict[
        str, list[dict[str, Any]]]:
    paths = registry.practice_paths()
    ordered: dict[str, list[Any]] = {}
    rows: dict[str, list[dict[str, Any]]] = {}
    for model in registry.exported_models():
        name = registry.label(model)
        lookup = paths[name] or "pk"
        value = practice if paths[name] else practice.pk
        query = model._default_manager.filter(**{lookup: value}).order_by("pk")
        rows[name] = list(query.values(*columns(model)))
        ordered[name] = [row[model._meta.pk.attname] for row in rows[name]]  # type: ignore[union-attr]
    place = {name: {pk: n for n, pk in enumerate(pks)} for name, pks in ordered.items()}
    by_text = {name: {str(pk): n for pk, n in found.items()} for name, found in place.items()}
    usernames = dict(get_user_model()._default_manager.values_list(
        "pk", get_user_model().USERNAME_FIELD))
    result: dict[str, list[dict[str, Any]]] = {}
    for model in registry.exported_models():
        name = registry.label(model)
        keys = {f.attname: f for f in registry.foreign_keys(model)}
        soft = [s for s in registry.SOFT_REFERENCES if s.model == name]
        out = []
        for row in rows[name]:
            if name == "audit.auditevent" and row["action"] in ignore_audit_actions:
                continue
            canonical: dict[str, Any] = {}
            for column, value in row.items():
                if column == model._meta.pk.attname:  # type: ignore[union-attr]
                    continue
                field = keys.get(column)
                if field is not None and value is not None:
                    if registry.is_user_key(field):
                        value = f"user:{usernames[value]}"
                    else:
                        target = registry.label(field.related_model)  # type: ignore[arg-type]
                        value = f"{target}#{place[target][value]}"
                canonical[column] = encode_value(value)
            for ref in soft:
                canonical[ref.id_field] = _soft(by_text, row[ref.type_field], row[ref.id_field])
            for plain in registry.id_columns(model):
                named = place[plain.target].get(row[plain.column])
                canonical[plain.column] = None if named is None else f"{plain.target}#{named}"
            out.append(canonical)
        result[name] = out
    result["users"] = sorted(
        ({k: encode_value(v) for k, v in u.items() if k not in ("id", "password")}
         for u in get_user_model()._default_manager.filter(
             memberships__practice=practice).values(
                 "username", "first_name", "last_name", "email", "is_active")),
        key=lambda u: str(u["username"]))
    return result


def _soft(by_text: dict[str, dict[str, int]], type_name: str, text: str) -> str:
    target = registry.soft_target(type_name) if type_name else None
    if target is None or not text:
        return text
    n = by_text[target].get(text)
    if n is not None:
        return f"{target}#{n}"
    return text if text.startswith("missing:") else f"missing:{text}"


def dump_json(practice: Practice, **kwargs: Any) -> str:
    return json.dumps(dump(practice, **kwargs), sort_keys=True, indent=1)
