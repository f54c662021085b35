"""The Alma-compatible Users API under /almaws/v1 and its OpenAPI document
(/almaws/v1/openapi.json).

Its own ``NinjaAPI``: routing, query-parameter parsing, the permission each operation declares
(``api_support.permission_required``, checked with authentication before anything is read) and
the OpenAPI document come from django-ninja. Bodies are not ninja's: Alma speaks XML by
default and JSON on request, with one object shape for both (``formats``), so every operation
reads ``request.body`` itself and answers an ``HttpResponse`` built by ``answer``; errors are
Alma's ``web_service_result`` (``errors``). Every answer to a key carries
``X-Exl-Api-Remaining`` (the key's calls left today).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Annotated, Any, TypeVar

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Router
from ninja.errors import AuthenticationError, HttpError, ValidationError

from patronage.access import authentication
from patronage.access.permissions import Permission
from patronage.accounts import selectors
from patronage.api_support import NO_NUL, acting_user, permission_required
from patronage.audit.context import Channel
from patronage.circulation import deletion
from patronage.errors import Conflict, DomainError
from patronage.privacy import personal_data as personal_data_export
from patronage.privacy.personal_data_alma import ALMA_NODE, alma_value
from patronage.privacy.reads import (
    EXPORTED,
    SEARCHED,
    VIEWED,
    note_read,
    read_subject,
    reads_patron_data,
)

from . import errors, query, schema, services, users
from .auth import USAGE_ATTR, AlmaKeyAuth, key_auth, read_key_auth
from .errors import AlmaError, invalid_parameter
from .formats import JSON, XML, BadBody, Node, Rendered, parse_body, render

logger = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])
# Every text parameter: PostgreSQL refuses NUL characters, so they are bad input everywhere.
Text = Annotated[str, NO_NUL]

api = NinjaAPI(
    title="Patronage — Alma-compatible Users API",
    version="1",
    urls_namespace="almaws",
    description=(
        "The Users API of Ex Libris Alma, answered by Patronage: the same paths, parameters, "
        "objects (XML by default, JSON with `Accept: application/json` or `format=json`) and "
        "errors, so Alma clients work by changing only the base URL and the API key."
    ),
    auth=[key_auth],
    docs_url="/docs",
)
router = Router()

# --- answers ----------------------------------------------------------------------------------


def _respond(request: HttpRequest, rendered: Rendered | None, status: int) -> HttpResponse:
    if rendered is None:
        response = HttpResponse(status=status)
    else:
        response = HttpResponse(
            rendered.content, status=status, content_type=f"{rendered.content_type};charset=UTF-8"
        )
    usage = getattr(request, USAGE_ATTR, None)
    if usage is not None:
        response["X-Exl-Api-Remaining"] = str(usage.remaining_today)
    return response


def answer(request: HttpRequest, node: Node, value: Mapping[str, Any]) -> HttpResponse:
    return _respond(request, render(request, node, value), 200)


def no_content(request: HttpRequest) -> HttpResponse:
    return _respond(request, None, 204)


def refuse(request: HttpRequest, error: AlmaError) -> HttpResponse:
    return _respond(request, errors.render_error(request, error), error.status)


def _install_error_handlers() -> None:
    def alma_error(request: HttpRequest, exc: AlmaError) -> HttpResponse:
        return refuse(request, exc)

    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        return refuse(request, errors.from_domain(exc))

    def bad_parameter(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        first = exc.errors[0] if exc.errors else {}
        name = str(first.get("loc", ("", "?"))[-1])
        return refuse(request, invalid_parameter(name, request.GET.get(name, "")))

    def not_authenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return refuse(request, AlmaError(errors.UNAUTHORIZED, errors.BAD_KEY))

    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return refuse(request, AlmaError(errors.GENERAL_ERROR, str(exc), status=exc.status_code))

    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return refuse(request, AlmaError(errors.GENERAL_ERROR, "Not found.", status=404))

    def server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("Alma API error on %s %s", request.method, request.path, exc_info=exc)
        error = AlmaError(
            "60101",
            "General Error: An error has occurred while processing the request.",
            status=500,
        )
        return refuse(request, error)

    handlers: list[tuple[type[Exception], Callable[..., HttpResponse]]] = [
        (AlmaError, alma_error),
        (DomainError, domain_error),
        (ValidationError, bad_parameter),
        (AuthenticationError, not_authenticated),
        (HttpError, http_error),
        (Http404, not_found),
        (Exception, server_error),
    ]
    for exc_class, handler in handlers:
        api.add_exception_handler(exc_class, handler)


_install_error_handlers()


# --- declaring operations ---------------------------------------------------------------------


def _documented(body: Node | None, ok: int) -> dict[str, Any]:
    either = {XML: {"schema": {"type": "string"}}, JSON: {"schema": {"type": "object"}}}
    documented: dict[str, Any] = {
        "responses": {
            ok: {
                "description": "OK" if ok == 200 else "No content",
                **({"content": either} if ok == 200 else {}),
                "headers": {"X-Exl-Api-Remaining": {"schema": {"type": "integer"}}},
            },
            400: {"description": "Bad Request (web_service_result)", "content": either},
            403: {"description": "Forbidden (web_service_result)", "content": either},
            429: {"description": "Governance threshold (web_service_result)", "content": either},
        }
    }
    if body is not None:
        documented["requestBody"] = {
            "required": True,
            "description": f"A <{body.name}> object, in XML or JSON.",
            "content": either,
        }
    return documented


def operation(
    method: str,
    path: str,
    permission: Permission,
    *,
    summary: str,
    body: Node | None = None,
    ok: int = 200,
    auth: AlmaKeyAuth = key_auth,
    reads: str = "",
) -> Callable[[F], F]:
    """An Alma operation: its method and path, the permission it needs, its documentation;
    ``reads``: the read-log verb of an operation that reads patron data (privacy.reads), whose
    patron ``_user`` names once found."""

    def decorate(view: F) -> F:
        if reads:
            view = reads_patron_data(reads, Channel.API, subject_in_path=False)(view)
        view = permission_required(permission)(view)
        router.api_operation(
            [method],
            path,
            auth=[auth],
            summary=summary,
            operation_id=f"{method.lower()}/almaws/v1{path}",  # as the reference names it
            response={ok: None},  # answers are built by answer(), not by ninja
            openapi_extra=_documented(body, ok),
        )(view)
        return view

    return decorate


def _split(value: str) -> set[str]:
    return {part.strip() for part in value.split(",") if part.strip()}


def _body(request: HttpRequest, node: Node) -> dict[str, Any]:
    try:
        return parse_body(request, node)
    except BadBody as exc:
        raise AlmaError(errors.INVALID_XML, f"No valid XML was given. {exc}".strip()) from None


def _user(request: HttpRequest, user_id: Text, user_id_type: Text = "all_unique") -> Any:
    """The user the path names, as the caller may see them; on an operation that reads patron
    data, the subject of its read event (and the access reason checked for them)."""
    user = users.lookup(acting_user(request), user_id, user_id_type)
    read_subject(request, user.pk)
    return user


# --- users ------------------------------------------------------------------------------------

MAX_LIMIT = 100


def _check_page(limit: int, offset: int) -> None:
    if not 0 <= limit <= MAX_LIMIT:
        raise invalid_parameter("limit", str(limit), "Valid values are 0-100.")
    if offset < 0:
        raise invalid_parameter("offset", str(offset))


@operation("GET", "/users", Permission.USERS_VIEW, summary="Retrieve users", reads=SEARCHED)
def list_users(
    request: HttpRequest,
    limit: int = 10,
    offset: int = 0,
    q: Text = "",
    order_by: Text = "",
    expand: Text = "none",
) -> HttpResponse:
    viewer = acting_user(request)
    _check_page(limit, offset)
    found = query.search(viewer, q, order_by)
    total = found.count()
    note_read(request, query=q, results=total)
    page = list(found[offset : offset + limit]) if limit else []
    full = expand == "full"
    describe = users.Descriptions()
    listed = [
        users.user_object(request, viewer, user)
        if full
        else users.brief_object(request, user, describe)
        for user in page
    ]
    return answer(request, schema.USERS, {"user": listed, "total_record_count": total})


# Before /users/{user_id}, which would take their names for a user's: the reference's test
# that a key is configured correctly (for reads; with POST, for writes too). A key that is
# not gets Alma's refusal (400 UNAUTHORIZED) from the authentication, as on every operation.
def _key_test(request: HttpRequest) -> HttpResponse:
    result = f"{request.method} - the API key is configured correctly for the Users API."
    return answer(request, schema.KEY_TEST, {"result": result})


@operation("GET", "/users/operation/test", Permission.USERS_VIEW, summary="GET User Test API")
def check_key_for_reads(request: HttpRequest) -> HttpResponse:
    return _key_test(request)


@operation("POST", "/users/operation/test", Permission.USERS_EDIT, summary="POST User Test API")
def check_key_for_writes(request: HttpRequest) -> HttpResponse:
    return _key_test(request)


@operation(
    "GET",
    "/users/staff-login-report",
    Permission.REPORTS_ACCESS,
    summary="Retrieve Staff Login Report.",
)
def staff_login_report(
    request: HttpRequest,
    login_date_from: Text = "",
    login_date_to: Text = "",
    successful: Text = "true",
    limit: int = 10,
    offset: int = 0,
) -> HttpResponse:
    _check_page(limit, offset)
    events = services.login_events(
        date_from=login_date_from, date_to=login_date_to, successful=successful
    )
    page = list(events[offset : offset + limit]) if limit else []
    value = {
        "login_event": [services.login_event_object(event) for event in page],
        "total_record_count": events.count(),
    }
    return answer(request, schema.LOGIN_EVENTS, value)


@operation("POST", "/users", Permission.USERS_CREATE, summary="Create user", body=schema.USER)
def create_user(request: HttpRequest) -> HttpResponse:
    body = _body(request, schema.USER)
    user = users.create(request, body)
    return answer(request, schema.USER, users.user_object(request, acting_user(request), user))


@operation(
    "GET", "/users/{user_id}", Permission.USERS_VIEW, summary="Get user details", reads=VIEWED
)
def get_user(
    request: HttpRequest,
    user_id: Text,
    user_id_type: Text = "all_unique",
    view: Text = "full",
    expand: Text = "none",
) -> HttpResponse:
    viewer = acting_user(request)
    if view not in ("full", "brief"):
        raise invalid_parameter("view", view, "Use full or brief.")
    user = _user(request, user_id, user_id_type)
    value = users.user_object(request, viewer, user, brief=view == "brief", expand=_split(expand))
    return answer(request, schema.USER, value)


@operation(
    "PUT",
    "/users/{user_id}",
    Permission.USERS_EDIT,
    summary="Update User Details",
    body=schema.USER,
)
def update_user(
    request: HttpRequest, user_id: Text, user_id_type: Text = "all_unique", override: Text = ""
) -> HttpResponse:
    viewer = acting_user(request)
    user = users.lookup(viewer, user_id, user_id_type)
    body = _body(request, schema.USER)
    user = users.replace(request, user, body, _split(override))
    return answer(request, schema.USER, users.user_object(request, viewer, user))


@operation("DELETE", "/users/{user_id}", Permission.USERS_DELETE, summary="Delete user", ok=204)
def delete_user(
    request: HttpRequest, user_id: Text, user_id_type: Text = "all_unique"
) -> HttpResponse:
    """Deletion by the rules of patron services (circulation.deletion): no balance due, no
    loans, not one's own account...; a refusal is Alma's 401850 with the reasons."""
    try:
        user = users.lookup(acting_user(request), user_id, user_id_type)
    except AlmaError as exc:
        if exc.code != errors.USER_NOT_FOUND:
            raise
        raise AlmaError(
            "401890", f"User with identifier {user_id} of type {user_id_type} was not found."
        ) from None
    try:
        deletion.delete_user(actor=users.actor_of(request), user=user, reason="Alma API DELETE")
    except Conflict as exc:
        raise AlmaError(
            "401850",
            f"Failed to delete user with identifier {user_id} of type {user_id_type}. "
            f"{exc.message}",
        ) from None
    return no_content(request)


@operation(
    "POST",
    "/users/{user_id}",
    Permission.USERS_VIEW,
    summary="Authenticate or refresh user",
    ok=204,
    auth=read_key_auth,
)
def authenticate_user(
    request: HttpRequest,
    user_id: Text,
    user_id_type: Text = "all_unique",
    op: Text = "auth",
    password: Text = "",
) -> HttpResponse:
    """``op=auth`` checks the user's password (header ``Exl-User-Pw``, or ``password``) with
    the sign-in throttling and audit of any sign-in; ``op=refresh`` re-copies a linked
    account, which Patronage does not have."""
    user = users.lookup(acting_user(request), user_id, user_id_type)
    if op == "refresh":
        raise AlmaError("60229", "Failed to find linked account for user.")
    if op != "auth":
        raise invalid_parameter("op", op, "Use auth or refresh.")
    secret = request.headers.get("Exl-User-Pw") or password
    ip = request.META.get("REMOTE_ADDR", "")
    failed = AlmaError("401866", "User authentication failed")
    if authentication.is_throttled(user.primary_id, ip):
        authentication.record_throttled(primary_id=user.primary_id, ip=ip, channel=Channel.API)
        raise failed
    if not (secret and user.is_active and user.check_password(secret)):
        authentication.record_login_failure(
            primary_id=user.primary_id, ip=ip, channel=Channel.API, reason="alma_api_auth"
        )
        raise failed
    authentication.record_login(user=user, ip=ip, channel=Channel.API, second_factor=False)
    return no_content(request)


# --- fines and fees ---------------------------------------------------------------------------


@operation(
    "GET",
    "/users/{user_id}/fees",
    Permission.FINES_VIEW,
    summary="Get user fines/fees",
    reads=VIEWED,
)
def list_fees(
    request: HttpRequest, user_id: Text, user_id_type: Text = "all_unique", status: Text = "ACTIVE"
) -> HttpResponse:
    user = _user(request, user_id, user_id_type)
    fees = services.user_fees(acting_user(request), user, status)
    return answer(request, schema.FEES, services.fees_object(request, user, fees))


@operation(
    "POST",
    "/users/{user_id}/fees",
    Permission.FINES_CREATE,
    summary="Create user fine/fee",
    body=schema.FEE,
)
def create_fee(
    request: HttpRequest, user_id: Text, user_id_type: Text = "all_unique"
) -> HttpResponse:
    user = _user(request, user_id, user_id_type)
    fee = services.create_fee(request, user, _body(request, schema.FEE))
    fee = services.get_fee(acting_user(request), user, str(fee.pk))
    return answer(request, schema.FEE, services.fee_object(request, user, fee))


@operation("POST", "/users/{user_id}/fees/all", Permission.FINES_PAY, summary="Pay user fines/fees")
def pay_all_fees(
    request: HttpRequest,
    user_id: Text,
    user_id_type: Text = "all_unique",
    op: Text = "",
    amount: Text = "",
    method: Text = "",
    comment: Text = "",
    external_transaction_id: Text = "",
) -> HttpResponse:
    user = _user(request, user_id, user_id_type)
    services.pay_all(
        request,
        user,
        {
            "op": op,
            "amount": amount,
            "method": method,
            "comment": comment,
            "external_transaction_id": external_transaction_id,
        },
    )
    fees = services.user_fees(acting_user(request), user, "ACTIVE")
    return answer(request, schema.FEES, services.fees_object(request, user, fees))


@operation(
    "GET",
    "/users/{user_id}/fees/{fee_id}",
    Permission.FINES_VIEW,
    summary="Get user fine/fee",
    reads=VIEWED,
)
def get_fee(
    request: HttpRequest, user_id: Text, fee_id: Text, user_id_type: Text = "all_unique"
) -> HttpResponse:
    user = _user(request, user_id, user_id_type)
    fee = services.get_fee(acting_user(request), user, fee_id)
    return answer(request, schema.FEE, services.fee_object(request, user, fee))


@operation(
    "POST",
    "/users/{user_id}/fees/{fee_id}",
    Permission.FINES_VIEW,
    summary="Pay/waive/dispute/restore user fine/fee",
)
def fee_operation(
    request: HttpRequest,
    user_id: Text,
    fee_id: Text,
    user_id_type: Text = "all_unique",
    op: Text = "",
    amount: Text = "",
    method: Text = "",
    reason: Text = "",
    comment: Text = "",
    external_transaction_id: Text = "",
) -> HttpResponse:
    """The permission of the operation itself (fines:fee:pay, :waive, :dispute) is checked by
    the ledger's action; seeing the fee (fines:fee:view) is needed to reach it."""
    viewer = acting_user(request)
    user = _user(request, user_id, user_id_type)
    fee = services.get_fee(viewer, user, fee_id)
    params = {
        "amount": amount,
        "method": method,
        "reason": reason,
        "comment": comment,
        "external_transaction_id": external_transaction_id,
    }
    services.fee_operation(request, fee, op, params)
    fee = services.get_fee(viewer, user, fee_id)
    return answer(request, schema.FEE, services.fee_object(request, user, fee))


