"""API keys: creating, revoking and recognising them. The only code that writes ``ApiKey``.

A key acts as its owner with the intersection of the owner's current permissions and the
key's own list (empty: everything the owner holds), read-only keys on safe methods only.

Only a SHA-256 digest of each key is stored. A key is 32 random bytes (256 bits), so the
digest cannot be reversed by guessing, and a slow password hash (argon2) would buy nothing
but cost milliseconds on every API request; the digest is looked up through a unique index.
The digest does not depend on SECRET_KEY, so rotating the secret key keeps the keys working.

Delegation (no escalation): the key's permissions must be ones the owner holds. Whoever
creates a key for someone else sees it once and could use it, so they must hold everything
the key can do, wherever the owner holds it; and a key made by someone else never grows
with the owner's later roles — its list is fixed to what it could do when it was made.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from patronage.accounts.models import User
from patronage.accounts.prepared import PreparedQuery, fetch_together
from patronage.audit.actions import record
from patronage.audit.context import Actor, Channel
from patronage.errors import DomainError, Forbidden, NotFound, ValidationFailed

from .checks import KEY_PERMISSIONS_ATTR, Coverage, coverage_by_permission, forget, require
from .models import ApiKey
from .permissions import Permission

KEY_BYTES = 32
PREFIX_LENGTH = 8
NAME_MAX = 100
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)  # at most one write a minute per key
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class NotAuthenticated(DomainError):
    code = "not_authenticated"
    status = 401


def digest_of(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


# --- creating and revoking --------------------------------------------------------------------


@dataclass(frozen=True)
class CreatedKey:
    api_key: ApiKey
    key: str  # the plaintext: shown once, never stored


def _permission_values(permissions: Iterable[str]) -> list[str]:
    values, unknown = [], []
    for value in permissions:
        value = str(value).strip()
        if not value:
            continue
        if value in Permission.values:
            values.append(value)
        else:
            unknown.append(value)
    if unknown:
        raise ValidationFailed(
            {"permissions": f"Not a permission: {', '.join(sorted(unknown))}."},
            code="unknown_permission",
        )
    return sorted(set(values))


def _covers(mine: Coverage | None, theirs: Coverage) -> bool:
    if mine is None:
        return False
    if mine.everywhere:
        return True
    return not theirs.everywhere and theirs.keys <= mine.keys


def require_may_manage(actor: Actor, owner: User) -> None:
    """Managing one's own keys needs only a role; anyone else's needs APIKEYS_MANAGE."""
    if actor.user is not None and actor.user.pk == owner.pk:
        return
    require(actor, Permission.APIKEYS_MANAGE)


@transaction.atomic
def create_api_key(
    *,
    actor: Actor,
    owner: User,
    name: str,
    permissions: Iterable[str] = (),
    read_only: bool = False,
    expires_at: datetime.datetime | None = None,
) -> CreatedKey:
    """Make a key for ``owner``; the plaintext is returned here and nowhere else, ever."""
    require(actor, Permission.APIKEYS_MANAGE)
    owner = User.objects.select_for_update().get(pk=owner.pk)
    name = (name or "").strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "Name the key after what will use it (e.g. 'SIS import')."
    elif len(name) > NAME_MAX:
        errors["name"] = f"At most {NAME_MAX} characters."
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = "The expiry must be in the future."
    if not owner.is_active:
        errors["user"] = "The account is not active."
    if errors:
        raise ValidationFailed(errors)
    wanted = _permission_values(permissions)
    forget(owner)
    held = coverage_by_permission(owner)
    if not held:
        raise ValidationFailed(
            {"user": f"{owner.display_name} holds no role, so a key could do nothing."},
            code="owner_without_roles",
        )
    if missing := [p for p in wanted if p not in held]:
        raise ValidationFailed(
            {"permissions": f"{owner.display_name} does not hold: {', '.join(missing)}."},
            code="not_held_by_owner",
        )
    if actor.user is not None and actor.user.pk != owner.pk:
        # The creator sees the key: they must hold all it can do, where the owner does.
        effective = wanted or sorted(held)
        mine = coverage_by_permission(actor.user)
        if beyond := [p for p in effective if not _covers(mine.get(p), held[p])]:
            raise Forbidden(
                "The key would let you do what you may not do yourself "
                f"({', '.join(beyond)}); choose fewer permissions.",
                code="escalation",
            )
        wanted = effective
    key = secrets.token_urlsafe(KEY_BYTES)
    api_key = ApiKey.objects.create(
        owner=owner,
        name=name,
        prefix=key[:PREFIX_LENGTH],
        digest=digest_of(key),
        permissions=wanted,
        read_only=read_only,
        expires_at=expires_at,
        created_by=actor.user,
    )
    record(
        actor=actor,
        verb="apikey.created",
        obj=api_key,
        subject=owner,
        changes=[{"field": "api_keys", "old": None, "new": str(api_key)}],
        details={
            "prefix": api_key.prefix,
            "permissions": wanted,
            "read_only": read_only,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return CreatedKey(api_key=api_key, key=key)


@transaction.atomic
def revoke_api_key(*, actor: Actor, api_key: ApiKey, reason: str = "") -> ApiKey:
    """End a key now. Owners may revoke their own keys; others need APIKEYS_MANAGE."""
    api_key = ApiKey.objects.select_for_update().select_related("owner").get(pk=api_key.pk)
    require_may_manage(actor, api_key.owner)
    if api_key.revoked_at is not None:
        return api_key
    api_key.revoked_at = timezone.now()
    api_key.save(update_fields=["revoked_at"])
    record(
        actor=actor,
        verb="apikey.revoked",
        obj=api_key,
        subject=api_key.owner,
        reason=reason,
        changes=[{"field": "api_keys", "old": str(api_key), "new": None}],
        details={"prefix": api_key.prefix},
    )
    return api_key


def revoke_all_keys(user: User) -> int:
    """Called by ``accounts.actions.end_sessions`` (deactivation, a role removed), inside the
    caller's transaction and after its own audit event's actor is known to it."""
    now = timezone.now()
    keys = list(ApiKey.objects.filter(owner=user, revoked_at__isnull=True))
    if not keys:
        return 0
    ApiKey.objects.filter(pk__in=[k.pk for k in keys]).update(revoked_at=now)
    record(
        actor=Actor.system(Channel.SYSTEM, job="end_sessions"),
        verb="apikey.revoked",
        object_type="apikey",
        subject=user,
        reason="The account's access changed (deactivated or a role removed).",
        changes=[{"field": "api_keys", "old": str(k), "new": None} for k in keys],
        details={"prefixes": [k.prefix for k in keys]},
    )
    return len(keys)


def get_api_key(actor: Actor, pk: int) -> ApiKey:
    """A key the actor may manage: their own, or anyone's with APIKEYS_MANAGE; else 404."""
    api_key = ApiKey.objects.select_related("owner", "created_by").filter(pk=pk).first()
    if api_key is None:
        raise NotFound("No such API key.", code="api_key_not_found")
    try:
        require_may_manage(actor, api_key.owner)
    except Forbidden:
        raise NotFound("No such API key.", code="api_key_not_found") from None
    return api_key


