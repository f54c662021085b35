"""The only code that writes circulation data: loans, the fines and fees ledger, proxies.

Each action: keyword-only arguments, one transaction, the permission and the input checked
before any write, rows that two desks could change at once locked (``select_for_update``),
the audit event in the same transaction. A fee's balance is never written: every operation
adds a ledger entry (``FeeEntry``) and the balance is their sum (``selectors.fee_balance``).
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from patronage.access.checks import can, require, restrict
from patronage.access.models import Role, RoleGrant
from patronage.access.permissions import Permission
from patronage.accounts.actions import require_change
from patronage.accounts.choices import CodeTable, RecordType
from patronage.accounts.models import CodeTableEntry, User, UserManagementSettings
from patronage.accounts.validation import Errors, parse_date
from patronage.audit.actions import diff, record
from patronage.audit.context import Actor
from patronage.errors import Conflict, ValidationFailed
from patronage.organization.models import CirculationDesk, Library

from .choices import BlockedAction, EntryKind, FeeStatus, PaymentMethod, ProxyKind
from .models import (
    ZERO,
    CirculationSettings,
    Fee,
    FeeEntry,
    FeeType,
    Item,
    Loan,
    ProxyRelation,
    Receipt,
    UserGroupPolicy,
    WaiveLimit,
    WaiveReason,
)
from .selectors import CENT, Block, blocks_stopping, effective_blocks, fee_balance, may_lend_at

MAX_AMOUNT = Decimal("9999999999.99")
OVERDUE_FINE_TYPE = "OVERDUEFINE"


# --- input ----------------------------------------------------------------------------------


def parse_amount(value: Any, *, field: str = "amount", currency: str | None = None) -> Decimal:
    """A positive sum of money in the institution's currency, or a clear refusal."""
    institution = CirculationSettings.current().currency
    if currency not in (None, "") and str(currency).strip().upper() != institution:
        raise ValidationFailed(
            {"currency": f"Amounts are in {institution}, not '{currency}'."},
            code="wrong_currency",
        )
    if isinstance(value, float | bool) or value in (None, ""):
        raise ValidationFailed({field: "Enter an amount such as 12.50."}, code="invalid_amount")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationFailed(
            {field: f"'{value}' is not an amount (use a number such as 12.50)."},
            code="invalid_amount",
        ) from None
    if not amount.is_finite():
        raise ValidationFailed({field: "Enter a finite amount."}, code="invalid_amount")
    if amount <= 0:
        raise ValidationFailed(
            {field: "The amount must be greater than zero (it cannot be negative)."},
            code="invalid_amount",
        )
    if amount != amount.quantize(CENT) or amount > MAX_AMOUNT:
        raise ValidationFailed(
            {field: "Enter the amount in whole cents, at most 9999999999.99."},
            code="invalid_amount",
        )
    return amount.quantize(CENT)


def _text(value: Any, limit: int = 1000) -> str:
    return str(value or "").strip()[:limit]


def _now() -> datetime.datetime:
    return timezone.now()


# --- items ------------------------------------------------------------------------------------


def barcode_key(barcode: str) -> str:
    return barcode.strip().casefold()


def _item_fields(
    actor: Actor, barcode: str, title: str, library: Library, item: Item | None = None
) -> None:
    """The checks an item's fields pass, new or changed: a barcode no other item has, a
    title, and a library the actor keeps items in."""
    errors = Errors()
    others = Item.objects.exclude(pk=item.pk) if item is not None else Item.objects.all()
    if not (barcode or "").strip():
        errors.add("barcode", "Enter the item's barcode.")
    elif others.filter(key=barcode_key(barcode)).exists():
        errors.add("barcode", "Another item has this barcode.")
    if not (title or "").strip():
        errors.add("title", "Enter the title.")
    if actor.user is not None and not can(
        actor.user, Permission.FULFILLMENT_ITEMS, Item(library=library)
    ):
        errors.add("library", f"You do not keep the items of {library}: choose a library of yours.")
    errors.raise_if_any()


@transaction.atomic
def create_item(
    *, actor: Actor, barcode: str, title: str, library: Library, location: str = ""
) -> Item:
    require(actor, Permission.FULFILLMENT_ITEMS)
    _item_fields(actor, barcode, title, library)
    item = Item.objects.create(
        barcode=barcode.strip(),
        key=barcode_key(barcode),
        title=_text(title, 500),
        library=library,
        location=_text(location, 100),
    )
    record(actor=actor, verb="item.created", obj=item, details={"barcode": item.barcode})
    return item


def _item_values(item: Item) -> dict[str, Any]:
    return {
        "barcode": item.barcode,
        "title": item.title,
        "library": item.library.code,
        "location": item.location,
    }


@transaction.atomic
def update_item(
    *, actor: Actor, item: Item, barcode: str, title: str, library: Library, location: str = ""
) -> Item:
    """Correct an item's barcode, title, library or location. An item of a library outside
    the actor's scope is not theirs to change (404); moving it to one is refused (422)."""
    require(actor, Permission.FULFILLMENT_ITEMS, item)
    item = Item.objects.select_for_update().select_related("library").get(pk=item.pk)
    _item_fields(actor, barcode, title, library, item)
    before = _item_values(item)
    item.barcode, item.key = barcode.strip(), barcode_key(barcode)
    item.title, item.library, item.location = _text(title, 500), library, _text(location, 100)
    item.save()
    changes = diff(before, _item_values(item))
    if changes:
        record(
            actor=actor,
            verb="item.updated",
            obj=item,
            changes=changes,
            details={"barcode": item.barcode},
        )
    return item


