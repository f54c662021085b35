"""Reading circulation data: balances, effective blocks, loans, proxies, scoped to the reader.

Balances are derived from the ledger here and nowhere else; the debt-limit block and every
screen use the same ``balances`` function.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import (
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from patronage.access.checks import can, coverage_by_permission, restrict
from patronage.access.permissions import Permission
from patronage.accounts.choices import BlockStatus, CodeTable, RecordType, UserStatus
from patronage.accounts.models import CodeTableEntry, User, UserBlock
from patronage.accounts.prepared import PreparedQuery
from patronage.errors import NotFound, ValidationFailed
from patronage.organization.models import CirculationDesk, Library

from .choices import BlockedAction, FeeStatus
from .models import (
    ZERO,
    CirculationSettings,
    Fee,
    FeeEntry,
    Item,
    Loan,
    ProxyRelation,
    UserGroupPolicy,
    desk_scope_keys,
)

CENT = Decimal("0.01")


def money(value: Any) -> Decimal:
    """A database sum as Decimal cents (SQLite may hand back a float or a string)."""
    return Decimal(str(value if value is not None else 0)).quantize(CENT)


def _entries_total() -> Subquery:
    return Subquery(
        FeeEntry.objects.filter(fee=OuterRef("pk"))
        .order_by()
        .values("fee")
        .annotate(total=Sum("amount"))
        .values("total"),
        output_field=DecimalField(max_digits=12, decimal_places=2),
    )


def with_balance(queryset: QuerySet[Fee]) -> QuerySet[Fee]:
    """Annotate ``balance``: the original amount plus the signed ledger entries."""
    return queryset.annotate(
        balance=ExpressionWrapper(
            F("original_amount") + Coalesce(_entries_total(), Value(ZERO)),
            output_field=DecimalField(max_digits=12, decimal_places=2),
        )
    )


def fee_balance(fee: Fee) -> Decimal:
    total = FeeEntry.objects.filter(fee=fee).aggregate(total=Sum("amount"))["total"]
    return money(fee.original_amount) + money(total)


@dataclass
class Balances:
    """A user's fines and fees summary (seed 002). Credits count as negative."""

    currency: str
    active: Decimal = ZERO
    disputed: Decimal = ZERO
    transferred: Decimal = ZERO
    accrued: Decimal = ZERO

    @property
    def debt(self) -> Decimal:
        """What the debt limit is compared with: active, not disputed, not accrued."""
        return self.active


def balances(user: User, fees: QuerySet[Fee] | None = None) -> Balances:
    """The balances of ``fees`` (default: all of the user's fees, for the debt limit)."""
    result = Balances(currency=CirculationSettings.current().currency)
    queryset = fees if fees is not None else Fee.objects.filter(user=user)
    rows = with_balance(queryset.exclude(status=FeeStatus.CLOSED)).values_list(
        "status",
        "accruing",
        "fee_type__is_credit",
        "balance",  # type: ignore[misc]  # annotated by with_balance
    )
    for status, accruing, is_credit, balance in rows:
        amount = -money(balance) if is_credit else money(balance)
        if status == FeeStatus.IN_DISPUTE:
            result.disputed += amount
        elif status == FeeStatus.EXPORTED:
            result.transferred += amount
        elif accruing:
            result.accrued += amount
        else:
            result.active += amount
    return result


# --- blocks -------------------------------------------------------------------------------

ALL_ACTIONS = frozenset(BlockedAction)
# What each derived block stops. Manual blocks stop everything (a block is a block).
DERIVED_BLOCKS: dict[str, tuple[str, frozenset[str]]] = {
    "INACTIVE": ("The account is not active", ALL_ACTIONS),
    "EXPIRED": ("The account has expired", ALL_ACTIONS),
    "DEBT_LIMIT": ("The debt limit is reached", ALL_ACTIONS),
    "OVERDUE_LIMIT": (
        "Too many overdue items",
        frozenset({BlockedAction.LOAN, BlockedAction.REQUEST}),
    ),
}


