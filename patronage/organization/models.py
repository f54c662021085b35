"""The institution's units: what roles are scoped to and what owns notes, blocks and fees."""

from django.db import models


class Library(models.Model):
    code = models.CharField(max_length=50, unique=True)
    name = models.CharField(max_length=255)
    is_resource_sharing = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "libraries"

    def __str__(self) -> str:
        return self.name


class CirculationDesk(models.Model):
    library = models.ForeignKey(Library, on_delete=models.PROTECT, related_name="desks")
    code = models.CharField(max_length=50)
    name = models.CharField(max_length=255)

    class Meta:
        ordering = ["library__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["library", "code"], name="desk_code_unique_in_library")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.library.code})"


class DepartmentKind(models.TextChoices):
    TECHNICAL_SERVICES = "TECHNICAL_SERVICES", "Technical services department"
    WORK_ORDER = "WORK_ORDER", "Work-order department"


class Department(models.Model):
    library = models.ForeignKey(Library, on_delete=models.PROTECT, related_name="departments")
    kind = models.CharField(max_length=20, choices=DepartmentKind.choices)
    code = models.CharField(max_length=50)
    name = models.CharField(max_length=255)

    class Meta:
        ordering = ["library__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["library", "code"], name="department_code_unique_in_library"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.library.code})"


class AcquisitionsUnit(models.Model):
    """A purchase-order-line owner: acquisitions roles are limited to these (seed 001)."""

    library = models.ForeignKey(Library, on_delete=models.PROTECT, related_name="acq_units")
    code = models.CharField(max_length=50, unique=True)
    name = models.CharField(max_length=255)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