def find_item(barcode: str, *, lock: bool = False) -> Item:
    items = Item.objects.select_for_update() if lock else Item.objects
    item = items.filter(key=barcode_key(barcode or "")).first()
    if item is None:
        raise ValidationFailed(
            {"barcode": f"No item has the barcode '{barcode}'."}, code="item_not_found"
        )
    return item


# --- loans --------------------------------------------------------------------------------------


def _require_at_desk(actor: Actor, desk: CirculationDesk) -> None:
    """Loans are made and returned at a desk the actor works at. A shared circulation-desk
    login works only at its own desk (seed 001)."""
    require(actor, Permission.FULFILLMENT_LOANS)
    user = actor.user
    if user is None:
        return
    if user.shared_desk_id is not None and user.shared_desk_id != desk.pk:
        raise ValidationFailed(
            {"desk": f"This shared desk login works only at its own desk, not at {desk}."},
            code="shared_desk_only",
        )
    if not may_lend_at(user, desk):
        raise ValidationFailed(
            {"desk": f"Your roles do not cover the circulation desk {desk}."},
            code="desk_out_of_scope",
        )


def _refuse_if_blocked(actor: Actor, user: User, action: str) -> None:
    blocks = blocks_stopping(user, action)
    if not blocks:
        return
    if actor.user is not None and not can(actor.user, Permission.USERS_VIEW_DETAILS):
        # Seed 000: staff who see only the card learn that a block is in force, not why.
        raise Conflict(
            f"{user.display_name} may not borrow: a block is in force. See a supervisor.",
            code="user_blocked",
        )
    raise Conflict(blocked_message(user, action, blocks), code="user_blocked")


def blocked_message(user: User, action: str, blocks: Sequence[Block], *, whose: str = "") -> str:
    reasons = "; ".join(
        f"{block.description}{f' ({block.detail})' if block.detail else ''}" for block in blocks
    )
    verbs: dict[str, str] = {BlockedAction.LOAN: "borrow", BlockedAction.RENEW: "renew"}
    verb = verbs.get(action, action)
    return f"{whose or user.display_name} may not {verb}: {reasons}."


def due_date_for(user: User, start: datetime.datetime) -> tuple[datetime.datetime, bool]:
    """The loan period of the user's group, ending at the close of the day, and capped at the
    close of the user's expiry date (seed 002) unless the institution allows otherwise.
    Returns the due date and whether the cap shortened it."""
    policy = UserGroupPolicy.for_group(user.user_group)
    last_day = timezone.localtime(start).date() + datetime.timedelta(days=policy.loan_period_days)
    capped = False
    if (
        user.expiry_date is not None
        and user.expiry_date < last_day
        and not CirculationSettings.current().extend_due_date_beyond_user_expiry
    ):
        last_day, capped = user.expiry_date, True
    return _end_of_day(last_day), capped


def _end_of_day(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(23, 59, 59)))


def _valid_proxy(proxy: User, sponsor: User) -> ProxyRelation:
    relation = ProxyRelation.objects.filter(proxy=proxy, sponsor=sponsor).first()
    if relation is None or not relation.valid_on(timezone.localdate()):
        raise ValidationFailed(
            {"on_behalf_of": f"{proxy.display_name} is not a valid proxy for {sponsor}."},
            code="not_a_proxy",
        )
    return relation


@transaction.atomic
def check_out(
    *,
    actor: Actor,
    user: User,
    barcode: str,
    desk: CirculationDesk,
    on_behalf_of: User | None = None,
) -> Loan:
    """Lend an item to ``user``, or — when ``user`` is a proxy — to the sponsor
    ``on_behalf_of``, whose blocks then apply (seed 002 "Managing Proxy Users")."""
    _require_at_desk(actor, desk)
    borrower, proxy = (on_behalf_of, user) if on_behalf_of is not None else (user, None)
    if borrower.record_type == RecordType.CONTACT:
        raise ValidationFailed({"user": "Contact users do not borrow."}, code="contact_user")
    if proxy is not None:
        _valid_proxy(proxy, borrower)
        own = [b for b in effective_blocks(proxy) if b.code in ("INACTIVE", "EXPIRED")]
        if own:
            raise Conflict(
                blocked_message(proxy, BlockedAction.LOAN, own, whose=f"The proxy {proxy}"),
                code="user_blocked",
            )
    _refuse_if_blocked(actor, borrower, BlockedAction.LOAN)
    item = find_item(barcode, lock=True)
    if Loan.objects.active().filter(item=item).exists():
        raise Conflict(f"{item} is already on loan.", code="item_on_loan")
    now = _now()
    due_at, capped = due_date_for(borrower, now)
    try:
        with transaction.atomic():
            loan = Loan.objects.create(
                item=item,
                user=borrower,
                proxy=proxy,
                desk=desk,
                library=desk.library,
                loaned_at=now,
                due_at=due_at,
                due_capped_at_expiry=capped,
            )
    except IntegrityError:  # another desk lent it between our check and our insert
        raise Conflict(f"{item} is already on loan.", code="item_on_loan") from None
    record(
        actor=actor,
        verb="loan.created",
        obj=loan,
        subject=borrower,
        details={
            "item": item.barcode,
            "due_at": due_at.isoformat(),
            "capped_at_expiry": capped,
            "proxy": proxy.pk if proxy else None,
        },
    )
    _note_patron_activity(borrower.pk)
    return loan


