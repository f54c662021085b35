"""The legal-process register (seed 000): record an agency's request, refer it to counsel,
counsel's decisions, documents, and the one release an order allows.

Only the Privacy Officer and General Counsel see these pages (``privacy:legal_request:
manage``); counsel's decisions need ``privacy:legal_request:counsel`` (403 otherwise, the
action decides). A request outside the viewer's scope or missing is 404.
"""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from patronage.access.checks import can
from patronage.access.decorators import requires
from patronage.access.permissions import Permission
from patronage.errors import Conflict, ValidationFailed
from patronage.privacy import actions, selectors
from patronage.privacy.models import LegalProcessKind, LegalRequest, LegalState, RecordKind

from ..common import INVALID, actor, domain_errors, staff

FORM_FIELDS = (*actions.REQUEST_TEXT_FIELDS, "received_on")


@requires(Permission.PRIVACY_LEGAL_REQUEST)
@require_GET
@domain_errors
def legal_list(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    state = state if state in LegalState.values else ""
    context = {
        "nav": "legal",
        "requests": selectors.legal_requests(staff(request), state),
        "state": state,
        "state_options": LegalState.choices,
    }
    return render(request, "web/privacy/legal_list.html", context)


@requires(Permission.PRIVACY_LEGAL_REQUEST)
@domain_errors
def legal_new(request: HttpRequest) -> HttpResponse:
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {name: request.POST.get(name, "").strip() for name in FORM_FIELDS}
        try:
            legal = actions.record_legal_request(actor=actor(request), fields=values)
        except ValidationFailed as exc:
            errors = exc.errors
        else:
            return redirect("web:legal_detail", request_id=legal.pk)
    context = {
        "nav": "legal",
        "values": values,
        "errors": errors,
        "kind_options": LegalProcessKind.choices,
    }
    return render(request, "web/privacy/legal_new.html", context, status=INVALID if errors else 200)


def _detail(
    request: HttpRequest, legal: LegalRequest, status: int = 200, **extra: Any
) -> HttpResponse:
    viewer = staff(request)
    counsel = can(viewer, Permission.PRIVACY_LEGAL_COUNSEL)
    steps = [
        (name, step.label)
        for name, step in actions.TRANSITIONS.items()
        if legal.state in step.sources
        and name != "validate_order"
        and (counsel or step.permission != Permission.PRIVACY_LEGAL_COUNSEL)
    ]
    context = {
        "nav": "legal",
        "legal": legal,
        "state_label": LegalState(legal.state).label,
        "kind_label": LegalProcessKind(legal.kind).label,
        "steps": steps,
        "may_validate": counsel and legal.state in actions.TRANSITIONS["validate_order"].sources,
        "may_release": legal.state == LegalState.ORDER_VALIDATED,
        "released": legal.state == LegalState.DISCLOSED,
        "order_users": list(legal.order_users.order_by("pk")),
        "order_kinds": [RecordKind(k).label for k in legal.order_record_kinds],
        "record_kind_options": RecordKind.choices,
        "documents": list(legal.documents.all()),
        "errors": {},
        "values": {},
        **extra,
    }
    return render(request, "web/privacy/legal_detail.html", context, status=status)


@requires(Permission.PRIVACY_LEGAL_REQUEST)
@require_GET
@domain_errors
def legal_detail(request: HttpRequest, request_id: int) -> HttpResponse:
    return _detail(request, selectors.get_legal_request(staff(request), request_id))


@requires(Permission.PRIVACY_LEGAL_REQUEST)
@require_POST
@domain_errors
def legal_transition(request: HttpRequest, request_id: int) -> HttpResponse:
    legal = selectors.get_legal_request(staff(request), request_id)
    action = request.POST.get("action", "")
    fields: dict[str, Any] = {"notes": request.POST.get("notes", "")}
    try:
        if action == "validate_order":
            named = [v.strip() for v in request.POST.get("patrons", "").split() if v.strip()]
            if not named:
                raise ValidationFailed({"patrons": "Name at least one patron the order covers."})
            fields.update(
                order_reference=request.POST.get("order_reference", ""),
                user_ids=[user.pk for user in selectors.patrons_named(named)],
                record_kinds=request.POST.getlist("record_kinds"),
            )
        actions.transition(actor=actor(request), request=legal, action=action, **fields)
    except ValidationFailed as exc:
        errors = dict(exc.errors)
        if "user_ids" in errors:  # the form names patrons by identifier
            errors["patrons"] = errors.pop("user_ids")
        return _detail(request, legal, INVALID, errors=errors, values=request.POST)
    except Conflict as exc:
        return _detail(request, legal, 409, errors={"action": exc.message})
    return redirect("web:legal_detail", request_id=legal.pk)


@requires(Permission.PRIVACY_LEGAL_REQUEST)
@require_POST
@domain_errors
def legal_document_add(request: HttpRequest, request_id: int) -> HttpResponse:
    legal = selectors.get_legal_request(staff(request), request_id)
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise ValidationFailed({"file": "Choose a file."})
        actions.add_legal_document(
            actor=actor(request), request=legal, upload=upload, name=request.POST.get("name", "")
        )
    except ValidationFailed as exc:
        return _detail(request, legal, INVALID, errors=exc.errors)
    return redirect("web:legal_detail", request_id=legal.pk)


@requires(Permission.PRIVACY_LEGAL_REQUEST)
@require_GET
@domain_errors
def legal_document(request: HttpRequest, request_id: int, document_id: int) -> HttpResponse:
    legal = selectors.get_legal_request(staff(request), request_id)
    document = selectors.legal_document(legal, document_id)
    response = FileResponse(document.file.open("rb"), as_attachment=True, filename=document.name)
    response["X-Content-Type-Options"] = "nosniff"
    return response  # type: ignore[return-value]  # a streaming response, served as is


@requires(Permission.PRIVACY_LEGAL_REQUEST)
@require_POST
@domain_errors
def legal_release(request: HttpRequest, request_id: int) -> HttpResponse:
    legal = selectors.get_legal_request(staff(request), request_id)
    try:
        actions.release_records(actor=actor(request), request=legal)
    except Conflict as exc:
        return _detail(request, legal, 409, errors={"release": exc.message})
    return redirect("web:legal_detail", request_id=legal.pk)


@requires(Permission.PRIVACY_LEGAL_REQUEST)
@require_GET
@domain_errors
def legal_release_download(request: HttpRequest, request_id: int) -> HttpResponse:
    legal = selectors.get_legal_request(staff(request), request_id)
    response = JsonResponse(selectors.legal_release(legal).content, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="{legal.reference}-release.json"'
    return response
