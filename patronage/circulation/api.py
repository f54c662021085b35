"""The circulation part of the native API (mounted in ``patronage.api``): loans and items,
blocks in force, the fines and fees ledger, proxies and deletion. Thin: parse, call an
action or a selector, serialise. Users are found through the accounts selectors (404 out
of reach); a fee or loan owned by a library outside the caller's scope is a 404 too."""

from __future__ import annotations

from typing import Annotated, Any

from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from ninja import Path, Query, Router, Status

from patronage.access.models import Role
from patronage.access.permissions import Permission
from patronage.accounts import selectors as user_selectors
from patronage.accounts.models import User
from patronage.api_support import MAX_ID, acting_user, error_responses, permission_required
from patronage.audit.context import Actor, Channel
from patronage.errors import NotFound, ValidationFailed
from patronage.organization.models import Library
from patronage.privacy.reads import VIEWED, reads_patron_data

from . import actions, deletion, selectors
from .models import (
    CirculationSettings,
    Fee,
    FeeType,
    Item,
    Loan,
    ProxyRelation,
    Receipt,
    UserGroupPolicy,
    WaiveLimit,
    WaiveReason,
)
from .schemas import (
    BlockOut,
    CheckOutIn,
    CommentIn,
    ConfigOut,
    CreditIn,
    DeletionCheckOut,
    DeletionIn,
    DueDateIn,
    FeeDetailOut,
    FeeIn,
    FeeOut,
    FeesOut,
    FeeTypeIn,
    FeeTypeOut,
    ItemIn,
    ItemOut,
    LinkItemIn,
    LoanOut,
    PaymentIn,
    PolicyIn,
    PolicyOut,
    ProxiesOut,
    ProxyIn,
    ProxyOut,
    ReceiptOut,
    ReturnIn,
    SettingsOut,
    SettingsPatch,
    WaiveIn,
    WaiveLimitIn,
    WaiveLimitOut,
    WaiveReasonIn,
    WaiveReasonOut,
)

router = Router()

Id = Annotated[int, Path(ge=1, le=MAX_ID)]
CREATED = 201
NO_CONTENT = 204


def _actor(request: HttpRequest) -> Actor:
    return Actor.from_request(request, Channel.API)


def _user(request: HttpRequest, user_id: int) -> User:
    return user_selectors.get_user(acting_user(request), user_id)


def _library(library_id: int | None) -> Library | None:
    if library_id is None:
        return None
    library = Library.objects.filter(pk=library_id).first()
    if library is None:
        raise ValidationFailed({"owner": "Unknown library."}, code="unknown_library")
    return library


# --- serialising ----------------------------------------------------------------------------


def fee_out(fee: Fee) -> dict[str, Any]:
    balance = getattr(fee, "balance", None)
    balance = selectors.fee_balance(fee) if balance is None else selectors.money(balance)
    sign = -1 if fee.fee_type.is_credit else 1
    return {
        "id": fee.pk,
        "fee_type": fee.fee_type.code,
        "fee_type_description": fee.fee_type.description,
        "credit": fee.fee_type.is_credit,
        "status": fee.status,
        "status_date": fee.status_date,
        "owner": fee.owner_id,
        "original_amount": sign * fee.original_amount,
        "balance": sign * balance,
        "original_vat": fee.original_vat,
        "currency": fee.currency,
        "accruing": fee.accruing,
        "item_barcode": fee.item.barcode if fee.item else None,
        "title": fee.item.title if fee.item else None,
        "loan_id": fee.loan_id,
        "comment": fee.comment,
        "bursar_transaction_id": fee.bursar_transaction_id,
        "created_at": fee.created_at,
    }


def receipt_out(receipt: Receipt) -> dict[str, Any]:
    return {
        "number": receipt.number,
        "method": receipt.method,
        "total": receipt.total,
        "currency": receipt.currency,
        "fee_ids": sorted({entry.fee_id for entry in receipt.entries.all()}),
        "created_at": receipt.created_at,
    }


