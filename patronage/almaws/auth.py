"""Authentication as Alma does it: an API key in ``?apikey=`` or ``Authorization: apikey``,
the keys of ``access`` (read-only keys refused on writes, permission subsets, expiry), and
Alma's governance thresholds counted for every call the key makes."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import APIKeyQuery

from patronage.access.api_key_actions import authenticate_key
from patronage.access.api_key_auth import presented_key
from patronage.errors import DomainError

from .errors import BAD_KEY, UNAUTHORIZED, AlmaError
from .throttle import count_call, refuse_over_threshold

USAGE_ATTR = "almaws_usage"


class AlmaKeyAuth(APIKeyQuery):
    """Documented as Alma documents it (the ``apikey`` query parameter); the
    ``Authorization: apikey KEY`` header works too. ``reads_only`` marks an operation that
    changes nothing although it is a POST (Alma's ``op=auth``): read-only keys may call it."""

    param_name = "apikey"

    def __init__(self, *, reads_only: bool = False) -> None:
        super().__init__()
        self.reads_only = reads_only

    def _get_key(self, request: HttpRequest) -> str | None:
        return presented_key(request) or ""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        method = "GET" if self.reads_only else request.method or "GET"
        try:
            owner = authenticate_key(key or "", method)
        except DomainError:
            # Alma tells nothing more about a refused key (unknown, revoked, expired, or
            # read-only on a write): HTTP 400, UNAUTHORIZED.
            raise AlmaError(UNAUTHORIZED, BAD_KEY) from None
        request.user = owner
        usage = count_call(owner.api_key.pk)  # type: ignore[attr-defined]
        setattr(request, USAGE_ATTR, usage)
        refuse_over_threshold(usage)
        return owner


key_auth = AlmaKeyAuth()
read_key_auth = AlmaKeyAuth(reads_only=True)
