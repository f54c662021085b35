"""One id per request, in the response, every log line and every audit event it causes.

A reverse proxy or load balancer may send its own ``X-Request-ID``; it is kept when it looks
like an id (so one id follows the request across the proxy's log and ours), and replaced
otherwise — a header is client input, and the audit trail stores at most 64 characters.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

from . import metrics

HEADER = "X-Request-ID"
_ACCEPTABLE = re.compile(r"[A-Za-z0-9._:-]{8,64}")
current_request_id: ContextVar[str] = ContextVar("patronage_request_id", default="")
access_log = logging.getLogger("patronage.access_log")


def request_id_of(request: HttpRequest) -> str:
    """The request's id (set by the middleware; a fresh one for requests that bypass it)."""
    found = getattr(request, "request_id", "")
    if not found:
        offered = request.headers.get(HEADER, "")
        found = offered if _ACCEPTABLE.fullmatch(offered) else uuid.uuid4().hex
        request.request_id = found  # type: ignore[attr-defined]
    return found


class RequestIdMiddleware:
    """First in the chain: names the request, then logs one line for it when it is answered.

    The line holds the method, the path without its query string (searches carry patrons'
    names there), the status, the time taken and who asked — never personal data.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current_request_id.set(request_id_of(request))
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[HEADER] = request.request_id  # type: ignore[attr-defined]
            seconds = time.perf_counter() - started
            metrics.observe(request, response.status_code, seconds)
            user = getattr(request, "user", None)
            access_log.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round(seconds * 1000, 1),
                    "user_id": user.pk if user is not None and user.is_authenticated else None,
                },
            )
            return response
        finally:
            current_request_id.reset(token)
