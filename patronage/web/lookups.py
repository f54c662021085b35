"""Scoped reads the user-details screen needs beyond ``accounts.selectors``.

Every lookup starts from a user fetched through ``selectors.get_user`` (so an out-of-scope
user is a 404) and narrows library-owned entries with ``access.checks.restrict``, so a note,
block or statistic owned by a library outside the actor's scope neither shows nor resolves.
(Kept here rather than in ``selectors.py`` while that module is being reworked.)
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from patronage.access.checks import restrict
from patronage.access.permissions import Permission
from patronage.accounts import selectors
from patronage.accounts.models import (
    Address,
    Email,
    Phone,
    User,
    UserAttachment,
    UserIdentifier,
    UserNote,
    UserStatistic,
)
from patronage.errors import NotFound

CONTACT_KINDS = ("address", "email", "phone")


def user_or_404(actor: User, pk: int | str) -> User:
    try:
        return selectors.get_user(actor, pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _one(queryset: QuerySet[Any], pk: int | str) -> Any:
    entry = queryset.filter(pk=pk).first()
    if entry is None:
        raise Http404("No such entry.")
    return entry


def contact_entries(user: User, kind: str) -> QuerySet[Any]:
    if kind == "address":
        return Address.objects.filter(user=user)
    if kind == "email":
        return Email.objects.filter(user=user)
    if kind == "phone":
        return Phone.objects.filter(user=user)
    raise Http404("No such kind of contact information.")


def contact_entry(user: User, kind: str, pk: int) -> Address | Email | Phone:
    entry: Address | Email | Phone = _one(contact_entries(user, kind), pk)
    entry.user = user
    return entry


def identifiers_of(user: User) -> QuerySet[UserIdentifier]:
    return UserIdentifier.objects.filter(user=user).order_by("-is_primary", "id")


def identifier(user: User, pk: int) -> UserIdentifier:
    entry: UserIdentifier = _one(identifiers_of(user), pk)
    entry.user = user
    return entry


def notes_of(actor: User, user: User) -> QuerySet[UserNote]:
    return restrict(UserNote.objects.filter(user=user), actor, Permission.USERS_VIEW)


def note(actor: User, user: User, pk: int) -> UserNote:
    entry: UserNote = _one(notes_of(actor, user), pk)
    entry.user = user
    return entry


def statistics_of(actor: User, user: User) -> QuerySet[UserStatistic]:
    return restrict(UserStatistic.objects.filter(user=user), actor, Permission.USERS_VIEW)


def statistic(actor: User, user: User, pk: int) -> UserStatistic:
    entry: UserStatistic = _one(statistics_of(actor, user), pk)
    entry.user = user
    return entry


def block(actor: User, user: User, pk: int) -> Any:
    entry = _one(restrict(user.blocks.all(), actor, Permission.USERS_VIEW), pk)
    entry.user = user
    return entry


def attachments_of(user: User) -> QuerySet[UserAttachment]:
    return UserAttachment.objects.filter(user=user)


def attachment(user: User, pk: int) -> UserAttachment:
    entry: UserAttachment = _one(attachments_of(user), pk)
    entry.user = user
    return entry