def loan_out(loan: Loan) -> dict[str, Any]:
    return {
        "id": loan.pk,
        "user": loan.user_id,
        "proxy": loan.proxy_id,
        "item_barcode": loan.item.barcode,
        "title": loan.item.title,
        "desk": loan.desk.code,
        "library": loan.library_id,
        "loaned_at": loan.loaned_at,
        "due_at": loan.due_at,
        "due_capped_at_expiry": loan.due_capped_at_expiry,
        "renewals": loan.renewals,
        "returned_at": loan.returned_at,
        "overdue": loan.is_open and loan.due_at < timezone.now(),
    }


def block_out(block: selectors.Block) -> dict[str, Any]:
    return {
        "code": block.code,
        "description": block.description,
        "derived": block.derived,
        "stops": sorted(block.stops),
        "detail": block.detail,
        "note": block.note,
        "expiry_date": block.expiry_date,
        "owner": block.owner_id,
    }


def proxy_out(view: selectors.ProxyView) -> dict[str, Any]:
    relation = view.relation
    return {
        "id": relation.pk,
        "proxy": relation.proxy_id,
        "proxy_name": relation.proxy.display_name,
        "sponsor": relation.sponsor_id,
        "sponsor_name": relation.sponsor.display_name,
        "kind": relation.kind,
        "valid_from": relation.valid_from,
        "valid_until": relation.valid_until,
        "valid": view.valid,
    }


# --- fines and fees --------------------------------------------------------------------------


@router.get(
    "/users/{user_id}/fees",
    response={200: FeesOut, **error_responses(404)},
    summary="A user's fines and fees with the balances",
)
@permission_required(Permission.FINES_VIEW)
@reads_patron_data(VIEWED, Channel.API)
def list_fees(request: HttpRequest, user_id: Id) -> dict[str, Any]:
    """Fees owned by libraries outside the caller's scope are left out, and so are they from
    the balances (library independence)."""
    viewer, user = acting_user(request), _user(request, user_id)
    fees = selectors.visible_fees(viewer, user)
    summary = selectors.balances(user, fees)
    return {"balances": summary.__dict__, "fees": [fee_out(fee) for fee in fees]}


def _created_fee(
    request: HttpRequest, user_id: int, fee_type: FeeType | str, payload: Any
) -> Status[Any]:
    fee = actions.create_fee(
        actor=_actor(request),
        user=_user(request, user_id),
        fee_type=fee_type,
        amount=payload.amount,
        currency=payload.currency,
        owner=_library(payload.owner),
        barcode=getattr(payload, "barcode", ""),
        comment=payload.comment,
    )
    return Status(CREATED, fee_out(fee))


@router.post(
    "/users/{user_id}/fees",
    response={CREATED: FeeOut, **error_responses(404, 409)},
    summary="Add a fine or fee",
)
@permission_required(Permission.FINES_CREATE)
def create_fee(request: HttpRequest, user_id: Id, payload: FeeIn) -> Status[Any]:
    if FeeType.objects.filter(code=payload.fee_type, is_credit=True).exists():
        raise ValidationFailed(
            {"fee_type": "Register credits with POST /users/{user_id}/credits."},
            code="use_credits",
        )
    return _created_fee(request, user_id, payload.fee_type, payload)


@router.post(
    "/users/{user_id}/credits",
    response={CREATED: FeeOut, **error_responses(404)},
    summary="Register a credit (shown and counted as negative)",
)
@permission_required(Permission.FINES_CREDIT)
def create_credit(request: HttpRequest, user_id: Id, payload: CreditIn) -> Status[Any]:
    credit_type = FeeType.objects.filter(is_credit=True, enabled=True).first()
    if credit_type is None:
        raise ValidationFailed({"fee_type": "No credit fee type is configured."})
    return _created_fee(request, user_id, credit_type, payload)


