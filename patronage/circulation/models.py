"""Items, loans, the fines and fees ledger, proxies and their configuration (seed 002).

A fee's balance is never stored: it is the original amount plus the signed amounts of its
ledger entries (``FeeEntry``), which are only ever added. Configuration lives here too (the
``accounts`` app's code tables name block and fee types; what they do is decided here).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from patronage.access.checks import IN_LIBRARY, RestrictedQuerySet, ScopeKey
from patronage.access.models import ScopeType
from patronage.organization.models import CirculationDesk, Library

from .choices import EntryKind, FeeStatus, PaymentMethod, ProxyKind

if TYPE_CHECKING:
    from patronage.accounts.models import User


def money_field(**options: Any) -> models.DecimalField[Any, Any]:
    """Sums of money: Decimal cents (the currency is kept beside them)."""
    return models.DecimalField(max_digits=12, decimal_places=2, **options)


ZERO = Decimal("0.00")


class CirculationSettings(models.Model):
    """Institution-wide fulfillment parameters (Alma's "Other Settings"). One row, pk=1."""

    currency = models.CharField(
        max_length=3, default="USD", help_text="ISO 4217 code of the institution's currency"
    )
    waiving_fines_fees_limit = models.PositiveIntegerField(
        default=100, help_text="The most fines and fees one waive action may cover"
    )
    extend_due_date_beyond_user_expiry = models.BooleanField(
        default=False, help_text="Let due dates run past the borrower's expiry date"
    )

    class Meta:
        verbose_name_plural = "circulation settings"

    def __str__(self) -> str:
        return "Circulation settings"

    @classmethod
    def current(cls) -> CirculationSettings:
        row, _ = cls.objects.get_or_create(pk=1)
        return row


class UserGroupPolicy(models.Model):
    """What a user group may borrow and owe. A group without a row gets the field defaults."""

    user_group = models.CharField(max_length=100, unique=True)
    loan_period_days = models.PositiveIntegerField(default=28)
    max_renewals = models.PositiveIntegerField(default=3)
    debt_limit = money_field(
        default=Decimal("50.00"), help_text="Owing this much or more blocks borrowing"
    )
    overdue_items_limit = models.PositiveIntegerField(
        default=5, help_text="This many overdue loans or more block borrowing"
    )
    overdue_fine_per_day = money_field(default=Decimal("0.50"))
    max_overdue_fine = money_field(
        default=Decimal("20.00"), help_text="The most one overdue loan accrues"
    )

    class Meta:
        ordering = ["user_group"]
        verbose_name_plural = "user group policies"
        constraints = [
            models.CheckConstraint(
                condition=Q(loan_period_days__gte=1), name="policy_loan_period_positive"
            ),
            models.CheckConstraint(condition=Q(debt_limit__gte=0), name="policy_debt_limit_ge_0"),
        ]

    def __str__(self) -> str:
        return f"Policy of {self.user_group}"

    @classmethod
    def for_group(cls, user_group: str) -> UserGroupPolicy:
        return cls.objects.filter(user_group=user_group).first() or cls(user_group=user_group)


class FeeType(models.Model):
    """How one fine/fee type behaves (Alma's Fine Fee Type Definition table)."""

    code = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=255)
    manual_creation = models.BooleanField(
        default=True, help_text="Staff may add fees of this type by hand"
    )
    library_scope = models.BooleanField(
        default=True, help_text="A library (not only the institution) may own these fees"
    )
    vat_rate = models.DecimalField(
        max_digits=5, decimal_places=2, default=ZERO, help_text="VAT in percent, included"
    )
    is_credit = models.BooleanField(default=False, help_text="A credit: counted as negative")
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["description"]
        constraints = [
            models.CheckConstraint(
                condition=Q(vat_rate__gte=0) & Q(vat_rate__lt=100), name="fee_type_vat_range"
            )
        ]

    def __str__(self) -> str:
        return self.description


class WaiveReason(models.Model):
    """The configured list of reasons for waiving a fine or fee."""

    code = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=255)
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["description"]

    def __str__(self) -> str:
        return self.description