# --- loans ------------------------------------------------------------------------------------


@operation(
    "GET",
    "/users/{user_id}/loans",
    Permission.FULFILLMENT_LOAN_VIEW,
    summary="Retrieve user loans",
    reads=VIEWED,
)
def list_loans(
    request: HttpRequest,
    user_id: Text,
    user_id_type: Text = "all_unique",
    limit: int = 10,
    offset: int = 0,
    order_by: Text = "id",
    direction: Text = "ASC",
    expand: Text = "",
    loan_status: Text = "Active",
) -> HttpResponse:
    _check_page(limit, offset)
    user = _user(request, user_id, user_id_type)
    loans = services.user_loans(
        acting_user(request), user, loan_status=loan_status, order_by=order_by, direction=direction
    )
    page = list(loans[offset : offset + limit]) if limit else []
    value = {
        "item_loan": [services.loan_object(request, user, loan) for loan in page],
        "total_record_count": loans.count(),
    }
    return answer(request, schema.LOANS, value)


@operation(
    "POST",
    "/users/{user_id}/loans",
    Permission.FULFILLMENT_LOANS,
    summary="Create user loan",
    body=schema.LOAN,
)
def create_loan(
    request: HttpRequest,
    user_id: Text,
    user_id_type: Text = "all_unique",
    item_barcode: Text = "",
    item_pid: Text = "",
) -> HttpResponse:
    user = _user(request, user_id, user_id_type)
    body = _body(request, schema.LOAN) if request.body.strip() else {}
    loan = services.create_loan(request, user, item_barcode, body)
    loan = services.get_loan(acting_user(request), user, str(loan.pk))
    return answer(request, schema.LOAN, services.loan_object(request, user, loan))


