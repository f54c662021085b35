"""Every role of the catalogue against every route of the staff UI and the API.

For each role, a staff member holding just that role (at a default scope) requests every
route: a route whose declared permission the role lacks answers 403; one it holds answers
anything but 403, and 404 for an object that does not exist (or that the role may not know
of). Routes are found by walking the URL configuration and the API, so a new route is in
the matrix the day it is added — and a route with an unknown path parameter fails here
until it is given a value below.

API operations that take a request body (POST, PUT, PATCH) get an empty JSON object: the
permission is checked before the body is read, so a role without it gets 403 whatever it
sends; what a role holding it gets for a missing object is left to tests/api and
tests/roles, since an empty body is refused as invalid first.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from patronage.access.actions import grant_role, set_login_model
from patronage.access.catalogue import ROLES
from patronage.access.checks import permissions_of
from patronage.access.decorators import PUBLIC, SIGNED_IN
from patronage.access.models import Role
from patronage.api import api
from patronage.api_support import PERMISSION_ATTR, api_operations
from tests.factories import SYSTEM, make_scope, make_staff, make_user

pytestmark = pytest.mark.django_db

MISSING = 999_999_999
# Path parameters: what an existing object is, and what a missing one is.
STRING_PARAMS = {
    "kind": "email",
    "table": "USER_GROUP",
    "user_group": "UNDERGRAD",  # circulation configuration: a user group's loan policy
    "role_code": "FULFILLMENT_ADMINISTRATOR",  # and a role's waive limit
}
PARAM = re.compile(r"<(?:(\w+):)?(\w+)>|\{(\w+)\}")


def web_routes(patterns=None, prefix: str = "") -> Iterator[tuple[str, object]]:
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            if str(entry.pattern).startswith(("api/", "almaws/")):
                continue  # the APIs: api_routes() here, tests/almaws for /almaws/v1
            yield from web_routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def api_routes() -> Iterator[tuple[str, str, object]]:
    for method, path, operation in api_operations(api):
        yield method, "/api/v1" + path.replace("//", "/"), operation.view_func


def fill(route: str, subject_id: int, missing: bool) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(2) or match.group(3)
        if name in STRING_PARAMS:
            return STRING_PARAMS[name]
        if name in ("pk", "user_id"):
            return str(MISSING if missing else subject_id)
        if name.endswith("_id"):
            return str(MISSING)  # entries: never there, so the allowed answer is 404
        raise AssertionError(f"{route}: give the path parameter '{name}' a value in this test")

    path = PARAM.sub(value, route)
    return path if path.startswith("/") else "/" + path


def declared(view: object) -> tuple[str, ...]:
    permission = getattr(view, PERMISSION_ATTR, None)
    assert permission is not None, f"{view} declares no permission"
    return tuple(permission) if isinstance(permission, tuple) else (permission,)


def holder_of(code: str):
    spec = next(spec for spec in ROLES if spec.code == code)
    staff = make_staff(first_name="Matrix", last_name=code.title())
    if spec.login_model:
        set_login_model(actor=SYSTEM, user=staff, login_model=spec.login_model)
    else:
        set_login_model(actor=SYSTEM, user=staff, login_model="CUSTOM")
        scope = None
        if "INSTITUTION" not in spec.scope_types:
            scope = make_scope(spec.scope_types[0], spec.department_kind)
        grant_role(actor=SYSTEM, user=staff, role=Role.objects.get(code=code), scope=scope)
    return staff


WITH_BODY = ("POST", "PUT", "PATCH")


def call(client: Client, method: str, path: str):
    if method == "DELETE":
        path += "?reason=authorization+matrix"  # revocations must say why
    if method in WITH_BODY and path.startswith("/api/"):
        return getattr(client, method.lower())(path, {}, content_type="application/json")
    response = getattr(client, method.lower())(path)
    if response.status_code == 405 and method == "GET":
        response = client.post(path)
    return response


@pytest.mark.parametrize("code", [spec.code for spec in ROLES])
def test_each_role_gets_exactly_what_its_permissions_allow(code, settings):
    settings.SECURE_SSL_REDIRECT = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    holder = holder_of(code)
    # What the holder holds: the role's permissions, and those of the login model every
    # staff login has (filing role requests, deciding those the directory assigns them).
    held = permissions_of(holder)
    subject = make_user(record_type="STAFF", user_group="STAFF", first_name="Subject")
    client = Client()
    client.force_login(holder)
    routes = [("GET", route, view) for route, view in web_routes()] + list(api_routes())
    problems = []
    for method, route, view in routes:
        permissions = declared(view)
        if PUBLIC in permissions or SIGNED_IN in permissions:
            continue  # nothing to hold (SIGNED_IN: one's own account, tests/web/test_self_service)
        allowed = any(permission in held for permission in permissions)
        answer = call(client, method, fill(route, subject.pk, missing=False)).status_code
        if not allowed and answer != 403:
            problems.append(f"{method} {route}: {answer}, expected 403 (lacks {permissions})")
        if allowed and answer == 403:
            problems.append(f"{method} {route}: 403 although {code} holds {permissions}")
        names = {m.group(2) or m.group(3) for m in PARAM.finditer(route)}
        if allowed and names - set(STRING_PARAMS) and method not in WITH_BODY:
            missing = call(client, method, fill(route, subject.pk, missing=True)).status_code
            if missing != 404:
                problems.append(f"{method} {route} (missing object): {missing}, expected 404")
    assert not problems, "\n".join(problems)
