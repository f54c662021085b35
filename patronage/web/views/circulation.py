"""Staff UI of patron services: the Fines/Fees, Loans and Proxies tabs of a user record, the
deletion dialog, and the Returns page. Thin: parse the form, call an action, re-render.

Each tab is a tab of the user details page (``web/users/detail.html``); a refusal re-renders
it with the message and no change, status 422 (the UI's one status for a refusal it shows:
bad input, or a conflict such as a block).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from patronage.access.checks import can
from patronage.access.decorators import requires
from patronage.access.permissions import Permission
from patronage.accounts import selectors as user_selectors
from patronage.accounts.models import User
from patronage.audit.context import Actor, Channel
from patronage.circulation import actions, deletion, selectors
from patronage.circulation.choices import FeeStatus, PaymentMethod, ProxyKind
from patronage.circulation.models import FeeType, ProxyRelation, WaiveReason
from patronage.errors import Conflict, DomainError, NotFound, ValidationFailed
from patronage.organization.models import Library
from patronage.privacy.reads import VIEWED, reads_patron_data

from ..common import INVALID, actor, domain_errors, is_partial, post_values, render_page, staff
from .details import available_tabs

# The forms of a tab that show their fields' messages (row forms show the refusal on top).
OWN_FORMS = {"fee-new", "credit-new", "pay-all", "checkout", "proxy-new", "deletion"}
# The forms of a fee's row (``pay-12``); their refusals are shown on that row, and an htmx
# request from them aims at the row (``#fee-12``).
FEE_ROW_FORM = re.compile(r"(?:pay|waive|dispute|restore|item)-(\d+)")
ROW_TARGET = re.compile(r"fee-(\d+)")
# A loan's Renew and Return: their refusals are shown on the loan's row.
LOAN_ROW_FORM = re.compile(r"(?:renew|return)-(\d+)")
TAB_VIEWS = {
    "fees": "web:user_fees",
    "loans": "web:user_loans",
    "proxies": "web:user_proxies",
    "deletion": "web:user_deletion",
}


def _subject(request: HttpRequest, pk: int) -> User:
    return user_selectors.get_user(staff(request), pk)


# --- the tabs ---------------------------------------------------------------------------------


def _fees_context(viewer: User, user: User) -> dict[str, Any]:
    fees = list(selectors.visible_fees(viewer, user))
    # The loan behind a fee is shown on the Loans tab: open loans to whoever sees loans, the
    # returned ones (loan history) only to those who see patron details too.
    loans_shown = can(viewer, Permission.FULFILLMENT_LOAN_VIEW)
    history_shown = loans_shown and user_selectors.may_see_details(viewer)
    for fee in fees:
        fee.key = str(fee.pk)  # type: ignore[attr-defined]  # names its row's forms
        fee.loan_link = fee.loan_id and (history_shown or (loans_shown and fee.accruing))  # type: ignore[attr-defined]
        fee.shown_balance = -fee.balance if fee.fee_type.is_credit else fee.balance  # type: ignore[attr-defined]
        fee.shown_original = (  # type: ignore[attr-defined]
            -fee.original_amount if fee.fee_type.is_credit else fee.original_amount
        )
    types = FeeType.objects.filter(enabled=True, manual_creation=True)
    return {
        "fees": fees,
        "balances": selectors.balances(user, selectors.visible_fees(viewer, user)),
        "fee_type_options": [(t.code, t.description) for t in types if not t.is_credit],
        "library_options": [
            (str(lib.pk), lib.name)
            for lib in selectors.owner_libraries(viewer, Permission.FINES_CREATE)
        ],
        "method_options": PaymentMethod.choices,
        "reason_options": [
            (r.code, r.description) for r in WaiveReason.objects.filter(enabled=True)
        ],
        "open_statuses": [FeeStatus.ACTIVE, FeeStatus.IN_DISPUTE],
        "waive_limit": actions.waive_limit_of(viewer),
        "waiving_limit": actions.CirculationSettings.current().waiving_fines_fees_limit,
    }


def _loans_context(viewer: User, user: User) -> dict[str, Any]:
    loans = selectors.visible_loans(viewer, user)
    sponsors = [
        view.relation.sponsor for view in selectors.proxies_of(user).proxy_for if view.valid
    ]
    return {
        "open_loans": list(loans.filter(returned_at__isnull=True)),
        "past_loans": list(loans.filter(returned_at__isnull=False)[:50]),
        "blocks_in_force": selectors.effective_blocks(user),
        "details": user_selectors.may_see_details(viewer),
        "desk_options": [(str(d.pk), str(d)) for d in selectors.desks_of(viewer)],
        "sponsor_options": [(str(s.pk), str(s)) for s in sponsors],
    }


def _proxies_context(viewer: User, user: User) -> dict[str, Any]:
    return {"proxies": selectors.proxies_of(user), "kind_options": ProxyKind.choices}


def _deletion_context(viewer: User, user: User) -> dict[str, Any]:
    return {"check": deletion.deletion_check(user, actor=Actor(user=viewer, channel=Channel.UI))}


BUILDERS = {
    "fees": _fees_context,
    "loans": _loans_context,
    "proxies": _proxies_context,
    "deletion": _deletion_context,
}


def _fee_row_target(request: HttpRequest) -> int | None:
    """The fee whose row an htmx request of a row form aims at (``#fee-<id>``), if any."""
    htmx = getattr(request, "htmx", None)
    match = ROW_TARGET.fullmatch((htmx.target or "") if htmx else "")
    return int(match[1]) if match else None


def _in_place(request: HttpRequest) -> bool:
    """An htmx request whose answer replaces the tab (aimed at it, or at one of its rows)."""
    return is_partial(request, "user-tabs") or _fee_row_target(request) is not None


def render_tab(
    request: HttpRequest, user: User, tab: str, status: int = 200, **extra: Any
) -> HttpResponse:
    """The tab, as a page or as the ``#user-tabs`` partial. A row form's request that
    succeeded gets the whole tab too (balances and statuses changed), retargeted there."""
    context = _tab_context(request, user, tab, **extra)
    if _fee_row_target(request) is None:
        return render_page(
            request, "web/users/detail.html", "web/users/_tabs.html", "user-tabs", context, status
        )
    response = render(request, "web/users/_tabs.html", context, status=status)
    response["HX-Retarget"], response["HX-Reswap"] = "#user-tabs", "outerHTML"
    return response


def _tab_context(request: HttpRequest, user: User, tab: str, **extra: Any) -> dict[str, Any]:
    viewer = staff(request)
    context: dict[str, Any] = {
        "nav": "users",
        "subject": user,
        "card_only": not user_selectors.may_see_details(viewer),
        "tabs": available_tabs(viewer, user),
        "tab": tab,
        "values": {},
        "errors": {},
        "editing": "",
        **BUILDERS[tab](viewer, user),
        **extra,
    }
    return context


def _done(request: HttpRequest, user: User, tab: str, message: str) -> HttpResponse:
    if _in_place(request):
        return render_tab(request, user, tab, flash=message)
    messages.success(request, message)
    return redirect(reverse(TAB_VIEWS[tab], args=[user.pk]))


def _refused_on_fee_row(
    request: HttpRequest, user: User, form: str, fee_id: int, refusal: DomainError
) -> HttpResponse:
    """A row action on a fee was refused: the message, what was typed and each field's
    message appear on that fee's row, with its form open. An htmx request (aimed at the
    row) gets the row alone; without htmx, the whole tab with that row marked."""
    context = _tab_context(request, user, "fees")
    action = form.split("-", 1)[0]
    fees = [fee for fee in context["fees"] if fee.pk == fee_id]
    for fee in fees:
        fee.refusal = refusal.message  # type: ignore[attr-defined]
        fee.open_form = action  # type: ignore[attr-defined]
        fee.form_errors = {  # type: ignore[attr-defined]
            action: refusal.errors if isinstance(refusal, ValidationFailed) else {}
        }
        fee.form_values = {action: post_values(request)}  # type: ignore[attr-defined]
    if not fees:  # not a row of this tab (a forged form name): the message goes on top
        return render_tab(request, user, "fees", status=INVALID, refusal=refusal.message)
    if _fee_row_target(request) == fee_id:
        return render(
            request, "web/circulation/_fee_row.html", {**context, "fee": fees[0]}, status=INVALID
        )
    return render_page(
        request, "web/users/detail.html", "web/users/_tabs.html", "user-tabs", context, INVALID
    )


def _refused(
    request: HttpRequest, user: User, tab: str, form: str, refusal: DomainError
) -> HttpResponse:
    """Show the refusal above the tab and, on the tab's own forms (not the per-row ones),
    what was typed with each field's message. Nothing was changed. A fee row's own action
    shows it on the row instead."""
    row = FEE_ROW_FORM.fullmatch(form) if tab == "fees" else None
    if row is not None:
        return _refused_on_fee_row(request, user, form, int(row[1]), refusal)
    loan_row = LOAN_ROW_FORM.fullmatch(form) if tab == "loans" else None
    if loan_row is not None:  # the whole tab (due dates move), the message on the loan's row
        return render_tab(
            request,
            user,
            tab,
            status=INVALID,
            refused_loan=int(loan_row[1]),
            loan_refusal=refusal.message,
        )
    own_form = form in OWN_FORMS
    errors = refusal.errors if isinstance(refusal, ValidationFailed) and own_form else {}
    return render_tab(
        request,
        user,
        tab,
        status=INVALID,
        editing=form,
        values=post_values(request) if own_form else {},
        errors=errors,
        refusal=refusal.message,
    )


def _attempt(
    request: HttpRequest, user: User, tab: str, form: str, operation: Any, message: str
) -> HttpResponse:
    try:
        operation()
    except (ValidationFailed, Conflict) as refusal:
        return _refused(request, user, tab, form, refusal)
    return _done(request, user, tab, message)


def _owner(request: HttpRequest) -> Library | None:
    return actions.library_from(request.POST.get("owner", ""))


@requires(Permission.FINES_VIEW)
@require_GET
@domain_errors
@reads_patron_data(VIEWED)
def user_fees(request: HttpRequest, pk: int) -> HttpResponse:
    return render_tab(request, _subject(request, pk), "fees")


@requires(Permission.FULFILLMENT_LOAN_VIEW)
@require_GET
@domain_errors
@reads_patron_data(VIEWED)
def user_loans(request: HttpRequest, pk: int) -> HttpResponse:
    return render_tab(request, _subject(request, pk), "loans")


@requires(Permission.USERS_VIEW_DETAILS)
@require_GET
@domain_errors
@reads_patron_data(VIEWED)
def user_proxies(request: HttpRequest, pk: int) -> HttpResponse:
    return render_tab(request, _subject(request, pk), "proxies")


# --- fines and fees ----------------------------------------------------------------------------


@requires(Permission.FINES_CREATE)
@require_POST
@domain_errors
def fee_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = _subject(request, pk)
    post = request.POST
    return _attempt(
        request,
        user,
        "fees",
        "fee-new",
        lambda: actions.create_fee(
            actor=actor(request),
            user=user,
            fee_type=post.get("fee_type", ""),
            amount=post.get("amount", ""),
            owner=_owner(request),
            barcode=post.get("barcode", ""),
            comment=post.get("comment", ""),
        ),
        "The fine/fee was added.",
    )


@requires(Permission.FINES_CREDIT)
@require_POST
@domain_errors
def credit_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = _subject(request, pk)
    credit_type = FeeType.objects.filter(is_credit=True, enabled=True).first()
    return _attempt(
        request,
        user,
        "fees",
        "credit-new",
        lambda: actions.create_fee(
            actor=actor(request),
            user=user,
            fee_type=credit_type or "CREDIT",
            amount=request.POST.get("amount", ""),
            owner=_owner(request),
            comment=request.POST.get("comment", ""),
        ),
        "The credit was registered.",
    )


def _fee(request: HttpRequest, user: User, fee_id: int, permission: Permission) -> Any:
    return selectors.get_fee(staff(request), user, fee_id, permission)


@requires(Permission.FINES_PAY)
@require_POST
@domain_errors
def fee_pay(request: HttpRequest, pk: int, fee_id: int) -> HttpResponse:
    user = _subject(request, pk)
    fee = _fee(request, user, fee_id, Permission.FINES_PAY)
    receipts: list[Any] = []
    response = _attempt(
        request,
        user,
        "fees",
        f"pay-{fee.pk}",
        lambda: receipts.append(
            actions.pay_fee(
                actor=actor(request),
                fee=fee,
                method=request.POST.get("method", ""),
                amount=request.POST.get("amount", ""),
            )
        ),
        "Paid.",
    )
    return _with_receipt(request, user, response, receipts)


def _with_receipt(
    request: HttpRequest, user: User, response: HttpResponse, receipts: list[Any]
) -> HttpResponse:
    if not receipts:
        return response
    receipt = receipts[0]
    message = f"Paid {receipt.total} {receipt.currency}: receipt {receipt.number}."
    if _in_place(request):
        return render_tab(request, user, "fees", flash=message)
    messages.success(request, message)
    return response


@requires(Permission.FINES_PAY)
@require_POST
@domain_errors
def fee_pay_all(request: HttpRequest, pk: int) -> HttpResponse:
    user = _subject(request, pk)
    receipts: list[Any] = []
    response = _attempt(
        request,
        user,
        "fees",
        "pay-all",
        lambda: receipts.append(
            actions.pay_all(
                actor=actor(request),
                user=user,
                method=request.POST.get("method", ""),
                amount=request.POST.get("amount", ""),
            )
        ),
        "Paid.",
    )
    return _with_receipt(request, user, response, receipts)


@requires(Permission.FINES_WAIVE)
@require_POST
@domain_errors
def fee_waive(request: HttpRequest, pk: int) -> HttpResponse:
    """Waive the fees ticked (Waive selected), one fee (its row's Waive), or all."""
    user = _subject(request, pk)
    post = request.POST
    reason, comment = post.get("reason", ""), post.get("comment", "")
    if post.get("all"):

        def waive() -> Any:
            return actions.waive_all(
                actor=actor(request), user=user, reason=reason, comment=comment
            )

    else:
        chosen = [value for value in post.getlist("fee") if value.isdigit()]
        fees = [_fee(request, user, int(value), Permission.FINES_WAIVE) for value in chosen]

        def waive() -> Any:
            return actions.waive_fees(
                actor=actor(request),
                fees=fees,
                reason=reason,
                comment=comment,
                amount=post.get("amount", ""),
            )

    form = post.get("form", "waive")[:40]
    return _attempt(request, user, "fees", form, waive, "Waived.")


def _status_change(
    request: HttpRequest, pk: int, fee_id: int, change: Any, verb: str, done: str
) -> HttpResponse:
    user = _subject(request, pk)
    fee = _fee(request, user, fee_id, Permission.FINES_DISPUTE)
    return _attempt(
        request,
        user,
        "fees",
        f"{verb}-{fee.pk}",
        lambda: change(actor=actor(request), fee=fee, comment=request.POST.get("comment", "")),
        done,
    )


@requires(Permission.FINES_DISPUTE)
@require_POST
@domain_errors
def fee_dispute(request: HttpRequest, pk: int, fee_id: int) -> HttpResponse:
    return _status_change(
        request, pk, fee_id, actions.dispute_fee, "dispute", "The fee is in dispute."
    )


@requires(Permission.FINES_DISPUTE)
@require_POST
@domain_errors
def fee_restore(request: HttpRequest, pk: int, fee_id: int) -> HttpResponse:
    return _status_change(
        request, pk, fee_id, actions.restore_fee, "restore", "The fee was restored."
    )


@requires(Permission.FINES_CREATE)
@require_POST
@domain_errors
def fee_link_item(request: HttpRequest, pk: int, fee_id: int) -> HttpResponse:
    """Link a fee to the item it is for (by barcode)."""
    user = _subject(request, pk)
    fee = _fee(request, user, fee_id, Permission.FINES_CREATE)
    return _attempt(
        request,
        user,
        "fees",
        f"item-{fee.pk}",
        lambda: actions.link_item(
            actor=actor(request), fee=fee, barcode=request.POST.get("barcode", "")
        ),
        "The fine/fee was linked to the item.",
    )


@requires(Permission.FINES_EXPORT)
@require_POST
@domain_errors
def fee_export(request: HttpRequest, pk: int) -> HttpResponse:
    user = _subject(request, pk)
    return _attempt(
        request,
        user,
        "fees",
        "export",
        lambda: actions.export_fees(actor=actor(request), user=user),
        "Exported to the bursar.",
    )


# --- loans ------------------------------------------------------------------------------------


@requires(Permission.FULFILLMENT_LOANS)
@require_POST
@domain_errors
def loan_checkout(request: HttpRequest, pk: int) -> HttpResponse:
    user = _subject(request, pk)
    post = request.POST
    sponsor_id = post.get("on_behalf_of", "")

    def check_out() -> Any:
        sponsor = user_selectors.get_user(staff(request), sponsor_id) if sponsor_id else None
        return actions.check_out(
            actor=actor(request),
            user=user,
            barcode=post.get("barcode", ""),
            desk=selectors.get_desk(post.get("desk", "")),
            on_behalf_of=sponsor,
        )

    return _attempt(request, user, "loans", "checkout", check_out, "Checked out.")


def _loan(request: HttpRequest, user: User, loan_id: int) -> Any:
    loan = selectors.get_loan(staff(request), loan_id, Permission.FULFILLMENT_LOANS)
    if loan.user_id != user.pk:
        raise NotFound("No such loan.", code="loan_not_found")
    return loan


@requires(Permission.FULFILLMENT_LOANS)
@require_POST
@domain_errors
def loan_renew(request: HttpRequest, pk: int, loan_id: int) -> HttpResponse:
    user = _subject(request, pk)
    loan = _loan(request, user, loan_id)
    return _attempt(
        request,
        user,
        "loans",
        f"renew-{loan.pk}",
        lambda: actions.renew(actor=actor(request), loan=loan),
        "Renewed.",
    )


@requires(Permission.FULFILLMENT_LOANS)
@require_POST
@domain_errors
def loan_return(request: HttpRequest, pk: int, loan_id: int) -> HttpResponse:
    user = _subject(request, pk)
    loan = _loan(request, user, loan_id)
    return _attempt(
        request,
        user,
        "loans",
        f"return-{loan.pk}",
        lambda: actions.return_item(
            actor=actor(request),
            barcode=loan.item.barcode,
            desk=selectors.get_desk(request.POST.get("desk", "")),
        ),
        "Returned.",
    )


@requires(Permission.FULFILLMENT_LOANS)
@require_http_methods(["GET", "POST"])
@domain_errors
def returns(request: HttpRequest) -> HttpResponse:
    """The Returns page: scan barcodes at a desk."""
    viewer = staff(request)
    context: dict[str, Any] = {
        "nav": "returns",
        "desk_options": [(str(d.pk), str(d)) for d in selectors.desks_of(viewer)],
        "values": {"desk": request.POST.get("desk", "")},
        "errors": {},
    }
    status = 200
    if request.method == "POST":
        try:
            loan = actions.return_item(
                actor=actor(request),
                barcode=request.POST.get("barcode", ""),
                desk=selectors.get_desk(request.POST.get("desk", "")),
            )
        except ValidationFailed as refusal:
            context["errors"], status = refusal.errors, INVALID
        except Conflict as refusal:
            context["errors"], status = {"barcode": refusal.message}, INVALID
        else:
            fine = sum((f.original_amount for f in loan.fees.all()), Decimal(0))
            context["returned"] = loan
            context["fine"] = fine
    return render(request, "web/circulation/returns.html", context, status=status)


# --- proxies ----------------------------------------------------------------------------------


@requires(Permission.USERS_MANAGE_PROXIES)
@require_POST
@domain_errors
def proxy_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = _subject(request, pk)
    post = request.POST

    def add() -> Any:
        sponsor = user_selectors.find_by_identifier(staff(request), post.get("sponsor", ""))
        if sponsor is None:
            raise ValidationFailed({"sponsor": "No user has this identifier."})
        return actions.add_proxy(
            actor=actor(request),
            proxy=user,
            sponsor=sponsor,
            kind=post.get("kind", ProxyKind.REGULAR),
            valid_from=post.get("valid_from", ""),
            valid_until=post.get("valid_until", ""),
        )

    return _attempt(request, user, "proxies", "proxy-new", add, "The proxy relation was added.")


@requires(Permission.USERS_MANAGE_PROXIES)
@require_POST
@domain_errors
def proxy_remove(request: HttpRequest, pk: int, relation_id: int) -> HttpResponse:
    user = _subject(request, pk)
    relation = ProxyRelation.objects.filter(pk=relation_id, proxy=user).first() or (
        ProxyRelation.objects.filter(pk=relation_id, sponsor=user).first()
    )
    if relation is None:
        raise NotFound("No such proxy relation.")
    return _attempt(
        request,
        user,
        "proxies",
        f"proxy-{relation.pk}",
        lambda: actions.remove_proxy(actor=actor(request), relation=relation),
        "The proxy relation was removed.",
    )


# --- deletion ---------------------------------------------------------------------------------


@requires(Permission.USERS_DELETE)
@require_http_methods(["GET", "POST"])
@domain_errors
@reads_patron_data(VIEWED)
def user_deletion(request: HttpRequest, pk: int) -> HttpResponse:
    """The User Deletion dialog: the preconditions, and Cancel / View user / Waive fees (then
    confirm) / Delete, optionally notifying the user."""
    user = _subject(request, pk)
    if request.method == "GET":
        return render_tab(request, user, "deletion")
    post = request.POST
    if not post.get("confirm"):
        return render_tab(
            request,
            user,
            "deletion",
            status=INVALID,
            errors={"confirm": "Tick the box to confirm the deletion."},
            values=post_values(request),
        )
    try:
        deletion.delete_user(
            actor=actor(request),
            user=user,
            waive_fees=bool(post.get("waive_fees")),
            notify=bool(post.get("notify")),
            reason=post.get("reason", ""),
        )
    except (ValidationFailed, Conflict) as refusal:
        return _refused(request, user, "deletion", "deletion", refusal)
    messages.success(request, f"{user} was deleted.")
    target = reverse("web:user_search")
    if is_partial(request, "user-tabs"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = target
        return response
    return redirect(target)