@dataclass(frozen=True)
class Block:
    """One effective block: stored (manual) or derived from the record, loans and fees."""

    code: str
    description: str
    stops: frozenset[str]
    derived: bool
    note: str = ""
    expiry_date: datetime.date | None = None
    owner_id: int | None = None
    block_id: int | None = None
    detail: str = ""

    @property
    def stops_labels(self) -> list[str]:
        return [BlockedAction(action).label for action in BlockedAction if action in self.stops]


def _derived(code: str, detail: str = "") -> Block:
    description, stops = DERIVED_BLOCKS[code]
    return Block(code=code, description=description, stops=stops, derived=True, detail=detail)


def effective_blocks(user: User, *, today: datetime.date | None = None) -> list[Block]:
    """Every block in force on ``user`` today: manual blocks plus the derived ones.

    Contact users cannot be blocked (seed 002: they have no Blocks tab).
    """
    if user.record_type == RecordType.CONTACT:
        return []
    today = today or timezone.localdate()
    blocks: list[Block] = []
    if user.status != UserStatus.ACTIVE:
        blocks.append(_derived("INACTIVE"))
    if user.expiry_date is not None and user.expiry_date < today:
        blocks.append(_derived("EXPIRED", f"expired on {user.expiry_date.isoformat()}"))
    policy = UserGroupPolicy.for_group(user.user_group)
    summary = balances(user)
    if summary.debt >= policy.debt_limit:
        blocks.append(
            _derived(
                "DEBT_LIMIT",
                f"owes {summary.debt} {summary.currency}, limit {policy.debt_limit}",
            )
        )
    overdue = Loan.objects.active().filter(user=user, due_at__lt=timezone.now()).count()
    if overdue >= policy.overdue_items_limit:
        blocks.append(
            _derived("OVERDUE_LIMIT", f"{overdue} overdue, limit {policy.overdue_items_limit}")
        )
    descriptions = dict(
        CodeTableEntry.objects.filter(table=CodeTable.BLOCK_TYPE).values_list("code", "description")
    )
    manual = UserBlock.objects.filter(user=user, status=BlockStatus.ACTIVE).exclude(
        expiry_date__lt=today
    )
    for block in manual.order_by("created_at", "id"):
        blocks.append(
            Block(
                code=block.block_type,
                description=descriptions.get(block.block_type, block.block_type),
                stops=ALL_ACTIONS,
                derived=False,
                note=block.note,
                expiry_date=block.expiry_date,
                owner_id=block.owner_id,
                block_id=block.pk,
            )
        )
    return blocks


def blocks_stopping(user: User, action: str) -> list[Block]:
    return [block for block in effective_blocks(user) if action in block.stops]


# --- scoped reads -------------------------------------------------------------------------


def visible_fees(reader: User | None, user: User) -> QuerySet[Fee]:
    """The user's fees the reader may see (library independence: owned fees of other
    libraries are not listed)."""
    return with_balance(
        restrict(Fee.objects.filter(user=user), reader, Permission.FINES_VIEW)
    ).select_related("fee_type", "owner", "item", "loan")


def visible_loans(reader: User | None, user: User) -> QuerySet[Loan]:
    return restrict(
        Loan.objects.filter(user=user), reader, Permission.FULFILLMENT_LOAN_VIEW
    ).select_related("item", "desk", "library", "proxy")


@dataclass
class ProxyView:
    relation: ProxyRelation
    valid: bool


@dataclass
class Proxies:
    proxy_for: list[ProxyView] = field(default_factory=list)  # whom this user borrows for
    proxies: list[ProxyView] = field(default_factory=list)  # who borrows for this user


