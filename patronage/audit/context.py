"""Who is acting, through which channel: what every action receives and every event records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from uuid import uuid4

from django.db import models

from patronage.ops.requests import request_id_of

if TYPE_CHECKING:
    from django.http import HttpRequest

    from patronage.accounts.models import User


class Channel(models.TextChoices):
    UI = "ui", "Staff web UI"
    API = "api", "REST API"
    CLI = "cli", "Command line"
    IMPORT = "import", "Import job"
    JOB = "job", "Background job"
    SYSTEM = "system", "System"


@dataclass(frozen=True)
class Actor:
    """The acting staff user (None for a process) and where the action came from."""

    user: User | None
    channel: str
    ip: str = ""
    request_id: str = field(default_factory=lambda: uuid4().hex)
    job: str = ""
    terminal: str = ""

    @classmethod
    def from_request(cls, request: HttpRequest, channel: str = Channel.UI) -> Actor:
        user = request.user if request.user.is_authenticated else None
        return cls(
            user=user,  # type: ignore[arg-type]
            channel=channel,
            ip=request.META.get("REMOTE_ADDR", ""),
            request_id=request_id_of(request),
            # Work under a shared circulation-desk login is traced to its terminal (seed 001).
            terminal=getattr(user, "terminal", "") or "",
        )

    @classmethod
    def system(cls, channel: str = Channel.SYSTEM, job: str = "") -> Actor:
        return cls(user=None, channel=channel, job=job)

    @property
    def label(self) -> str:
        """How the actor is named on a record's "created by / updated by" line."""
        if self.user is not None:
            return self.user.primary_id
        return f"{Channel(self.channel).label}{f' {self.job}' if self.job else ''}"
