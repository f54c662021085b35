"""Signing in: throttling, IP ranges for staff, the second factor (TOTP), and their audit.

The sign-in views (``patronage.web.views.signin``) call these; nothing else writes
``LoginFailure`` or ``TotpCounter`` rows or a user's TOTP secret.

* Throttling: after ``LOGIN_MAX_FAILURES`` failed attempts for one primary ID, or
  ``LOGIN_MAX_FAILURES_PER_IP`` from one address, within ``LOGIN_FAILURE_WINDOW`` seconds,
  further attempts are refused until the window has passed — before any password is
  checked, so a refused attempt costs no hashing and tells nothing about the account.
* IP ranges (seed 002 "Restricting Alma Logins by IP Range"): with ``STAFF_LOGIN_IP_RANGES``
  set, staff (anyone holding a role) sign in only from those ranges, unless the user's
  "Disable all login restrictions" is set.
* Second factor: holders of a role that requires it, and users with ``mfa_enabled``, sign in
  with a TOTP code (RFC 6238, 30-second steps, one step of clock drift either way); each
  code is accepted once.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from functools import lru_cache

import pyotp
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from patronage.accounts.models import User, identifier_key
from patronage.audit.actions import record
from patronage.audit.context import Actor
from patronage.errors import Forbidden, ValidationFailed

from .checks import coverage_by_permission, require
from .models import LoginFailure, RoleGrant, TotpCounter
from .permissions import Permission

ISSUER = "Patronage"
TOTP_DIGITS = 6
TOTP_DRIFT_STEPS = 1  # pyotp's valid_window=1: the previous and next 30-second step too


# --- throttling -------------------------------------------------------------------------------


def _max_failures() -> int:
    return int(getattr(settings, "LOGIN_MAX_FAILURES", 5))


def _max_failures_per_ip() -> int:
    return int(getattr(settings, "LOGIN_MAX_FAILURES_PER_IP", 0) or _max_failures())


def failure_window() -> datetime.timedelta:
    return datetime.timedelta(seconds=int(getattr(settings, "LOGIN_FAILURE_WINDOW", 15 * 60)))


def id_digest(primary_id: str) -> str:
    """A keyed digest of the attempted primary ID: counts attempts without storing what was
    typed (which is sometimes a password)."""
    key = hashlib.sha256(f"patronage.login-failure:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, identifier_key(primary_id).encode(), hashlib.sha256).hexdigest()


def is_throttled(primary_id: str, ip: str) -> bool:
    since = timezone.now() - failure_window()
    recent = LoginFailure.objects.filter(occurred_at__gte=since)
    if recent.filter(id_digest=id_digest(primary_id)).count() >= _max_failures():
        return True
    return bool(ip) and recent.filter(ip=ip).count() >= _max_failures_per_ip()


def throttled_message() -> str:
    minutes = max(1, round(failure_window().total_seconds() / 60))
    return (
        "Too many failed sign-in attempts for this ID or from this address. "
        f"Try again in {minutes} minutes."
    )


def _user_by_primary_id(primary_id: str) -> User | None:
    return User.objects.filter(
        identifiers__key=identifier_key(primary_id), identifiers__is_primary=True
    ).first()


@transaction.atomic
def record_login_failure(*, primary_id: str, ip: str, channel: str, reason: str) -> None:
    """A wrong password or second-factor code: counted for throttling and audited."""
    now = timezone.now()
    LoginFailure.objects.filter(occurred_at__lt=now - failure_window()).delete()  # keep it small
    LoginFailure.objects.create(id_digest=id_digest(primary_id), ip=ip, occurred_at=now)
    record(
        actor=Actor(user=None, channel=channel, ip=ip),
        verb="auth.login_failed",
        object_type="user",
        subject=_user_by_primary_id(primary_id),
        details={"reason": reason},
    )


def record_throttled(*, primary_id: str, ip: str, channel: str) -> None:
    record(
        actor=Actor(user=None, channel=channel, ip=ip),
        verb="auth.login_throttled",
        object_type="user",
        subject=_user_by_primary_id(primary_id),
    )


@transaction.atomic
def record_login(*, user: User, ip: str, channel: str, second_factor: bool) -> None:
    """A completed sign-in: the ID's failures are forgotten; the event is audited."""
    LoginFailure.objects.filter(id_digest=id_digest(user.primary_id)).delete()
    record(
        actor=Actor(user=user, channel=channel, ip=ip),
        verb="auth.login",
        obj=user,
        subject=user,
        details={"second_factor": second_factor},
    )


# --- IP ranges --------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _networks(ranges: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(r, strict=False) for r in ranges)


def staff_networks() -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return _networks(tuple(getattr(settings, "STAFF_LOGIN_IP_RANGES", ()) or ()))


def is_staff_login(user: User) -> bool:
    """Anyone holding a role now (a login model's role included) signs in as staff."""
    return RoleGrant.objects.active().filter(user=user).exists()


def ip_allowed(user: User, ip: str) -> bool:
    networks = staff_networks()
    if not networks or user.disable_login_restrictions or not is_staff_login(user):
        return True
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False  # no usable address: outside every range
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


IP_REFUSED_MESSAGE = (
    "Staff cannot sign in from this network. Sign in from the library's network, or ask a "
    "user administrator to lift the restriction for your account."
)


def record_ip_refusal(*, user: User, ip: str, channel: str) -> None:
    record(
        actor=Actor(user=None, channel=channel, ip=ip),
        verb="auth.login_refused_ip",
        obj=user,
        subject=user,
        details={"ip": ip},
    )


# --- the second factor ------------------------------------------------------------------------


