"""Structured logs: one JSON object a line, carrying the request id (``PATRONAGE_LOG_FORMAT``)."""

from __future__ import annotations

import datetime
import json
import logging
from typing import Any

from .requests import current_request_id

# Attributes every LogRecord has; anything else was passed with ``extra=`` and is kept.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = current_request_id.get()
        if request_id:
            entry["request_id"] = request_id
        entry.update((k, v) for k, v in vars(record).items() if k not in _STANDARD)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """For a terminal (``make run``): the request id in front of each line."""

    def format(self, record: logging.LogRecord) -> str:
        request_id = current_request_id.get()
        line = super().format(record)
        return f"[{request_id[:8]}] {line}" if request_id else line
