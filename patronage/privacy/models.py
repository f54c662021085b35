"""Privacy settings (the access-reason prompt, the unusual-volume threshold) and the
legal-process register (seed 000)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import uuid4

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from patronage.access.checks import IN_LIBRARY, RestrictedQuerySet, ScopeKey
from patronage.organization.models import Library


class AccessReason(models.TextChoices):
    OFF = "off", "Not asked"
    OPTIONAL = "optional", "Asked, may be left empty"
    REQUIRED = "required", "Required before a patron's record opens"


class PrivacySettings(models.Model):
    """One row (pk 1), like the user-management settings."""

    access_reason = models.CharField(
        max_length=10, choices=AccessReason.choices, default=AccessReason.OFF
    )
    # A staff member viewing more than this many times the median number of patrons viewed
    # by their peers in a period is listed in the unusual-volume report.
    unusual_volume_factor = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("3"),
        validators=[MinValueValidator(Decimal("1.5")), MaxValueValidator(Decimal("100"))],
    )
    # ... and viewed at least this many patrons (a handful is never unusual).
    unusual_volume_minimum = models.PositiveIntegerField(
        default=20, validators=[MinValueValidator(1), MaxValueValidator(100_000)]
    )

    class Meta:
        verbose_name_plural = "privacy settings"

    def __str__(self) -> str:
        return "Privacy settings"

    @classmethod
    def current(cls) -> PrivacySettings:
        settings, _ = cls.objects.get_or_create(pk=1)
        return settings


# --- the legal-process register (seed 000) -------------------------------------------------------


class LegalProcessKind(models.TextChoices):
    SUBPOENA = "subpoena", "Subpoena"
    COURT_ORDER = "court_order", "Court order"
    WARRANT = "warrant", "Search warrant"
    OTHER = "other", "Other"


class LegalState(models.TextChoices):
    RECEIVED = "received", "Received"
    WITH_COUNSEL = "with_counsel", "With counsel"
    RESISTED = "resisted", "Resisted"
    ORDER_VALIDATED = "order_validated", "Order validated"
    DISCLOSED = "disclosed", "Disclosed"
    REFUSED = "refused", "Refused"
    WITHDRAWN = "withdrawn", "Withdrawn"


class RecordKind(models.TextChoices):
    """What an order may name, per patron: the parts of the record a release contains."""

    RECORD = "record", "User record (names, dates, group, status)"
    IDENTIFIERS = "identifiers", "Identifiers"
    CONTACT = "contact", "Contact information"
    NOTES = "notes", "Notes"
    BLOCKS = "blocks", "Blocks"
    LOANS = "loans", "Loans and loan history"
    FEES = "fees", "Fines and fees"


class LegalRequest(models.Model):
    """An agency's request for patron records, from receipt to disclosure or refusal."""

    reference = models.CharField(max_length=20, unique=True, editable=False)
    agency = models.CharField(max_length=255)
    agency_contact = models.CharField(max_length=255, blank=True, default="")
    kind = models.CharField(max_length=20, choices=LegalProcessKind.choices)
    description = models.TextField(help_text="What the agency asks for, in its own words")
    received_on = models.DateField()
    library = models.ForeignKey(
        Library,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The library served; empty: the institution",
    )
    supervisor_email = models.EmailField()
    director_email = models.EmailField()
    state = models.CharField(max_length=20, choices=LegalState.choices, default=LegalState.RECEIVED)
    state_changed_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    counsel_notes = models.TextField(blank=True, default="")
    # What counsel validated: the order, the patrons and the parts of their records it names.
    order_reference = models.CharField(max_length=255, blank=True, default="")
    order_validated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    order_validated_at = models.DateTimeField(null=True, blank=True)
    order_users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    order_record_kinds = models.JSONField(default=list, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-received_on", "-id"]

    def __str__(self) -> str:
        return f"{self.reference} {self.agency}"

    def scope_keys(self) -> frozenset[ScopeKey] | None:
        return frozenset({(IN_LIBRARY, self.library_id)}) if self.library_id else None

    @classmethod
    def restrict_to_libraries(
        cls, queryset: models.QuerySet[Any], libraries: set[int]
    ) -> models.QuerySet[Any]:
        return queryset.filter(Q(library__isnull=True) | Q(library_id__in=libraries))


def legal_document_path(instance: LegalDocument, filename: str) -> str:
    return f"legal/{instance.request_id}/{uuid4().hex}-{filename.rsplit('/', 1)[-1]}"


class LegalDocument(models.Model):
    """A document of the request: the subpoena, the order, counsel's memo."""

    request = models.ForeignKey(LegalRequest, on_delete=models.PROTECT, related_name="documents")
    name = models.CharField(max_length=255)
    file = models.FileField(upload_to=legal_document_path)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name


class LegalRelease(models.Model):
    """The one disclosure of a request: exactly what the validated order named, as JSON."""

    request = models.OneToOneField(LegalRequest, on_delete=models.PROTECT, related_name="release")
    released_at = models.DateTimeField(auto_now_add=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    content = models.JSONField()
    sha256 = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"release of {self.request_id}"


# --- retention and the right to be forgotten -----------------------------------------------------


class RetentionSettings(models.Model):
    """How long patron data is kept (one row, pk 1). Whether the last patron activity date
    is recorded is the user-management setting ``record_last_patron_activity``; the
    retention page and API change both (``privacy.retention.update_retention_settings``)."""

    # Returned loans of patrons who did not opt in to a loan history are anonymised this many
    # days after their return: long enough for a disputed return or a damage fee.
    anonymise_loans_after_days = models.PositiveIntegerField(
        default=30, validators=[MinValueValidator(0), MaxValueValidator(3650)]
    )

    class Meta:
        verbose_name_plural = "retention settings"

    def __str__(self) -> str:
        return "Retention settings"

    @classmethod
    def current(cls) -> RetentionSettings:
        row, _ = cls.objects.get_or_create(pk=1)
        return row


class ForgettingState(models.TextChoices):
    RECEIVED = "received", "Received"
    CARRIED_OUT = "carried_out", "Carried out"
    WITHDRAWN = "withdrawn", "Withdrawn"


class RequestChannel(models.TextChoices):
    IN_PERSON = "in_person", "In person"
    LETTER = "letter", "Letter"
    EMAIL = "email", "E-mail"
    SELF_SERVICE = "self_service", "Self-service page"
    REPRESENTATIVE = "representative", "Through a representative"


class ForgettingRequest(models.Model):
    """A person's request to be forgotten: recorded (who recorded it, for whom, how it came
    in), checked against the preconditions, then carried out or withdrawn. After it is
    carried out ``user`` points at the anonymised record, which names nobody."""

    reference = models.CharField(max_length=20, unique=True, editable=False)
    # Empty once the user record is deleted (the purge, a deletion): the request is then moot,
    # and its events in the audit trail still say for whom it was.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="forgetting_requests",
    )
    received_via = models.CharField(max_length=20, choices=RequestChannel.choices)
    received_on = models.DateField()
    notes = models.TextField(
        blank=True, default="", help_text="How the request was verified; no personal data"
    )
    state = models.CharField(
        max_length=20, choices=ForgettingState.choices, default=ForgettingState.RECEIVED
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    outcome = models.JSONField(default=dict, blank=True, help_text="What was anonymised")

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-recorded_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(state="received"),
                name="one_open_forgetting_request_per_user",
            )
        ]

    def __str__(self) -> str:
        return self.reference