def keys_of(owner: User) -> list[ApiKey]:
    return list(ApiKey.objects.filter(owner=owner).select_related("created_by"))


# --- recognising a presented key --------------------------------------------------------------
# Every API request does this first: the key and its owner, by the key's digest, are two
# queries compiled once per connection and run together (one statement on PostgreSQL;
# accounts/prepared.py), not compiled anew for each request.
_KEY_BY_DIGEST = PreparedQuery(ApiKey, lambda digest: ApiKey.objects.filter(digest=digest), 1)
_OWNER_BY_DIGEST = PreparedQuery(
    User, lambda digest: User.objects.filter(api_keys__digest=digest), 1
)


def _presented(key: str) -> ApiKey | None:
    digest = digest_of(key)
    keys, owners = fetch_together([(_KEY_BY_DIGEST, (digest,)), (_OWNER_BY_DIGEST, (digest,))])
    if not keys or not owners:
        return None
    api_key = keys[0]
    api_key.owner = owners[0]
    return api_key


def authenticate_key(key: str, method: str) -> User:
    """The owner a presented key acts as, restricted to the key's permissions; else 401
    (``api_key_invalid``, ``api_key_revoked``, ``api_key_expired``) or 403 for a write with a
    read-only key."""
    key = (key or "").strip()
    api_key = _presented(key) if key else None
    if api_key is None:
        raise NotAuthenticated("The API key is not valid.", code="api_key_invalid")
    if api_key.revoked_at is not None:
        raise NotAuthenticated("The API key was revoked.", code="api_key_revoked")
    if api_key.is_expired:
        raise NotAuthenticated("The API key has expired.", code="api_key_expired")
    owner = api_key.owner
    if not owner.is_active:
        raise NotAuthenticated("The API key's account is not active.", code="api_key_revoked")
    if api_key.read_only and method.upper() not in SAFE_METHODS:
        raise Forbidden("This API key is read-only.", code="api_key_read_only")
    _touch(api_key)
    # checks.coverage_by_permission keeps only these permissions for this instance (request).
    forget(owner)
    setattr(
        owner, KEY_PERMISSIONS_ATTR, frozenset(api_key.permissions) if api_key.permissions else None
    )
    owner.api_key = api_key  # type: ignore[attr-defined]  # for audit details and views
    return owner


def _touch(api_key: ApiKey) -> None:
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
