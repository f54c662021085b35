"""Signing in to the staff UI: the password step, then — when the account needs it — the
second factor (a TOTP code, or setting up the authenticator app the first time).

Django's ``login()`` is called only once every required step is done. Between the steps the
session holds a *pending* sign-in (the user's id, the account's epoch and when the password
was checked), good for ``PENDING_SECONDS``; it gives no access to anything.

Throttling, IP ranges and the second factor are ``patronage.access.authentication``'s.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.forms import AuthenticationForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from patronage.access import authentication as auth
from patronage.access.decorators import public
from patronage.access.middleware import MFA_REQUEST_ATTR
from patronage.accounts.choices import AccountType
from patronage.accounts.models import User, identifier_key
from patronage.audit.context import Channel
from patronage.errors import ValidationFailed

PENDING = "_patronage_pending_login"
PENDING_SECONDS = 5 * 60
BACKEND = "patronage.access.backends.PrimaryIdBackend"
THROTTLED = 429
REFUSED = 403
INVALID = 422


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR: a reverse proxy must set it to the client's address (docs/security.md)."""
    return request.META.get("REMOTE_ADDR", "") or ""


def _next_url(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url("web:home")


def _complete(request: HttpRequest, user: User, *, second_factor: bool, next_url: str) -> Any:
    request.session.pop(PENDING, None)
    user.backend = BACKEND  # type: ignore[attr-defined]
    setattr(request, MFA_REQUEST_ATTR, second_factor)
    login(request, user)
    auth.record_login(
        user=user, ip=client_ip(request), channel=Channel.UI, second_factor=second_factor
    )
    return redirect(next_url)


def _login_page(
    request: HttpRequest, form: AuthenticationForm, status: int = 200, error: str = ""
) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    context = {
        "form": form,
        "next": next_url,
        "error": error,
        "external_sign_in": bool(settings.REMOTE_USER_HEADER),
    }
    return render(request, "web/login.html", context, status=status)


@public
@sensitive_post_parameters()
@csrf_protect
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(_next_url(request, request.GET.get("next")))
    if request.method != "POST":
        return _login_page(request, AuthenticationForm(request))
    form = AuthenticationForm(request, data=request.POST)
    primary_id = (request.POST.get("username") or "").strip()
    ip = client_ip(request)
    if primary_id and auth.is_throttled(primary_id, ip):
        # Refused before the password is looked at: no hashing, nothing learnt.
        auth.record_throttled(primary_id=primary_id, ip=ip, channel=Channel.UI)
        form = AuthenticationForm(request, initial={"username": primary_id})
        return _login_page(request, form, THROTTLED, auth.throttled_message())
    if not form.is_valid():
        if primary_id and request.POST.get("password"):
            auth.record_login_failure(
                primary_id=primary_id, ip=ip, channel=Channel.UI, reason="wrong_password"
            )
        return _login_page(request, form)
    user: User = form.get_user()  # type: ignore[assignment]
    if not auth.ip_allowed(user, ip):
        auth.record_ip_refusal(user=user, ip=ip, channel=Channel.UI)
        form = AuthenticationForm(request, initial={"username": primary_id})
        return _login_page(request, form, REFUSED, auth.IP_REFUSED_MESSAGE)
    next_url = _next_url(request, request.POST.get("next"))
    if not auth.mfa_required(user):
        return _complete(request, user, second_factor=False, next_url=next_url)
    request.session.cycle_key()  # a new session id from the moment the password was right
    request.session[PENDING] = {
        "user_id": user.pk,
        "epoch": user.auth_epoch,
        "at": time.time(),
        "next": next_url,
    }
    step = "web:login_verify" if auth.has_confirmed_totp(user) else "web:login_enroll"
    return redirect(step)


def _pending(request: HttpRequest) -> tuple[User | None, dict[str, Any]]:
    """The user whose password was just checked, if that was recently and nothing changed."""
    pending = request.session.get(PENDING)
    if not isinstance(pending, dict):
        return None, {}
    fresh = time.time() - float(pending.get("at", 0)) <= PENDING_SECONDS
    user = User.objects.filter(pk=pending.get("user_id")).first() if fresh else None
    if user is None or not user.is_active or user.auth_epoch != pending.get("epoch"):
        request.session.pop(PENDING, None)
        return None, {}
    return user, pending


def _start_again(request: HttpRequest) -> HttpResponse:
    messages.info(request, "The sign-in took too long or was interrupted; please start again.")
    return redirect(settings.LOGIN_URL)


def _code_refused(request: HttpRequest, user: User, reason: str) -> None:
    auth.record_login_failure(
        primary_id=user.primary_id, ip=client_ip(request), channel=Channel.UI, reason=reason
    )


def _second_step_checks(request: HttpRequest, user: User) -> str:
    """What refuses a second-step attempt before the code is looked at ('' if nothing)."""
    ip = client_ip(request)
    if auth.is_throttled(user.primary_id, ip):
        auth.record_throttled(primary_id=user.primary_id, ip=ip, channel=Channel.UI)
        return auth.throttled_message()
    if not auth.ip_allowed(user, ip):
        auth.record_ip_refusal(user=user, ip=ip, channel=Channel.UI)
        return auth.IP_REFUSED_MESSAGE
    return ""


@public
@sensitive_post_parameters()
@csrf_protect
@never_cache
def verify_view(request: HttpRequest) -> HttpResponse:
    """The second step for an account with an authenticator app set up."""
    user, pending = _pending(request)
    if user is None:
        return _start_again(request)
    if not auth.has_confirmed_totp(user):
        return redirect("web:login_enroll")
    context: dict[str, Any] = {"subject": user}
    if request.method == "POST":
        if refusal := _second_step_checks(request, user):
            context["error"] = refusal
            return render(request, "web/login_verify.html", context, status=THROTTLED)
        check = auth.verify_totp(user=user, code=request.POST.get("code", ""))
        if check.ok:
            return _complete(request, user, second_factor=True, next_url=pending["next"])
        _code_refused(request, user, check.reason)
        context["error"] = auth.CODE_MESSAGES[check.reason]
        return render(request, "web/login_verify.html", context, status=INVALID)
    return render(request, "web/login_verify.html", context)


@public
@sensitive_post_parameters()
@csrf_protect
@never_cache
def enroll_view(request: HttpRequest) -> HttpResponse:
    """First sign-in of an account that needs a second factor: set up the authenticator app
    (the secret as text and as an ``otpauth://`` link), then prove it with a code."""
    user, pending = _pending(request)
    if user is None:
        return _start_again(request)
    if auth.has_confirmed_totp(user):
        return redirect("web:login_verify")
    secret = pending.get("secret")
    if not secret:
        secret = pending["secret"] = auth.new_totp_secret()
        request.session[PENDING] = pending
    context: dict[str, Any] = {
        "subject": user,
        "secret": auth.grouped(secret),
        "uri": auth.provisioning_uri(user, secret),
        "issuer": auth.ISSUER,
    }
    if request.method == "POST":
        if refusal := _second_step_checks(request, user):
            context["error"] = refusal
            return render(request, "web/login_enroll.html", context, status=THROTTLED)
        try:
            user = auth.confirm_totp(
                user=user,
                secret=secret,
                code=request.POST.get("code", ""),
                ip=client_ip(request),
                channel=Channel.UI,
            )
        except ValidationFailed as exc:
            _code_refused(request, user, exc.code)
            context["error"] = next(iter(exc.errors.values()))
            return render(request, "web/login_enroll.html", context, status=INVALID)
        messages.success(request, "Two-factor authentication is set up.")
        return _complete(request, user, second_factor=True, next_url=pending["next"])
    return render(request, "web/login_enroll.html", context)


# Accounts whose owners authenticate with the institution's identity provider.
SIGN_IN_ELSEWHERE = (AccountType.EXTERNAL, AccountType.INTERNAL_EXTERNAL_AUTH)


def _external_identity(request: HttpRequest) -> str:
    header = settings.REMOTE_USER_HEADER
    key = header if header == "REMOTE_USER" else "HTTP_" + header.upper().replace("-", "_")
    return str(request.META.get(key) or "").strip()


def _refused(request: HttpRequest, message: str) -> HttpResponse:
    return _login_page(request, AuthenticationForm(request), REFUSED, message)


@public
@never_cache
def external_login_view(request: HttpRequest) -> HttpResponse:
    """Single sign-on through the web server (docs/security.md): the reverse proxy
    authenticates the person with the institution's identity provider (Shibboleth,
    mod_auth_openidc, ...) on this one path and passes who they are in the header
    ``PATRONAGE_REMOTE_USER_HEADER`` names, matched to a primary ID or any identifier of an
    External or Internal-with-external-authentication account. Accounts that must give a
    second factor sign in with it on the login page instead: the proxy's word carries none."""
    if not settings.REMOTE_USER_HEADER:
        raise Http404("External sign-in is not configured.")
    identity, ip = _external_identity(request), client_ip(request)
    if not identity:
        message = "The identity provider named nobody: use the library's single sign-on link."
        return _refused(request, message)
    user = User.objects.filter(
        identifiers__key=identifier_key(identity), account_type__in=SIGN_IN_ELSEWHERE
    ).first()
    if user is None or not user.is_active:
        auth.record_login_failure(
            primary_id=identity, ip=ip, channel=Channel.UI, reason="external_identity_unknown"
        )
        message = "No active account here signs in with this identity; ask the library."
        return _refused(request, message)
    if auth.mfa_required(user):
        message = "This account signs in with its password and a second factor, below."
        return _refused(request, message)
    if not auth.ip_allowed(user, ip):
        auth.record_ip_refusal(user=user, ip=ip, channel=Channel.UI)
        return _refused(request, auth.IP_REFUSED_MESSAGE)
    request.session.cycle_key()
    return _complete(request, user, second_factor=False, next_url=resolve_url("web:my_account"))