def _note_patron_activity(user_id: int) -> None:
    """Borrowing, returning and renewing set the last patron activity date -- only while the
    institution records it (seed 002; collected from the activation on, and not in the
    History tab). Turning it off deletes the stored dates (``privacy.retention``)."""
    if UserManagementSettings.current().record_last_patron_activity:
        User.objects.filter(pk=user_id).update(last_patron_activity_date=timezone.localdate())


def _locked_open_loan(loan: Loan) -> Loan:
    # Only the loan (and item) rows: the borrower is on the nullable side of an outer join
    # (anonymised loans have none), which PostgreSQL will not lock.
    locked = (
        Loan.objects.select_for_update(of=("self", "item"))
        .select_related("user", "item")
        .get(pk=loan.pk)
    )
    if not locked.is_open:
        raise Conflict("This loan has already been returned.", code="loan_returned")
    return locked


@transaction.atomic
def renew(*, actor: Actor, loan: Loan) -> Loan:
    require(actor, Permission.FULFILLMENT_LOANS, loan)
    loan = _locked_open_loan(loan)
    _refuse_if_blocked(actor, loan.borrower, BlockedAction.RENEW)
    policy = UserGroupPolicy.for_group(loan.borrower.user_group)
    if loan.renewals >= policy.max_renewals:
        raise Conflict(
            f"This loan has been renewed {loan.renewals} times, the most allowed.",
            code="renewal_limit",
        )
    due_at, capped = due_date_for(loan.borrower, _now())
    if due_at <= loan.due_at:
        raise Conflict(
            "Renewing would not move the due date"
            + (" (it is capped at the user's expiry date)." if capped else "."),
            code="due_date_unchanged",
        )
    old = loan.due_at
    loan.due_at, loan.due_capped_at_expiry = due_at, capped
    loan.renewals += 1
    loan.save(update_fields=["due_at", "due_capped_at_expiry", "renewals"])
    record(
        actor=actor,
        verb="loan.renewed",
        obj=loan,
        subject=loan.user,
        changes=[{"field": "due_at", "old": old.isoformat(), "new": due_at.isoformat()}],
    )
    _note_patron_activity(loan.borrower.pk)
    return loan


@transaction.atomic
def change_due_date(*, actor: Actor, loan: Loan, due_date: Any) -> Loan:
    """Set a loan's due date by hand: never in the past, never past the user's expiry date
    (unless the institution allows it)."""
    require(actor, Permission.FULFILLMENT_DUE_DATES, loan)
    loan = _locked_open_loan(loan)
    try:
        day = parse_date(due_date)
    except (TypeError, ValueError):
        day = None
    if day is None:
        raise ValidationFailed({"due_date": "Enter a date (YYYY-MM-DD)."}, code="invalid_date")
    if day < timezone.localdate():
        raise ValidationFailed({"due_date": "The due date cannot be in the past."})
    expiry = loan.borrower.expiry_date
    if (
        expiry is not None
        and day > expiry
        and not CirculationSettings.current().extend_due_date_beyond_user_expiry
    ):
        raise ValidationFailed(
            {"due_date": f"The due date cannot be after the user's expiry date ({expiry})."},
            code="after_user_expiry",
        )
    old = loan.due_at
    loan.due_at = _end_of_day(day)
    loan.due_capped_at_expiry = False
    loan.save(update_fields=["due_at", "due_capped_at_expiry"])
    record(
        actor=actor,
        verb="loan.due_date_changed",
        obj=loan,
        subject=loan.user,
        changes=[{"field": "due_at", "old": old.isoformat(), "new": loan.due_at.isoformat()}],
    )
    return loan


@transaction.atomic
def return_item(*, actor: Actor, barcode: str, desk: CirculationDesk) -> Loan:
    """Check an item in at ``desk``; its overdue fine stops accruing and becomes due."""
    _require_at_desk(actor, desk)
    item = find_item(barcode)
    loan = (
        Loan.objects.active()
        .select_for_update(of=("self",))
        .select_related("user")
        .filter(item=item)
        .first()
    )
    if loan is None:
        raise Conflict(f"{item} is not on loan.", code="item_not_on_loan")
    loan.item = item
    now = _now()
    loan.returned_at, loan.return_desk = now, desk
    loan.save(update_fields=["returned_at", "return_desk"])
    _charge_overdue(actor=actor, loan=loan, now=now, final=True)
    record(
        actor=actor,
        verb="loan.returned",
        obj=loan,
        subject=loan.user,
        details={"item": item.barcode, "desk": desk.code},
    )
    _note_patron_activity(loan.borrower.pk)
    return loan


# --- overdue fines ---------------------------------------------------------------------------


def overdue_fine(loan: Loan, now: datetime.datetime) -> Decimal:
    """The fine of a loan returned (or still out) at ``now``: whole days late times the
    group's daily rate, at most the group's maximum."""
    days = (timezone.localtime(now).date() - timezone.localtime(loan.due_at).date()).days
    if now <= loan.due_at or days <= 0:
        return ZERO
    policy = UserGroupPolicy.for_group(loan.borrower.user_group)
    return min(policy.overdue_fine_per_day * days, policy.max_overdue_fine).quantize(CENT)


