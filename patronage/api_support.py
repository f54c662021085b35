"""What every router of the native API shares: authentication, the permission each operation
declares, the error body and how errors map to it.

``patronage.api`` assembles the API from these; routers import from here (not from
``patronage.api``) so that no router import depends on the API having been built first.
"""

from __future__ import annotations

import copy
import functools
import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Schema
from ninja.constants import NOT_SET
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import django_auth
from ninja.security.apikey import APIKeyBase
from ninja.utils import contribute_operation_callback
from pydantic import AfterValidator, Field

from patronage.access.api_key_auth import api_key_auth
from patronage.access.checks import can
from patronage.access.permissions import Permission
from patronage.errors import DomainError, Forbidden
from patronage.ops import outage

if TYPE_CHECKING:
    from ninja import NinjaAPI
    from ninja.operation import Operation

    from patronage.accounts.models import User

logger = logging.getLogger(__name__)

# Who may call the API: an API key (``access.api_key_auth``: a key, when presented, decides),
# else the staff UI's session (with its CSRF token). Every auth class sets ``request.user``.
API_AUTH: list[Any] = [api_key_auth, django_auth]

# The largest primary key either database stores; larger path ids are refused as input
# instead of overflowing the database driver.
MAX_ID = 2**63 - 1

PERMISSION_ATTR = "required_permission"
PERMISSION_EXTENSION = "x-permission"

F = TypeVar("F", bound=Callable[..., Any])


# --- the error body -------------------------------------------------------------------------


class ErrorOut(Schema):
    """Every refusal: a stable machine ``code``, a ``message`` for people, and the field(s)."""

    code: str = Field(examples=["validation_failed"])
    message: str
    field: str | None = None
    errors: dict[str, str] | None = Field(
        default=None, description="Field → message, for validation errors"
    )


def error_responses(*statuses: int) -> dict[int, type[ErrorOut]]:
    """Document the error statuses an operation may answer with (401 and 403 always apply)."""
    return dict.fromkeys(sorted({401, 403, 422, *statuses}), ErrorOut)


def _no_nul(value: str) -> str:
    # PostgreSQL refuses NUL characters in text; refuse them as bad input on every engine.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


# Put on every string an API takes: ``Annotated[str, Field(max_length=...), NO_NUL]``.
NO_NUL = AfterValidator(_no_nul)


# --- permissions ------------------------------------------------------------------------------


def acting_user(request: HttpRequest) -> User | None:
    user = request.user
    return user if user.is_authenticated else None  # type: ignore[return-value]


def _refuse_without(request: HttpRequest, permission: Permission) -> None:
    if not can(acting_user(request), permission):
        raise Forbidden(
            f"You do not have the permission to do this ({permission.label}).",
            code="permission_denied",
        )


@functools.cache
def _checking_permission(base: type[APIKeyBase]) -> type[APIKeyBase]:
    """``base`` (an auth class) that also refuses a caller without the operation's permission.

    Checked while authenticating, so before ninja reads the path, query and body: a caller
    without the permission gets 403 whatever they send, never a validation error that tells
    them what the operation expects.
    """

    class Checking(base):  # type: ignore[valid-type,misc]
        permission: Permission

        def authenticate(self, request: HttpRequest, key: str | None) -> Any:
            found = super().authenticate(request, key)
            if found:
                _refuse_without(request, self.permission)
            return found

    # The OpenAPI document names each security scheme after its class.
    Checking.__name__ = Checking.__qualname__ = base.__name__
    return Checking


def _auth_with_permission(auth: Any, permission: Permission) -> APIKeyBase:
    if not isinstance(auth, APIKeyBase):
        raise TypeError(f"{auth!r}: permissions are checked with API-key-style auth classes")
    checking = copy.copy(auth)
    checking.__class__ = _checking_permission(type(auth))
    checking.permission = permission  # type: ignore[attr-defined]
    return checking


