"""Staff UI of patron services' configuration and items.

- **Items** (``fulfillment:item:manage``): find, add and correct the items of the libraries
  the operator keeps items in; another library's item is a 404.
- **Circulation configuration** (``fulfillment:config:manage``): the institution's settings
  (currency, waive limit per action, the expiry cap), each user group's loan policy, the
  fine/fee types, the waiving reasons and the roles' waive limits.

Thin: parse the form, call an action of ``patronage.circulation.actions``, re-render. A
refused form comes back with status 422, its fields' messages and what was typed, on that
form only (each row of a table has its own); nothing is changed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from patronage.access import selectors as access_selectors
from patronage.access.decorators import requires
from patronage.access.models import Role
from patronage.access.permissions import Permission
from patronage.accounts.choices import CodeTable
from patronage.accounts.models import CodeTableEntry
from patronage.circulation import actions, selectors
from patronage.circulation.models import (
    CirculationSettings,
    FeeType,
    Item,
    UserGroupPolicy,
    WaiveLimit,
    WaiveReason,
)
from patronage.errors import ValidationFailed
from patronage.organization.models import Library

from ..common import INVALID, actor, domain_errors, post_values, staff

ITEMS_SHOWN = 200
POLICY_FIELDS = (
    ("loan_period_days", "Loan period (days)"),
    ("max_renewals", "Renewals"),
    ("debt_limit", "Debt limit"),
    ("overdue_items_limit", "Overdue items limit"),
    ("overdue_fine_per_day", "Overdue fine per day"),
    ("max_overdue_fine", "Maximum overdue fine"),
)
FEE_TYPE_FLAGS = (
    ("manual_creation", "Staff may add it by hand"),
    ("library_scope", "A library may own it"),
    ("is_credit", "A credit (counted as negative)"),
    ("enabled", "In use"),
)


class Refusal:
    """Which form of the page was refused, with its messages and what was typed."""

    def __init__(self, key: str, errors: dict[str, str], values: dict[str, Any]):
        self.key, self.errors, self.values = key, errors, values


def _row(key: str, values: dict[str, Any], refusal: Refusal | None) -> dict[str, Any]:
    """One form of the page: its current values, or, if it was the one refused, what was
    typed and the messages (the other forms stay as they were)."""
    if refusal is not None and refusal.key == key:
        return {"key": key, "values": refusal.values, "errors": refusal.errors, "open": True}
    return {"key": key, "values": values, "errors": {}, "open": False}


def _refused(key: str, request: HttpRequest, failure: ValidationFailed) -> Refusal:
    return Refusal(key, failure.errors, post_values(request))


# --- items ---------------------------------------------------------------------------------------


def _library_options(request: HttpRequest) -> list[tuple[str, str]]:
    libraries = selectors.owner_libraries(staff(request), Permission.FULFILLMENT_ITEMS)
    return [(str(library.pk), library.name) for library in libraries]


def _items_page(
    request: HttpRequest, refusal: Refusal | None = None, status: int = 200
) -> HttpResponse:
    search = request.GET.get("q", "").strip()[:200]
    found = list(selectors.visible_items(staff(request), search)[: ITEMS_SHOWN + 1])
    rows = [
        {
            "item": item,
            **_row(
                f"item-{item.pk}",
                {
                    "barcode": item.barcode,
                    "title": item.title,
                    "library": str(item.library_id),
                    "location": item.location,
                },
                refusal,
            ),
        }
        for item in found[:ITEMS_SHOWN]
    ]
    context = {
        "nav": "items",
        "search": search,
        "rows": rows,
        "more": len(found) > ITEMS_SHOWN,
        "new": _row("item-new", {}, refusal),
        "library_options": _library_options(request),
        "refusal": refusal,
    }
    return render(request, "web/circulation/items.html", context, status=status)


def _chosen_library(request: HttpRequest) -> Library:
    value = request.POST.get("library", "")
    library = Library.objects.filter(pk=int(value)).first() if value.isdigit() else None
    if library is None:
        raise ValidationFailed({"library": "Choose the item's library."})
    return library


def _item_write(request: HttpRequest, key: str, write: Callable[[], Item]) -> HttpResponse:
    try:
        item = write()
    except ValidationFailed as failure:
        return _items_page(request, _refused(key, request, failure), INVALID)
    messages.success(request, f"{item} was saved.")
    return redirect("web:items")


@requires(Permission.FULFILLMENT_ITEMS)
@require_http_methods(["GET", "POST"])
@domain_errors
def items(request: HttpRequest) -> HttpResponse:
    """The items of the operator's libraries (search by barcode or title); POST adds one."""
    if request.method == "GET":
        return _items_page(request)
    post = request.POST
    return _item_write(
        request,
        "item-new",
        lambda: actions.create_item(
            actor=actor(request),
            barcode=post.get("barcode", ""),
            title=post.get("title", ""),
            library=_chosen_library(request),
            location=post.get("location", ""),
        ),
    )


