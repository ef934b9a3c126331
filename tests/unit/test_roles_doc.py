"""docs/roles.md prints the permission table from the code; the two must not drift."""

from __future__ import annotations

from pathlib import Path

from handbill.practice.access import PERMISSIONS, roles_markdown, roles_table
from handbill.practice.models import Role

DOC = Path(__file__).resolve().parents[2] / "docs" / "roles.md"
START, END = "<!-- roles-table:start -->\n", "<!-- roles-table:end -->"


def test_the_docs_print_the_table_the_code_enforces() -> None:
    text = DOC.read_text()
    printed = text.split(START, 1)[1].split(END, 1)[0]
    assert printed == roles_markdown(), (
        "docs/roles.md is out of date with handbill.practice.access.PERMISSIONS; replace the "
        "table between the roles-table markers with:\n" + roles_markdown()
    )


def test_every_permission_has_words_and_every_role_a_column() -> None:
    table = roles_table()
    assert [name for name, _meaning, _granted in table] == list(PERMISSIONS)
    for name, meaning, granted in table:
        assert meaning, name
        assert set(granted) == set(Role)
        assert {r for r, yes in granted.items() if yes} == set(PERMISSIONS[name])


def test_the_roles_the_issue_asks_for() -> None:
    def granted(role: Role) -> set[str]:
        return {name for name, roles in PERMISSIONS.items() if role in roles}

    assert granted(Role.AUDITOR) == {"view", "view_audit"}
    assert granted(Role.THERAPIST) == {"view", "write_notes", "sign_notes"}
    assert "post_payments" not in granted(Role.THERAPIST)
    assert "edit_policy" not in granted(Role.THERAPIST)
    assert granted(Role.FRONT_DESK) == {"view", "edit_patients"}
    assert PERMISSIONS["view_audit"] == {Role.OWNER, Role.AUDITOR}
