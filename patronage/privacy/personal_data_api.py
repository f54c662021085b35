"""The personal-data export in the native API (mounted in ``patronage.api``):

* ``GET /users/{user_id}/personal-data?format=json|xml|html|pdf`` -- everything held about
  the user, as a download (``privacy:personal_data:export``); a ``user.exported`` event in
  the read-access log (with ``X-Access-Reason`` when given; 422 when the setting requires
  one and it is missing);
* ``POST /users/{user_id}/personal-information-letter`` -- e-mail it, as the Personal
  Information Letter with the XML attached, to the user's preferred address
  (``privacy:personal_data:send_letter``); 422 ``no_email`` when they have none.

A user the caller may not see is 404; an unknown format 422.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Path, Query, Router, Schema

from patronage.access.permissions import Permission
from patronage.accounts import selectors as accounts
from patronage.api_support import MAX_ID, acting_user, error_responses, permission_required
from patronage.audit.context import Actor, Channel

from . import personal_data
from .reads import EXPORTED, MAX_REASON, REASON_HEADER, note_read, reads_patron_data

router = Router()

Id = Annotated[int, Path(ge=1, le=MAX_ID)]


class FormatQuery(Schema):
    format: Literal["json", "xml", "html", "pdf"] = "json"


class LetterOut(Schema):
    sent_to: str


def download(export: personal_data.Export) -> HttpResponse:
    response = HttpResponse(export.content, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response


@router.get(
    "/users/{user_id}/personal-data",
    response={200: None, **error_responses(404)},
    summary="Everything held about a user (JSON, Alma-style XML, HTML letter or PDF)",
)
@permission_required(Permission.PRIVACY_PERSONAL_DATA_EXPORT)
@reads_patron_data(EXPORTED, Channel.API)
def export(request: HttpRequest, user_id: Id, query: Query[FormatQuery]) -> HttpResponse:
    user = accounts.get_user(acting_user(request), user_id)
    done = personal_data.export(
        actor=Actor.from_request(request, Channel.API), user=user, fmt=query.format
    )
    note_read(request, **personal_data.details(query.format))
    return download(done)


@router.post(
    "/users/{user_id}/personal-information-letter",
    response={200: LetterOut, **error_responses(404)},
    summary="E-mail the Personal Information Letter (the XML record attached) to the user",
)
@permission_required(Permission.PRIVACY_PERSONAL_DATA_LETTER)
def send_letter(request: HttpRequest, user_id: Id) -> dict[str, Any]:
    user = accounts.get_user(acting_user(request), user_id)
    reason = request.headers.get(REASON_HEADER, "").strip()[:MAX_REASON]
    address = personal_data.send_letter(
        actor=Actor.from_request(request, Channel.API), user=user, reason=reason
    )
    return {"sent_to": address}