@requires(Permission.FULFILLMENT_ITEMS)
@require_POST
@domain_errors
def item_edit(request: HttpRequest, item_id: int) -> HttpResponse:
    item = selectors.get_item(staff(request), item_id)
    post = request.POST
    return _item_write(
        request,
        f"item-{item.pk}",
        lambda: actions.update_item(
            actor=actor(request),
            item=item,
            barcode=post.get("barcode", ""),
            title=post.get("title", ""),
            library=_chosen_library(request),
            location=post.get("location", ""),
        ),
    )


# --- circulation configuration ----------------------------------------------------------------


def _flags(obj: Any, names: tuple[tuple[str, str], ...]) -> dict[str, str]:
    return {name: "1" if getattr(obj, name) else "" for name, _ in names}


def _config_page(
    request: HttpRequest, refusal: Refusal | None = None, status: int = 200
) -> HttpResponse:
    current = CirculationSettings.current()
    groups = CodeTableEntry.objects.filter(table=CodeTable.USER_GROUP).order_by(
        "sort_order", "description"
    )
    limits = {limit.role_id: limit.max_amount for limit in WaiveLimit.objects.all()}
    waivers = sorted(
        access_selectors.roles_with(Permission.FINES_WAIVE), key=lambda role: role.name
    )
    context = {
        "nav": "circulation_config",
        "settings_form": _row(
            "settings",
            {
                "currency": current.currency,
                "waiving_fines_fees_limit": current.waiving_fines_fees_limit,
                "extend_due_date_beyond_user_expiry": (
                    "1" if current.extend_due_date_beyond_user_expiry else ""
                ),
            },
            refusal,
        ),
        "policy_fields": POLICY_FIELDS,
        "policies": [
            {
                "group": group,
                "saved": UserGroupPolicy.objects.filter(user_group=group.code).exists(),
                **_row(
                    f"policy-{group.code}",
                    {
                        name: getattr(UserGroupPolicy.for_group(group.code), name)
                        for name, _ in POLICY_FIELDS
                    },
                    refusal,
                ),
            }
            for group in groups
        ],
        "fee_type_flags": FEE_TYPE_FLAGS,
        "fee_types": [
            {
                "fee_type": fee_type,
                **_row(
                    f"fee-type-{fee_type.code}",
                    {
                        "code": fee_type.code,
                        "description": fee_type.description,
                        "vat_rate": fee_type.vat_rate,
                        **_flags(fee_type, FEE_TYPE_FLAGS),
                    },
                    refusal,
                ),
            }
            for fee_type in FeeType.objects.all()
        ],
        "new_fee_type": _row(
            "fee-type-new",
            {"vat_rate": "0", "manual_creation": "1", "library_scope": "1", "enabled": "1"},
            refusal,
        ),
        "reasons": [
            {
                "reason": reason,
                **_row(
                    f"reason-{reason.code}",
                    {
                        "code": reason.code,
                        "description": reason.description,
                        "enabled": "1" if reason.enabled else "",
                    },
                    refusal,
                ),
            }
            for reason in WaiveReason.objects.all()
        ],
        "new_reason": _row("reason-new", {"enabled": "1"}, refusal),
        "limits": [
            {
                "role": role,
                "limit": limits.get(role.pk),
                **_row(f"limit-{role.code}", {"max_amount": limits.get(role.pk) or ""}, refusal),
            }
            for role in waivers
        ],
        "refusal": refusal,
    }
    return render(request, "web/circulation/config.html", context, status=status)


