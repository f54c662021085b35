"""When the database goes away mid-request (a failover, a killed connection, a restart),
the answer says so plainly — 503, "nothing was saved, try again" — instead of a bare 500.

Nothing is half-written: every action runs in one transaction, which the database rolls
back when the connection dies. Django drops the broken connection when the request ends, so
the next request connects afresh.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)
MESSAGE = "The database could not be reached, so nothing was saved. Try again in a moment."
RETRY_AFTER = "5"


def database_lost(exc: BaseException) -> bool:
    return isinstance(exc, OperationalError | InterfaceError)


class DatabaseUnavailableMiddleware:
    """Staff UI: the 503 page (which touches no database) instead of the 500 page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if not database_lost(exc):
            return None
        logger.warning("database lost during %s %s: %s", request.method, request.path, exc)
        page = render_to_string("503.html", {"message": MESSAGE})
        return HttpResponse(page, status=503, headers={"Retry-After": RETRY_AFTER})