@router.post(
    "/users/{user_id}/fees/{fee_id}/pay",
    response={CREATED: ReceiptOut, **error_responses(404, 409)},
    summary="Pay a fine or fee (in part or in full)",
)
@permission_required(Permission.FINES_PAY)
def pay_fee(request: HttpRequest, user_id: Id, fee_id: Id, payload: PaymentIn) -> Status[Any]:
    fee = selectors.get_fee(
        acting_user(request), _user(request, user_id), fee_id, Permission.FINES_PAY
    )
    receipt = actions.pay_fee(actor=_actor(request), fee=fee, **payload.model_dump())
    return Status(CREATED, receipt_out(receipt))


@router.post(
    "/users/{user_id}/fees/pay-all",
    response={CREATED: ReceiptOut, **error_responses(404, 409)},
    summary="Pay all (or up to an amount of) the user's fines and fees, oldest first",
)
@permission_required(Permission.FINES_PAY)
def pay_all(request: HttpRequest, user_id: Id, payload: PaymentIn) -> Status[Any]:
    receipt = actions.pay_all(
        actor=_actor(request), user=_user(request, user_id), **payload.model_dump()
    )
    return Status(CREATED, receipt_out(receipt))


@router.post(
    "/users/{user_id}/fees/waive",
    response={200: list[FeeOut], **error_responses(404, 409)},
    summary="Waive selected fines and fees, or all of them",
)
@permission_required(Permission.FINES_WAIVE)
def waive(request: HttpRequest, user_id: Id, payload: WaiveIn) -> list[dict[str, Any]]:
    """At most the configured number of fees (``waiving_fines_fees_limit``, default 100) and
    never more than the caller's waive limit in one call."""
    user = _user(request, user_id)
    if payload.all:
        if payload.fee_ids or payload.amount is not None:
            raise ValidationFailed(
                {"all": "Waive all takes neither fee_ids nor an amount."}, code="invalid_request"
            )
        fees = actions.waive_all(
            actor=_actor(request), user=user, reason=payload.reason, comment=payload.comment
        )
    else:
        chosen = set(payload.fee_ids)
        if Fee.objects.filter(user=user, pk__in=chosen).count() != len(chosen):
            raise NotFound("No such fine or fee.", code="fee_not_found")
        fees = actions.waive_fees(
            actor=_actor(request),
            fees=sorted(chosen),
            reason=payload.reason,
            comment=payload.comment,
            amount=payload.amount,
        )
    return [fee_out(fee) for fee in fees]


def _status_change(
    request: HttpRequest, user_id: int, fee_id: int, change: Any, comment: str
) -> dict[str, Any]:
    fee = selectors.get_fee(
        acting_user(request), _user(request, user_id), fee_id, Permission.FINES_DISPUTE
    )
    return fee_out(change(actor=_actor(request), fee=fee, comment=comment))


@router.post(
    "/users/{user_id}/fees/{fee_id}/dispute",
    response={200: FeeOut, **error_responses(404, 409)},
    summary="Put a fine or fee in dispute (a comment is required)",
)
@permission_required(Permission.FINES_DISPUTE)
def dispute(request: HttpRequest, user_id: Id, fee_id: Id, payload: CommentIn) -> dict[str, Any]:
    return _status_change(request, user_id, fee_id, actions.dispute_fee, payload.comment)


@router.post(
    "/users/{user_id}/fees/{fee_id}/restore",
    response={200: FeeOut, **error_responses(404, 409)},
    summary="Restore a fine or fee in dispute",
)
@permission_required(Permission.FINES_DISPUTE)
def restore(request: HttpRequest, user_id: Id, fee_id: Id, payload: CommentIn) -> dict[str, Any]:
    return _status_change(request, user_id, fee_id, actions.restore_fee, payload.comment)


