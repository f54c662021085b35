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


class LoginModel(models.TextChoices):
    """Seed 001 "Login Type": three default models, or custom roles on top of view."""

    NONE = "", "No staff login"
    VIEW = "VIEW", "View"
    VIEW_ANALYTICS = "VIEW_ANALYTICS", "View with Analytics"
    SYSTEMS = "SYSTEMS", "Systems (IT only)"
    CUSTOM = "CUSTOM", "Custom"


class Role(models.Model):
    """A set of permissions, defined as data by the catalogue (``catalogue.py``)."""

    code = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="")
    permissions = models.JSONField(default=list, help_text="Permission values this role grants")
    scope_types = models.JSONField(
        default=list, help_text="The kinds of scope a grant of this role may name"
    )
    role_type = models.CharField(max_length=40, blank=True, default="")
    level = models.CharField(max_length=30, blank=True, default="")
    department_kind = models.CharField(
        max_length=20, blank=True, default="", help_text="For department scopes: which kind"
    )
    is_admin = models.BooleanField(default=False)
    requires_mfa = models.BooleanField(
        default=False, help_text="Holders must sign in with a second factor"
    )
    business_need_for_students = models.BooleanField(
        default=False, help_text="A student or temporary worker's grant needs a business-need note"
    )
    login_model = models.CharField(
        max_length=20, blank=True, default="", help_text="Granted only by this login model"
    )
    grantable = models.JSONField(
        default=list, help_text="Codes of the roles a holder may grant ('*': any)"
    )
    retired = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def may_grant(self, role: Role) -> bool:
        return "*" in self.grantable or role.code in self.grantable


class Environment(models.TextChoices):
    """Seed 001: every login exists in production and in the training sandbox."""

    PRODUCTION = "production", "Production"
    SANDBOX = "sandbox", "Sandbox"


def running_environment() -> str:
    """The environment this instance runs as (``PATRONAGE_ENVIRONMENT``)."""
    return str(settings.PATRONAGE_ENVIRONMENT)


class GrantQuerySet(models.QuerySet["RoleGrant"]):
    def active(self, at: object = None, environment: str | None = None) -> GrantQuerySet:
        """Grants in force now (or ``at``) in this instance's environment (or ``environment``):
        a sandbox grant gives no power in production, nor the reverse."""
        now = at or timezone.now()
        return self.filter(
            Q(valid_from__isnull=True) | Q(valid_from__lte=now),
            Q(valid_until__isnull=True) | Q(valid_until__gt=now),
            revoked_at__isnull=True,
            environment=environment or running_environment(),
        )


class RoleGrant(models.Model):
    """A role held by a user within one scope, for a period."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_grants"
    )
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="grants")
    environment = models.CharField(
        max_length=10, choices=Environment.choices, default=Environment.PRODUCTION
    )
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
    note = models.TextField(
        blank=True, default="", help_text="Business need (required for some roles of students)"
    )

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
    def unit(self) -> Library | CirculationDesk | Department | AcquisitionsUnit | None:
        return self.library or self.circulation_desk or self.department or self.acquisitions_unit

    @property
    def scope_label(self) -> str:
        return str(self.unit) if self.unit else "Institution"


class AssignmentBasis(models.TextChoices):
    JOB_CATEGORY = "JOB_CATEGORY", "Job category"
    USER_GROUP = "USER_GROUP", "User group"


class RoleAssignmentRule(models.Model):
    """Seed 002 "Role assignment rules": roles proposed for new staff by job category or
    user group. Proposals are applied only through approval or by a User Administrator."""

    basis = models.CharField(max_length=20, choices=AssignmentBasis.choices)
    code = models.CharField(max_length=100, help_text="The job category or user group code")
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="assignment_rules")

    class Meta:
        ordering = ["basis", "code", "role__name"]
        constraints = [
            models.UniqueConstraint(fields=["basis", "code", "role"], name="assignment_rule_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_basis_display()} {self.code} → {self.role}"


# --- sign-in security: throttling, second factor, API keys ------------------------------------


class LoginFailure(models.Model):
    """One failed sign-in (wrong password or wrong second-factor code), kept for the
    throttling window only. In the database so that the limit holds across processes.

    The attempted primary ID is stored as a keyed digest, never as typed: people do type
    their password into the ID field."""

    id_digest = models.CharField(max_length=64)
    ip = models.CharField(max_length=64, blank=True, default="")
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["id_digest", "occurred_at"], name="login_failure_id_time"),
            models.Index(fields=["ip", "occurred_at"], name="login_failure_ip_time"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.ip}"


class TotpCounter(models.Model):
    """The last TOTP time step a user signed in with: a code is accepted once only."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp_counter"
    )
    last_timestep = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.last_timestep}"


class ApiKey(models.Model):
    """A key that acts as its owner, with at most the permissions it lists (empty: all the
    owner holds), read-only if so marked. Only a digest of the key is stored; the key itself
    is shown once, when it is created."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(
        max_length=8, help_text="The key's first characters, to tell keys apart"
    )
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the key")
    permissions = models.JSONField(
        default=list, blank=True, help_text="Permission values the key may use (empty: all)"
    )
    read_only = models.BooleanField(default=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "revoked_at"], name="apikey_owner_revoked")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.is_expired else "active"