def _charge_overdue(*, actor: Actor, loan: Loan, now: datetime.datetime, final: bool) -> bool:
    """Create or grow the loan's overdue fine; ``final`` (the return) stops its accrual.

    A fine waived or paid while accruing is not created again. Returns whether it changed.
    """
    amount = overdue_fine(loan, now)
    if amount <= 0 and not final:  # not late (now): nothing to create or grow
        return False
    fee = Fee.objects.select_for_update().filter(loan=loan, fee_type__code=OVERDUE_FINE_TYPE)
    existing = fee.first()
    if existing is None:
        if amount <= 0:
            return False
        fee_type = FeeType.objects.get(code=OVERDUE_FINE_TYPE)
        existing = Fee.objects.create(
            user=loan.borrower,
            fee_type=fee_type,
            owner=loan.library,
            status_date=now,
            original_amount=amount,
            original_vat=_vat(amount, fee_type),
            currency=CirculationSettings.current().currency,
            accruing=not final,
            item=loan.item,
            loan=loan,
        )
        FeeEntry.objects.create(fee=existing, kind=EntryKind.CREATED)
        _audit_fee(actor, existing, "fee.created", amount=amount)
        return True
    if not existing.accruing:
        return False
    charged = existing.original_amount + sum(
        (e.amount for e in existing.entries.filter(kind=EntryKind.ACCRUAL)), ZERO
    )
    grown = amount - charged
    if grown > 0:
        FeeEntry.objects.create(fee=existing, kind=EntryKind.ACCRUAL, amount=grown)
        if existing.status == FeeStatus.CLOSED:
            existing.status, existing.status_date = FeeStatus.ACTIVE, now
        _audit_fee(actor, existing, "fee.accrued", amount=grown)
    if final:
        existing.accruing = False
    existing.save(update_fields=["accruing", "status", "status_date"])
    return grown > 0 or final


def accrue_overdue_fines(*, actor: Actor, now: datetime.datetime | None = None) -> int:
    """The overdue-fine job: every open overdue loan's fine grows to what it owes today.
    One transaction per loan, so a long run holds no lock for long. Returns fines changed."""
    now = now or _now()
    changed = 0
    overdue = Loan.objects.active().filter(due_at__lt=now).values_list("pk", flat=True)
    for pk in overdue.iterator():
        with transaction.atomic():
            loan = (
                Loan.objects.select_for_update(of=("self", "item"))
                .select_related("user", "item")
                .get(pk=pk)
            )
            if loan.is_open:
                changed += _charge_overdue(actor=actor, loan=loan, now=now, final=False)
    return changed


# --- fines and fees -------------------------------------------------------------------------


def _vat(amount: Decimal, fee_type: FeeType) -> Decimal:
    """The VAT included in ``amount`` at the fee type's rate."""
    if not fee_type.vat_rate:
        return ZERO
    return (amount * fee_type.vat_rate / (100 + fee_type.vat_rate)).quantize(CENT)


def _audit_fee(actor: Actor, fee: Fee, verb: str, **details: Any) -> None:
    record(
        actor=actor,
        verb=verb,
        obj=fee,
        subject=fee.user,
        reason=str(details.pop("comment", "") or ""),
        details={
            "fee_type": fee.fee_type.code,
            "currency": fee.currency,
            **{k: str(v) for k, v in details.items()},
        },
    )


@transaction.atomic
def create_fee(
    *,
    actor: Actor,
    user: User,
    fee_type: FeeType | str,
    amount: Any,
    currency: str | None = None,
    owner: Library | None = None,
    barcode: str = "",
    comment: str = "",
) -> Fee:
    """Add a fine or fee by hand (or a credit, shown and counted as negative)."""
    if not isinstance(fee_type, FeeType):
        found = FeeType.objects.filter(code=str(fee_type or "")).first()
        if found is None:
            raise ValidationFailed(
                {"fee_type": f"'{fee_type}' is not a fine/fee type."}, code="unknown_fee_type"
            )
        fee_type = found
    permission = Permission.FINES_CREDIT if fee_type.is_credit else Permission.FINES_CREATE
    require(actor, permission, user)
    errors = Errors()
    if user.record_type == RecordType.CONTACT:
        errors.add("user", "Contact users have no fines and fees.")
    if not fee_type.enabled or not fee_type.manual_creation:
        errors.add("fee_type", f"{fee_type} fees cannot be added by hand.")
    if owner is not None and not fee_type.library_scope:
        errors.add("owner", f"{fee_type} fees are owned by the institution, not a library.")
    comment = _text(comment)
    if fee_type.is_credit and not comment:
        errors.add("comment", "A credit needs a comment.")
    item = find_item(barcode) if (barcode or "").strip() else None
    errors.raise_if_any()
    value = parse_amount(amount, currency=currency)
    now = _now()
    fee = Fee(
        user=user,
        fee_type=fee_type,
        owner=owner,
        status_date=now,
        original_amount=value,
        original_vat=_vat(value, fee_type),
        currency=CirculationSettings.current().currency,
        item=item,
        comment=comment,
        created_by=actor.user,
    )
    if actor.user is not None and not can(actor.user, permission, fee):
        raise ValidationFailed(
            {"owner": "You can only give a fee to a library within the scope of your roles."},
            code="owner_out_of_scope",
        )
    fee.save()
    FeeEntry.objects.create(fee=fee, kind=EntryKind.CREATED, comment=comment, created_by=actor.user)
    _audit_fee(actor, fee, "fee.created", amount=value, comment=comment)
    return fee