class WaiveLimit(models.Model):
    """The most a holder of ``role`` may waive in one action (no row: no limit from it)."""

    role = models.OneToOneField("access.Role", on_delete=models.CASCADE, related_name="+")
    max_amount = money_field()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(max_amount__gte=0), name="waive_limit_ge_0")
        ]

    def __str__(self) -> str:
        return f"{self.role_id}: {self.max_amount}"


class Item(models.Model):
    """A physical item that circulates. ``key`` makes barcodes unique case-insensitively."""

    barcode = models.CharField(max_length=100)
    key = models.CharField(max_length=100, unique=True, editable=False)
    title = models.CharField(max_length=500)
    library = models.ForeignKey(Library, on_delete=models.PROTECT, related_name="+")
    location = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return f"{self.title} ({self.barcode})"

    def scope_keys(self) -> frozenset[ScopeKey]:
        # Items belong to their library: its staff (at any of its desks) keep them.
        return frozenset({(IN_LIBRARY, self.library_id)})

    @classmethod
    def restrict_to_libraries(
        cls, queryset: models.QuerySet[Any], libraries: set[int]
    ) -> models.QuerySet[Any]:
        return queryset.filter(library_id__in=libraries)


def desk_scope_keys(desk: CirculationDesk) -> frozenset[ScopeKey]:
    """Work done at a desk: covered by a grant at that desk or at its library (not desk B's)."""
    return frozenset({(ScopeType.CIRCULATION_DESK, desk.pk), (ScopeType.LIBRARY, desk.library_id)})


class LoanQuerySet(RestrictedQuerySet["Loan"]):
    def active(self) -> LoanQuerySet:
        return self.filter(returned_at__isnull=True)


class Loan(models.Model):
    """An item lent to a user (the sponsor when a proxy borrowed it for them).

    A returned loan is *anonymised* by the retention run or when its borrower is forgotten
    (``patronage.privacy``): ``user`` and ``proxy`` are cleared, and only what circulation
    statistics need stays -- item, libraries, desks, dates and the borrower's user group."""

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="loans")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="loans",
        help_text="Empty once the returned loan has been anonymised",
    )
    proxy = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="proxy_loans",
        help_text="The proxy who borrowed it for the user",
    )
    desk = models.ForeignKey(CirculationDesk, on_delete=models.PROTECT, related_name="+")
    library = models.ForeignKey(Library, on_delete=models.PROTECT, related_name="+")
    loaned_at = models.DateTimeField()
    due_at = models.DateTimeField()
    due_capped_at_expiry = models.BooleanField(default=False)
    renewals = models.PositiveIntegerField(default=0)
    returned_at = models.DateTimeField(null=True, blank=True)
    return_desk = models.ForeignKey(
        CirculationDesk, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    anonymised_at = models.DateTimeField(null=True, blank=True)
    borrower_group = models.CharField(
        max_length=100, blank=True, default="", help_text="The user group, kept on anonymising"
    )

    objects = LoanQuerySet.as_manager()

    class Meta:
        ordering = ["-loaned_at", "-id"]
        indexes = [
            models.Index(fields=["user", "returned_at"], name="loan_user_open"),
            models.Index(fields=["due_at"], name="loan_due", condition=Q(returned_at__isnull=True)),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["item"],
                condition=Q(returned_at__isnull=True),
                name="one_open_loan_per_item",
            ),
            models.CheckConstraint(
                condition=Q(due_at__gt=models.F("loaned_at")), name="loan_due_after_loaned"
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=False) | Q(returned_at__isnull=False),
                name="loan_open_has_borrower",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item} → {self.user_id}"

    @property
    def is_open(self) -> bool:
        return self.returned_at is None

    @property
    def borrower(self) -> User:
        """The user of a loan not anonymised -- every open loan (``loan_open_has_borrower``)."""
        if self.user is None:
            raise ValueError(f"Loan {self.pk} has been anonymised: it names no borrower.")
        return self.user

    def scope_keys(self) -> frozenset[ScopeKey]:
        # Loans (loan history) are library-owned: staff of the lending library see them.
        return frozenset({(IN_LIBRARY, self.library_id)})

    @classmethod
    def restrict_to_libraries(
        cls, queryset: models.QuerySet[Any], libraries: set[int]
    ) -> models.QuerySet[Any]:
        return queryset.filter(library_id__in=libraries)


