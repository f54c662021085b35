"""Reading user records. Every function takes the acting user and returns only what they may see.

Seed 000: only staff allowed to look patrons up by name get a name search; everyone else
finds a user by an exact identifier, primary ID or email.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from patronage.access.checks import can, restrict
from patronage.access.models import RoleGrant
from patronage.access.permissions import Permission
from patronage.audit.models import AuditEvent
from patronage.errors import NotFound

from .choices import BlockStatus, UserStatus
from .models import (
    Address,
    Email,
    Phone,
    User,
    UserAttachment,
    UserBlock,
    UserIdentifier,
    UserNameToken,
    UserNote,
    UserStatistic,
    identifier_key,
    name_tokens,
)


def visible_users(actor: User | None) -> QuerySet[User]:
    return restrict(User.objects.all(), actor, Permission.USERS_VIEW)


def get_user(actor: User | None, pk: int | str) -> User:
    try:
        return visible_users(actor).get(pk=int(pk))
    except (User.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such user.", code="user_not_found") from None


def get_user_by_primary_id(actor: User | None, primary_id: str) -> User:
    user = (
        visible_users(actor)
        .filter(identifiers__key=identifier_key(primary_id), identifiers__is_primary=True)
        .first()
    )
    if user is None:
        raise NotFound(f"No user with primary ID '{primary_id}'.", code="user_not_found")
    return user


def find_by_identifier(actor: User | None, value: str, id_type: str | None = None) -> User | None:
    """Exact, case-insensitive match on the primary ID or any additional identifier."""
    condition = Q(identifiers__key=identifier_key(value))
    if id_type:
        condition &= Q(identifiers__id_type=id_type)
    return visible_users(actor).filter(condition).first()


def find_by_email(actor: User | None, address: str) -> QuerySet[User]:
    matching = Email.objects.filter(key=identifier_key(address)).values("user_id")
    return visible_users(actor).filter(pk__in=matching)


def _prefix_bounds(token: str) -> tuple[str, str]:
    """[token, next) holds exactly the words starting with ``token`` in code-point order."""
    return token, token[:-1] + chr(ord(token[-1]) + 1)


def users_matching_name(query: str) -> QuerySet[User] | None:
    """Users having, for every word of ``query``, a name word that starts with it."""
    words = sorted(name_tokens(query), key=len, reverse=True)
    if not words:
        return None
    users = User.objects.all()
    for word in words:
        low, high = _prefix_bounds(word)
        users = users.filter(
            pk__in=UserNameToken.objects.filter(token__gte=low, token__lt=high).values("user_id")
        )
    return users


class SearchField:
    ALL = "all"
    NAME = "name"
    IDENTIFIER = "identifier"
    EMAIL = "email"
    CHOICES = (ALL, NAME, IDENTIFIER, EMAIL)


class StatusFilter:
    ACTIVE = "active"  # active and not expired
    INACTIVE = "inactive"  # not active or expired
    CHOICES = ("", ACTIVE, INACTIVE)


SORTS = {
    "name": ("sort_name", "id"),
    "-name": ("-sort_name", "-id"),
    "primary_id": ("primary_id", "id"),
    "expiry_date": ("expiry_date", "sort_name", "id"),
    "-expiry_date": ("-expiry_date", "sort_name", "id"),
    "user_group": ("user_group", "sort_name", "id"),
}


@dataclass
class UserSearch:
    query: str = ""
    field: str = SearchField.ALL
    record_type: str = ""
    account_type: str = ""
    user_group: str = ""
    job_category: str = ""
    status: str = ""
    role: str = ""
    sort: str = "name"
    name_search_refused: bool = dataclass_field(default=False, init=False)


def search_users(actor: User | None, search: UserSearch) -> QuerySet[User]:
    """The Find and Manage Users list: a query plus filters, sorted, with the list columns."""
    users = visible_users(actor)
    query = search.query.strip()
    if query:
        users = users.filter(_query_condition(actor, search, query))
    if search.record_type:
        users = users.filter(record_type=search.record_type)
    if search.account_type:
        users = users.filter(account_type=search.account_type)
    if search.user_group:
        users = users.filter(user_group=search.user_group)
    if search.job_category:
        users = users.filter(job_category=search.job_category)
    today = timezone.localdate()
    current = Q(status=UserStatus.ACTIVE) & (
        Q(expiry_date__isnull=True) | Q(expiry_date__gte=today)
    )
    if search.status == StatusFilter.ACTIVE:
        users = users.filter(current)
    elif search.status == StatusFilter.INACTIVE:
        users = users.exclude(current)
    if search.role:
        holders = RoleGrant.objects.active().filter(role__code=search.role).values("user_id")
        users = users.filter(pk__in=holders)
    return with_list_columns(actor, users).order_by(*SORTS.get(search.sort, SORTS["name"]))


def _query_condition(actor: User | None, search: UserSearch, query: str) -> Q:
    """Exact identifier/email matches for everyone; name words only for those allowed."""
    key = identifier_key(query)
    by_identifier = Q(identifiers__key=key)
    by_email = Q(pk__in=Email.objects.filter(key=key).values("user_id"))
    allowed_names = can(actor, Permission.USERS_SEARCH_BY_NAME)
    search.name_search_refused = (
        search.field in (SearchField.ALL, SearchField.NAME) and not allowed_names
    )
    named = users_matching_name(query) if allowed_names else None
    by_name = Q(pk__in=named.values("pk")) if named is not None else Q(pk__in=[])
    if search.field == SearchField.IDENTIFIER:
        return by_identifier
    if search.field == SearchField.EMAIL:
        return by_email
    if search.field == SearchField.NAME:
        return by_name
    return by_identifier | by_email | by_name


def with_list_columns(actor: User | None, users: QuerySet[User]) -> QuerySet[User]:
    """Annotate the Blocks and Notes columns, counting only entries the actor may see."""
    today = timezone.localdate()
    blocks = restrict(UserBlock.objects.all(), actor, Permission.USERS_VIEW).filter(
        Q(expiry_date__isnull=True) | Q(expiry_date__gte=today),
        user=OuterRef("pk"),
        status=BlockStatus.ACTIVE,
    )
    notes = restrict(UserNote.objects.all(), actor, Permission.USERS_VIEW).filter(
        user=OuterRef("pk")
    )
    return users.annotate(has_blocks=Exists(blocks), has_notes=Exists(notes))


def effective_blocks(actor: User | None, user: User) -> list[dict[str, Any]]:
    """Manual blocks in force plus the derived ones: inactive status, expired account."""
    today = timezone.localdate()
    blocks: list[dict[str, Any]] = []
    if user.status == UserStatus.INACTIVE:
        blocks.append(
            {"type": "INACTIVE", "description": "The user is not active", "derived": True}
        )
    if user.expiry_date and user.expiry_date < today:
        blocks.append(
            {"type": "EXPIRED", "description": "The account has expired", "derived": True}
        )
    manual = restrict(user.blocks.all(), actor, Permission.USERS_VIEW).filter(
        Q(expiry_date__isnull=True) | Q(expiry_date__gte=today), status=BlockStatus.ACTIVE
    )
    blocks.extend(
        {"type": b.block_type, "description": b.note, "derived": False, "block": b} for b in manual
    )
    return blocks


def user_history(actor: User | None, user: User) -> QuerySet[AuditEvent]:
    """The History tab: every audited change of the record, newest first."""
    if not can(actor, Permission.USERS_VIEW_HISTORY):
        return AuditEvent.objects.none()
    return (
        AuditEvent.objects.filter(subject=user).exclude(changes=[]).order_by("-occurred_at", "-id")
    )


# --- the entries of one user's tabs ----------------------------------------------------------
# Each takes a user already fetched through ``get_user`` (so an out-of-scope user never gets
# this far) and narrows library-owned entries (notes, statistics, blocks) with ``restrict``,
# so an entry of a library outside the actor's scope neither lists nor resolves. A missing or
# hidden entry is ``NotFound``, which every interface maps to its 404.


def _one_entry(entries: QuerySet[Any], pk: int | str) -> Any:
    entry = entries.filter(pk=pk).first()
    if entry is None:
        raise NotFound("No such entry.", code="entry_not_found")
    return entry


def contact_entries(user: User, kind: str) -> QuerySet[Any]:
    if kind == "address":
        return Address.objects.filter(user=user)
    if kind == "email":
        return Email.objects.filter(user=user)
    if kind == "phone":
        return Phone.objects.filter(user=user)
    raise NotFound("No such kind of contact information.", code="entry_not_found")


def get_contact_entry(user: User, kind: str, pk: int | str) -> Address | Email | Phone:
    entry: Address | Email | Phone = _one_entry(contact_entries(user, kind), pk)
    entry.user = user
    return entry


def identifiers_of(user: User) -> QuerySet[UserIdentifier]:
    return UserIdentifier.objects.filter(user=user).order_by("-is_primary", "id")


def get_identifier(user: User, pk: int | str) -> UserIdentifier:
    entry: UserIdentifier = _one_entry(identifiers_of(user), pk)
    entry.user = user
    return entry


def notes_of(actor: User | None, user: User) -> QuerySet[UserNote]:
    return restrict(UserNote.objects.filter(user=user), actor, Permission.USERS_VIEW)


def get_note(actor: User | None, user: User, pk: int | str) -> UserNote:
    entry: UserNote = _one_entry(notes_of(actor, user), pk)
    entry.user = user
    return entry


def statistics_of(actor: User | None, user: User) -> QuerySet[UserStatistic]:
    return restrict(UserStatistic.objects.filter(user=user), actor, Permission.USERS_VIEW)


def get_statistic(actor: User | None, user: User, pk: int | str) -> UserStatistic:
    entry: UserStatistic = _one_entry(statistics_of(actor, user), pk)
    entry.user = user
    return entry


def get_block(actor: User | None, user: User, pk: int | str) -> UserBlock:
    entry: UserBlock = _one_entry(restrict(user.blocks.all(), actor, Permission.USERS_VIEW), pk)
    entry.user = user
    return entry


def attachments_of(user: User) -> QuerySet[UserAttachment]:
    return UserAttachment.objects.filter(user=user)


def get_attachment(user: User, pk: int | str) -> UserAttachment:
    entry: UserAttachment = _one_entry(attachments_of(user), pk)
    entry.user = user
    return entry
