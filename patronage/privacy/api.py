"""The privacy part of the native API (mounted in ``patronage.api``): the access-log reports,
the privacy settings, and the legal-process register.

Register operations need ``privacy:legal_request:manage`` (the Privacy Officer, General
Counsel); counsel's decisions (resist, validate an order, refuse) need
``privacy:legal_request:counsel``. A request outside the caller's scope, or missing, is 404.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Annotated, Any

from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from ninja import File, Form, Path, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from patronage.access.permissions import Permission
from patronage.accounts import selectors as accounts
from patronage.api_support import MAX_ID, acting_user, error_responses, permission_required
from patronage.audit.context import Actor, Channel
from patronage.audit.models import AuditEvent

from . import actions, selectors
from .models import LegalRequest, PrivacySettings

router = Router()

Id = Annotated[int, Path(ge=1, le=MAX_ID)]
CREATED = 201


def _actor(request: HttpRequest) -> Actor:
    return Actor.from_request(request, Channel.API)


# --- the access log ---------------------------------------------------------------------------


class PeriodQuery(Schema):
    start: datetime.date | None = None
    end: datetime.date | None = None
    page: int = Field(1, ge=1, le=100_000)
    page_size: int = Field(100, ge=1, le=1000)


class ReadEventOut(Schema):
    id: int
    occurred_at: datetime.datetime
    actor_id: int | None
    actor: str
    channel: str
    verb: str
    user_id: int | None
    reason: str
    details: dict[str, Any]


class ReadEventPage(Schema):
    items: list[ReadEventOut]
    count: int
    page: int
    page_size: int


def _event_page(events: Any, paging: PeriodQuery) -> dict[str, Any]:
    count = events.count()
    start = (paging.page - 1) * paging.page_size
    chosen: list[AuditEvent] = list(events[start : start + paging.page_size])
    return {
        "items": [
            {
                "id": e.pk,
                "occurred_at": e.occurred_at,
                "actor_id": e.actor_id,
                "actor": e.actor_label,
                "channel": e.channel,
                "verb": e.verb,
                "user_id": e.subject_id,
                "reason": e.reason,
                "details": e.details,
            }
            for e in chosen
        ],
        "count": count,
        "page": paging.page,
        "page_size": paging.page_size,
    }


@router.get(
    "/privacy/access-log/patrons/{user_id}",
    response={200: ReadEventPage, **error_responses(404)},
    summary="Who looked at a patron",
)
@permission_required(Permission.PRIVACY_ACCESS_LOG)
def views_of(request: HttpRequest, user_id: Id, paging: Query[PeriodQuery]) -> dict[str, Any]:
    viewer = acting_user(request)
    patron = accounts.get_user(viewer, user_id)
    period = selectors.Period.of(paging.start, paging.end)
    return _event_page(selectors.views_of(viewer, patron.pk, period), paging)


@router.get(
    "/privacy/access-log/staff/{user_id}",
    response={200: ReadEventPage, **error_responses(404)},
    summary="What a staff member looked at",
)
@permission_required(Permission.PRIVACY_ACCESS_LOG)
def views_by(request: HttpRequest, user_id: Id, paging: Query[PeriodQuery]) -> dict[str, Any]:
    viewer = acting_user(request)
    member = accounts.get_user(viewer, user_id)
    period = selectors.Period.of(paging.start, paging.end)
    return _event_page(selectors.views_by(viewer, member.pk, period), paging)


class VolumeRowOut(Schema):
    actor_id: int
    actor: str
    patrons: int
    views: int
    ratio: Decimal


class VolumeOut(Schema):
    start: datetime.datetime
    end: datetime.datetime
    median: Decimal
    factor: Decimal
    minimum: int
    staff_count: int
    unusual: list[VolumeRowOut]


@router.get(
    "/privacy/unusual-volume",
    response={200: VolumeOut, **error_responses()},
    summary="Staff viewing far more patrons than their peers",
)
@permission_required(Permission.PRIVACY_ACCESS_LOG)
def unusual_volume(request: HttpRequest, paging: Query[PeriodQuery]) -> dict[str, Any]:
    report = selectors.unusual_volume(
        acting_user(request), selectors.Period.of(paging.start, paging.end)
    )
    return {
        "start": report.period.start,
        "end": report.period.end,
        "median": report.median,
        "factor": report.factor,
        "minimum": report.minimum,
        "staff_count": report.staff_count,
        "unusual": [
            {
                "actor_id": r.actor_id,
                "actor": r.actor_label,
                "patrons": r.patrons,
                "views": r.views,
                "ratio": r.ratio,
            }
            for r in report.unusual
        ],
    }


class SettingsOut(Schema):
    access_reason: str
    unusual_volume_factor: Decimal
    unusual_volume_minimum: int


class SettingsPatch(Schema):
    access_reason: str | None = None
    unusual_volume_factor: Decimal | None = None
    unusual_volume_minimum: int | None = None


def _settings_out() -> dict[str, Any]:
    config = PrivacySettings.current()
    return {name: getattr(config, name) for name in actions.SETTING_FIELDS}


@router.get(
    "/privacy/settings",
    response={200: SettingsOut, **error_responses()},
    summary="The privacy settings",
)
@permission_required(Permission.CONFIG_USER_SETTINGS)
def get_settings(request: HttpRequest) -> dict[str, Any]:
    return _settings_out()


@router.patch(
    "/privacy/settings",
    response={200: SettingsOut, **error_responses(400)},
    summary="Change the privacy settings",
)
@permission_required(Permission.CONFIG_USER_SETTINGS)
def change_settings(request: HttpRequest, payload: SettingsPatch) -> dict[str, Any]:
    """The access-reason prompt (off, optional, required); the unusual-volume factor (1.5 to
    100) and minimum (1 to 100,000). An out-of-range value is 422 and nothing is saved."""
    actions.update_settings(actor=_actor(request), changes=payload.model_dump(exclude_unset=True))
    return _settings_out()


# --- the legal-process register ---------------------------------------------------------------


class LegalRequestIn(Schema):
    agency: str = Field(max_length=255)
    agency_contact: str = Field("", max_length=255)
    kind: str
    description: str = Field(max_length=10_000)
    received_on: datetime.date
    supervisor_email: str = Field(max_length=254)
    director_email: str = Field(max_length=254)


class DocumentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    uploaded_at: datetime.datetime


class LegalRequestOut(Schema):
    id: int
    reference: str
    agency: str
    agency_contact: str
    kind: str
    description: str
    received_on: datetime.date
    supervisor_email: str
    director_email: str
    state: str
    state_changed_at: datetime.datetime
    counsel_notes: str
    order_reference: str
    order_validated_at: datetime.datetime | None
    order_user_ids: list[int]
    order_record_kinds: list[str]
    documents: list[DocumentOut]
    released: bool


def _out(legal: LegalRequest) -> dict[str, Any]:
    legal = LegalRequest.objects.get(pk=legal.pk)
    return {
        **{
            name: getattr(legal, name)
            for name in LegalRequestOut.model_fields
            if hasattr(legal, name)
        },
        "order_user_ids": sorted(legal.order_users.values_list("pk", flat=True)),
        "documents": list(legal.documents.all()),
        "released": hasattr(legal, "release"),
    }


class NotesIn(Schema):
    notes: str = Field("", max_length=10_000)


class OrderIn(NotesIn):
    order_reference: str = Field(max_length=255)
    user_ids: list[int] = Field(max_length=1000)
    record_kinds: list[str] = Field(max_length=20)


@router.get(
    "/legal-requests",
    response={200: list[LegalRequestOut], **error_responses()},
    summary="The legal-process register",
)
@permission_required(Permission.PRIVACY_LEGAL_REQUEST)
def list_legal_requests(request: HttpRequest, state: str = "") -> list[dict[str, Any]]:
    return [_out(legal) for legal in selectors.legal_requests(acting_user(request), state)]


@router.post(
    "/legal-requests",
    response={CREATED: LegalRequestOut, **error_responses(400)},
    summary="Record an agency's request for patron records",
)
@permission_required(Permission.PRIVACY_LEGAL_REQUEST)
def record_legal_request(request: HttpRequest, payload: LegalRequestIn) -> Status[Any]:
    """The supervisor and the library director are e-mailed once it is recorded."""
    legal = actions.record_legal_request(actor=_actor(request), fields=payload.model_dump())
    return Status(CREATED, _out(legal))


@router.get(
    "/legal-requests/{request_id}",
    response={200: LegalRequestOut, **error_responses(404)},
    summary="A request of the register",
)
@permission_required(Permission.PRIVACY_LEGAL_REQUEST)
def get_legal_request(request: HttpRequest, request_id: Id) -> dict[str, Any]:
    return _out(selectors.get_legal_request(acting_user(request), request_id))


def _step(request: HttpRequest, request_id: int, action: str, **fields: Any) -> dict[str, Any]:
    legal = selectors.get_legal_request(acting_user(request), request_id)
    return _out(actions.transition(actor=_actor(request), request=legal, action=action, **fields))


@router.post(
    "/legal-requests/{request_id}/refer",
    response={200: LegalRequestOut, **error_responses(400, 404, 409)},
    summary="Refer to General Counsel",
)
@permission_required(Permission.PRIVACY_LEGAL_REQUEST)
def refer(request: HttpRequest, request_id: Id, payload: NotesIn) -> dict[str, Any]:
    return _step(request, request_id, "refer", notes=payload.notes)


@router.post(
    "/legal-requests/{request_id}/withdraw",
    response={200: LegalRequestOut, **error_responses(400, 404, 409)},
    summary="The agency withdrew its request",
)
@permission_required(Permission.PRIVACY_LEGAL_REQUEST)
def withdraw(request: HttpRequest, request_id: Id, payload: NotesIn) -> dict[str, Any]:
    return _step(request, request_id, "withdraw", notes=payload.notes)


@router.post(
    "/legal-requests/{request_id}/resist",
    response={200: LegalRequestOut, **error_responses(400, 404, 409)},
    summary="Counsel: resist until good cause is shown",
)
@permission_required(Permission.PRIVACY_LEGAL_COUNSEL)
def resist(request: HttpRequest, request_id: Id, payload: NotesIn) -> dict[str, Any]:
    return _step(request, request_id, "resist", notes=payload.notes)


@router.post(
    "/legal-requests/{request_id}/refuse",
    response={200: LegalRequestOut, **error_responses(400, 404, 409)},
    summary="Counsel: refuse the request",
)
@permission_required(Permission.PRIVACY_LEGAL_COUNSEL)
def refuse(request: HttpRequest, request_id: Id, payload: NotesIn) -> dict[str, Any]:
    return _step(request, request_id, "refuse", notes=payload.notes)


@router.post(
    "/legal-requests/{request_id}/validate-order",
    response={200: LegalRequestOut, **error_responses(400, 404, 409)},
    summary="Counsel: record a valid order and exactly what it names",
)
@permission_required(Permission.PRIVACY_LEGAL_COUNSEL)
def validate_order(request: HttpRequest, request_id: Id, payload: OrderIn) -> dict[str, Any]:
    """``user_ids``: the patrons the order names; ``record_kinds``: the parts of their records
    it covers (record, identifiers, contact, notes, blocks, loans, fees)."""
    return _step(
        request,
        request_id,
        "validate_order",
        notes=payload.notes,
        order_reference=payload.order_reference,
        user_ids=payload.user_ids,
        record_kinds=payload.record_kinds,
    )


@router.post(
    "/legal-requests/{request_id}/documents",
    response={CREATED: DocumentOut, **error_responses(400, 404)},
    summary="Attach a document (the subpoena, the order, a memo)",
)
@permission_required(Permission.PRIVACY_LEGAL_REQUEST)
def add_document(
    request: HttpRequest, request_id: Id, file: File[UploadedFile], name: Form[str] = ""
) -> Status[Any]:
    legal = selectors.get_legal_request(acting_user(request), request_id)
    document = actions.add_legal_document(
        actor=_actor(request), request=legal, upload=file, name=name
    )
    return Status(CREATED, document)


@router.get(
    "/legal-requests/{request_id}/documents/{document_id}",
    response={200: None, **error_responses(404)},
    summary="Download a document",
)
@permission_required(Permission.PRIVACY_LEGAL_REQUEST)
def download_document(request: HttpRequest, request_id: Id, document_id: Id) -> FileResponse:
    legal = selectors.get_legal_request(acting_user(request), request_id)
    document = selectors.legal_document(legal, document_id)
    return FileResponse(document.file.open("rb"), as_attachment=True, filename=document.name)


@router.post(
    "/legal-requests/{request_id}/release",
    response={200: None, **error_responses(404, 409)},
    summary="Release exactly what the validated order names",
)
@permission_required(Permission.PRIVACY_LEGAL_REQUEST)
def release(request: HttpRequest, request_id: Id) -> HttpResponse:
    """Refused (409 ``order_not_validated``) unless counsel has recorded a valid order; the
    answer is the release itself, a JSON document marked ``legal_release``."""
    legal = selectors.get_legal_request(acting_user(request), request_id)
    done = actions.release_records(actor=_actor(request), request=legal)
    return JsonResponse(done.content, json_dumps_params={"indent": 2})


@router.get(
    "/legal-requests/{request_id}/release",
    response={200: None, **error_responses(404)},
    summary="The release made for a request",
)
@permission_required(Permission.PRIVACY_LEGAL_REQUEST)
def get_release(request: HttpRequest, request_id: Id) -> HttpResponse:
    legal = selectors.get_legal_request(acting_user(request), request_id)
    return JsonResponse(selectors.legal_release(legal).content, json_dumps_params={"indent": 2})