class Fee(models.Model):
    """A fine or fee. Its balance is derived from its ledger entries (``FeeEntry``)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="fees"
    )
    fee_type = models.ForeignKey(FeeType, on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey(
        Library,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty: owned by the institution",
    )
    status = models.CharField(max_length=10, choices=FeeStatus.choices, default=FeeStatus.ACTIVE)
    status_date = models.DateTimeField()
    original_amount = money_field()
    original_vat = money_field(default=ZERO)
    currency = models.CharField(max_length=3)
    # An overdue fine of a loan not yet returned: it may still grow, and is not in the debt
    # limit (seed 002 "Accrued fines").
    accruing = models.BooleanField(default=False)
    item = models.ForeignKey(
        Item, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    loan = models.ForeignKey(
        Loan, null=True, blank=True, on_delete=models.SET_NULL, related_name="fees"
    )
    comment = models.CharField(max_length=1000, blank=True, default="")
    bursar_transaction_id = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "status"], name="fee_user_status")]
        constraints = [
            models.CheckConstraint(
                condition=Q(original_amount__gt=0), name="fee_original_positive"
            ),
            models.CheckConstraint(condition=Q(original_vat__gte=0), name="fee_vat_ge_0"),
            models.UniqueConstraint(
                fields=["loan"], condition=Q(accruing=True), name="one_accruing_fine_per_loan"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.fee_type} {self.original_amount} {self.currency}"

    def scope_keys(self) -> frozenset[ScopeKey] | None:
        return frozenset({(IN_LIBRARY, self.owner_id)}) if self.owner_id else None

    @classmethod
    def restrict_to_libraries(
        cls, queryset: models.QuerySet[Any], libraries: set[int]
    ) -> models.QuerySet[Any]:
        return queryset.filter(Q(owner__isnull=True) | Q(owner_id__in=libraries))


class Receipt(models.Model):
    """What a patron is handed for a payment: one per pay action, listing the fees paid."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="receipts"
    )
    number = models.CharField(max_length=32, unique=True)
    method = models.CharField(max_length=20, choices=PaymentMethod.choices)
    total = money_field()
    currency = models.CharField(max_length=3)
    external_transaction_id = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.number


class FeeEntry(models.Model):
    """One transaction row of a fee's ledger. ``amount`` is the signed change of the balance:
    positive for an accrual, negative for a payment or a waiver, zero for status changes."""

    fee = models.ForeignKey(Fee, on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(max_length=10, choices=EntryKind.choices)
    amount = money_field(default=ZERO)
    method = models.CharField(max_length=20, choices=PaymentMethod.choices, blank=True, default="")
    reason = models.CharField(max_length=100, blank=True, default="")
    comment = models.CharField(max_length=1000, blank=True, default="")
    # RESTRICT, not PROTECT: a receipt goes only together with its entries (when the user's
    # record is deleted), never on its own.
    receipt = models.ForeignKey(
        Receipt, null=True, blank=True, on_delete=models.RESTRICT, related_name="entries"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind=EntryKind.ACCRUAL, amount__gt=0)
                    | Q(kind__in=[EntryKind.PAYMENT, EntryKind.WAIVE], amount__lt=0)
                    | (
                        ~Q(kind__in=[EntryKind.ACCRUAL, EntryKind.PAYMENT, EntryKind.WAIVE])
                        & Q(amount=0)
                    )
                ),
                name="fee_entry_sign_matches_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"


class ProxyRelation(models.Model):
    """``proxy`` may borrow (and, as a fulfillment proxy, request) for ``sponsor``."""

    proxy = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="proxy_for"
    )
    sponsor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="proxies"
    )
    kind = models.CharField(max_length=12, choices=ProxyKind.choices, default=ProxyKind.REGULAR)
    valid_from = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["sponsor_id", "proxy_id"]
        constraints = [
            models.UniqueConstraint(fields=["proxy", "sponsor"], name="proxy_once_per_sponsor"),
            models.CheckConstraint(condition=~Q(proxy=models.F("sponsor")), name="proxy_not_self"),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_until__gte=models.F("valid_from")),
                name="proxy_valid_until_after_from",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.proxy_id} for {self.sponsor_id}"

    def valid_on(self, day: Any) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )
