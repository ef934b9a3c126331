from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.django_db
def test_health_page_reaches_the_database(client: Client) -> None:
    response = client.get("/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] in {"sqlite", "postgresql"}