def mfa_required(user: User) -> bool:
    """Two-factor sign-in for users who asked for it and holders of a role that requires it."""
    if user.mfa_enabled:
        return True
    return RoleGrant.objects.active().filter(user=user, role__requires_mfa=True).exists()


def has_confirmed_totp(user: User) -> bool:
    return bool(user.totp_secret) and user.totp_confirmed_at is not None


def new_totp_secret() -> str:
    return pyotp.random_base32()  # 32 base-32 characters: 160 bits, as RFC 4226 advises


def grouped(secret: str) -> str:
    """``JBSWY3DPEHPK3PXP...`` → ``JBSW Y3DP EHPK ...``: easier to type into an app."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret, digits=TOTP_DIGITS).provisioning_uri(
        name=user.primary_id, issuer_name=ISSUER
    )


def _clean_code(code: str) -> str:
    return "".join((code or "").split())


def _matching_step(secret: str, code: str, now: datetime.datetime | None = None) -> int | None:
    """The time step ``code`` belongs to, within the allowed drift; None if it matches none."""
    code = _clean_code(code)
    if len(code) != TOTP_DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS)
    moment = now or timezone.now()
    current = totp.timecode(moment)
    match = None
    for offset in range(-TOTP_DRIFT_STEPS, TOTP_DRIFT_STEPS + 1):
        # Compare every candidate (constant time each) rather than stopping at the first.
        if hmac.compare_digest(totp.at(moment, counter_offset=offset), code):
            match = current + offset
    return match


def _use_step(user: User, step: int) -> bool:
    """Accept a step only if it is later than the last one used (no code works twice)."""
    counter, _ = TotpCounter.objects.select_for_update().get_or_create(user=user)
    if step <= counter.last_timestep:
        return False
    counter.last_timestep = step
    counter.save(update_fields=["last_timestep"])
    return True


@dataclass(frozen=True)
class CodeCheck:
    ok: bool
    reason: str = ""


@transaction.atomic
def verify_totp(*, user: User, code: str) -> CodeCheck:
    """Check a sign-in code against the user's confirmed secret, and use it up."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if not has_confirmed_totp(user):
        return CodeCheck(False, "not_enrolled")
    step = _matching_step(user.totp_secret, code)
    if step is None:
        return CodeCheck(False, "wrong_code")
    if not _use_step(user, step):
        return CodeCheck(False, "code_reused")
    return CodeCheck(True)


CODE_MESSAGES = {
    "wrong_code": "That code is not right. Enter the current code from your authenticator app.",
    "code_reused": "That code was already used. Wait for the next code and enter it.",
    "not_enrolled": "Two-factor authentication is not set up for this account.",
}


@transaction.atomic
def confirm_totp(*, user: User, secret: str, code: str, ip: str, channel: str) -> User:
    """Enrolment: the user proves their app holds ``secret`` by entering a current code."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if has_confirmed_totp(user):
        raise ValidationFailed(
            {"code": "Two-factor authentication is already set up for this account."},
            code="mfa_already_enrolled",
        )
    step = _matching_step(secret, code)
    if step is None:
        raise ValidationFailed({"code": CODE_MESSAGES["wrong_code"]}, code="wrong_code")
    user.totp_secret = secret
    user.totp_confirmed_at = timezone.now()
    user.save(update_fields=["totp_secret", "totp_confirmed_at"])
    TotpCounter.objects.update_or_create(user=user, defaults={"last_timestep": step})
    record(
        actor=Actor(user=user, channel=channel, ip=ip),
        verb="auth.mfa_enrolled",
        obj=user,
        subject=user,
        changes=[{"field": "totp", "old": None, "new": "set up"}],
    )
    return user


def _holds_at_least(actor_user: User, user: User) -> bool:
    """Whether the actor holds every permission ``user`` holds, wherever ``user`` holds it."""
    mine = coverage_by_permission(actor_user)
    for permission, theirs in coverage_by_permission(user).items():
        held = mine.get(permission)
        if held is None:
            return False
        if held.everywhere:
            continue
        if theirs.everywhere or not theirs.keys <= held.keys:
            return False
    return True


@transaction.atomic
def reset_totp(*, actor: Actor, user: User, reason: str = "") -> User:
    """Remove a user's second factor (a lost phone): they set up a new one at next sign-in.

    Needs ``ROLES_GRANT`` (the second factor guards what the roles give), never on oneself,
    and only for a user whose permissions the actor holds too: otherwise a reset followed by
    a password change would take over a more powerful account. The user's sessions end.
    """
    require(actor, Permission.ROLES_GRANT)
    user = User.objects.select_for_update().get(pk=user.pk)
    if actor.user is not None:
        if actor.user.pk == user.pk:
            raise Forbidden(
                "Nobody resets their own second factor; ask another administrator.",
                code="self_reset",
            )
        if not _holds_at_least(actor.user, user):
            raise Forbidden(
                f"{user.display_name} holds permissions you do not; an administrator who "
                "holds them resets this account's second factor.",
                code="escalation",
            )
    if not user.totp_secret and user.totp_confirmed_at is None:
        raise ValidationFailed(
            {"user": "Two-factor authentication is not set up for this account."},
            code="mfa_not_enrolled",
        )
    user.totp_secret, user.totp_confirmed_at = "", None
    user.save(update_fields=["totp_secret", "totp_confirmed_at"])
    TotpCounter.objects.filter(user=user).delete()
    # End the sessions (not the API keys: they do not depend on the second factor).
    User.objects.filter(pk=user.pk).update(auth_epoch=F("auth_epoch") + 1)
    record(
        actor=actor,
        verb="auth.mfa_reset",
        obj=user,
        subject=user,
        reason=reason,
        changes=[{"field": "totp", "old": "set up", "new": None}],
    )
    user.refresh_from_db()
    return user
