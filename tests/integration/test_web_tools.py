"""The minutes-to-units calculator (the first home page, now at /tools/units/)."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.django_db
def test_units_page_computes_units_with_the_reason(client: Client) -> None:
    response = client.get(
        "/tools/units/", {"code0": "97124", "minutes0": "38", "code1": "97140", "minutes1": "15",
              "method": "cms"}
    )
    assert response.status_code == 200
    result = response.context["result"]
    assert result.total_units == 4
    assert {line.code: line.units for line in result.lines} == {"97124": 3, "97140": 1}
    assert b"53 timed minutes" in response.content


@pytest.mark.django_db
def test_units_page_names_bad_input(client: Client) -> None:
    response = client.get("/tools/units/", {"code0": "99999", "minutes0": "10"})
    assert response.status_code == 400
    assert b"99999" in response.content
    response = client.get("/tools/units/", {"code0": "97124", "minutes0": "abc"})
    assert response.status_code == 400
    assert b"whole number" in response.content


@pytest.mark.django_db
def test_units_page_refuses_an_unknown_method(client: Client) -> None:
    response = client.get("/tools/units/", {"code0": "97124", "minutes0": "38", "method": "x"})
    assert response.status_code == 400
    assert b"Unknown unit method" in response.content
