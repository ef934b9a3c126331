"""Which tables a practice export carries, and how each one reaches its practice.

Every model in the project has one decision here, so a new model cannot slip in unexported
by accident: ``tests/integration/test_portability.py`` fails until its label is added below,
either to :data:`EXPORTED` (one line; the path to the practice is found from its foreign keys)
or to :data:`EXCLUDED` with the reason a reader of the export will see in ``docs/export.md``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from functools import cache

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models

PRACTICE = "practice.practice"

# Tables with patient, money or workflow data of one practice. The order does not matter:
# import order is worked out from the foreign keys.
EXPORTED: frozenset[str] = frozenset({
    "practice.practice",
    "practice.location",
    "practice.membership",
    "practice.provider",
    "practice.payer",
    "practice.payerenrollment",
    "practice.feescheduleentry",
    "policies.payerpolicyversion",
    "patients.patient",
    "patients.coverage",
    "patients.authorization",
    "visits.visit",
    "visits.visitdiagnosis",
    "visits.serviceentry",
    "visits.addendum",
    "claims.claim",
    "claims.claimline",
    "claims.claimfinding",
    "claims.findingoverride",
    "claims.claimevent",
    "submissions.clearinghouse",
    "submissions.controlnumbersequence",
    "submissions.submissionbatch",
    "submissions.submissionitem",
    "submissions.inboxfile",
    "submissions.submissionjob",
    "submissions.submissionjobitem",
    "remittance.erafile",
    "remittance.claimpayment",
    "remittance.servicepayment",
    "remittance.adjustment",
    "remittance.provideradjustment",
    "remittance.acknowledgement",
    "remittance.manualmatch",
    "ledger.account",
    "ledger.ledgertransaction",
    "ledger.leg",
    "eligibility.eligibilitycheck",
    "audit.auditevent",
    "followup.workitem",  # the biller's queue: notes, who it is assigned to, snoozes
    "followup.ruleproposal",  # denial patterns proposed as payer-policy changes
})
# A decision may name a table that is not installed (yet): work on a branch can be decided
# before it merges. Delete the line when a table goes away.

# Tables left out, each with the reason (shown in docs/export.md and the manifest).
EXCLUDED: dict[str, str] = {
    "ledger.claimreceivable": "A/R per claim, derived from the ledger's legs by database "
    "triggers: the import rebuilds it as it inserts the legs",
    "ledger.dailytotal": "debits and credits per account and day, derived from the ledger's "
    "legs by database triggers: the import rebuilds them as it inserts the legs",
    "otp_totp.totpdevice": "two-factor secrets are credentials of this install: people enrol "
    "their authenticator app again on the new install",
    "axes.accessattempt": "sign-in failures and lockouts of this install, by username and "
    "address across practices; the practice's audit trail keeps its sign-ins",
    "axes.accessattemptexpiration": "lockout expiry times of this install (django-axes)",
    "axes.accessfailurelog": "sign-in failure log of this install, across practices "
    "(django-axes); the practice's audit trail keeps its own",
    "axes.accesslog": "sign-in log of this install, across practices (django-axes); the "
    "practice's audit trail keeps its own",
    "api.apitoken": "API bearer tokens are credentials of this install: owners issue new ones "
    "on the new install",
    "api.idempotencykey": "replay guard for API clients' retries; its stored responses name "
    "this install's ids",
    "coding.edittableload": "shared NCCI reference table, not the practice's data: load the "
    "same CMS quarter on the new install (handbill edits import)",
    "coding.ptpeditrow": "shared NCCI reference table (PTP pairs), loaded from CMS files",
    "coding.muelimitrow": "shared NCCI reference table (MUE limits), loaded from CMS files",
    "auth.group": "Django groups are unused: roles live on the practice membership",
    "auth.permission": "Django's permission catalogue, rebuilt by migrate",
    "contenttypes.contenttype": "Django's model catalogue, rebuilt by migrate",
    "sessions.session": "sign-in sessions: people sign in again on the new install",
    "admin.logentry": "the Django admin's own log of staff edits, kept across practices; "
    "Handbill's audit trail (audit.auditevent) is exported",
}


def user_label() -> str:
    return str(get_user_model()._meta.label_lower)


def label(model: type[models.Model]) -> str:
    return str(model._meta.label_lower)


def all_models() -> list[type[models.Model]]:
    """Every concrete model installed (auto-created many-to-many tables are not separate)."""
    return [m for m in apps.get_models() if not m._meta.proxy and m._meta.managed]


def undecided() -> list[str]:
    """Labels of models with no decision: each must join EXPORTED or EXCLUDED."""
    decided = EXPORTED | set(EXCLUDED) | {user_label()}
    return sorted(label(m) for m in all_models() if label(m) not in decided)


def installed() -> set[str]:
    return {label(m) for m in all_models()}


def exported_models() -> list[type[models.Model]]:
    here = installed()
    return [apps.get_model(name) for name in sorted(EXPORTED) if name in here]


def foreign_keys(model: type[models.Model]) -> list[models.ForeignKey[models.Model, models.Model]]:
    return [
        f for f in model._meta.concrete_fields
        if isinstance(f, models.ForeignKey)
    ]


def is_user_key(field: models.Field[object, object]) -> bool:
    related = field.related_model
    return related is not None and not isinstance(related, str) and label(related) == user_label()


@cache
def practice_paths() -> dict[str, str]:
    """For every exported model, the shortest lookup from it to its Practice ("" for Practice
    itself): ``practice`` for most, ``claim__practice`` for a claim line and so on."""
    paths: dict[str, str] = {}
    for model in exported_models():
        found = _shortest_path(model)
        if found is None:
            raise LookupError(f"{label(model)} is exported but has no foreign-key path to a "
                              "practice; exclude it with a reason or give it one")
        paths[label(model)] = found
    return paths


def _shortest_path(model: type[models.Model]) -> str | None:
    if label(model) == PRACTICE:
        return ""
    queue: deque[tuple[type[models.Model], str]] = deque([(model, "")])
    seen = {label(model)}
    while queue:
        current, prefix = queue.popleft()
        for field in foreign_keys(current):
            target = field.related_model
            if target is None or isinstance(target, str):
                continue
            name = label(target)
            lookup = f"{prefix}__{field.name}" if prefix else field.name
            if name == PRACTICE:
                return lookup
            if name in seen or name not in EXPORTED:
                continue
            seen.add(name)
            queue.append((target, lookup))
    return None


@dataclass(frozen=True)
class SoftReference:
    """A row naming another row in text ("claims.claim", "42") rather than by foreign key.

    Ids in text must be renumbered on import just like foreign keys, or the ledger would point
    a claim's charge at whichever claim took the old number on the new install.
    """

    model: str
    type_field: str
    id_field: str


SOFT_REFERENCES: tuple[SoftReference, ...] = (
    SoftReference("audit.auditevent", "object_type", "object_id"),
    SoftReference("ledger.ledgertransaction", "source_type", "source_id"),
)


@dataclass(frozen=True)
class IdColumn:
    """A plain integer column holding the id of a row of one known table (no foreign key, so
    the row it names may be gone): renumbered on import, emptied when its row is not there."""

    model: str
    column: str
    target: str


# An entry whose column does not exist (yet) is passed over.
ID_COLUMNS: tuple[IdColumn, ...] = (
    IdColumn("audit.auditevent", "patient_id", "patients.patient"),
)


def id_columns(model: type[models.Model]) -> list[IdColumn]:
    columns = {f.attname for f in model._meta.concrete_fields}
    return [c for c in ID_COLUMNS if c.model == label(model) and c.column in columns
            and c.target in EXPORTED]


@cache
def soft_target(type_name: str) -> str | None:
    """The exported model a soft reference's type names: a full label ("remittance.claimpayment")
    or a bare model name when only one exported model has it ("claim")."""
    exported = {label(m) for m in exported_models()}
    if type_name in exported:
        return type_name
    matches = [name for name in exported if name.split(".", 1)[1] == type_name]
    return matches[0] if len(matches) == 1 else None


def import_order() -> list[type[models.Model]]:
    """Exported models with each after every model it points to (self references aside)."""
    remaining = {label(m): m for m in exported_models()}
    needs = {
        name: {
            label(f.related_model)  # type: ignore[arg-type]
            for f in foreign_keys(model)
            if not is_user_key(f) and label(f.related_model) != name  # type: ignore[arg-type]
        }
        for name, model in remaining.items()
    }
    for name, model in remaining.items():
        needs[name] |= {c.target for c in id_columns(model)} - {name}
    # A table naming rows in text (audit, ledger sources) comes after every table it could
    # name, that is every table that does not itself depend on it.
    for ref in SOFT_REFERENCES:
        if ref.model in needs:
            dependents = _dependents(ref.model, needs)
            needs[ref.model] |= set(needs) - dependents - {ref.model}
    ordered: list[type[models.Model]] = []
    placed: set[str] = set()
    while remaining:
        ready = sorted(name for name in remaining if needs[name] <= placed)
        if not ready:
            raise LookupError(f"foreign keys form a cycle among {sorted(remaining)}")
        for name in ready:
            ordered.append(remaining.pop(name))
            placed.add(name)
    return ordered


def _dependents(name: str, needs: dict[str, set[str]]) -> set[str]:
    found: set[str] = set()
    frontier = {name}
    while frontier:
        frontier = {other for other, wanted in needs.items() if wanted & frontier} - found
        found |= frontier
    return found


def self_keys(model: type[models.Model]) -> list[str]:
    return [f.attname for f in foreign_keys(model) if f.related_model is model]


def problems() -> list[str]:
    """What is wrong with the decisions above (the coverage test asserts there is nothing)."""
    found = [f"{name}: no export decision (add it to EXPORTED or EXCLUDED in "
             "handbill/portability/registry.py)" for name in undecided()]
    found += [f"{name}: both exported and excluded" for name in sorted(EXPORTED & set(EXCLUDED))]
    for model in exported_models():
        name = label(model)
        if model._meta.many_to_many:
            found.append(f"{name}: many-to-many fields are not exported yet")
        for field in foreign_keys(model):
            target = field.related_model
            if target is None or isinstance(target, str):
                continue
            if label(target) not in EXPORTED and not is_user_key(field):
                found.append(f"{name}.{field.name} points at {label(target)}, which is not "
                             "exported")
    if not found:
        try:
            practice_paths()
            import_order()
        except LookupError as exc:
            found.append(str(exc))
    return found
