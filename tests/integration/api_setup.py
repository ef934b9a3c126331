"""API test helpers: a token per role in the web tests' clinic, and a JSON client."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.test import Client

from handbill.api.tokens import create_token
from handbill.practice.models import Membership
from tests.conftest import FIXED_NOW
from tests.integration.web_clinic import Clinic, make_clinic


class ApiClient:
    """Django's test client speaking JSON with a bearer token."""

    def __init__(self, token: str | None) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def _send(self, method: str, path: str, body: Any = None, **headers: str) -> Any:
        url = path if path.startswith("/api/") else f"/api/v1{path}"
        kwargs: dict[str, Any] = {"headers": {**self.headers, **headers}}
        if body is not None:
            kwargs["data"] = json.dumps(body, default=str)
            kwargs["content_type"] = "application/json"
        return getattr(self.client, method)(url, **kwargs)

    def get(self, path: str, **params: Any) -> Any:
        url = path if path.startswith(("/api/", "http")) else f"/api/v1{path}"
        return self.client.get(url, params, headers=self.headers)

    def post(self, path: str, body: Any = None, **headers: str) -> Any:
        return self._send("post", path, body if body is not None else {}, **headers)

    def put(self, path: str, body: Any, **headers: str) -> Any:
        return self._send("put", path, body, **headers)

    def upload(self, path: str, name: str, content: str, **headers: str) -> Any:
        from django.core.files.uploadedfile import SimpleUploadedFile

        url = f"/api/v1{path}"
        upload = SimpleUploadedFile(name, content.encode("utf-8"), content_type="text/plain")
        return self.client.post(url, {"file": upload}, headers={**self.headers, **headers})


@dataclass
class ApiClinic:
    clinic: Clinic
    tokens: dict[str, str] = field(default_factory=dict)

    def as_role(self, role: str) -> ApiClient:
        return ApiClient(self.tokens[role])


def token_for(user: Any, practice: Any, name: str = "tests") -> str:
    membership = Membership.objects.get(user=user, practice=practice)
    return create_token(membership=membership, name=name, by=user, at=FIXED_NOW).secret


def make_api_clinic(name: str = "Alder Creek Massage", patient_last: str = "Fairweather"
                    ) -> ApiClinic:
    clinic = make_clinic(name, patient_last)
    tokens = {role: token_for(user, clinic.practice) for role, user in clinic.users.items()}
    return ApiClinic(clinic, tokens)


def error_of(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"code", "message", "fields"} <= set(body["error"]), body
    return dict(body["error"])