def proxies_of(user: User) -> Proxies:
    """Both sides of a user's proxy relations (seed 002: both records show them)."""
    today = timezone.localdate()
    result = Proxies()
    relations = ProxyRelation.objects.filter(proxy=user) | ProxyRelation.objects.filter(
        sponsor=user
    )
    for relation in relations.select_related("proxy", "sponsor"):
        view = ProxyView(relation, relation.valid_on(today))
        (result.proxy_for if relation.proxy_id == user.pk else result.proxies).append(view)
    return result


# Whom a user is a proxy for (every relation, in force or not, as ``proxies_of`` lists them),
# by the user's id: compiled once per connection (accounts/prepared.py), as every Alma API
# user object reads it.
SPONSORS = PreparedQuery(
    User, lambda user_id: User.objects.filter(proxies__proxy_id=user_id).order_by("pk"), (int,)
)


def get_fee(reader: User | None, user: User, fee_id: int, permission: Permission) -> Fee:
    """One of the user's fees within the reader's reach for ``permission`` (else 404)."""
    fee = (
        with_balance(restrict(Fee.objects.filter(user=user), reader, permission))
        .select_related("fee_type", "item", "user")
        .filter(pk=fee_id)
        .first()
    )
    if fee is None:
        raise NotFound("No such fine or fee.", code="fee_not_found")
    return fee


def get_loan(reader: User | None, loan_id: int, permission: Permission) -> Loan:
    loan = (
        restrict(Loan.objects.all(), reader, permission)
        .select_related("item", "user", "desk")
        .filter(pk=loan_id)
        .first()
    )
    if loan is None:
        raise NotFound("No such loan.", code="loan_not_found")
    return loan


def visible_items(reader: User | None, search: str = "") -> QuerySet[Item]:
    """The items of the libraries the reader keeps items in; ``search``: a barcode (exact,
    any case) or words of the title."""
    items = restrict(Item.objects.select_related("library"), reader, Permission.FULFILLMENT_ITEMS)
    search = search.strip()
    if search:
        items = items.filter(Q(key=search.casefold()) | Q(title__icontains=search))
    return items


def get_item(reader: User | None, item_id: int) -> Item:
    """An item the reader keeps (another library's is a 404)."""
    item = visible_items(reader).filter(pk=item_id).first() if 0 < item_id < 2**63 else None
    if item is None:
        raise NotFound("No such item.", code="item_not_found")
    return item


def get_desk(desk_id: Any) -> CirculationDesk:
    desk = (
        CirculationDesk.objects.select_related("library").filter(pk=desk_id).first()
        if str(desk_id).isdigit()
        else None
    )
    if desk is None:
        raise ValidationFailed({"desk": "Choose a circulation desk."}, code="unknown_desk")
    return desk


def may_lend_at(reader: User, desk: CirculationDesk) -> bool:
    """Whether the reader's grants cover work at ``desk`` (a grant at that desk or at its
    library; not another desk's grant)."""
    return can(reader, Permission.FULFILLMENT_LOANS, _Place(desk_scope_keys(desk)))


def desks_of(reader: User | None) -> list[CirculationDesk]:
    """The desks the reader may lend at (a shared desk login: its own desk only)."""
    if reader is None:
        return []
    desks = CirculationDesk.objects.select_related("library")
    if reader.shared_desk_id is not None:
        desks = desks.filter(pk=reader.shared_desk_id)
    return [desk for desk in desks if may_lend_at(reader, desk)]


@dataclass(frozen=True)
class _Place:
    """Work done at a desk, for the access check (``checks.can`` reads ``scope_keys``)."""

    keys: frozenset[Any]

    def scope_keys(self) -> frozenset[Any]:
        return self.keys


def owner_libraries(reader: User, permission: Permission) -> list[Library]:
    """The libraries the reader may make the owner of a fee (their scope's libraries)."""
    coverage = coverage_by_permission(reader).get(permission)
    if coverage is None:
        return []
    libraries = Library.objects.all()
    return list(libraries if coverage.everywhere else libraries.filter(pk__in=coverage.libraries()))