def _lock_fees(actor: Actor, permission: Permission, fees: Iterable[Fee | int]) -> list[Fee]:
    """The fees, locked in primary-key order (two actions never wait on each other in a
    cycle), each checked against the actor's scope (404 for another library's fee)."""
    ids = sorted({fee.pk if isinstance(fee, Fee) else int(fee) for fee in fees})
    locked = list(
        Fee.objects.select_for_update().filter(pk__in=ids).select_related("fee_type", "user")
    )
    if len(locked) != len(ids):
        raise ValidationFailed({"fees": "Some of these fines/fees do not exist."}, code="not_found")
    for fee in locked:
        require(actor, permission, fee)
    return locked


def _refuse_status(fee: Fee, allowed: Iterable[str], doing: str) -> None:
    if fee.status not in allowed:
        raise Conflict(
            f"A fee that is {fee.get_status_display().lower()} cannot be {doing}.",
            code=f"fee_{fee.status.lower()}",
        )


def _close_if_settled(fee: Fee, balance: Decimal, now: datetime.datetime) -> None:
    if balance == 0:
        fee.status, fee.status_date, fee.accruing = FeeStatus.CLOSED, now, False
        fee.save(update_fields=["status", "status_date", "accruing"])


def _payment_method(method: str) -> str:
    if method not in PaymentMethod.values:
        raise ValidationFailed(
            {"method": f"'{method}' is not a payment method ({', '.join(PaymentMethod.values)})."},
            code="invalid_method",
        )
    return method


def _pay(
    *,
    actor: Actor,
    user: User,
    payments: list[tuple[Fee, Decimal]],
    method: str,
    external_transaction_id: str,
) -> Receipt:
    now = _now()
    total = sum((amount for _, amount in payments), ZERO)
    receipt = Receipt.objects.create(
        user=user,
        number=f"R{now:%Y%m%d}-{secrets.token_hex(5).upper()}",
        method=method,
        total=total,
        currency=CirculationSettings.current().currency,
        external_transaction_id=_text(external_transaction_id, 100),
        created_by=actor.user,
    )
    for fee, amount in payments:
        balance = fee_balance(fee)
        FeeEntry.objects.create(
            fee=fee,
            kind=EntryKind.PAYMENT,
            amount=-amount,
            method=method,
            receipt=receipt,
            created_by=actor.user,
        )
        _close_if_settled(fee, balance - amount, now)
        _audit_fee(actor, fee, "fee.paid", amount=amount, method=method, receipt=receipt.number)
    return receipt


def _payable(fee: Fee) -> Decimal:
    _refuse_status(fee, [FeeStatus.ACTIVE], "paid")
    if fee.fee_type.is_credit:
        raise Conflict("A credit is not paid.", code="fee_is_credit")
    if fee.accruing:
        raise Conflict(
            "This overdue fine is still accruing: it is paid once the item is returned.",
            code="fine_still_accruing",
        )
    return fee_balance(fee)


@transaction.atomic
def pay_fee(
    *,
    actor: Actor,
    fee: Fee,
    method: str,
    amount: Any = None,
    currency: str | None = None,
    external_transaction_id: str = "",
) -> Receipt:
    """Pay a fee in part or in full (no amount: its whole balance). Never more than it owes."""
    method = _payment_method(method)
    (fee,) = _lock_fees(actor, Permission.FINES_PAY, [fee])
    balance = _payable(fee)
    value = balance if amount in (None, "") else parse_amount(amount, currency=currency)
    if value > balance:
        raise ValidationFailed(
            {"amount": f"{value} is more than the balance of {balance} {fee.currency}."},
            code="overpayment",
        )
    return _pay(
        actor=actor,
        user=fee.user,
        payments=[(fee, value)],
        method=method,
        external_transaction_id=external_transaction_id,
    )


@transaction.atomic
def pay_all(
    *,
    actor: Actor,
    user: User,
    method: str,
    amount: Any = None,
    currency: str | None = None,
    external_transaction_id: str = "",
) -> Receipt:
    """Pay the user's payable fees the actor may see, oldest first, up to ``amount``
    (no amount: all of them)."""
    method = _payment_method(method)
    require(actor, Permission.FINES_PAY, user)
    candidates: QuerySet[Fee] = Fee.objects.filter(
        user=user, status=FeeStatus.ACTIVE, accruing=False, fee_type__is_credit=False
    )
    if actor.user is not None:
        candidates = restrict(candidates, actor.user, Permission.FINES_PAY)
    fees = _lock_fees(actor, Permission.FINES_PAY, candidates.values_list("pk", flat=True))
    owed = [(fee, fee_balance(fee)) for fee in sorted(fees, key=lambda f: (f.created_at, f.pk))]
    total = sum((balance for _, balance in owed), ZERO)
    if total <= 0:
        raise Conflict("There is nothing to pay.", code="nothing_to_pay")
    value = total if amount in (None, "") else parse_amount(amount, currency=currency)
    if value > total:
        raise ValidationFailed(
            {"amount": f"{value} is more than the balance of {total}."}, code="overpayment"
        )
    payments: list[tuple[Fee, Decimal]] = []
    left = value
    for fee, balance in owed:
        if left <= 0:
            break
        part = min(balance, left)
        payments.append((fee, part))
        left -= part
    return _pay(
        actor=actor,
        user=user,
        payments=payments,
        method=method,
        external_transaction_id=external_transaction_id,
    )


def waive_limit_of(user: User | None) -> Decimal | None:
    """The most ``user`` may waive in one action: the highest limit of the roles through
    which they hold the waive permission; None (no limit) if one of those roles has none."""
    if user is None:
        return None
    role_ids = RoleGrant.objects.active().filter(user=user).values_list("role_id", flat=True)
    waiving = [
        role.pk
        for role in Role.objects.filter(pk__in=role_ids)
        if Permission.FINES_WAIVE in role.permissions
    ]
    limits = dict(
        WaiveLimit.objects.filter(role_id__in=waiving).values_list("role_id", "max_amount")
    )
    if not waiving or len(limits) < len(waiving):
        return None
    return max(limits.values())