def _config_write(
    request: HttpRequest, key: str, write: Callable[[], Any], done: str
) -> HttpResponse:
    try:
        write()
    except ValidationFailed as failure:
        return _config_page(request, _refused(key, request, failure), INVALID)
    messages.success(request, done)
    return redirect("web:circulation_config")


def _edited(request: HttpRequest, rows: QuerySet[Any], prefix: str) -> tuple[str, str]:
    """The code of the row a form changes (``original_code``; none: it adds one) and the
    form's key on the page. A code that names no row is a 404."""
    original = request.POST.get("original_code", "")
    if original and not rows.filter(code=original).exists():
        raise Http404("Nothing has this code.")
    return original, f"{prefix}-{original or 'new'}"


def _checked(request: HttpRequest, name: str) -> bool:
    return bool(request.POST.get(name))


@requires(Permission.FULFILLMENT_CONFIG)
@require_GET
def circulation_config(request: HttpRequest) -> HttpResponse:
    return _config_page(request)


@requires(Permission.FULFILLMENT_CONFIG)
@require_POST
@domain_errors
def settings_save(request: HttpRequest) -> HttpResponse:
    limit = request.POST.get("waiving_fines_fees_limit", "").strip()
    changes = {
        "currency": request.POST.get("currency", ""),
        # A number the action checks (at least 1); anything else it refuses with a message.
        "waiving_fines_fees_limit": int(limit) if limit.isdigit() and len(limit) < 10 else limit,
        "extend_due_date_beyond_user_expiry": _checked(
            request, "extend_due_date_beyond_user_expiry"
        ),
    }
    return _config_write(
        request,
        "settings",
        lambda: actions.update_settings(actor=actor(request), changes=changes),
        "The circulation settings were saved.",
    )


@requires(Permission.FULFILLMENT_CONFIG)
@require_POST
@domain_errors
def policy_save(request: HttpRequest, user_group: str) -> HttpResponse:
    if not CodeTableEntry.objects.filter(table=CodeTable.USER_GROUP, code=user_group).exists():
        raise Http404("No such user group.")
    values = {name: request.POST.get(name, "").strip() for name, _ in POLICY_FIELDS}
    return _config_write(
        request,
        f"policy-{user_group}",
        lambda: actions.save_policy(actor=actor(request), user_group=user_group, values=values),
        f"The loan policy of {user_group} was saved.",
    )


@requires(Permission.FULFILLMENT_CONFIG)
@require_POST
@domain_errors
def fee_type_save(request: HttpRequest) -> HttpResponse:
    """Add a fine/fee type, or change one (``original_code`` names the row edited)."""
    original, key = _edited(request, FeeType.objects.all(), "fee-type")
    return _config_write(
        request,
        key,
        lambda: actions.save_fee_type(
            actor=actor(request),
            code=original or request.POST.get("code", ""),
            description=request.POST.get("description", ""),
            vat_rate=request.POST.get("vat_rate", "").strip() or "0",
            **{name: _checked(request, name) for name, _ in FEE_TYPE_FLAGS},
        ),
        "The fine/fee type was saved.",
    )


@requires(Permission.FULFILLMENT_CONFIG)
@require_POST
@domain_errors
def waive_reason_save(request: HttpRequest) -> HttpResponse:
    """Add a waiving reason, or change one (``original_code`` names the row edited)."""
    original, key = _edited(request, WaiveReason.objects.all(), "reason")
    return _config_write(
        request,
        key,
        lambda: actions.save_waive_reason(
            actor=actor(request),
            code=original or request.POST.get("code", ""),
            description=request.POST.get("description", ""),
            enabled=_checked(request, "enabled"),
        ),
        "The waiving reason was saved.",
    )


@requires(Permission.FULFILLMENT_CONFIG)
@require_POST
@domain_errors
def waive_limit_save(request: HttpRequest, role_code: str) -> HttpResponse:
    role = Role.objects.filter(code=role_code).first()
    if role is None or Permission.FINES_WAIVE not in role.permissions:
        raise Http404("No role that waives has this code.")
    return _config_write(
        request,
        f"limit-{role.code}",
        lambda: actions.set_waive_limit(
            actor=actor(request),
            role=role,
            max_amount=request.POST.get("max_amount", "").strip(),
        ),
        f"The waive limit of {role.name} was saved.",
    )
