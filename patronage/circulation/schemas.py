"""What the native API reads and writes for loans, fines and fees, proxies and deletion."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Schema
from pydantic import ConfigDict, Field

from patronage.api_support import MAX_ID, NO_NUL

Comment = Annotated[str, Field(max_length=1000), NO_NUL]
Code = Annotated[str, Field(max_length=100), NO_NUL]
Barcode = Annotated[str, Field(min_length=1, max_length=100), NO_NUL]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Amount = Annotated[
    Decimal | None,
    Field(default=None, description="A positive sum in the institution's currency, e.g. 12.50"),
]
Currency = Annotated[
    str | None, Field(default=None, max_length=3, description="ISO 4217; must be the institution's")
]
MethodCode = Literal["CASH", "CREDIT_CARD", "ONLINE", "CHECK", "BURSAR"]


class Input(Schema):
    model_config = ConfigDict(extra="forbid")


# --- fines and fees -------------------------------------------------------------------------


class FeeIn(Input):
    fee_type: Code
    amount: Decimal = Field(description="The original amount (VAT included), positive")
    currency: Currency = None
    owner: Id | None = Field(default=None, description="The owning library; empty: institution")
    barcode: Annotated[str, Field(max_length=100), NO_NUL] = ""
    comment: Comment = ""


class CreditIn(Input):
    amount: Decimal = Field(description="Entered as a positive sum; counted as negative")
    currency: Currency = None
    owner: Id | None = None
    comment: Comment = Field(min_length=1, description="Mandatory for a credit")


class PaymentIn(Input):
    method: MethodCode
    amount: Amount = None
    currency: Currency = None
    external_transaction_id: Annotated[str, Field(max_length=100), NO_NUL] = ""


class WaiveIn(Input):
    fee_ids: list[Id] = Field(
        default_factory=list, description="The fees to waive (at most the configured limit)"
    )
    all: bool = Field(default=False, description="Waive all the user's open fees instead")
    reason: Code
    comment: Comment = ""
    amount: Amount = None


class CommentIn(Input):
    comment: Comment = ""


class LinkItemIn(Input):
    barcode: Barcode


class FeeEntryOut(Schema):
    kind: str
    amount: Decimal
    method: str
    reason: str
    comment: str
    receipt: str | None = None
    created_at: datetime.datetime
    created_by: str | None = None


class FeeOut(Schema):
    id: int
    fee_type: str
    fee_type_description: str
    credit: bool
    status: str
    status_date: datetime.datetime
    owner: int | None
    original_amount: Decimal = Field(description="Negative for a credit")
    balance: Decimal = Field(description="Remaining balance; negative for a credit")
    original_vat: Decimal
    currency: str
    accruing: bool
    item_barcode: str | None
    title: str | None
    loan_id: int | None
    comment: str
    bursar_transaction_id: str
    created_at: datetime.datetime


class FeeDetailOut(FeeOut):
    entries: list[FeeEntryOut]


class BalancesOut(Schema):
    currency: str
    active: Decimal
    disputed: Decimal
    transferred: Decimal
    accrued: Decimal


class FeesOut(Schema):
    balances: BalancesOut
    fees: list[FeeOut]


class ReceiptOut(Schema):
    number: str
    method: str
    total: Decimal
    currency: str
    fee_ids: list[int]
    created_at: datetime.datetime


# --- loans, items, blocks ----------------------------------------------------------------------


class ItemIn(Input):
    barcode: Barcode
    title: Annotated[str, Field(min_length=1, max_length=500), NO_NUL]
    library: Id
    location: Annotated[str, Field(max_length=100), NO_NUL] = ""


class ItemOut(Schema):
    id: int
    barcode: str
    title: str
    library: int
    location: str


class CheckOutIn(Input):
    barcode: Barcode
    desk: Id = Field(description="The circulation desk lending the item")
    on_behalf_of: Id | None = Field(
        default=None, description="When the user is a proxy: the sponsor borrowing"
    )


class ReturnIn(Input):
    barcode: Barcode
    desk: Id


class DueDateIn(Input):
    due_date: datetime.date


class LoanOut(Schema):
    id: int
    user: int
    proxy: int | None
    item_barcode: str
    title: str
    desk: str
    library: int
    loaned_at: datetime.datetime
    due_at: datetime.datetime
    due_capped_at_expiry: bool
    renewals: int
    returned_at: datetime.datetime | None
    overdue: bool


class BlockOut(Schema):
    code: str
    description: str
    derived: bool
    stops: list[str] = Field(description="What it stops: loan, renew, request")
    detail: str
    note: str
    expiry_date: datetime.date | None
    owner: int | None


# --- proxies and deletion ------------------------------------------------------------------------


class ProxyIn(Input):
    sponsor: Id = Field(description="The user this user becomes a proxy for")
    kind: Literal["REGULAR", "FULFILLMENT"] = "REGULAR"
    valid_from: datetime.date | None = None
    valid_until: datetime.date | None = None


class ProxyOut(Schema):
    id: int
    proxy: int
    proxy_name: str
    sponsor: int
    sponsor_name: str
    kind: str
    valid_from: datetime.date | None
    valid_until: datetime.date | None
    valid: bool


class ProxiesOut(Schema):
    proxy_for: list[ProxyOut]
    proxies: list[ProxyOut]


class PreconditionOut(Schema):
    code: str
    label: str
    met: bool
    detail: str


class DeletionCheckOut(Schema):
    can_delete: bool
    balance_due: Decimal
    fees_only: bool = Field(description="Only fees stand in the way: waive them, then delete")
    preconditions: list[PreconditionOut]


class DeletionIn(Input):
    confirm: Literal[True] = Field(description="Must be true: deleting cannot be undone")
    waive_fees: bool = Field(default=False, description="Waive the fees first (then delete)")
    notify: bool = Field(default=False, description="E-mail the User Deletion Letter")
    reason: Comment = ""


# --- configuration ---------------------------------------------------------------------------


class SettingsPatch(Input):
    currency: str | None = Field(default=None, max_length=3)
    waiving_fines_fees_limit: int | None = Field(default=None, ge=1, le=100_000)
    extend_due_date_beyond_user_expiry: bool | None = None


class SettingsOut(Schema):
    currency: str
    waiving_fines_fees_limit: int
    extend_due_date_beyond_user_expiry: bool


class PolicyIn(Input):
    user_group: Code
    loan_period_days: int | None = Field(default=None, ge=1, le=3650)
    max_renewals: int | None = Field(default=None, ge=0, le=1000)
    overdue_items_limit: int | None = Field(default=None, ge=1, le=100_000)
    debt_limit: Decimal | None = None
    overdue_fine_per_day: Decimal | None = None
    max_overdue_fine: Decimal | None = None


class PolicyOut(Schema):
    user_group: str
    loan_period_days: int
    max_renewals: int
    overdue_items_limit: int
    debt_limit: Decimal
    overdue_fine_per_day: Decimal
    max_overdue_fine: Decimal


class FeeTypeIn(Input):
    code: Code
    description: Annotated[str, Field(min_length=1, max_length=255), NO_NUL]
    manual_creation: bool = True
    library_scope: bool = True
    vat_rate: Decimal = Decimal(0)
    is_credit: bool = False
    enabled: bool = True


class FeeTypeOut(Schema):
    code: str
    description: str
    manual_creation: bool
    library_scope: bool
    vat_rate: Decimal
    is_credit: bool
    enabled: bool


class WaiveReasonIn(Input):
    code: Code
    description: Annotated[str, Field(min_length=1, max_length=255), NO_NUL]
    enabled: bool = True


class WaiveReasonOut(Schema):
    code: str
    description: str
    enabled: bool


class WaiveLimitIn(Input):
    role: Code
    max_amount: Decimal | None = Field(default=None, description="Empty: no limit")


class WaiveLimitOut(Schema):
    role: str
    max_amount: Decimal


class ConfigOut(Schema):
    settings: SettingsOut
    policies: list[PolicyOut]
    fee_types: list[FeeTypeOut]
    waive_reasons: list[WaiveReasonOut]
    waive_limits: list[WaiveLimitOut]