def _waive_reason(reason: str) -> WaiveReason:
    found = WaiveReason.objects.filter(code=reason or "", enabled=True).first()
    if found is None:
        raise ValidationFailed(
            {"reason": "Choose a waiving reason from the configured list."},
            code="invalid_waive_reason",
        )
    return found


@transaction.atomic
def waive_fees(
    *,
    actor: Actor,
    fees: Sequence[Fee | int],
    reason: str,
    comment: str = "",
    amount: Any = None,
    currency: str | None = None,
) -> list[Fee]:
    """Waive one fee (in part, with ``amount``) or several in full, with a reason from the
    configured list. At most ``waiving_fines_fees_limit`` fees in one action, and never more
    money than the operator's waive limit."""
    require(actor, Permission.FINES_WAIVE)
    limit = CirculationSettings.current().waiving_fines_fees_limit
    if not fees:
        raise ValidationFailed({"fees": "Select the fines/fees to waive."}, code="nothing_selected")
    if len(fees) > limit:
        raise ValidationFailed(
            {
                "fees": f"At most {limit} fines/fees can be waived in one action "
                f"({len(fees)} chosen)."
            },
            code="too_many_fees",
        )
    waive_reason = _waive_reason(reason)
    if amount not in (None, "") and len(fees) != 1:
        raise ValidationFailed(
            {"amount": "An amount can only be given when waiving one fee."}, code="invalid_amount"
        )
    locked = _lock_fees(actor, Permission.FINES_WAIVE, fees)
    waivers: list[tuple[Fee, Decimal, Decimal]] = []
    for fee in locked:
        _refuse_status(fee, [FeeStatus.ACTIVE, FeeStatus.IN_DISPUTE], "waived")
        balance = fee_balance(fee)
        value = balance if amount in (None, "") else parse_amount(amount, currency=currency)
        if value > balance:
            raise ValidationFailed(
                {"amount": f"{value} is more than the balance of {balance} {fee.currency}."},
                code="overpayment",
            )
        if value > 0:
            waivers.append((fee, balance, value))
    total = sum((value for _, _, value in waivers), ZERO)
    operator_limit = waive_limit_of(actor.user)
    if operator_limit is not None and total > operator_limit:
        raise ValidationFailed(
            {"amount": f"You may waive at most {operator_limit} in one action ({total} asked)."},
            code="waive_limit_exceeded",
        )
    now = _now()
    comment = _text(comment)
    for fee, balance, value in waivers:
        FeeEntry.objects.create(
            fee=fee,
            kind=EntryKind.WAIVE,
            amount=-value,
            reason=waive_reason.code,
            comment=comment,
            created_by=actor.user,
        )
        _close_if_settled(fee, balance - value, now)
        _audit_fee(
            actor, fee, "fee.waived", amount=value, reason_code=waive_reason.code, comment=comment
        )
    return [fee for fee, _, _ in waivers]


@transaction.atomic
def waive_all(*, actor: Actor, user: User, reason: str, comment: str = "") -> list[Fee]:
    """Waive all (across pages): every open fee of the user the actor may waive."""
    require(actor, Permission.FINES_WAIVE, user)
    fees: QuerySet[Fee] = Fee.objects.filter(
        user=user, status__in=[FeeStatus.ACTIVE, FeeStatus.IN_DISPUTE]
    )
    if actor.user is not None:
        fees = restrict(fees, actor.user, Permission.FINES_WAIVE)
    return waive_fees(
        actor=actor, fees=list(fees.values_list("pk", flat=True)), reason=reason, comment=comment
    )


def _set_status(
    *,
    actor: Actor,
    fee: Fee,
    permission: Permission,
    allowed: list[str],
    to: str,
    kind: str,
    doing: str,
    comment: str,
    verb: str,
) -> Fee:
    (fee,) = _lock_fees(actor, permission, [fee])
    _refuse_status(fee, allowed, doing)
    fee.status, fee.status_date = to, _now()
    fee.save(update_fields=["status", "status_date"])
    FeeEntry.objects.create(fee=fee, kind=kind, comment=comment, created_by=actor.user)
    _audit_fee(actor, fee, verb, comment=comment)
    return fee


@transaction.atomic
def dispute_fee(*, actor: Actor, fee: Fee, comment: str) -> Fee:
    """Put a fee in dispute: it leaves the active balance and the debt limit."""
    comment = _text(comment)
    if not comment:
        raise ValidationFailed({"comment": "Say why the fee is disputed."}, code="comment_required")
    return _set_status(
        actor=actor,
        fee=fee,
        permission=Permission.FINES_DISPUTE,
        allowed=[FeeStatus.ACTIVE],
        to=FeeStatus.IN_DISPUTE,
        kind=EntryKind.DISPUTE,
        doing="disputed",
        comment=comment,
        verb="fee.disputed",
    )


@transaction.atomic
def restore_fee(*, actor: Actor, fee: Fee, comment: str = "") -> Fee:
    """Only fees in dispute can be restored (seed 002)."""
    (locked,) = _lock_fees(actor, Permission.FINES_DISPUTE, [fee])
    if locked.status != FeeStatus.IN_DISPUTE:
        raise Conflict("Only fines or fees in dispute can be restored.", code="fee_not_in_dispute")
    return _set_status(
        actor=actor,
        fee=locked,
        permission=Permission.FINES_DISPUTE,
        allowed=[FeeStatus.IN_DISPUTE],
        to=FeeStatus.ACTIVE,
        kind=EntryKind.RESTORE,
        doing="restored",
        comment=_text(comment),
        verb="fee.restored",
    )


