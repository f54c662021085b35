"""Access governance: the directory, role requests and their steps, privacy forms, training,
holidays, separations, confidentiality policy acknowledgements (seeds 000, 001, 003)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from patronage.access.models import LoginModel, Role, RoleGrant, ScopeType
from patronage.organization.models import AcquisitionsUnit, CirculationDesk, Department, Library

from .choices import (
    CLOSED_STATUSES,
    Duty,
    FiledAs,
    FormVariant,
    LineAction,
    LineDecision,
    RequestKind,
    RequestStatus,
    TrainingArea,
    UnitDuty,
)

USER = settings.AUTH_USER_MODEL


# --- the directory -----------------------------------------------------------------------------


class Unit(models.Model):
    """A unit, department or division of the library (seed 001 "Login Liaisons & Approvers")."""

    code = models.CharField(max_length=50, unique=True)
    name = models.CharField(max_length=255)
    library = models.ForeignKey(
        Library,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text="Grants scoped within this library are the unit's own (removed on transfer)",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class UnitContact(models.Model):
    """A login liaison or login approver of a unit."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="contacts")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="unit_duties")
    duty = models.CharField(max_length=10, choices=UnitDuty.choices)

    class Meta:
        ordering = ["unit__name", "duty", "user__sort_name"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "user", "duty"], name="unit_contact_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_duty_display()} of {self.unit}: {self.user}"


class Steward(models.Model):
    """A functional-area lead of a role type ("leads own their area's roles"), or a system
    administrator (who co-approves administrator roles, seed 003)."""

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="stewardships")
    duty = models.CharField(max_length=20, choices=Duty.choices)
    role_type = models.CharField(
        max_length=40, blank=True, default="", help_text="For area leads: the role type led"
    )

    class Meta:
        ordering = ["duty", "role_type", "user__sort_name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "duty", "role_type"], name="steward_unique"),
            models.CheckConstraint(
                name="steward_lead_has_role_type",
                condition=Q(duty="AREA_LEAD", role_type__gt="")
                | Q(duty="SYSTEM_ADMINISTRATOR", role_type=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_duty_display()} {self.role_type}: {self.user}".replace("  ", " ")


class Placement(models.Model):
    """Where a staff member works and who supervises them."""

    user = models.OneToOneField(USER, on_delete=models.CASCADE, related_name="placement")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="placements")
    supervisor = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="supervisees"
    )
    since = models.DateField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="placement_not_own_supervisor", condition=~Q(supervisor=models.F("user"))
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.unit}"


class Holiday(models.Model):
    """A day that is not a business day (processing time, seed 001)."""

    date = models.DateField(unique=True)
    name = models.CharField(max_length=255)

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date}: {self.name}"


# --- role requests -------------------------------------------------------------------------------


