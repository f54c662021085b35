"""Authentication of the native API by API key, in the three places clients put one:

* ``Authorization: apikey KEY`` (Alma's style),
* ``X-API-Key: KEY``,
* ``?apikey=KEY`` (Alma's style; keys in URLs end up in logs — prefer a header).

A request without a key falls through to the next auth class (the staff UI's session); a
request with a key that is unknown, revoked or expired is refused with 401 and the matching
code, even if it also carries a session.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import APIKeyHeader

from .api_key_actions import authenticate_key

SCHEME = "apikey"


def presented_key(request: HttpRequest) -> str | None:
    authorization = request.headers.get("Authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == SCHEME and credentials.strip():
        return credentials.strip()
    if key := request.headers.get("X-API-Key"):
        return key
    return request.GET.get("apikey") or None


class ApiKeyAuth(APIKeyHeader):
    """Documented in OpenAPI as the ``X-API-Key`` header; the other two places work too."""

    param_name = "X-API-Key"

    def _get_key(self, request: HttpRequest) -> str | None:
        return presented_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if key is None:
            return None
        owner = authenticate_key(key, request.method or "GET")
        # Every auth class sets request.user: selectors, actions and the audit read it.
        request.user = owner
        return owner


api_key_auth = ApiKeyAuth()