@transaction.atomic
def export_fees(*, actor: Actor, user: User) -> list[Fee]:
    """Transfer the user's payable fees to the bursar: they become Exported (the transferred
    balance) with a bursar transaction ID."""
    require(actor, Permission.FINES_EXPORT, user)
    candidates: QuerySet[Fee] = Fee.objects.filter(
        user=user, status=FeeStatus.ACTIVE, accruing=False, fee_type__is_credit=False
    )
    if actor.user is not None:
        candidates = restrict(candidates, actor.user, Permission.FINES_EXPORT)
    fees = _lock_fees(actor, Permission.FINES_EXPORT, candidates.values_list("pk", flat=True))
    if not fees:
        raise Conflict("There are no fines or fees to export.", code="nothing_to_export")
    now = _now()
    for fee in fees:
        fee.status, fee.status_date = FeeStatus.EXPORTED, now
        fee.bursar_transaction_id = f"BUR-{now:%Y%m%d}-{fee.pk}"
        fee.save(update_fields=["status", "status_date", "bursar_transaction_id"])
        FeeEntry.objects.create(fee=fee, kind=EntryKind.EXPORT, created_by=actor.user)
        _audit_fee(actor, fee, "fee.exported", bursar_transaction_id=fee.bursar_transaction_id)
    return fees


@transaction.atomic
def link_item(*, actor: Actor, fee: Fee, barcode: str) -> Fee:
    (fee,) = _lock_fees(actor, Permission.FINES_CREATE, [fee])
    item = find_item(barcode)
    fee.item = item
    fee.save(update_fields=["item"])
    FeeEntry.objects.create(
        fee=fee, kind=EntryKind.LINK_ITEM, comment=item.barcode, created_by=actor.user
    )
    _audit_fee(actor, fee, "fee.item_linked", item=item.barcode)
    return fee


# --- proxies ----------------------------------------------------------------------------------


@transaction.atomic
def add_proxy(
    *,
    actor: Actor,
    proxy: User,
    sponsor: User,
    kind: str = ProxyKind.REGULAR,
    valid_from: Any = None,
    valid_until: Any = None,
) -> ProxyRelation:
    """Make ``proxy`` a proxy for ``sponsor`` (the Proxy For tab of the proxy's record)."""
    require_change(actor, Permission.USERS_MANAGE_PROXIES, proxy)
    errors = Errors()
    if proxy.pk == sponsor.pk:
        errors.add("sponsor", "A user cannot be their own proxy.")
    if RecordType.CONTACT in (proxy.record_type, sponsor.record_type):
        errors.add("sponsor", "Contact users have no proxies.")
    if kind not in ProxyKind.values:
        errors.add("kind", f"'{kind}' is not a kind of proxy.")
    dates: dict[str, datetime.date | None] = {}
    for name, value in (("valid_from", valid_from), ("valid_until", valid_until)):
        try:
            dates[name] = parse_date(value)
        except (TypeError, ValueError):
            errors.add(name, f"'{value}' is not a valid date (use YYYY-MM-DD).")
    start, end = dates.get("valid_from"), dates.get("valid_until")
    if start and end and end < start:
        errors.add("valid_until", "The end of validity is before its start.")
    if ProxyRelation.objects.filter(proxy=proxy, sponsor=sponsor).exists():
        errors.add("sponsor", f"{proxy} is already a proxy for {sponsor}.")
    errors.raise_if_any()
    relation = ProxyRelation.objects.create(
        proxy=proxy,
        sponsor=sponsor,
        kind=kind,
        valid_from=start,
        valid_until=end,
        created_by=actor.user,
    )
    for subject in (proxy, sponsor):
        record(
            actor=actor,
            verb="proxy.added",
            obj=relation,
            subject=subject,
            changes=[{"field": "proxy for", "old": None, "new": f"{proxy} for {sponsor}"}],
        )
    return relation


@transaction.atomic
def remove_proxy(*, actor: Actor, relation: ProxyRelation) -> None:
    require_change(actor, Permission.USERS_MANAGE_PROXIES, relation.proxy)
    if relation.kind == ProxyKind.FULFILLMENT:
        raise Conflict(
            "A fulfillment proxy cannot be unlinked from the sponsor (seed 002).",
            code="fulfillment_proxy_permanent",
        )
    shown = f"{relation.proxy} for {relation.sponsor}"
    subjects = (relation.proxy, relation.sponsor)
    relation.delete()
    for subject in subjects:
        record(
            actor=actor,
            verb="proxy.removed",
            object_type="proxyrelation",
            subject=subject,
            changes=[{"field": "proxy for", "old": shown, "new": None}],
        )


# --- configuration -----------------------------------------------------------------------------