class RoleRequest(models.Model):
    """The login request form of seed 001 and its path through seed 003's workflow.

    The people a request names besides its subject are kept with ``SET_NULL``: deleting a
    staff member's record must not fail on the requests they filed or decided, and the audit
    trail keeps who did each step."""

    kind = models.CharField(max_length=10, choices=RequestKind.choices)
    subject = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="role_requests")
    filed_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    filed_as = models.CharField(max_length=12, choices=FiledAs.choices)
    on_behalf_of = models.ForeignKey(
        USER,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The staff manager a login liaison files for",
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="requests")
    login_type = models.CharField(max_length=20, choices=LoginModel.choices, blank=True)
    work_order_department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    additional_role = models.TextField(
        blank=True, default="", help_text="Custom permissions for exceptional work"
    )
    additional_role_agreed_by = models.ForeignKey(
        USER,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The systems-team member who agreed to the additional role",
    )
    rationale = models.TextField(help_text="The work the staff member will do")
    business_need = models.TextField(blank=True, default="")
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(
        null=True, blank=True, help_text="Grants end then (student employees)"
    )
    copied_from = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    form_variant = models.CharField(max_length=10, choices=FormVariant.choices)
    status = models.CharField(max_length=20, choices=RequestStatus.choices)
    submitted_at = models.DateTimeField()
    due_at = models.DateTimeField()
    signed_off_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    signed_off_at = models.DateTimeField(null=True, blank=True)
    privacy_signature = models.ForeignKey(
        "PrivacyFormSignature", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sandbox_granted_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    closed_reason = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [models.Index(fields=["status", "due_at"], name="request_status_due")]

    def __str__(self) -> str:
        return f"Request {self.pk}: {self.get_kind_display()} for {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status not in CLOSED_STATUSES

    @property
    def short_notice(self) -> bool:
        """Seed 001: request a login at least two weeks before it is needed."""
        if self.start_date is None:
            return False
        return (self.start_date - self.submitted_at.date()).days < 14


class RequestLine(models.Model):
    """One role to add (with its scope) or one grant to remove; the area lead of the role's
    type decides it, and for an administrator role a system administrator as well."""

    request = models.ForeignKey(RoleRequest, on_delete=models.CASCADE, related_name="lines")
    action = models.CharField(max_length=10, choices=LineAction.choices)
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="+")
    scope_type = models.CharField(max_length=20, choices=ScopeType.choices)
    library = models.ForeignKey(Library, null=True, blank=True, on_delete=models.PROTECT)
    circulation_desk = models.ForeignKey(
        CirculationDesk, null=True, blank=True, on_delete=models.PROTECT
    )
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT)
    acquisitions_unit = models.ForeignKey(
        AcquisitionsUnit, null=True, blank=True, on_delete=models.PROTECT
    )
    grant = models.ForeignKey(
        RoleGrant,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="For removals: the grant to end",
    )
    decision = models.CharField(
        max_length=10, choices=LineDecision.choices, default=LineDecision.PENDING
    )
    training_area = models.CharField(
        max_length=30, choices=TrainingArea.choices, blank=True, default=""
    )
    lead_decided_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lead_decided_at = models.DateTimeField(null=True, blank=True)
    admin_approved_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    admin_approved_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True, default="")
    sandbox_grant = models.ForeignKey(
        RoleGrant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    production_grant = models.ForeignKey(
        RoleGrant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["request", "id"]
        constraints = [
            models.CheckConstraint(
                name="line_admin_two_people",
                condition=Q(admin_approved_by__isnull=True)
                | Q(lead_decided_by__isnull=True)
                | ~Q(admin_approved_by=models.F("lead_decided_by")),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.role} @ {self.scope_label}"

    @property
    def unit(self) -> Library | CirculationDesk | Department | AcquisitionsUnit | None:
        return self.library or self.circulation_desk or self.department or self.acquisitions_unit

    @property
    def scope_label(self) -> str:
        return str(self.unit) if self.unit else "Institution"


# --- the data privacy & security responsibilities form, training -----------------------------


class PrivacyFormText(models.Model):
    """One version of the data privacy & security responsibilities form (staff or student)."""

    variant = models.CharField(max_length=10, choices=FormVariant.choices)
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=255)
    text = models.TextField()
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["variant", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["variant", "version"], name="privacy_form_version")
        ]

    def __str__(self) -> str:
        return f"{self.title} (version {self.version})"


class PrivacyFormSignature(models.Model):
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="privacy_signatures")
    form = models.ForeignKey(PrivacyFormText, on_delete=models.PROTECT, related_name="signatures")
    signed_at = models.DateTimeField()

    class Meta:
        ordering = ["-signed_at"]

    def __str__(self) -> str:
        return f"{self.user} signed {self.form} at {self.signed_at:%Y-%m-%d %H:%M}"


class TrainingRecord(models.Model):
    """Training in one functional area completed for one request (seed 003)."""

    request = models.ForeignKey(RoleRequest, on_delete=models.CASCADE, related_name="training")
    area = models.CharField(max_length=30, choices=TrainingArea.choices)
    completed_on = models.DateField()
    recorded_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField()
    note = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["area"]
        constraints = [
            models.UniqueConstraint(fields=["request", "area"], name="training_once_per_area")
        ]

    def __str__(self) -> str:
        return f"{self.get_area_display()} training, {self.completed_on}"


# --- removal -----------------------------------------------------------------------------------


class Separation(models.Model):
    """A person leaving the library (HR feed): every grant ends at the separation date."""

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="separations")
    separation_date = models.DateField()
    source = models.CharField(max_length=100, blank=True, default="")
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    completed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the login was deactivated (on or after the date)"
    )

    class Meta:
        ordering = ["-separation_date", "-id"]

    def __str__(self) -> str:
        return f"{self.user} leaves {self.separation_date}"


class GrantNotice(models.Model):
    """A reminder or expiry of a grant with an end date, sent once (daily job)."""

    class Kind(models.TextChoices):
        REMINDER = "REMINDER", "Reminder"
        EXPIRED = "EXPIRED", "Expired"

    grant = models.ForeignKey(RoleGrant, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["grant", "kind"], name="grant_notice_once")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of grant {self.grant_id}"


# --- yearly confidentiality acknowledgement (seed 000) -----------------------------------------


class ConfidentialityPolicy(models.Model):
    """A version of the Policy on the Confidentiality of Library Records. The newest is current;
    publishing a new version asks every holder of patron lookup to acknowledge it."""

    version = models.PositiveIntegerField(unique=True)
    title = models.CharField(max_length=255)
    text = models.TextField()
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-version"]
        verbose_name_plural = "confidentiality policies"

    def __str__(self) -> str:
        return f"{self.title} (version {self.version})"


class Acknowledgement(models.Model):
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="acknowledgements")
    policy = models.ForeignKey(
        ConfidentialityPolicy, on_delete=models.PROTECT, related_name="acknowledgements"
    )
    acknowledged_at = models.DateTimeField()
    reminded_at = models.DateTimeField(
        null=True, blank=True, help_text="When the reminder before it lapses was sent"
    )

    class Meta:
        ordering = ["-acknowledged_at"]
        indexes = [models.Index(fields=["user", "-acknowledged_at"], name="ack_user_latest")]

    def __str__(self) -> str:
        return f"{self.user} acknowledged {self.policy} at {self.acknowledged_at:%Y-%m-%d}"
