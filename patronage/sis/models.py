"""SIS import profiles, runs, their chunks and their reports (seed 002, "external users").

A run is cut into chunks of records before anything is written. Each chunk is applied in
one transaction together with its report rows and the run's counters, so that a process
killed at any moment leaves every chunk either fully applied or not at all: resuming the
run applies the pending chunks, and several workers can take pending chunks side by side.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from patronage.accounts.choices import RecordType


class FileFormat(models.TextChoices):
    XML = "xml", "Alma user XML (users/user)"
    CSV = "csv", "CSV with a column mapping"


class MatchBy(models.TextChoices):
    PRIMARY_ID = "primary_id", "Primary identifier"
    ANY_IDENTIFIER = "any_identifier", "Primary identifier or any other identifier"


class MissingAction(models.TextChoices):
    NOTHING = "nothing", "Leave them as they are"
    INACTIVE = "inactive", "Set them inactive"
    EXPIRE = "expire", "Set their expiry date"


class ImportProfile(models.Model):
    """How one student information system's files are read and applied.

    ``code`` is written into the ``external_id`` of every user the profile creates: a profile
    only updates the external users it owns (and users toggled to external, "SIS_temp").
    """

    code = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=255)
    file_format = models.CharField(max_length=10, choices=FileFormat.choices)
    csv_mapping = models.JSONField(
        default=dict, blank=True, help_text="CSV column heading → target (see docs/sis.md)"
    )
    csv_delimiter = models.CharField(max_length=1, default=",")
    match_by = models.CharField(max_length=20, choices=MatchBy.choices, default=MatchBy.PRIMARY_ID)
    default_record_type = models.CharField(
        max_length=10, choices=RecordType.choices, default=RecordType.PUBLIC
    )
    override_fields = models.JSONField(
        default=list, blank=True, help_text="General fields the SIS always overwrites"
    )
    full_sync = models.BooleanField(
        default=False, help_text="Each run's files hold every user the SIS owns"
    )
    missing_action = models.CharField(
        max_length=10, choices=MissingAction.choices, default=MissingAction.NOTHING
    )
    missing_expiry_days = models.PositiveIntegerField(
        default=0, help_text="Expiry date of missing users: this many days after the run"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class RunKind(models.TextChoices):
    SIS_IMPORT = "sis_import", "SIS import"
    BULK_UPDATE = "bulk_update", "Bulk update"


class RunStatus(models.TextChoices):
    PREPARING = "preparing", "Reading the files"
    RUNNING = "running", "Applying"
    FINISHED = "finished", "Finished"
    FAILED = "failed", "Failed"


class ImportRun(models.Model):
    kind = models.CharField(max_length=20, choices=RunKind.choices, default=RunKind.SIS_IMPORT)
    profile = models.ForeignKey(
        ImportProfile, null=True, blank=True, on_delete=models.PROTECT, related_name="runs"
    )
    files = models.JSONField(default=list, help_text="Paths of the files, in order")
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.PREPARING)
    error = models.TextField(blank=True, default="")
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_by_label = models.CharField(max_length=255, blank=True, default="")
    # How far the reading got: records cut into stored chunks (resumable).
    records_read = models.PositiveIntegerField(default=0)
    chunks_total = models.PositiveIntegerField(null=True, blank=True)
    # Counters, raised in the transaction of each chunk.
    records_done = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    deactivated = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The bulk update's selection and operation (bulk runs only).
    parameters = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.job}"

    @property
    def job(self) -> str:
        """The job id audit events and users' "last updated by job" carry."""
        return f"{self.kind}-{self.pk}"

    @property
    def finished(self) -> bool:
        return self.status in (RunStatus.FINISHED, RunStatus.FAILED)


class ImportChunk(models.Model):
    """Up to ``CHUNK_SIZE`` records of a run, stored compressed until applied."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="chunks")
    seq = models.PositiveIntegerField()
    first_record = models.PositiveIntegerField()
    size = models.PositiveIntegerField()
    payload = models.BinaryField(null=True)
    done = models.BooleanField(default=False)

    class Meta:
        ordering = ["run", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["run", "seq"], name="sis_chunk_unique_seq"),
        ]
        indexes = [models.Index(fields=["run", "done", "seq"], name="sis_chunk_pending")]

    def __str__(self) -> str:
        return f"{self.run_id}/{self.seq}"


class Outcome(models.TextChoices):
    CREATED = "created", "Created"
    UPDATED = "updated", "Updated"
    REJECTED = "rejected", "Rejected"
    DEACTIVATED = "deactivated", "Missing from the SIS"
    SENT = "sent", "E-mail sent"  # bulk messaging


class ImportItem(models.Model):
    """One line of a run's report. Unchanged records are only counted (``ImportRun``)."""

    # No index of its own: sis_item_outcome leads with it.
    run = models.ForeignKey(
        ImportRun, on_delete=models.CASCADE, related_name="items", db_index=False
    )
    record = models.PositiveIntegerField(help_text="Position of the record in the run")
    source = models.CharField(max_length=500, blank=True, default="")
    line = models.PositiveIntegerField(null=True, blank=True)
    primary_id = models.CharField(max_length=255, blank=True, default="")
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    user_id = models.BigIntegerField(null=True, blank=True)
    changes = models.JSONField(default=list, blank=True)
    reason = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["run", "record", "id"]
        indexes = [models.Index(fields=["run", "outcome", "record"], name="sis_item_outcome")]

    def __str__(self) -> str:
        return f"{self.primary_id}: {self.outcome}"


class SeenUser(models.Model):
    """Users a full-sync run met, to find those missing from it when the run ends."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="+")
    user_id = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "user_id"], name="sis_seen_once"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}: {self.user_id}"


class SavedSearch(models.Model):
    """A named user search (the Find and Manage Users filters) that its owner runs bulk
    updates on. Only the filters are kept: a bulk run evaluates them when it starts, with the
    runner's view of users (``patronage.sis.bulk_update``)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    filters = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="sis_saved_search_name"),
        ]

    def __str__(self) -> str:
        return self.name