@transaction.atomic
def save_policy(*, actor: Actor, user_group: str, values: dict[str, Any]) -> UserGroupPolicy:
    require(actor, Permission.FULFILLMENT_CONFIG)
    errors = Errors()
    if not CodeTableEntry.objects.filter(table=CodeTable.USER_GROUP, code=user_group).exists():
        raise ValidationFailed({"user_group": f"'{user_group}' is not a user group."})
    policy = UserGroupPolicy.for_group(user_group)
    for name in ("loan_period_days", "max_renewals", "overdue_items_limit"):
        if name in values:
            try:
                number = int(values[name])
                if number < (1 if name != "max_renewals" else 0):
                    raise ValueError
                setattr(policy, name, number)
            except (TypeError, ValueError):
                errors.add(name, "Enter a whole number (at least 1).")
    for name in ("debt_limit", "overdue_fine_per_day", "max_overdue_fine"):
        if name in values:
            try:
                setattr(policy, name, parse_amount(values[name], field=name))
            except ValidationFailed as failure:
                errors.update(failure.errors)
    unknown = set(values) - {
        "loan_period_days",
        "max_renewals",
        "overdue_items_limit",
        "debt_limit",
        "overdue_fine_per_day",
        "max_overdue_fine",
    }
    for name in unknown:
        errors.add(name, "Not a policy field.")
    errors.raise_if_any()
    policy.save()
    record(
        actor=actor, verb="policy.saved", obj=policy, details={k: str(v) for k, v in values.items()}
    )
    return policy


@transaction.atomic
def update_settings(*, actor: Actor, changes: dict[str, Any]) -> CirculationSettings:
    """Change the institution's currency, waive limit per action or the expiry cap."""
    require(actor, Permission.FULFILLMENT_CONFIG)
    row = CirculationSettings.objects.select_for_update().get(pk=CirculationSettings.current().pk)
    errors = Errors()
    before = {name: getattr(row, name) for name in changes}
    for name, value in changes.items():
        if name == "currency":
            code = str(value or "").strip().upper()
            if len(code) != 3 or not code.isalpha():
                errors.add(name, "Give a three-letter ISO 4217 currency code, such as USD.")
            elif Fee.objects.exclude(currency=code).exclude(status=FeeStatus.CLOSED).exists():
                errors.add(name, "Open fines and fees are in another currency: settle them first.")
            row.currency = code
        elif name == "waiving_fines_fees_limit":
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                errors.add(name, "Give a whole number of at least 1.")
            row.waiving_fines_fees_limit = value
        elif name == "extend_due_date_beyond_user_expiry":
            row.extend_due_date_beyond_user_expiry = bool(value)
        else:
            errors.add(name, "Not a circulation setting.")
    errors.raise_if_any()
    row.save()
    record(
        actor=actor,
        verb="circulation_settings.changed",
        obj=row,
        changes=diff(before, {name: getattr(row, name) for name in changes}),
    )
    return row


@transaction.atomic
def save_fee_type(
    *,
    actor: Actor,
    code: str,
    description: str,
    manual_creation: bool = True,
    library_scope: bool = True,
    vat_rate: Any = 0,
    is_credit: bool = False,
    enabled: bool = True,
) -> FeeType:
    """Add or change a fine/fee type (Alma's Fine Fee Type Definition)."""
    require(actor, Permission.FULFILLMENT_CONFIG)
    errors = Errors()
    code = (code or "").strip().upper()
    if not code:
        errors.add("code", "Give the type's code.")
    if not (description or "").strip():
        errors.add("description", "Give a description.")
    try:
        rate = Decimal(str(vat_rate)).quantize(CENT)
        if not Decimal(0) <= rate < 100:
            raise InvalidOperation
    except InvalidOperation:
        errors.add("vat_rate", "VAT is a percentage from 0 to below 100.")
        rate = ZERO
    errors.raise_if_any()
    fee_type, _ = FeeType.objects.update_or_create(
        code=code,
        defaults={
            "description": description.strip(),
            "manual_creation": manual_creation,
            "library_scope": library_scope,
            "vat_rate": rate,
            "is_credit": is_credit,
            "enabled": enabled,
        },
    )
    record(actor=actor, verb="fee_type.saved", obj=fee_type, details={"code": code})
    return fee_type


@transaction.atomic
def save_waive_reason(
    *, actor: Actor, code: str, description: str, enabled: bool = True
) -> WaiveReason:
    require(actor, Permission.FULFILLMENT_CONFIG)
    code = (code or "").strip().upper()
    if not code or not (description or "").strip():
        raise ValidationFailed({"description": "Give the reason's code and description."})
    reason, _ = WaiveReason.objects.update_or_create(
        code=code, defaults={"description": description.strip(), "enabled": enabled}
    )
    record(actor=actor, verb="waive_reason.saved", obj=reason, details={"code": code})
    return reason


@transaction.atomic
def set_waive_limit(*, actor: Actor, role: Role, max_amount: Any) -> WaiveLimit | None:
    """The most a holder of ``role`` may waive in one action; no amount: no limit."""
    require(actor, Permission.FULFILLMENT_CONFIG)
    if max_amount in (None, ""):
        WaiveLimit.objects.filter(role=role).delete()
        record(
            actor=actor, verb="waive_limit.removed", object_type="role", details={"role": role.code}
        )
        return None
    amount = parse_amount(max_amount, field="max_amount")
    limit, _ = WaiveLimit.objects.update_or_create(role=role, defaults={"max_amount": amount})
    record(
        actor=actor,
        verb="waive_limit.set",
        obj=limit,
        details={"role": role.code, "max_amount": str(amount)},
    )
    return limit


def library_from(value: Any) -> Library | None:
    if value in (None, ""):
        return None
    if isinstance(value, Library):
        return value
    library = Library.objects.filter(pk=value).first() if str(value).isdigit() else None
    if library is None:
        raise ValidationFailed({"owner": "Unknown owning library."}, code="unknown_library")
    return library
