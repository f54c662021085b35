"""Every /almaws/v1 operation declares its permission, and every role of the catalogue gets
exactly what its permissions allow: 403 (Alma's body) without, never 403 with, and Alma's
400 401861 for a user that does not exist (Alma's answer for a missing user)."""

from __future__ import annotations

import re

import pytest

from patronage.access.catalogue import ROLES
from patronage.access.models import Role
from patronage.almaws.api import api
from patronage.api_support import PERMISSION_ATTR, PERMISSION_EXTENSION, api_operations
from tests.almaws.conftest import AlmaClient, error_code, key_for
from tests.factories import make_user
from tests.matrix.test_authorization_matrix import holder_of

pytestmark = pytest.mark.django_db

PARAM = re.compile(r"\{(\w+)\}")
MISSING_USER = "no-such-user"


def operations():
    for method, path, operation in api_operations(api):
        yield method, "/" + path.strip("/"), operation.view_func


def test_every_operation_declares_a_permission():
    found = list(operations())
    assert found
    for method, path, view in found:
        assert getattr(view, PERMISSION_ATTR, None), f"{method} {path} declares no permission"


def test_the_openapi_document_shows_each_operations_permission(client, settings):
    settings.SECURE_SSL_REDIRECT = False
    document = client.get("/almaws/v1/openapi.json").json()
    for path, item in document["paths"].items():
        for method, spec in item.items():
            assert spec.get(PERMISSION_EXTENSION), f"{method} {path}"
            assert "ApiKeyAuth" in str(spec.get("security")) or spec.get("security")


def fill(path: str, user_id: str) -> str:
    def value(match: re.Match[str]) -> str:
        return user_id if match.group(1) == "user_id" else "999999999"

    return PARAM.sub(value, path)


def call(client: AlmaClient, method: str, path: str):
    if method in ("POST", "PUT"):
        return client.call(method, path, {})
    return client.call(method, path)


@pytest.mark.parametrize("code", [spec.code for spec in ROLES])
def test_each_role_gets_exactly_what_its_permissions_allow(code, settings):
    settings.ALMAWS_PER_SECOND_THRESHOLD = 100_000  # the matrix calls faster than a client
    holder = holder_of(code)
    held = set(Role.objects.get(code=code).permissions)
    subject = make_user(primary_id="subject01", record_type="STAFF", user_group="STAFF")
    client = AlmaClient(key_for(holder))
    problems = []
    for method, path, view in operations():
        permission = getattr(view, PERMISSION_ATTR)
        allowed = permission in held
        answer = call(client, method, fill(path, subject.primary_id))
        if not allowed and (answer.status_code != 403 or error_code(answer) != "UNAUTHORIZED"):
            problems.append(f"{method} {path}: {answer.status_code}, expected 403")
        if allowed and answer.status_code == 403:
            problems.append(f"{method} {path}: 403 although {code} holds {permission}")
        if allowed and "{user_id}" in path and method not in ("POST", "PUT"):
            missing = call(client, method, fill(path, MISSING_USER))
            # Alma documents 401890 ("… of type Y was not found") for DELETE, 401861 elsewhere.
            expected = "401890" if method == "DELETE" else "401861"
            if missing.status_code != 400 or error_code(missing) != expected:
                problems.append(f"{method} {path} (missing user): {missing.status_code}")
    assert not problems, "\n".join(problems)