@router.post(
    "/users/{user_id}/fees/{fee_id}/item",
    response={200: FeeOut, **error_responses(404)},
    summary="Link a fine or fee to an item",
)
@permission_required(Permission.FINES_CREATE)
def link_item(request: HttpRequest, user_id: Id, fee_id: Id, payload: LinkItemIn) -> dict[str, Any]:
    fee = selectors.get_fee(
        acting_user(request), _user(request, user_id), fee_id, Permission.FINES_CREATE
    )
    return fee_out(actions.link_item(actor=_actor(request), fee=fee, barcode=payload.barcode))


@router.post(
    "/users/{user_id}/fees/export",
    response={200: list[FeeOut], **error_responses(404, 409)},
    summary="Export the user's fines and fees to the bursar",
)
@permission_required(Permission.FINES_EXPORT)
def export(request: HttpRequest, user_id: Id) -> list[dict[str, Any]]:
    fees = actions.export_fees(actor=_actor(request), user=_user(request, user_id))
    return [fee_out(fee) for fee in fees]


# Declared after the fixed paths above (pay-all, waive, export), which it would shadow.
@router.get(
    "/users/{user_id}/fees/{fee_id}",
    response={200: FeeDetailOut, **error_responses(404)},
    summary="One fine or fee with its ledger",
)
@permission_required(Permission.FINES_VIEW)
@reads_patron_data(VIEWED, Channel.API)
def get_fee(request: HttpRequest, user_id: Id, fee_id: Id) -> dict[str, Any]:
    fee = selectors.get_fee(
        acting_user(request), _user(request, user_id), fee_id, Permission.FINES_VIEW
    )
    entries = fee.entries.select_related("receipt", "created_by")
    return {
        **fee_out(fee),
        "entries": [
            {
                "kind": e.kind,
                "amount": e.amount,
                "method": e.method,
                "reason": e.reason,
                "comment": e.comment,
                "receipt": e.receipt.number if e.receipt else None,
                "created_at": e.created_at,
                "created_by": e.created_by.primary_id if e.created_by else None,
            }
            for e in entries
        ],
    }


# --- blocks, items and loans ------------------------------------------------------------------


@router.get(
    "/users/{user_id}/blocks-in-force",
    response={200: list[BlockOut], **error_responses(404)},
    summary="The blocks in force: manual and derived (expired, debt limit, overdue items)",
)
@permission_required(Permission.USERS_VIEW_DETAILS)
@reads_patron_data(VIEWED, Channel.API)
def blocks_in_force(request: HttpRequest, user_id: Id) -> list[dict[str, Any]]:
    return [block_out(block) for block in selectors.effective_blocks(_user(request, user_id))]


def _item_library(library_id: int) -> Library:
    library = Library.objects.filter(pk=library_id).first()
    if library is None:
        raise ValidationFailed({"library": "Unknown library."}, code="unknown_library")
    return library


def item_out(item: Item) -> dict[str, Any]:
    return {
        "id": item.pk,
        "barcode": item.barcode,
        "title": item.title,
        "library": item.library_id,
        "location": item.location,
    }


@router.get(
    "/items",
    response={200: list[ItemOut], **error_responses()},
    summary="Items of the caller's libraries",
)
@permission_required(Permission.FULFILLMENT_ITEMS)
def list_items(request: HttpRequest, search: str = "") -> list[dict[str, Any]]:
    """``search``: a barcode (exact, any case) or words of the title; at most 500 items."""
    return [item_out(i) for i in selectors.visible_items(acting_user(request), search[:200])[:500]]


@router.get(
    "/items/{item_id}",
    response={200: ItemOut, **error_responses(404)},
    summary="One item",
)
@permission_required(Permission.FULFILLMENT_ITEMS)
def get_item(request: HttpRequest, item_id: Id) -> dict[str, Any]:
    return item_out(selectors.get_item(acting_user(request), item_id))


@router.post("/items", response={CREATED: ItemOut, **error_responses()}, summary="Add an item")
@permission_required(Permission.FULFILLMENT_ITEMS)
def create_item(request: HttpRequest, payload: ItemIn) -> Status[Any]:
    """In a library the caller keeps items in (else 422 on ``library``)."""
    item = actions.create_item(
        actor=_actor(request),
        barcode=payload.barcode,
        title=payload.title,
        library=_item_library(payload.library),
        location=payload.location,
    )
    return Status(CREATED, item_out(item))


