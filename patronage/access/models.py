"""Roles (sets of permissions, defined as data) and scoped grants of them to users."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from patronage.organization.models import AcquisitionsUnit, CirculationDesk, Department, Library


class ScopeType(models.TextChoices):
    INSTITUTION = "INSTITUTION", "Institution"
    LIBRARY = "LIBRARY", "Library"
    CIRCULATION_DESK = "CIRCULATION_DESK", "Circulation desk"
    DEPARTMENT = "DEPARTMENT", "Department"
    ACQUISITIONS_UNIT = "ACQUISITIONS_UNIT", "Acquisitions unit (PO-line owner)"


class Role(models.Model):
    code = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="")
    permissions = models.JSONField(default=list, help_text="Permission values this role grants")
    scope_type = models.CharField(
        max_length=20,
        choices=ScopeType.choices,
        default=ScopeType.INSTITUTION,
        help_text="The kind of scope every grant of this role must name",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class GrantQuerySet(models.QuerySet["RoleGrant"]):
    def active(self, at: object = None) -> GrantQuerySet:
        now = at or timezone.now()
        return self.filter(
            Q(valid_from__isnull=True) | Q(valid_from__lte=now),
            Q(valid_until__isnull=True) | Q(valid_until__gt=now),
            revoked_at__isnull=True,
        )


class RoleGrant(models.Model):
    """A role held by a user within one scope, for a period."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_grants"
    )
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="grants")
    scope_type = models.CharField(max_length=20, choices=ScopeType.choices)
    library = models.ForeignKey(Library, null=True, blank=True, on_delete=models.PROTECT)
    circulation_desk = models.ForeignKey(
        CirculationDesk, null=True, blank=True, on_delete=models.PROTECT
    )
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT)
    acquisitions_unit = models.ForeignKey(
        AcquisitionsUnit, null=True, blank=True, on_delete=models.PROTECT
    )
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    granted_at = models.DateTimeField(auto_now_add=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = GrantQuerySet.as_manager()

    class Meta:
        ordering = ["role__name", "id"]
        constraints = [
            models.CheckConstraint(
                name="grant_scope_matches_type",
                condition=(
                    Q(
                        scope_type="INSTITUTION",
                        library__isnull=True,
                        circulation_desk__isnull=True,
                        department__isnull=True,
                        acquisitions_unit__isnull=True,
                    )
                    | Q(
                        scope_type="LIBRARY",
                        library__isnull=False,
                        circulation_desk__isnull=True,
                        department__isnull=True,
                        acquisitions_unit__isnull=True,
                    )
                    | Q(
                        scope_type="CIRCULATION_DESK",
                        library__isnull=True,
                        circulation_desk__isnull=False,
                        department__isnull=True,
                        acquisitions_unit__isnull=True,
                    )
                    | Q(
                        scope_type="DEPARTMENT",
                        library__isnull=True,
                        circulation_desk__isnull=True,
                        department__isnull=False,
                        acquisitions_unit__isnull=True,
                    )
                    | Q(
                        scope_type="ACQUISITIONS_UNIT",
                        library__isnull=True,
                        circulation_desk__isnull=True,
                        department__isnull=True,
                        acquisitions_unit__isnull=False,
                    )
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.role} @ {self.scope_label}"

    @property
    def scope_label(self) -> str:
        unit = self.library or self.circulation_desk or self.department or self.acquisitions_unit
        return str(unit) if unit else "Institution"