@operation(
    "GET",
    "/users/{user_id}/loans/{loan_id}",
    Permission.FULFILLMENT_LOAN_VIEW,
    summary="Loan by user id and loan id",
    reads=VIEWED,
)
def get_loan(
    request: HttpRequest, user_id: Text, loan_id: Text, user_id_type: Text = "all_unique"
) -> HttpResponse:
    user = _user(request, user_id, user_id_type)
    loan = services.get_loan(acting_user(request), user, loan_id)
    return answer(request, schema.LOAN, services.loan_object(request, user, loan))


@operation(
    "POST", "/users/{user_id}/loans/{loan_id}", Permission.FULFILLMENT_LOANS, summary="Renew loan"
)
def renew_loan(
    request: HttpRequest,
    user_id: Text,
    loan_id: Text,
    user_id_type: Text = "all_unique",
    op: Text = "",
) -> HttpResponse:
    viewer = acting_user(request)
    user = _user(request, user_id, user_id_type)
    loan = services.get_loan(viewer, user, loan_id)
    services.renew_loan(request, loan, op)
    loan = services.get_loan(viewer, user, loan_id)
    return answer(request, schema.LOAN, services.loan_object(request, user, loan))


@operation(
    "PUT",
    "/users/{user_id}/loans/{loan_id}",
    Permission.FULFILLMENT_DUE_DATES,
    summary="Change loan due date",
    body=schema.LOAN,
)
def change_due_date(
    request: HttpRequest, user_id: Text, loan_id: Text, notify_user: bool = False
) -> HttpResponse:
    viewer = acting_user(request)
    user = _user(request, user_id)
    loan = services.get_loan(viewer, user, loan_id)
    services.change_due_date(request, loan, _body(request, schema.LOAN))
    loan = services.get_loan(viewer, user, loan_id)
    return answer(request, schema.LOAN, services.loan_object(request, user, loan))


