"""Privacy settings: the access-reason prompt and the unusual-volume report's threshold."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


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
