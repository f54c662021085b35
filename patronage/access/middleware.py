"""Sessions end when power shrinks.

Every session remembers the account's ``auth_epoch`` at sign-in (``remember_epoch``, on
Django's ``user_logged_in`` signal, which ``Client.force_login`` fires too). Deactivating the
account or removing a role raises the epoch (``accounts.actions.end_sessions``); from then on
the session is refused at its next request:

* staff UI: signed out and sent to the sign-in page with "Your access changed; sign in again";
* API (``/api/``): 401 ``{"code": "session_ended", "message": ...}``.

A session signed in with a password alone (no second factor, because none was needed) also
ends when the account comes to need one: a role that requires two-factor authentication was
granted, or two-factor authentication was switched on for the user.

API keys carry no session: they are revoked outright by ``end_sessions``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse

EPOCH_KEY = "_patronage_auth_epoch"
# True: signed in with a second factor; False: with a password alone (none was required).
# Absent: signed in by another path (tests' force_login), which is not second-guessed here.
MFA_KEY = "_patronage_mfa"
# Set by the sign-in view on the request before it calls login(): was a second factor given?
MFA_REQUEST_ATTR = "_patronage_mfa_verified"
ENDED_MESSAGE = "Your access changed; sign in again."


def remember_epoch(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """At sign-in, keep the account's current epoch (read afresh: the instance may be stale)."""
    if request is None or not hasattr(request, "session"):
        return
    from patronage.accounts.models import User

    epoch = User.objects.filter(pk=user.pk).values_list("auth_epoch", flat=True).first()
    request.session[EPOCH_KEY] = epoch or 0
    verified = getattr(request, MFA_REQUEST_ATTR, None)
    if verified is not None:
        request.session[MFA_KEY] = bool(verified)


def session_is_current(request: HttpRequest) -> bool:
    user = request.user
    if not user.is_authenticated:
        # The session names a user the backend no longer returns (deactivated or deleted).
        return SESSION_KEY not in request.session
    if not user.is_active or request.session.get(EPOCH_KEY) != user.auth_epoch:  # type: ignore[union-attr]
        return False
    if request.session.get(MFA_KEY) is False:
        from .authentication import mfa_required

        return not mfa_required(user)  # type: ignore[arg-type]
    return True


class AuthEpochMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if hasattr(request, "session") and not session_is_current(request):
            return self.refuse(request)
        return self.get_response(request)

    @staticmethod
    def refuse(request: HttpRequest) -> HttpResponse:
        logout(request)
        if request.path.startswith("/api/"):
            body = {"code": "session_ended", "message": ENDED_MESSAGE}
            return JsonResponse(body, status=401)
        messages.info(request, ENDED_MESSAGE)
        if request.headers.get("HX-Request") == "true":
            from django.conf import settings
            from django.shortcuts import resolve_url

            # htmx would swap the sign-in page into a fragment; ask it to navigate instead.
            response = HttpResponse(status=204)
            response["HX-Redirect"] = resolve_url(settings.LOGIN_URL)
            return response
        return redirect_to_login(request.get_full_path())