# --- attachments ------------------------------------------------------------------------------


@operation(
    "GET",
    "/users/{user_id}/attachments",
    Permission.USERS_VIEW_DETAILS,
    summary="Get User Attachments",
    reads=VIEWED,
)
def list_attachments(
    request: HttpRequest, user_id: Text, user_id_type: Text = "all_unique"
) -> HttpResponse:
    viewer = acting_user(request)
    user = _user(request, user_id, user_id_type)
    found = list(selectors.attachments_of(viewer, user).select_related("created_by"))
    value = {
        "attachment": [services.attachment_object(request, user, a) for a in found],
        "total_record_count": len(found),
    }
    return answer(request, schema.ATTACHMENTS, value)


@operation(
    "POST",
    "/users/{user_id}/attachments",
    Permission.USERS_MANAGE_ATTACHMENTS,
    summary="Create User Attachment",
    body=schema.ATTACHMENT,
)
def add_attachment(
    request: HttpRequest, user_id: Text, user_id_type: Text = "all_unique"
) -> HttpResponse:
    user = _user(request, user_id, user_id_type)
    attachment = services.add_attachment(request, user, _body(request, schema.ATTACHMENT))
    return answer(request, schema.ATTACHMENT, services.attachment_object(request, user, attachment))


@operation(
    "GET",
    "/users/{user_id}/attachments/{attachment_id}",
    Permission.USERS_VIEW_DETAILS,
    summary="Get User Attachment",
    reads=VIEWED,
)
def get_attachment(
    request: HttpRequest,
    user_id: Text,
    attachment_id: Text,
    user_id_type: Text = "all_unique",
    expand: Text = "",
) -> HttpResponse:
    if expand not in ("", "content", "content_no_encoding"):
        raise invalid_parameter("expand", expand, "Use content or content_no_encoding.")
    user = _user(request, user_id, user_id_type)
    attachment = services.get_attachment(acting_user(request), user, attachment_id)
    value = services.attachment_object(request, user, attachment, content=expand)
    return answer(request, schema.ATTACHMENT, value)


