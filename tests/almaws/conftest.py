"""Speaking Alma to /almaws/v1 in tests: API keys, XML and JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from lxml import etree

from patronage.access.api_key_actions import create_api_key
from patronage.accounts.models import User
from tests.factories import SYSTEM, make_staff, make_user

BASE = "/almaws/v1"


class AlmaClient:
    """A client holding one API key, speaking XML (Alma's default) or JSON."""

    def __init__(self, key: str, *, as_json: bool = True, header: bool = False):
        self.client = Client()
        self.key = key
        self.as_json = as_json
        self.header = header

    def call(
        self,
        verb: str,
        path: str,
        body: Any = None,
        /,
        *,
        headers: dict[str, str] | None = None,
        content_type: str | None = None,
        **query: Any,
    ) -> Any:
        params = dict(query)
        extra = dict(headers or {})
        if self.header:
            extra["Authorization"] = f"apikey {self.key}"
        else:
            params["apikey"] = self.key
        if self.as_json:
            extra.setdefault("Accept", "application/json")
        url = f"{BASE}{path}"
        if params:
            url += "?" + "&".join(f"{k}={v}" for k, v in params.items())
        kwargs: dict[str, Any] = {"headers": extra}
        if body is not None:
            if isinstance(body, dict):
                body = json.dumps(body)
                content_type = content_type or "application/json"
            kwargs["data"] = body
            kwargs["content_type"] = content_type or "application/xml"
        response = getattr(self.client, verb.lower())(url, **kwargs)
        ctype = response.get("Content-Type", "")
        response.json_body = (
            json.loads(response.content) if response.content and "json" in ctype else None
        )
        response.xml = (
            etree.fromstring(response.content) if response.content and "xml" in ctype else None
        )
        return response

    def get(self, path: str, /, **query: Any) -> Any:
        return self.call("GET", path, **query)

    def post(self, path: str, body: Any = None, /, **query: Any) -> Any:
        return self.call("POST", path, body, **query)

    def put(self, path: str, body: Any = None, /, **query: Any) -> Any:
        return self.call("PUT", path, body, **query)

    def delete(self, path: str, /, **query: Any) -> Any:
        return self.call("DELETE", path, **query)


def key_for(user: User, *, read_only: bool = False, permissions: tuple[str, ...] = ()) -> str:
    return create_api_key(
        actor=SYSTEM, owner=user, name="alma", read_only=read_only, permissions=permissions
    ).key


def error_code(response: Any) -> str:
    if response.json_body is not None:
        assert response.json_body["errorsExist"] is True
        return str(response.json_body["errorList"]["error"][0]["errorCode"])
    ns = {"w": "http://com/exlibris/urm/general/xmlbeans"}
    return str(response.xml.findtext("w:errorList/w:error/w:errorCode", namespaces=ns))


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture
def admin_alma(admin):
    return AlmaClient(key_for(admin))


@pytest.fixture
def patron(db):
    return make_user(
        primary_id="pat01",
        first_name="Petra",
        last_name="Patron",
        emails=[{"address": "petra@example.org", "types": ["personal"], "preferred": True}],
        identifiers=[{"id_type": "BARCODE", "value": "B0001"}],
    )


@pytest.fixture
def desk_alma(desk_operator):
    return AlmaClient(key_for(desk_operator))


@pytest.fixture
def staff_with_no_roles(db):
    return make_staff(first_name="Nora", last_name="Noroles")
