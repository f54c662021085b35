"""Errors as Alma sends them: a ``web_service_result`` with ``errorsExist`` and a list of
``{errorCode, errorMessage, trackingId}``, in XML or JSON, with Alma's codes and statuses.

Domain errors (``patronage.errors``) are mapped here, once, to Alma's codes; the messages
stay ours (they say what to fix), the codes are the ones Alma clients test for.
"""

from __future__ import annotations

import json
import uuid

from django.http import HttpRequest
from lxml import etree

from patronage.errors import DomainError, ValidationFailed

from .formats import JSON, XML, XML_DECLARATION, Rendered, wants_json

NAMESPACE = "http://com/exlibris/urm/general/xmlbeans"

# Alma's codes (alma-users-api.openapi.json) and a few of its gateway's.
USER_NOT_FOUND = "401861"
IDENTIFIER_EXISTS = "401851"
INVALID_USER_GROUP = "401852"
MANDATORY_FIELD_MISSING = "401664"
FEE_NOT_FOUND = "401665"
INVALID_XML = "401676"
INVALID_ACCOUNT_TYPE = "401857"
INVALID_TYPE = "401864"
WEAK_PASSWORD = "500038"  # noqa: S105 (an error code)
GENERAL_ERROR = "402119"
PARAMETER_INVALID = "40166411"
UNAUTHORIZED = "UNAUTHORIZED"
INVALID_API_KEY = "INVALID_API_KEY"
PER_SECOND_THRESHOLD = "PER_SECOND_THRESHOLD"
DAILY_THRESHOLD = "DAILY_THRESHOLD"
NOT_SUPPORTED = "60102"
BAD_KEY = "API-key not defined or not configured to allow this API."


class AlmaError(Exception):
    def __init__(self, code: str, message: str, *, status: int = 400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def user_not_found(user_id: str) -> AlmaError:
    return AlmaError(USER_NOT_FOUND, f"User with identifier {user_id} was not found.")


def invalid_parameter(name: str, value: str, detail: str = "") -> AlmaError:
    message = f"Parameter value invalid: {name}={value}"
    return AlmaError(PARAMETER_INVALID, f"{message}. {detail}".strip() if detail else message)


def _mandatory_field(errors: dict[str, str]) -> str | None:
    for name, message in errors.items():
        if message.endswith("is mandatory."):
            return name
    return None


def from_domain(exc: DomainError) -> AlmaError:
    """The Alma error for a refusal of ours."""
    if exc.status == 403:
        return AlmaError(UNAUTHORIZED, exc.message, status=403)
    if exc.status == 404:
        return AlmaError(GENERAL_ERROR, exc.message)
    if isinstance(exc, ValidationFailed):
        errors = exc.errors
        if exc.code == "access_reason_required":  # privacy.reads: the setting asks for one
            return AlmaError(
                GENERAL_ERROR,
                f"{errors.get('access_reason', exc.message)} Give it in the X-Access-Reason "
                "header.",
            )
        if exc.code == "identifier_in_use":
            return AlmaError(IDENTIFIER_EXISTS, exc.message)
        if exc.code == "weak_password":
            return AlmaError(WEAK_PASSWORD, exc.message)
        if (field := _mandatory_field(errors)) is not None:
            return AlmaError(MANDATORY_FIELD_MISSING, f"Mandatory field is missing: {field}")
        if "user_group" in errors:
            return AlmaError(INVALID_USER_GROUP, "Given user group is not legal.")
        if "account_type" in errors:
            return AlmaError(
                INVALID_ACCOUNT_TYPE,
                "The given user account type is illegal (must be INTERNAL/EXTERNAL).",
            )
        if {"id_type", "types"} & set(errors):
            return AlmaError(INVALID_TYPE, exc.message)
    return AlmaError(GENERAL_ERROR, exc.message)


def tracking_id() -> str:
    return f"E01-{uuid.uuid4().hex[:24].upper()}"


def render_error(request: HttpRequest, error: AlmaError) -> Rendered:
    entry = {"errorCode": error.code, "errorMessage": error.message, "trackingId": tracking_id()}
    if wants_json(request):
        body = {"errorsExist": True, "errorList": {"error": [entry]}, "result": None}
        return Rendered(json.dumps(body, ensure_ascii=False).encode(), JSON)
    root = etree.Element("web_service_result", nsmap={None: NAMESPACE})
    etree.SubElement(root, "errorsExist").text = "true"
    error_element = etree.SubElement(etree.SubElement(root, "errorList"), "error")
    for name, value in entry.items():
        etree.SubElement(error_element, name).text = value
    return Rendered(XML_DECLARATION + etree.tostring(root, encoding="UTF-8"), XML)
