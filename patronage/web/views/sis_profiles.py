"""Staff UI of SIS import profiles: the list, and a form to add or change one. The form is
parsed here (the CSV mapping is typed one column per line); ``sis.actions.save_profile``
checks and saves it, and its messages are shown beside the fields."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from patronage.access.checks import can
from patronage.access.decorators import requires
from patronage.access.permissions import Permission
from patronage.accounts.choices import RecordType
from patronage.accounts.validation import FIELD_LABELS
from patronage.errors import NotFound, ValidationFailed
from patronage.sis import actions as sis_actions
from patronage.sis.formats import SIS_FIELDS
from patronage.sis.models import FileFormat, ImportProfile, MatchBy, MissingAction

from ..common import INVALID, actor, domain_errors, post_values, staff

FORM_FIELDS = (*sis_actions.PROFILE_FIELDS, "code")


@requires(Permission.SIS_IMPORT_RUN)
@require_GET
def profiles(request: HttpRequest) -> HttpResponse:
    """The import profiles, with a link to change each (for those who manage them)."""
    context = {
        "nav": "sis",
        "profiles": ImportProfile.objects.all(),
        "may_manage": can(staff(request), Permission.SIS_PROFILE_MANAGE),
    }
    return render(request, "web/sis/profiles.html", context)


def _options() -> dict[str, Any]:
    return {
        "file_format": FileFormat.choices,
        "match_by": MatchBy.choices,
        "default_record_type": [
            (value, label)
            for value, label in RecordType.choices
            if value in (RecordType.PUBLIC, RecordType.STAFF)
        ],
        "override_fields": [(name, FIELD_LABELS[name]) for name in SIS_FIELDS],
        "missing_action": MissingAction.choices,
    }


def _form_values(profile: ImportProfile) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(profile, name) for name in FORM_FIELDS}
    values["csv_mapping"] = "\n".join(f"{k} = {v}" for k, v in profile.csv_mapping.items())
    values["full_sync"] = "1" if profile.full_sync else ""
    return values


def _parsed(submitted: dict[str, Any]) -> dict[str, Any]:
    """The submitted form as ``save_profile`` takes it; 422 for lines it cannot read."""
    errors: dict[str, str] = {}
    mapping: dict[str, str] = {}
    for number, line in enumerate(str(submitted.get("csv_mapping") or "").splitlines(), 1):
        if not line.strip():
            continue
        heading, sep, target = line.partition("=")
        if not sep or not heading.strip():
            errors["csv_mapping"] = f"Line {number}: write 'Column heading = target'."
            break
        mapping[heading.strip()] = target.strip()
    days = str(submitted.get("missing_expiry_days") or "0").strip()
    if not days.isdigit():
        errors["missing_expiry_days"] = "A number of days, 0 or more."
    if errors:
        raise ValidationFailed(errors, code="bad_profile")
    return {
        "name": submitted.get("name", ""),
        "file_format": submitted.get("file_format", ""),
        "csv_mapping": mapping,
        "csv_delimiter": submitted.get("csv_delimiter", ""),
        "match_by": submitted.get("match_by", ""),
        "default_record_type": submitted.get("default_record_type", ""),
        "override_fields": submitted.get("override_fields") or [],
        "full_sync": bool(submitted.get("full_sync")),
        "missing_action": submitted.get("missing_action", ""),
        "missing_expiry_days": int(days),
    }


def _mapping_errors(errors: dict[str, str]) -> dict[str, str]:
    """Errors of the mapping are keyed by column heading: show them all under the mapping."""
    known = {name: message for name, message in errors.items() if name in FORM_FIELDS}
    columns = [f"{name}: {message}" for name, message in errors.items() if name not in known]
    if columns:
        known["csv_mapping"] = " ".join([known.get("csv_mapping", ""), *columns]).strip()
    return known


@requires(Permission.SIS_PROFILE_MANAGE)
@require_http_methods(["GET", "POST"])
@domain_errors
def profile_form(request: HttpRequest, profile_id: int | None = None) -> HttpResponse:
    """Add a profile (no ``profile_id``) or change one; the code is fixed once created."""
    profile = None
    if profile_id is not None:
        profile = ImportProfile.objects.filter(pk=profile_id).first()
        if profile is None:
            raise NotFound(f"There is no SIS import profile {profile_id}.")
    context: dict[str, Any] = {
        "nav": "sis",
        "profile": profile,
        "options": _options(),
        "values": _form_values(profile or ImportProfile(csv_delimiter=",")),
        "errors": {},
    }
    if request.method == "GET":
        return render(request, "web/sis/profile_form.html", context)
    submitted = post_values(request, multi=("override_fields",))
    code = profile.code if profile else str(submitted.get("code", ""))
    try:
        saved = sis_actions.save_profile(
            actor=actor(request), code=code, values=_parsed(submitted), create=profile is None
        )
    except ValidationFailed as exc:
        context.update(values=submitted, errors=_mapping_errors(exc.errors))
        return render(request, "web/sis/profile_form.html", context, status=INVALID)
    messages.success(request, f"The import profile {saved.code} was saved.")
    return redirect("web:sis_profiles")