# --- personal data ----------------------------------------------------------------------------


@operation(
    "GET",
    "/users/{user_id}/personal-data",
    Permission.PRIVACY_PERSONAL_DATA_EXPORT,
    summary="Get user - data portability",
    reads=EXPORTED,
)
def personal_data(
    request: HttpRequest, user_id: Text, user_id_type: Text = "all_unique"
) -> HttpResponse:
    """The privacy app's personal-data export, in Alma's object (an export in the access log,
    recorded by ``reads=EXPORTED`` like every other read here)."""
    user = _user(request, user_id, user_id_type)
    data = personal_data_export.export_data(actor=users.actor_of(request), user=user)
    note_read(request, **personal_data_export.details("alma"))
    return answer(request, ALMA_NODE, alma_value(data))


# --- what Patronage does not have yet: valid empty lists, Alma's "not supported" --------------

NOT_SUPPORTED = "Action currently not supported."
UNSUPPORTED_LISTS = (
    (
        "/users/{user_id}/requests",
        "user_requests",
        Permission.FULFILLMENT_LOAN_VIEW,
        Permission.FULFILLMENT_REQUESTS,
        "requests",
    ),
    (
        "/users/{user_id}/deposits",
        "user_deposits",
        Permission.FULFILLMENT_LOAN_VIEW,
        Permission.FULFILLMENT_REQUESTS,
        "deposits",
    ),
    (
        "/users/{user_id}/purchase-requests",
        "user_purchase_requests",
        Permission.USERS_VIEW_DETAILS,
        Permission.ACQ_PURCHASING,
        "purchase requests",
    ),
)


