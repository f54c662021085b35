"""Per-key call counters for Alma's governance thresholds, kept in the database so that every
server process counts against the same limits."""

from __future__ import annotations

from django.db import models


class Period(models.TextChoices):
    SECOND = "second", "Second"
    DAY = "day", "Day"


class ApiCallCount(models.Model):
    """Calls made with one API key in its current second or day: one row per (key, period),
    restarted at 1 when a new second or day begins (``throttle.count_call``)."""

    api_key = models.ForeignKey("access.ApiKey", on_delete=models.CASCADE, related_name="+")
    period = models.CharField(max_length=6, choices=Period.choices)
    starts_at = models.BigIntegerField(help_text="The second (Unix time) or the day (ordinal)")
    calls = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "period"], name="one_counter_per_period")
        ]

    def __str__(self) -> str:
        return f"{self.api_key_id} {self.period} {self.starts_at}: {self.calls}"