@router.put(
    "/items/{item_id}",
    response={200: ItemOut, **error_responses(404)},
    summary="Change an item's barcode, title, library or location",
)
@permission_required(Permission.FULFILLMENT_ITEMS)
def update_item(request: HttpRequest, item_id: Id, payload: ItemIn) -> dict[str, Any]:
    """Another library's item is a 404; moving an item to a library outside the caller's
    scope, or to a barcode another item has, a 422."""
    item = actions.update_item(
        actor=_actor(request),
        item=selectors.get_item(acting_user(request), item_id),
        barcode=payload.barcode,
        title=payload.title,
        library=_item_library(payload.library),
        location=payload.location,
    )
    return item_out(item)


@router.get(
    "/users/{user_id}/loans",
    response={200: list[LoanOut], **error_responses(404)},
    summary="A user's loans (open ones, or the history too)",
)
@permission_required(Permission.FULFILLMENT_LOAN_VIEW)
@reads_patron_data(VIEWED, Channel.API)
def list_loans(
    request: HttpRequest, user_id: Id, history: Annotated[bool, Query()] = False
) -> list[dict[str, Any]]:
    loans = selectors.visible_loans(acting_user(request), _user(request, user_id))
    if not history:
        loans = loans.filter(returned_at__isnull=True)
    return [loan_out(loan) for loan in loans]


@router.post(
    "/users/{user_id}/loans",
    response={CREATED: LoanOut, **error_responses(404, 409)},
    summary="Check an item out to the user (or, for a proxy, to the sponsor)",
)
@permission_required(Permission.FULFILLMENT_LOANS)
def check_out(request: HttpRequest, user_id: Id, payload: CheckOutIn) -> Status[Any]:
    viewer = acting_user(request)
    sponsor = (
        user_selectors.get_user(viewer, payload.on_behalf_of) if payload.on_behalf_of else None
    )
    loan = actions.check_out(
        actor=_actor(request),
        user=_user(request, user_id),
        barcode=payload.barcode,
        desk=selectors.get_desk(payload.desk),
        on_behalf_of=sponsor,
    )
    return Status(CREATED, loan_out(loan))


@router.post(
    "/loans/{loan_id}/renew",
    response={200: LoanOut, **error_responses(404, 409)},
    summary="Renew a loan",
)
@permission_required(Permission.FULFILLMENT_LOANS)
def renew(request: HttpRequest, loan_id: Id) -> dict[str, Any]:
    loan = selectors.get_loan(acting_user(request), loan_id, Permission.FULFILLMENT_LOANS)
    return loan_out(actions.renew(actor=_actor(request), loan=loan))


@router.post(
    "/loans/{loan_id}/due-date",
    response={200: LoanOut, **error_responses(404, 409)},
    summary="Change a loan's due date (never past the user's expiry date)",
)
@permission_required(Permission.FULFILLMENT_DUE_DATES)
def change_due_date(request: HttpRequest, loan_id: Id, payload: DueDateIn) -> dict[str, Any]:
    loan = selectors.get_loan(acting_user(request), loan_id, Permission.FULFILLMENT_DUE_DATES)
    return loan_out(
        actions.change_due_date(actor=_actor(request), loan=loan, due_date=payload.due_date)
    )


@router.post(
    "/returns",
    response={200: LoanOut, **error_responses(409)},
    summary="Return (check in) an item at a desk",
)
@permission_required(Permission.FULFILLMENT_LOANS)
def return_item(request: HttpRequest, payload: ReturnIn) -> dict[str, Any]:
    loan = actions.return_item(
        actor=_actor(request), barcode=payload.barcode, desk=selectors.get_desk(payload.desk)
    )
    return loan_out(loan)