def permission_required(permission: Permission) -> Callable[[F], F]:
    """Declare (and enforce) the permission an API operation needs.

    Without it the caller gets 403 ``permission_denied``, checked with authentication, before
    the request is parsed. The permission is kept on the view (``required_permission``) and
    shown in the OpenAPI document (``x-permission``), so that a test can walk every operation
    and fail on one that declares none.
    """

    def decorate(view: F) -> F:
        setattr(view, PERMISSION_ATTR, permission)

        def document(operation: Operation) -> None:
            # An operation-level auth is kept when the router or the API is bound, and by
            # the copies ninja makes of the operation for each mount.
            declared = operation.auth_callbacks if operation.auth_param is not NOT_SET else API_AUTH
            operation.auth_param = operation.auth_callbacks = [
                _auth_with_permission(auth, permission) for auth in declared
            ]
            extra = dict(operation.openapi_extra or {})
            extra[PERMISSION_EXTENSION] = permission.value
            operation.openapi_extra = extra
            note = f"Requires the permission `{permission.value}` ({permission.label})."
            operation.description = "\n\n".join(p for p in (operation.description, note) if p)

        contribute_operation_callback(view, document)
        return view

    return decorate


def api_operations(api: NinjaAPI) -> Iterator[tuple[str, str, Operation]]:
    """(method, path, operation) for every operation mounted on ``api``."""
    for bound in api._get_bound_routers():
        for path, path_view in bound.path_operations.items():
            for operation in path_view.operations:
                for method in operation.methods:
                    yield method, f"{bound.prefix}{path}", operation


# --- mapping errors, once ---------------------------------------------------------------------

HTTP_ERROR_CODES = {
    400: "invalid_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    429: "throttled",
}


def _field_name(loc: tuple[Any, ...]) -> str:
    """``("body", "payload", "emails", 0, "address")`` → ``"emails.0.address"``."""
    parts = list(loc)
    source = parts.pop(0) if parts else ""
    if source == "body" and len(parts) > 1:
        parts.pop(0)  # the name of the view's body parameter says nothing to the client
    return ".".join(str(part) for part in parts) or str(source)


def install_error_handlers(api: NinjaAPI) -> None:
    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        return api.create_response(request, exc.as_dict(), status=exc.status)

    def invalid_request(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors: dict[str, str] = {}
        for error in exc.errors:
            errors.setdefault(_field_name(tuple(error.get("loc", ()))), str(error.get("msg", "")))
        summary = "; ".join(f"{field}: {message}" for field, message in errors.items())
        body = {"code": "invalid_request", "message": summary, "errors": errors}
        return api.create_response(request, body, status=422)

    def not_authenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        body = {"code": "not_authenticated", "message": "Sign in to use the API."}
        return api.create_response(request, body, status=401)

    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        code = HTTP_ERROR_CODES.get(exc.status_code, "invalid_request")
        if exc.status_code == 403 and "CSRF" in str(exc):
            code = "csrf_failed"
        body = {"code": code, "message": str(exc)}
        return api.create_response(request, body, status=exc.status_code)

    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return api.create_response(
            request, {"code": "not_found", "message": "Not found."}, status=404
        )

    def database_unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.warning("database lost during %s %s: %s", request.method, request.path, exc)
        body = {"code": "database_unavailable", "message": outage.MESSAGE}
        response = api.create_response(request, body, status=503)
        response["Retry-After"] = outage.RETRY_AFTER
        return response

    def server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
        # A bug, never bad input: logged with its traceback, answered without one.
        logger.exception("API error on %s %s", request.method, request.path, exc_info=exc)
        body = {"code": "server_error", "message": "Something went wrong on our side."}
        return api.create_response(request, body, status=500)

    handlers: list[tuple[type[Exception], Callable[..., HttpResponse]]] = [
        (DomainError, domain_error),
        (ValidationError, invalid_request),
        (AuthenticationError, not_authenticated),
        (HttpError, http_error),
        (Http404, not_found),
        (OperationalError, database_unavailable),
        (InterfaceError, database_unavailable),
        (Exception, server_error),
    ]
    for exc_class, handler in handlers:
        api.add_exception_handler(exc_class, handler)
