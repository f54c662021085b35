"""Codes of access governance, in the words of seeds 001 and 003."""

from django.db import models


class UnitDuty(models.TextChoices):
    LIAISON = "LIAISON", "Login liaison"
    APPROVER = "APPROVER", "Login approver"


class Duty(models.TextChoices):
    AREA_LEAD = "AREA_LEAD", "Functional-area lead"
    SYSTEM_ADMINISTRATOR = "SYSTEM_ADMINISTRATOR", "System administrator"


class RequestKind(models.TextChoices):
    """Seed 001 "Staff Information": a new login, an update, or a delete request."""

    NEW = "NEW", "New login"
    UPDATE = "UPDATE", "Login update"
    DELETE = "DELETE", "Delete login"


class FiledAs(models.TextChoices):
    SUPERVISOR = "SUPERVISOR", "Supervisor"
    SELF = "SELF", "Staff member (for themself)"
    LIAISON = "LIAISON", "Login liaison (for the staff manager)"


class LineAction(models.TextChoices):
    ADD = "ADD", "Add"
    REMOVE = "REMOVE", "Remove"


class LineDecision(models.TextChoices):
    PENDING = "PENDING", "Pending"
    APPROVED = "APPROVED", "Approved"
    REJECTED = "REJECTED", "Rejected"


class TrainingArea(models.TextChoices):
    """Seed 003: the training a functional-area lead recommends."""

    FULFILLMENT = "FULFILLMENT", "Fulfillment"
    RESOURCE_MANAGEMENT = "RESOURCE_MANAGEMENT", "Resource Management"
    ANALYTICS = "ANALYTICS", "Analytics"
    ACQUISITIONS = "ACQUISITIONS", "Acquisitions"


# The training each role type usually needs; the lead may recommend another.
TRAINING_OF_ROLE_TYPE = {
    "FULFILLMENT": TrainingArea.FULFILLMENT,
    "COURSE_RESERVES": TrainingArea.FULFILLMENT,
    "RESOURCE_SHARING": TrainingArea.FULFILLMENT,
    "RESOURCE_MANAGEMENT": TrainingArea.RESOURCE_MANAGEMENT,
    "DIGITAL": TrainingArea.RESOURCE_MANAGEMENT,
    "ERESOURCES": TrainingArea.RESOURCE_MANAGEMENT,
    "TECHNICAL_SERVICES": TrainingArea.RESOURCE_MANAGEMENT,
    "WORK_ORDERS": TrainingArea.RESOURCE_MANAGEMENT,
    "ANALYTICS": TrainingArea.ANALYTICS,
    "ACQUISITIONS": TrainingArea.ACQUISITIONS,
    "INVOICE_FINANCE": TrainingArea.ACQUISITIONS,
    "VENDOR_MAINTENANCE": TrainingArea.ACQUISITIONS,
}


class FormVariant(models.TextChoices):
    """Seed 003: students sign the student variant of the privacy & security form."""

    STAFF = "STAFF", "Staff"
    STUDENT = "STUDENT", "Student"


class RequestStatus(models.TextChoices):
    AWAITING_SIGNOFF = "AWAITING_SIGNOFF", "Awaiting the staff manager's sign-off"
    AWAITING_DECISION = "AWAITING_DECISION", "Awaiting the area leads' decisions"
    AWAITING_FORM = "AWAITING_FORM", "Awaiting the privacy & security form"
    AWAITING_SANDBOX = "AWAITING_SANDBOX", "Awaiting sandbox grants"
    IN_TRAINING = "IN_TRAINING", "In training"
    AWAITING_PRODUCTION = "AWAITING_PRODUCTION", "Awaiting production grants"
    COMPLETED = "COMPLETED", "Completed"
    REJECTED = "REJECTED", "Rejected"
    WITHDRAWN = "WITHDRAWN", "Withdrawn"
    CANCELLED = "CANCELLED", "Cancelled (separation)"


CLOSED_STATUSES = frozenset(
    {
        RequestStatus.COMPLETED,
        RequestStatus.REJECTED,
        RequestStatus.WITHDRAWN,
        RequestStatus.CANCELLED,
    }
)
