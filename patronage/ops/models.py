from django.db import models


class WorkerHeartbeat(models.Model):
    """A task worker's sign of life, renewed while it runs (``patronage worker``); read by
    ``/readyz``. One row per worker id; a stopped worker's row simply grows old."""

    worker_id = models.CharField(max_length=64, unique=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.worker_id} on {self.hostname} (pid {self.pid})"