# --- proxies --------------------------------------------------------------------------------------


@router.get(
    "/users/{user_id}/proxies",
    response={200: ProxiesOut, **error_responses(404)},
    summary="Whom the user is a proxy for, and who is a proxy for the user",
)
@permission_required(Permission.USERS_VIEW_DETAILS)
@reads_patron_data(VIEWED, Channel.API)
def list_proxies(request: HttpRequest, user_id: Id) -> dict[str, Any]:
    proxies = selectors.proxies_of(_user(request, user_id))
    return {
        "proxy_for": [proxy_out(view) for view in proxies.proxy_for],
        "proxies": [proxy_out(view) for view in proxies.proxies],
    }


@router.post(
    "/users/{user_id}/proxies",
    response={CREATED: ProxyOut, **error_responses(404)},
    summary="Make the user a proxy for another user",
)
@permission_required(Permission.USERS_MANAGE_PROXIES)
def add_proxy(request: HttpRequest, user_id: Id, payload: ProxyIn) -> Status[Any]:
    viewer = acting_user(request)
    relation = actions.add_proxy(
        actor=_actor(request),
        proxy=_user(request, user_id),
        sponsor=user_selectors.get_user(viewer, payload.sponsor),
        kind=payload.kind,
        valid_from=payload.valid_from,
        valid_until=payload.valid_until,
    )
    return Status(CREATED, proxy_out(selectors.ProxyView(relation, True)))


@router.delete(
    "/users/{user_id}/proxies/{relation_id}",
    response={NO_CONTENT: None, **error_responses(404, 409)},
    summary="Remove a proxy-for relation",
)
@permission_required(Permission.USERS_MANAGE_PROXIES)
def remove_proxy(request: HttpRequest, user_id: Id, relation_id: Id) -> Status[None]:
    user = _user(request, user_id)
    relation = (
        ProxyRelation.objects.filter(pk=relation_id)
        .filter(Q(proxy=user) | Q(sponsor=user))
        .select_related("proxy", "sponsor")
        .first()
    )
    if relation is None:
        raise NotFound("No such proxy relation.", code="proxy_not_found")
    actions.remove_proxy(actor=_actor(request), relation=relation)
    return Status(NO_CONTENT, None)


# --- deletion ----------------------------------------------------------------------------------


@router.get(
    "/users/{user_id}/deletion",
    response={200: DeletionCheckOut, **error_responses(404)},
    summary="Whether the user can be deleted: the preconditions",
)
@permission_required(Permission.USERS_DELETE)
@reads_patron_data(VIEWED, Channel.API)
def deletion_check(request: HttpRequest, user_id: Id) -> dict[str, Any]:
    check = deletion.deletion_check(_user(request, user_id), actor=_actor(request))
    return {
        "can_delete": check.can_delete,
        "balance_due": check.balance_due,
        "fees_only": check.fees_only,
        "preconditions": [p.__dict__ for p in check.preconditions],
    }


@router.post(
    "/users/{user_id}/deletion",
    response={NO_CONTENT: None, **error_responses(404, 409)},
    summary="Delete the user (optionally waiving the fees first and notifying the user)",
)
@permission_required(Permission.USERS_DELETE)
def delete_user(request: HttpRequest, user_id: Id, payload: DeletionIn) -> Status[None]:
    deletion.delete_user(
        actor=_actor(request),
        user=_user(request, user_id),
        **payload.model_dump(exclude={"confirm"}),
    )
    return Status(NO_CONTENT, None)


# --- configuration (fulfillment:config:manage) -----------------------------------------------


def _settings_out(row: CirculationSettings) -> dict[str, Any]:
    return {
        "currency": row.currency,
        "waiving_fines_fees_limit": row.waiving_fines_fees_limit,
        "extend_due_date_beyond_user_expiry": row.extend_due_date_beyond_user_expiry,
    }


