"""User records (seed 002): staff, public and contact users, and everything attached to them.

Invariants that belong to one row are database constraints. Everything that spans rows or
needs configuration (code tables, regular expressions, mandatory fields) is checked in
``actions.py``, the only code that writes these tables.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models import Q

from patronage.access.checks import IN_LIBRARY, RestrictedQuerySet, ScopeKey
from patronage.organization.models import Library

from .choices import (
    AccountType,
    BlockStatus,
    CodeTable,
    Gender,
    RecordType,
    Segment,
    UserStatus,
)

ALL_RECORD_TYPES = [choice.value for choice in RecordType]


def new_grants_token() -> int:
    return secrets.randbits(63)


def identifier_key(value: str) -> str:
    """How identifiers and emails are compared: case-insensitively, ignoring outer spaces."""
    return value.strip().casefold()


_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def name_tokens(*names: str) -> set[str]:
    """The words of a name as the search index stores them: casefolded, accents removed."""
    tokens: set[str] = set()
    for name in names:
        if not name:
            continue
        folded = unicodedata.normalize("NFKD", name.casefold())
        plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
        tokens.update(word[:64] for word in _WORD.findall(plain))
    return tokens


class CodeTableEntry(models.Model):
    """One value of an administrator-edited code table (user groups, note types, ...).

    ``record_types`` limits the value to some record types (seed 002: "the user groups
    available depend on the record type"); an empty list means every record type.
    """

    table = models.CharField(max_length=40, choices=CodeTable.choices)
    code = models.CharField(max_length=100)
    description = models.CharField(max_length=255)
    record_types = models.JSONField(default=list, blank=True)
    enabled = models.BooleanField(default=True)
    sort_order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["table", "sort_order", "description"]
        constraints = [
            models.UniqueConstraint(fields=["table", "code"], name="code_unique_in_table")
        ]

    def __str__(self) -> str:
        return f"{self.description} ({self.code})"

    def allows(self, record_type: str) -> bool:
        return not self.record_types or record_type in self.record_types


class UserManagementSettings(models.Model):
    """Institution-wide user-management parameters (Alma's "Other Settings"). One row, pk=1."""

    primary_identifier_regex = models.CharField(max_length=500, default=r"^[A-Za-z0-9._@-]{2,100}$")
    email_regex = models.CharField(max_length=500, default=r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
    phone_regex = models.CharField(max_length=500, default=r"^\+?[0-9 ()./-]{5,30}$")
    postal_code_regex = models.CharField(max_length=500, default=r"^[A-Za-z0-9 -]{2,12}$")
    address_line_regex = models.CharField(max_length=500, default=r"^.{1,255}$")
    mandatory_fields = models.JSONField(
        default=dict,
        blank=True,
        help_text="Per record type, the fields that must be filled in besides first name, "
        "last name and primary ID.",
    )
    photo_server_url = models.URLField(blank=True, default="")
    photo_identifier_type = models.CharField(
        max_length=100,
        default="USERNAME",
        help_text="USERNAME (the primary ID) or an identifier type",
    )
    photo_suffix = models.CharField(max_length=10, default="png")
    record_last_patron_activity = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "user management settings"

    def __str__(self) -> str:
        return "User management settings"

    @classmethod
    def current(cls) -> UserManagementSettings:
        settings, _ = cls.objects.get_or_create(pk=1)
        return settings

    def mandatory_for(self, record_type: str) -> list[str]:
        configured = self.mandatory_fields.get(record_type)
        if configured is None:
            configured = DEFAULT_MANDATORY_FIELDS.get(record_type, [])
        return sorted(set(ALWAYS_MANDATORY) | set(configured))


ALWAYS_MANDATORY = ["first_name", "last_name", "primary_id"]
DEFAULT_MANDATORY_FIELDS: dict[str, list[str]] = {
    RecordType.STAFF: ["user_group"],
    RecordType.PUBLIC: ["user_group"],
    RecordType.CONTACT: [],
}


class UserManager(BaseUserManager["User"].from_queryset(RestrictedQuerySet)):  # type: ignore[misc]
    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(
            identifiers__key=identifier_key(username or ""), identifiers__is_primary=True
        )


class User(AbstractBaseUser):
    """A person or organisation known to the library: staff, patron (public) or vendor contact."""

    primary_id = models.CharField(max_length=255, help_text="Unique within the institution")
    record_type = models.CharField(max_length=10, choices=RecordType.choices)
    account_type = models.CharField(
        max_length=30, choices=AccountType.choices, default=AccountType.INTERNAL
    )
    external_id = models.CharField(
        max_length=100, blank=True, default="", help_text="The SIS profile that owns the record"
    )

    first_name = models.CharField(max_length=255)
    middle_name = models.CharField(max_length=255, blank=True, default="")
    last_name = models.CharField(max_length=255)
    pref_first_name = models.CharField(
        "preferred first name", max_length=255, blank=True, default=""
    )
    pref_middle_name = models.CharField(
        "preferred middle name", max_length=255, blank=True, default=""
    )
    pref_last_name = models.CharField("preferred last name", max_length=255, blank=True, default="")
    pref_name_suffix = models.CharField(
        "preferred name suffix", max_length=50, blank=True, default=""
    )
    user_title = models.CharField("title", max_length=100, blank=True, default="")
    gender = models.CharField(max_length=10, choices=Gender.choices, blank=True, default="")
    birth_date = models.DateField(null=True, blank=True)

    user_group = models.CharField(max_length=100, blank=True, default="")
    job_category = models.CharField(max_length=100, blank=True, default="")
    job_description = models.TextField(blank=True, default="")
    campus_code = models.CharField("campus", max_length=100, blank=True, default="")
    preferred_language = models.CharField(max_length=20, blank=True, default="")
    web_site_url = models.URLField("web site", max_length=500, blank=True, default="")
    cataloger_level = models.CharField(max_length=20, blank=True, default="")
    rs_libraries = models.ManyToManyField(
        Library, blank=True, related_name="+", verbose_name="resource-sharing libraries"
    )
    purchase_request_libraries = models.ManyToManyField(
        Library, blank=True, related_name="+", verbose_name="purchase-request libraries"
    )
    library_notices = models.JSONField("patron letters opted into", default=list, blank=True)
    # ALA/NISO practice: returned loans are anonymised unless the patron opted in to keeping
    # their loan history (``patronage.privacy.retention``).
    keep_loan_history = models.BooleanField(
        "keep my loan history", default=False, help_text="The patron opted in to a loan history"
    )

    status = models.CharField(max_length=10, choices=UserStatus.choices, default=UserStatus.ACTIVE)
    status_date = models.DateField(null=True, blank=True)
    expiry_date = models.DateField(null=True, blank=True)
    purge_date = models.DateField(null=True, blank=True)
    last_patron_activity_date = models.DateField(null=True, blank=True)

    pin_number = models.CharField(
        "PIN", max_length=255, blank=True, default="", help_text="Hashed four-digit SIP2 PIN"
    )
    force_password_change = models.BooleanField(default=False)
    mfa_enabled = models.BooleanField("multi-factor authentication", default=False)
    totp_secret = models.CharField(max_length=64, blank=True, default="", editable=False)
    totp_confirmed_at = models.DateTimeField(null=True, blank=True, editable=False)

    # The staff login (seed 001).
    login_model = models.CharField(max_length=20, blank=True, default="")
    shared_desk = models.ForeignKey(
        "organization.CirculationDesk",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="shared_logins",
        help_text="Set for a shared circulation-desk login: the desk it is bound to",
    )
    terminal = models.CharField(
        max_length=100, blank=True, default="", help_text="The terminal of a shared desk login"
    )
    restricted_for_editing = models.BooleanField(
        default=False, help_text="Only staff allowed to edit restricted users may edit or e-mail"
    )
    disable_login_restrictions = models.BooleanField(
        default=False, help_text="Allow sign-in from outside the institution's IP ranges"
    )
    # Raised whenever the account's power shrinks (deactivation, a role removed): sessions
    # signed in under an older value end at their next request.
    auth_epoch = models.PositiveIntegerField(default=0, editable=False)
    # Replaced by a new random value whenever the account's grants change (any grant added,
    # revoked or changed, a change of login model): decisions cached for the old value are
    # never used again (``access.checks``). Random, not a counter, so that a row that reuses
    # a primary key (SQLite after a rolled-back insert) never meets an old entry.
    grants_token = models.BigIntegerField(default=new_grants_token, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_via = models.CharField(max_length=100, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_via = models.CharField(max_length=100, blank=True, default="")
    last_updated_by_job = models.CharField(max_length=100, blank=True, default="")
    # Field-level SIS ownership of an external user's General tab (seed 002; ``patronage.sis``).
    # ``sis_values``: what the SIS last sent per field (the "original value" staff can hand a
    # field back to); ``sis_kept_fields``: fields staff changed by hand, which later syncs
    # leave alone until staff pick the original value again; ``open_for_update``: staff may
    # edit the fields the SIS owns until the next sync.
    sis_values = models.JSONField(default=dict, blank=True, editable=False)
    sis_kept_fields = models.JSONField(default=list, blank=True, editable=False)
    open_for_update = models.BooleanField(default=False)
    # Derived from the displayed (preferred) names by the actions; stored only to be indexed.
    sort_name = models.CharField(max_length=520, blank=True, default="", editable=False)

    USERNAME_FIELD = "primary_id"
    REQUIRED_FIELDS = ["first_name", "last_name"]
    objects = UserManager()

    class Meta:
        ordering = ["sort_name", "id"]
        indexes = [
            models.Index(fields=["sort_name", "id"], name="user_sort_name"),
            models.Index(fields=["birth_date"], name="user_birth_date"),
            models.Index(fields=["purge_date"], name="user_purge_date"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(shared_desk__isnull=True) | ~Q(terminal=""),
                name="shared_desk_login_has_terminal",
            ),
            models.CheckConstraint(
                condition=Q(purge_date__isnull=True)
                | Q(expiry_date__isnull=True)
                | Q(purge_date__gte=models.F("expiry_date")),
                name="user_purge_not_before_expiry",
            ),
            models.CheckConstraint(
                condition=Q(record_type__in=ALL_RECORD_TYPES), name="user_record_type_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.primary_id})"

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.status == UserStatus.ACTIVE

    @property
    def is_shared_desk_login(self) -> bool:
        return self.shared_desk_id is not None

    @property
    def display_first_name(self) -> str:
        return self.pref_first_name or self.first_name

    @property
    def display_middle_name(self) -> str:
        return self.pref_middle_name or self.middle_name

    @property
    def display_last_name(self) -> str:
        return self.pref_last_name or self.last_name

    @property
    def display_name(self) -> str:
        """Preferred names replace the main names wherever a name is shown (seed 002)."""
        parts = [self.display_first_name, self.display_middle_name, self.display_last_name]
        name = " ".join(part for part in parts if part)
        return f"{name} {self.pref_name_suffix}".strip()

    def computed_sort_name(self) -> str:
        return f"{self.display_last_name} {self.display_first_name}".casefold()[:520]

    def get_full_name(self) -> str:
        return self.display_name

    def get_short_name(self) -> str:
        return self.display_first_name

    def name_tokens(self) -> set[str]:
        return name_tokens(
            self.first_name,
            self.middle_name,
            self.last_name,
            self.pref_first_name,
            self.pref_middle_name,
            self.pref_last_name,
        )


class UserNameToken(models.Model):
    """The name-search index: one row per word of any of a user's names (portable, indexed).

    ``sort_name`` repeats the user's, so that the index on (token, sort_name, user) answers
    "the first matches in name order" from the index alone, without visiting every matching
    user row (a common two-letter prefix matches tens of thousands of patrons).
    """

    # No index of its own: name_token_unique_per_user leads with it.
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="name_tokens_set", db_index=False
    )
    token = models.CharField(max_length=64)
    sort_name = models.CharField(max_length=520, blank=True, default="", editable=False)

    class Meta:
        indexes = [
            models.Index(fields=["token", "sort_name", "user"], name="name_token_sorted"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["user", "token"], name="name_token_unique_per_user")
        ]

    def __str__(self) -> str:
        return self.token


class SegmentedEntry(models.Model):
    """An entry owned either by the SIS (external, overwritten by the next sync) or by staff."""

    segment_type = models.CharField(
        max_length=10, choices=Segment.choices, default=Segment.INTERNAL
    )

    class Meta:
        abstract = True

    @property
    def is_external(self) -> bool:
        return self.segment_type == Segment.EXTERNAL


class UserIdentifier(SegmentedEntry):
    """Primary ID and additional identifiers. ``key`` makes them unique across all users."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="identifiers")
    id_type = models.CharField(max_length=100)
    value = models.CharField(max_length=255)
    key = models.CharField(max_length=255, unique=True)
    note = models.CharField(max_length=1000, blank=True, default="")
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(is_primary=True), name="one_primary_id_per_user"
            )
        ]

    def __str__(self) -> str:
        return f"{self.id_type}: {self.value}"


class ContactEntry(SegmentedEntry):
    """What addresses, emails and phones share: types, preferred flag, validity dates."""

    types = models.JSONField(default=list)
    preferred = models.BooleanField(default=False)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        abstract = True


class Address(ContactEntry):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="addresses")
    line1 = models.CharField(max_length=255)
    line2 = models.CharField(max_length=255, blank=True, default="")
    line3 = models.CharField(max_length=255, blank=True, default="")
    line4 = models.CharField(max_length=255, blank=True, default="")
    line5 = models.CharField(max_length=255, blank=True, default="")
    city = models.CharField(max_length=255, blank=True, default="")
    state_province = models.CharField(max_length=255, blank=True, default="")
    postal_code = models.CharField(max_length=50, blank=True, default="")
    country = models.CharField(max_length=100, blank=True, default="")
    address_note = models.CharField(max_length=1000, blank=True, default="")

    class Meta:
        ordering = ["-preferred", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(preferred=True), name="one_preferred_address"
            )
        ]

    def __str__(self) -> str:
        lines = [self.line1, self.line2, self.line3, self.line4, self.line5]
        place = " ".join(p for p in [self.postal_code, self.city] if p)
        return ", ".join(p for p in [*lines, place, self.state_province, self.country] if p)


class Email(ContactEntry):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="emails")
    address = models.CharField("email address", max_length=320)
    key = models.CharField(max_length=320, db_index=True)
    description = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ["-preferred", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(preferred=True), name="one_preferred_email"
            )
        ]

    def __str__(self) -> str:
        return self.address


class Phone(ContactEntry):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField("phone number", max_length=50)
    preferred_sms = models.BooleanField(default=False)

    class Meta:
        ordering = ["-preferred", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(preferred=True), name="one_preferred_phone"
            )
        ]

    def __str__(self) -> str:
        return self.number


class LibraryOwnedEntry(SegmentedEntry):
    """An entry a library may own: with library independence only staff scoped there see it."""

    owner = models.ForeignKey(
        Library,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty: owned by the institution",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        abstract = True

    def scope_keys(self) -> frozenset[ScopeKey] | None:
        return frozenset({(IN_LIBRARY, self.owner_id)}) if self.owner_id else None

    @classmethod
    def restrict_to_libraries(
        cls, queryset: models.QuerySet[Any], libraries: set[int]
    ) -> models.QuerySet[Any]:
        return queryset.filter(Q(owner__isnull=True) | Q(owner_id__in=libraries))


class UserNote(LibraryOwnedEntry):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notes")
    note_type = models.CharField(max_length=100)
    text = models.TextField()
    user_viewable = models.BooleanField(default=False)
    popup = models.BooleanField("pop-up note", default=False)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.text[:80]


class UserStatistic(LibraryOwnedEntry):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="statistics")
    category_type = models.CharField(max_length=100, blank=True, default="")
    category = models.CharField(max_length=100)
    note = models.CharField(max_length=1000, blank=True, default="")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.category


class UserBlock(LibraryOwnedEntry):
    """A manual block. Derived blocks (expired, debt, overdue) are computed, not stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="blocks")
    block_type = models.CharField(max_length=100)
    status = models.CharField(
        max_length=10, choices=BlockStatus.choices, default=BlockStatus.ACTIVE
    )
    note = models.CharField(max_length=1000, blank=True, default="")
    expiry_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.block_type


def attachment_path(instance: UserAttachment, filename: str) -> str:
    return f"attachments/{instance.user_id}/{filename}"


class UserAttachment(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=500)
    name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    note = models.CharField(max_length=1000, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name
