"""Codes of circulation: fee statuses, ledger entry kinds, payment methods, block effects."""

from django.db import models


class FeeStatus(models.TextChoices):
    ACTIVE = "ACTIVE", "Active"
    IN_DISPUTE = "INDISPUTE", "In dispute"
    EXPORTED = "EXPORTED", "Exported (transferred to the bursar)"
    CLOSED = "CLOSED", "Closed"


class EntryKind(models.TextChoices):
    """One row of a fee's ledger. Only ACCRUAL, PAYMENT and WAIVE move the balance."""

    CREATED = "CREATED", "Created"
    ACCRUAL = "ACCRUAL", "Overdue fine accrued"
    PAYMENT = "PAYMENT", "Paid"
    WAIVE = "WAIVE", "Waived"
    DISPUTE = "DISPUTE", "Disputed"
    RESTORE = "RESTORE", "Restored"
    EXPORT = "EXPORT", "Exported to the bursar"
    LINK_ITEM = "LINK_ITEM", "Linked to an item"


class PaymentMethod(models.TextChoices):
    CASH = "CASH", "Cash"
    CREDIT_CARD = "CREDIT_CARD", "Credit card"
    ONLINE = "ONLINE", "Online"
    CHECK = "CHECK", "Check"
    BURSAR = "BURSAR", "Bursar"


class ProxyKind(models.TextChoices):
    REGULAR = "REGULAR", "Circulation proxy"
    FULFILLMENT = "FULFILLMENT", "Fulfillment proxy"


class BlockedAction(models.TextChoices):
    """What a block stops."""

    LOAN = "loan", "Loans"
    RENEW = "renew", "Renewals"
    REQUEST = "request", "Requests"
