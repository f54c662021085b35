"""Alma's governance thresholds, per API key: calls per second and calls per day.

Counted with one statement (an upsert of both counters that returns them), so two server
processes never lose a call between them and a request pays one round trip for it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils import timezone

from .errors import DAILY_THRESHOLD, PER_SECOND_THRESHOLD, AlmaError
from .models import Period

# One statement for both counters; the table and period names are those of models.py.
_COUNT = """
INSERT INTO almaws_apicallcount (api_key_id, period, starts_at, calls)
VALUES (%s, 'second', %s, 1), (%s, 'day', %s, 1)
ON CONFLICT (api_key_id, period) DO UPDATE SET
    calls = CASE WHEN almaws_apicallcount.starts_at = excluded.starts_at
                 THEN almaws_apicallcount.calls + 1 ELSE 1 END,
    starts_at = excluded.starts_at
RETURNING period, calls
"""


@dataclass(frozen=True)
class Usage:
    this_second: int
    today: int

    @property
    def remaining_today(self) -> int:
        return max(settings.ALMAWS_DAILY_THRESHOLD - self.today, 0)


def count_call(api_key_id: int) -> Usage:
    """Count one call of the key, in this second and today."""
    second = int(time.time())
    day = timezone.localdate().toordinal()
    with connection.cursor() as cursor:
        cursor.execute(_COUNT, [api_key_id, second, api_key_id, day])
        calls = dict(cursor.fetchall())
    return Usage(this_second=calls[Period.SECOND], today=calls[Period.DAY])


def refuse_over_threshold(usage: Usage) -> None:
    """Alma's 429 once a key has passed a threshold."""
    if usage.today > settings.ALMAWS_DAILY_THRESHOLD:
        raise AlmaError(
            DAILY_THRESHOLD,
            "Daily API Request Threshold has been reached. "
            "For details see: https://developers.exlibrisgroup.com/alma/apis/#threshold",
            status=429,
        )
    if usage.this_second > settings.ALMAWS_PER_SECOND_THRESHOLD:
        raise AlmaError(
            PER_SECOND_THRESHOLD,
            "HTTP requests are more than allowed per second. "
            "For details see: https://developers.exlibrisgroup.com/alma/apis/#threshold",
            status=429,
        )