def _unsupported_list(
    path: Text, root: Text, read: Permission, write: Permission, what: Text
) -> None:
    node = schema.empty_list(root)

    @operation("GET", path, read, summary=f"Retrieve user {what} (none in Patronage)")
    def listing(
        request: HttpRequest, user_id: Text, user_id_type: Text = "all_unique"
    ) -> HttpResponse:
        _user(request, user_id, user_id_type)
        return answer(request, node, {"total_record_count": 0})

    @operation("POST", path, write, summary=f"Create user {what} (not supported)")
    def creating(
        request: HttpRequest, user_id: Text, user_id_type: Text = "all_unique"
    ) -> HttpResponse:
        _user(request, user_id, user_id_type)
        raise AlmaError(errors.NOT_SUPPORTED, f"{NOT_SUPPORTED} Patronage has no {what}.")

    @operation("GET", path + "/{entry_id}", read, summary=f"Get a user's {what[:-1]} (none)")
    def getting(
        request: HttpRequest, user_id: Text, entry_id: Text, user_id_type: Text = "all_unique"
    ) -> HttpResponse:
        _user(request, user_id, user_id_type)
        raise AlmaError(errors.GENERAL_ERROR, f"No such {what[:-1]}: {entry_id}.")

    listing.__name__ = f"list_{root}"
    creating.__name__ = f"create_{root}"
    getting.__name__ = f"get_{root}"


for _path, _root, _read, _write, _what in UNSUPPORTED_LISTS:
    _unsupported_list(_path, _root, _read, _write, _what)


api.add_router("", router)