POLICY_FIELDS = (
    "user_group",
    "loan_period_days",
    "max_renewals",
    "overdue_items_limit",
    "debt_limit",
    "overdue_fine_per_day",
    "max_overdue_fine",
)
FEE_TYPE_FIELDS = (
    "code",
    "description",
    "manual_creation",
    "library_scope",
    "vat_rate",
    "is_credit",
    "enabled",
)


@router.get(
    "/circulation/config",
    response={200: ConfigOut, **error_responses()},
    summary="Circulation configuration: settings, user-group policies, fee types, waiving",
)
@permission_required(Permission.FULFILLMENT_CONFIG)
def get_config(request: HttpRequest) -> dict[str, Any]:
    return {
        "settings": _settings_out(CirculationSettings.current()),
        "policies": list(UserGroupPolicy.objects.values(*POLICY_FIELDS)),
        "fee_types": list(FeeType.objects.values(*FEE_TYPE_FIELDS)),
        "waive_reasons": list(WaiveReason.objects.values("code", "description", "enabled")),
        "waive_limits": [
            {"role": limit.role.code, "max_amount": limit.max_amount}
            for limit in WaiveLimit.objects.select_related("role")
        ],
    }


@router.patch(
    "/circulation/settings",
    response={200: SettingsOut, **error_responses()},
    summary="Change the circulation settings",
)
@permission_required(Permission.FULFILLMENT_CONFIG)
def patch_settings(request: HttpRequest, payload: SettingsPatch) -> dict[str, Any]:
    changes = payload.model_dump(exclude_none=True)
    return _settings_out(actions.update_settings(actor=_actor(request), changes=changes))


@router.put(
    "/circulation/policies",
    response={200: PolicyOut, **error_responses()},
    summary="Set a user group's loan period, renewals, debt and overdue limits and fines",
)
@permission_required(Permission.FULFILLMENT_CONFIG)
def put_policy(request: HttpRequest, payload: PolicyIn) -> dict[str, Any]:
    values = payload.model_dump(exclude_none=True, exclude={"user_group"})
    policy = actions.save_policy(
        actor=_actor(request), user_group=payload.user_group, values=values
    )
    return {name: getattr(policy, name) for name in POLICY_FIELDS}


@router.put(
    "/circulation/fee-types",
    response={200: FeeTypeOut, **error_responses()},
    summary="Add or change a fine/fee type",
)
@permission_required(Permission.FULFILLMENT_CONFIG)
def put_fee_type(request: HttpRequest, payload: FeeTypeIn) -> dict[str, Any]:
    fee_type = actions.save_fee_type(actor=_actor(request), **payload.model_dump())
    return {name: getattr(fee_type, name) for name in FEE_TYPE_FIELDS}


@router.put(
    "/circulation/waive-reasons",
    response={200: WaiveReasonOut, **error_responses()},
    summary="Add or change a reason for waiving fines and fees",
)
@permission_required(Permission.FULFILLMENT_CONFIG)
def put_waive_reason(request: HttpRequest, payload: WaiveReasonIn) -> dict[str, Any]:
    reason = actions.save_waive_reason(actor=_actor(request), **payload.model_dump())
    return {"code": reason.code, "description": reason.description, "enabled": reason.enabled}


@router.put(
    "/circulation/waive-limits",
    response={200: WaiveLimitOut, NO_CONTENT: None, **error_responses()},
    summary="Set (or, without an amount, remove) a role's waive limit per action",
)
@permission_required(Permission.FULFILLMENT_CONFIG)
def put_waive_limit(request: HttpRequest, payload: WaiveLimitIn) -> Any:
    role = Role.objects.filter(code=payload.role).first()
    if role is None:
        raise ValidationFailed({"role": f"'{payload.role}' is not a role."}, code="unknown_role")
    limit = actions.set_waive_limit(actor=_actor(request), role=role, max_amount=payload.max_amount)
    if limit is None:
        return Status(NO_CONTENT, None)
    return {"role": role.code, "max_amount": limit.max_amount}
