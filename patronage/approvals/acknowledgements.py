"""Reading the yearly confidentiality acknowledgement (seed 000): is a holder of patron lookup
covered by an acknowledgement of the current policy, until when, and who has lapsed.

``patronage.accounts.selectors`` asks ``acknowledgement_required`` before a name lookup or a
patron's details: without a valid acknowledgement both are refused, with a link to the page
where it is given. Nothing is required until a policy is published.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from patronage.access.permissions import Permission
from patronage.accounts.models import User
from patronage.errors import Forbidden
from patronage.process_cache import ProcessCached, ProcessCachedMap

from .models import Acknowledgement, ConfidentialityPolicy

ACKNOWLEDGEMENT_PATH = "/governance/acknowledgement/"
PATRON_LOOKUP = (Permission.USERS_SEARCH_BY_NAME, Permission.USERS_VIEW_DETAILS)
_CACHE_ATTR = "_patronage_acknowledged_until"


def current_policy() -> ConfidentialityPolicy | None:
    return ConfidentialityPolicy.objects.order_by("-version").first()


def period() -> datetime.timedelta:
    return datetime.timedelta(days=settings.CONFIDENTIALITY_ACK_PERIOD_DAYS)


def latest_acknowledgement(user: User, policy: ConfidentialityPolicy) -> Acknowledgement | None:
    return (
        Acknowledgement.objects.filter(user=user, policy=policy)
        .order_by("-acknowledged_at")
        .first()
    )


# Asked before every read of a patron's details, so kept per process (process_cache.py): the
# current policy's id, forgotten by ``publish_policy``; and, per (user, policy), when a
# valid acknowledgement lapses. Only a valid one is kept: an acknowledgement never shortens
# a later lapse, so what is kept stays true until then, and a new one is seen at once here
# (``acknowledge`` forgets the user) and within CONFIG_CACHE_SECONDS elsewhere.
published_policy: ProcessCached[int | None] = ProcessCached(
    lambda: ConfidentialityPolicy.objects.order_by("-version").values_list("pk", flat=True).first()
)
_acknowledged_until: ProcessCachedMap[int, tuple[int, datetime.datetime]] = ProcessCachedMap()


def _lapses(user: User, policy_id: int) -> datetime.datetime | None:
    kept = _acknowledged_until.get(user.pk)
    if kept is not None and kept[0] == policy_id:
        return kept[1]
    latest = (
        Acknowledgement.objects.filter(user=user, policy_id=policy_id)
        .order_by("-acknowledged_at")
        .values_list("acknowledged_at", flat=True)
        .first()
    )
    until = latest + period() if latest else None
    if until is not None and until > timezone.now():
        _acknowledged_until.put(user.pk, (policy_id, until), until.timestamp())
    return until


def _state(user: User) -> tuple[bool, datetime.datetime | None]:
    """(a policy is published, when the user's acknowledgement of it lapses), cached on the
    instance, which Django loads anew for every request."""
    cached: tuple[bool, datetime.datetime | None] | None = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        policy_id = published_policy.get()
        cached = (policy_id is not None, _lapses(user, policy_id) if policy_id else None)
        setattr(user, _CACHE_ATTR, cached)
    return cached


def valid_until(user: User) -> datetime.datetime | None:
    """When the user's acknowledgement of the current policy lapses (``None``: none given)."""
    return _state(user)[1]


def acknowledgement_required(user: User | None) -> bool:
    """A published policy and no acknowledgement of it within the period."""
    if user is None or not getattr(user, "is_authenticated", False) or user.pk is None:
        return False
    published, until = _state(user)
    return published and (until is None or until <= timezone.now())


def forget(user: User) -> None:
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)
    _acknowledged_until.forget(user.pk)


def require_acknowledgement(user: User | None) -> None:
    if acknowledgement_required(user):
        raise Forbidden(
            "Looking patrons up by name and seeing their details need a yearly acknowledgement "
            "of the Policy on the Confidentiality of Library Records. Acknowledge it at "
            f"{ACKNOWLEDGEMENT_PATH}",
            code="acknowledgement_required",
        )


@dataclass
class HolderStatus:
    user: User
    acknowledged_at: datetime.datetime | None
    lapses_at: datetime.datetime | None

    @property
    def lapsed(self) -> bool:
        return self.lapses_at is None or self.lapses_at <= timezone.now()


def holders_status() -> list[HolderStatus]:
    """Every active holder of a patron-lookup permission (production grants in force) with
    their acknowledgement of the current policy: the report of who has lapsed."""
    from patronage.access import selectors as access_selectors

    policy = current_policy()
    holders: dict[int, User] = {}
    for permission in PATRON_LOOKUP:
        for grant in access_selectors.permission_holders(None, permission=permission):
            holders.setdefault(grant.user_id, grant.user)
    latest: dict[int, datetime.datetime] = {}
    if policy is not None:
        for user_id, at in Acknowledgement.objects.filter(
            policy=policy, user_id__in=list(holders)
        ).values_list("user_id", "acknowledged_at"):
            latest[user_id] = max(at, latest.get(user_id, at))
    rows = [
        HolderStatus(user, latest.get(pk), latest[pk] + period() if pk in latest else None)
        for pk, user in holders.items()
    ]
    return sorted(rows, key=lambda r: (not r.lapsed, r.user.sort_name, r.user.pk))
