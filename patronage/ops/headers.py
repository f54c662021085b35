"""Answers that carry patron data are never stored by browsers or proxies.

Every page and API answer is personal or permission-dependent, so every answer gets
``Cache-Control: no-store`` unless it set its own caching — which only static files do
(WhiteNoise: hashed names, cached for good).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class NoStoreMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Cache-Control" not in response:
            response["Cache-Control"] = "no-store"
        return response
