"""Reading user records. Every function takes the acting user and returns only what they may see.

Seed 000: only staff allowed to look patrons up by name get a name search; everyone else
finds a user by an exact identifier, primary ID or email. And only staff holding
``USERS_VIEW_DETAILS`` see more than a user's *card* (name, primary ID, record type, user
group, status, expiry, picture, whether blocked): contact information, identifiers, notes,
blocks, statistics, attachments and history are read through the selectors below, which
refuse (``Forbidden``) anyone else. This module is the one place that decides; the staff UI
and the API only ask ``user_card(actor, user).details``.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.lookups import IsNull
from django.utils import timezone

from patronage.access.checks import can, reaches_everywhere, restrict
from patronage.access.models import RoleGrant
from patronage.access.permissions import Permission
from patronage.approvals.acknowledgements import acknowledgement_required, require_acknowledgement
from patronage.audit.models import AuditEvent
from patronage.errors import Forbidden, NotFound
from patronage.process_cache import ProcessCached

from .choices import BlockStatus, UserStatus
from .models import (
    Address,
    CodeTableEntry,
    Email,
    Phone,
    User,
    UserAttachment,
    UserBlock,
    UserIdentifier,
    UserManagementSettings,
    UserNameToken,
    UserNote,
    UserStatistic,
    identifier_key,
    name_tokens,
)
from .prepared import PreparedQuery, PreparedRows, fetch_together


def may_see_details(actor: User | None) -> bool:
    """More than the card: contact information, entries, history (seed 000), for holders of
    the permission whose yearly confidentiality acknowledgement is valid."""
    return can(actor, Permission.USERS_VIEW_DETAILS) and not acknowledgement_required(actor)


def require_details(actor: User | None) -> None:
    """Refuse (403) a read of a user's details to staff who may only see the card."""
    if can(actor, Permission.USERS_VIEW_DETAILS):
        require_acknowledgement(actor)  # 403 that links to the acknowledgement page
    if not may_see_details(actor):
        raise Forbidden(
            "You may only see this user's card. "
            f"You do not have the permission to do this ({Permission.USERS_VIEW_DETAILS.label}).",
            code="permission_denied",
        )


def visible_users(actor: User | None) -> QuerySet[User]:
    return restrict(User.objects.all(), actor, Permission.USERS_VIEW)


def get_user(actor: User | None, pk: int | str) -> User:
    try:
        return visible_users(actor).get(pk=int(pk))
    except (User.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such user.", code="user_not_found") from None


def _load_code_descriptions() -> dict[str, dict[str, str]]:
    by_table: dict[str, dict[str, str]] = {}
    for table, code, description in CodeTableEntry.objects.values_list(
        "table", "code", "description"
    ):
        by_table.setdefault(table, {})[code] = description
    return by_table


# Every code table's descriptions (disabled values too: records may still carry them), by
# table and code. Read for every coded field an answer shows, changed only by
# ``actions.save_code_entry``: kept per process (process_cache.py).
code_descriptions: ProcessCached[dict[str, dict[str, str]]] = ProcessCached(_load_code_descriptions)


# --- exact lookups ---------------------------------------------------------------------------
# The hot path of every desk, SIP2 terminal and API client. Each has a fixed shape, so its SQL
# is compiled once per connection (see prepared.py) whenever the actor may see every user;
# should visible_users() ever narrow by scope, the narrowed queryset is used instead.


def _by_primary_id(users: QuerySet[User], key: str) -> QuerySet[User]:
    # The key is unique, so no ORDER BY: the LIMIT only stops the scan after the one row.
    return users.filter(identifiers__key=key, identifiers__is_primary=True).order_by()[:1]


def _by_identifier(users: QuerySet[User], key: str) -> QuerySet[User]:
    return users.filter(identifiers__key=key).order_by()[:1]


def _by_identifier_of_type(users: QuerySet[User], key: str, id_type: str) -> QuerySet[User]:
    return users.filter(identifiers__key=key, identifiers__id_type=id_type).order_by()[:1]


def _by_email(users: QuerySet[User], key: str) -> QuerySet[User]:
    # Several users may share an address (a family, a shared office): all, in list order.
    return users.filter(pk__in=Email.objects.filter(key=key).values("user_id"))


_PREPARED = {
    "primary_id": PreparedQuery(User, lambda key: _by_primary_id(User.objects.all(), key), 1),
    "identifier": PreparedQuery(User, lambda key: _by_identifier(User.objects.all(), key), 1),
    "identifier_of_type": PreparedQuery(
        User, lambda key, kind: _by_identifier_of_type(User.objects.all(), key, kind), 2
    ),
    "email": PreparedQuery(User, lambda key: _by_email(User.objects.all(), key), 1),
}


def _lookup(
    actor: User | None, kind: str, build: Callable[..., QuerySet[User]], *values: str
) -> list[User]:
    users = visible_users(actor)
    if users.query.is_empty():
        return []
    if users.query.where:  # narrowed to a scope: no shortcut
        return list(build(users, *values))
    return _PREPARED[kind].fetch(*values, using=users.db)


def get_user_by_primary_id(actor: User | None, primary_id: str) -> User:
    found = _lookup(actor, "primary_id", _by_primary_id, identifier_key(primary_id))
    if not found:
        raise NotFound(f"No user with primary ID '{primary_id}'.", code="user_not_found")
    return found[0]


def find_by_identifier(actor: User | None, value: str, id_type: str | None = None) -> User | None:
    """Exact, case-insensitive match on the primary ID or any additional identifier."""
    key = identifier_key(value)
    if id_type:
        found = _lookup(actor, "identifier_of_type", _by_identifier_of_type, key, id_type)
    else:
        found = _lookup(actor, "identifier", _by_identifier, key)
    return found[0] if found else None


def find_by_email(actor: User | None, address: str) -> list[User]:
    """Users having this email address (case-insensitive, exact), sorted by name."""
    return _lookup(actor, "email", _by_email, identifier_key(address))


def _prefix_bounds(token: str) -> tuple[str, str]:
    """[token, next) holds exactly the words starting with ``token`` in code-point order."""
    return token, token[:-1] + chr(ord(token[-1]) + 1)


def name_token_matches(query: str) -> QuerySet[UserNameToken] | None:
    """Name-index rows of users having, for every word of ``query``, a name word (legal or
    preferred) that starts with it; ``None`` when the query has no words.

    The longest word drives (one range of the token index); every other word must match
    another token of the same user (a probe of the unique (user, token) index).
    A user may appear once per matching token of the driving word.
    """
    words = sorted(name_tokens(query), key=len, reverse=True)
    if not words:
        return None
    low, high = _prefix_bounds(words[0])
    rows = UserNameToken.objects.filter(token__gte=low, token__lt=high)
    for word in words[1:]:
        low, high = _prefix_bounds(word)
        rows = rows.filter(
            Exists(
                UserNameToken.objects.filter(
                    user_id=OuterRef("user_id"), token__gte=low, token__lt=high
                )
            )
        )
    return rows


def users_matching_name(query: str) -> QuerySet[User] | None:
    """Users having, for every word of ``query``, a name word that starts with it."""
    rows = name_token_matches(query)
    return None if rows is None else User.objects.filter(pk__in=rows.values("user_id"))


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
    # Names were not searched: the yearly confidentiality acknowledgement has lapsed.
    acknowledgement_required: bool = dataclass_field(default=False, init=False)
    # The cap, when only the first NAME_MATCH_LIMIT name matches were taken (search_users).
    name_match_limit: int | None = dataclass_field(default=None, init=False)


# A name search sorted by name, without other filters, lists at most this many name matches
# (plus any exact identifier or email match): the first ones in name order, read from the
# (token, sort_name, user) index. A two-letter prefix can match a tenth of a million patrons;
# nobody pages through that, and counting or sorting all of it costs seconds.
NAME_MATCH_LIMIT = 1000


def search_users(actor: User | None, search: UserSearch) -> QuerySet[User]:
    """The Find and Manage Users list: a query plus filters, sorted, with the list columns.

    For a name query sorted by name with no other filter, the name matches are the first
    ``NAME_MATCH_LIMIT`` in that order (so a page and the count stay cheap however common the
    name); otherwise every match. Exact identifier and email matches are looked up here.
    """
    users = visible_users(actor)
    query = search.query.strip()
    filters: dict[str, str] = {
        name: value
        for name, value in (
            ("record_type", search.record_type),
            ("account_type", search.account_type),
            ("user_group", search.user_group),
            ("job_category", search.job_category),
        )
        if value
    }
    sort = search.sort if search.sort in SORTS else "name"
    capped = sort in ("name", "-name") and not (filters or search.status or search.role)
    if query:
        name_order = ("-sort_name", "-user_id") if sort == "-name" else ("sort_name", "user_id")
        users = users.filter(
            _query_condition(actor, search, query, first_in=name_order if capped else None)
        )
    if filters:
        users = users.filter(**filters)
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
    return with_list_columns(actor, users).order_by(*SORTS[sort])


def _exact_matches(key: str) -> list[int]:
    """Users whose identifier (primary or other) or email is exactly ``key``: one query."""
    identifiers = UserIdentifier.objects.filter(key=key).order_by().values_list("user_id")
    emails = Email.objects.filter(key=key).order_by().values_list("user_id")
    return [user_id for (user_id,) in identifiers.union(emails)]


def _query_condition(
    actor: User | None, search: UserSearch, query: str, first_in: tuple[str, str] | None = None
) -> Q:
    """Exact identifier/email matches for everyone; name words only for those allowed.

    ``first_in`` (an order of the name index): keep only the first ``NAME_MATCH_LIMIT`` name
    matches in that order, read from the (token, sort_name, user) index.
    """
    key = identifier_key(query)
    allowed_names = can(actor, Permission.USERS_SEARCH_BY_NAME)
    if allowed_names and search.field == SearchField.NAME:
        require_acknowledgement(actor)
    search.acknowledgement_required = allowed_names and acknowledgement_required(actor)
    allowed_names = allowed_names and not search.acknowledgement_required
    search.name_search_refused = (
        search.field in (SearchField.ALL, SearchField.NAME) and not allowed_names
    )
    if search.field == SearchField.IDENTIFIER:
        return Q(pk__in=UserIdentifier.objects.filter(key=key).values("user_id"))
    if search.field == SearchField.EMAIL:
        return Q(pk__in=Email.objects.filter(key=key).values("user_id"))
    exact = _exact_matches(key) if search.field == SearchField.ALL else []
    rows = name_token_matches(query) if allowed_names else None
    if rows is None:
        return Q(pk__in=exact)
    # One IN (...) whenever possible: an OR of two subqueries keeps PostgreSQL from driving
    # the query by the name index (it scans every user instead).
    if first_in is not None:
        search.name_match_limit = NAME_MATCH_LIMIT
        first = rows.order_by(*first_in).values("user_id")[:NAME_MATCH_LIMIT]
        if exact:  # rare: the query is also someone's identifier or email
            return Q(pk__in={*exact, *first.values_list("user_id", flat=True)})
        return Q(pk__in=first)
    by_name = Q(pk__in=rows.values("user_id"))
    return by_name | Q(pk__in=exact) if exact else by_name


def with_list_columns(actor: User | None, users: QuerySet[User]) -> QuerySet[User]:
    """Annotate the Blocks and Notes columns, counting only entries the actor may see.

    Staff who see only cards get the Blocks column (a desk must know not to lend) but no
    Notes column: ``has_notes`` is not annotated for them at all.
    """
    today = timezone.localdate()
    blocks = restrict(UserBlock.objects.all(), actor, Permission.USERS_VIEW).filter(
        Q(expiry_date__isnull=True) | Q(expiry_date__gte=today),
        user=OuterRef("pk"),
        status=BlockStatus.ACTIVE,
    )
    notes = restrict(UserNote.objects.all(), actor, Permission.USERS_VIEW).filter(
        user=OuterRef("pk")
    )
    # "(SELECT id ... LIMIT 1) IS NOT NULL" rather than EXISTS: PostgreSQL may turn an EXISTS
    # into a hash of every active block and note in the institution, built for each search;
    # this form is only ever an index probe per listed user (25 a page).
    users = users.annotate(has_blocks=IsNull(Subquery(blocks.order_by().values("pk")[:1]), False))
    if not may_see_details(actor):
        return users
    return users.annotate(has_notes=IsNull(Subquery(notes.order_by().values("pk")[:1]), False))


def _blocks_in_force(actor: User | None, user: User) -> list[dict[str, Any]]:
    """The blocks in force on ``user`` as ``actor`` may see them.

    What is in force is decided in one place, ``circulation.selectors.effective_blocks``
    (manual blocks, inactive, expired, debt limit, overdue items): this only hides the manual
    blocks of libraries outside the viewer's scope (library independence, seed 002). Derived
    blocks are shown to everyone who may see blocks: they stop a loan whoever looks.
    """
    # Imported here: patron services build on user records, not the other way round.
    from patronage.circulation.selectors import effective_blocks as in_force

    visible = {b.pk: b for b in restrict(user.blocks.all(), actor, Permission.USERS_VIEW)}
    blocks: list[dict[str, Any]] = []
    for block in in_force(user):
        if block.derived:
            description = (
                f"{block.description} ({block.detail})" if block.detail else block.description
            )
            blocks.append({"type": block.code, "description": description, "derived": True})
        elif block.block_id in visible:
            blocks.append(
                {
                    "type": block.code,
                    "description": block.note,
                    "derived": False,
                    "block": visible[block.block_id],
                }
            )
    return blocks


def effective_blocks(actor: User | None, user: User) -> list[dict[str, Any]]:
    """The blocks in force as the viewer may see them (``_blocks_in_force``)."""
    require_details(actor)
    return _blocks_in_force(actor, user)


# --- the card ------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserCard:
    """What anyone who may find a user sees (seed 000): enough to serve them at a desk.

    ``blocked`` says only whether a block is in force (a manual one within the viewer's
    scope, or a derived one: inactive, expired) -- never which, nor why: "see a supervisor".
    ``details`` says whether the viewer may see more than this card.
    """

    user: User
    display_name: str
    primary_id: str
    record_type: str
    user_group: str
    status: str
    expiry_date: datetime.date | None
    expired: bool
    picture_url: str
    blocked: bool
    details: bool


def picture_url(user: User) -> str:
    """<photo_server_url><identifier>.<photo_suffix> (seed 002 "Managing User Pictures")."""
    config = UserManagementSettings.current()
    if not config.photo_server_url:
        return ""
    if config.photo_identifier_type == "USERNAME":
        name = user.primary_id
    else:
        match = (
            UserIdentifier.objects.filter(user=user, id_type=config.photo_identifier_type)
            .order_by("id")
            .first()
        )
        if match is None:
            return ""
        name = match.value
    return f"{config.photo_server_url}{name}.{config.photo_suffix}"


def user_card(actor: User | None, user: User) -> UserCard:
    """The card of a user already fetched through ``get_user`` (so within the actor's reach)."""
    today = timezone.localdate()
    return UserCard(
        user=user,
        display_name=user.display_name,
        primary_id=user.primary_id,
        record_type=user.record_type,
        user_group=user.user_group,
        status=user.status,
        expiry_date=user.expiry_date,
        expired=bool(user.expiry_date and user.expiry_date < today),
        picture_url=picture_url(user),
        blocked=bool(_blocks_in_force(actor, user)),
        details=may_see_details(actor),
    )


def user_history(actor: User | None, user: User) -> QuerySet[AuditEvent]:
    """The History tab: every audited change of the record, newest first."""
    require_details(actor)
    if not can(actor, Permission.USERS_VIEW_HISTORY):
        return AuditEvent.objects.none()
    return (
        AuditEvent.objects.filter(subject=user).exclude(changes=[]).order_by("-occurred_at", "-id")
    )


# --- the entries of one user's tabs ----------------------------------------------------------
# Each takes the actor and a user already fetched through ``get_user`` (so an out-of-scope user
# never gets this far). Staff who may only see cards are refused (``Forbidden``, 403) before
# anything is read. Library-owned entries (notes, statistics, blocks) are narrowed with
# ``restrict``, so an entry of a library outside the actor's scope neither lists nor resolves.
# A missing or hidden entry is ``NotFound``, which every interface maps to its 404.


def _one_entry(user: User, entries: QuerySet[Any], pk: int | str, what: str) -> Any:
    entry = entries.filter(pk=pk).first()
    if entry is None:
        raise NotFound(f"This user has no such {what}.", code=f"{what}_not_found")
    entry.user = user  # already fetched (and scoped): spare the actions a query for it
    return entry


# The entries of a record: each kind's rows of one user, in the order the record shows them.
CONTACT_MODELS: dict[str, type[Address | Email | Phone]] = {
    "address": Address,
    "email": Email,
    "phone": Phone,
}


def _identifiers(user_id: Any) -> QuerySet[UserIdentifier]:
    return UserIdentifier.objects.filter(user_id=user_id).order_by("-is_primary", "id")


def contact_entries(actor: User | None, user: User, kind: str) -> QuerySet[Any]:
    require_details(actor)
    if kind not in CONTACT_MODELS:
        raise NotFound("No such kind of contact information.", code="entry_not_found")
    return CONTACT_MODELS[kind].objects.filter(user=user)


def get_contact_entry(
    actor: User | None, user: User, kind: str, pk: int | str
) -> Address | Email | Phone:
    return _one_entry(user, contact_entries(actor, user, kind), pk, kind)


def identifiers_of(actor: User | None, user: User) -> QuerySet[UserIdentifier]:
    require_details(actor)
    return _identifiers(user.pk)


def get_identifier(actor: User | None, user: User, pk: int | str) -> UserIdentifier:
    return _one_entry(user, identifiers_of(actor, user), pk, "identifier")


def notes_of(actor: User | None, user: User) -> QuerySet[UserNote]:
    require_details(actor)
    return restrict(UserNote.objects.filter(user=user), actor, Permission.USERS_VIEW)


def get_note(actor: User | None, user: User, pk: int | str) -> UserNote:
    return _one_entry(user, notes_of(actor, user), pk, "note")


def statistics_of(actor: User | None, user: User) -> QuerySet[UserStatistic]:
    require_details(actor)
    return restrict(UserStatistic.objects.filter(user=user), actor, Permission.USERS_VIEW)


def get_statistic(actor: User | None, user: User, pk: int | str) -> UserStatistic:
    return _one_entry(user, statistics_of(actor, user), pk, "statistic")


def blocks_of(actor: User | None, user: User) -> QuerySet[UserBlock]:
    require_details(actor)
    return restrict(UserBlock.objects.filter(user=user), actor, Permission.USERS_VIEW)


def get_block(actor: User | None, user: User, pk: int | str) -> UserBlock:
    return _one_entry(user, blocks_of(actor, user), pk, "block")


@dataclass
class RecordEntries:
    """Every entry of one user's record that the actor may see, each list in the record's
    order; ``created_by`` maps the ids of the staff who added notes and blocks to their
    primary IDs; ``also``: the results of the caller's own queries, read with these."""

    addresses: list[Address]
    emails: list[Email]
    phones: list[Phone]
    identifiers: list[UserIdentifier]
    notes: list[UserNote]
    statistics: list[UserStatistic]
    blocks: list[UserBlock]
    created_by: dict[int, str]
    also: list[list[Any]]


def _prepared_entries(model: type[Any]) -> PreparedQuery[Any]:
    return PreparedQuery(model, lambda user_id: model.objects.filter(user_id=user_id), (int,))


def _prepared_authors(model: type[Any]) -> PreparedRows:
    return PreparedRows(
        lambda user_id: (
            model.objects.filter(user_id=user_id, created_by__isnull=False)
            .order_by()
            .values_list("created_by_id", "created_by__primary_id")
        ),
        (int,),
    )


_PREPARED_ENTRIES: dict[str, PreparedQuery[Any]] = {
    "addresses": _prepared_entries(Address),
    "emails": _prepared_entries(Email),
    "phones": _prepared_entries(Phone),
    "identifiers": PreparedQuery(UserIdentifier, _identifiers, (int,)),
    "notes": _prepared_entries(UserNote),
    "statistics": _prepared_entries(UserStatistic),
    "blocks": _prepared_entries(UserBlock),
}
_LIBRARY_OWNED: dict[str, type[Any]] = {
    "notes": UserNote,
    "statistics": UserStatistic,
    "blocks": UserBlock,
}
_AUTHORS = [_prepared_authors(UserNote), _prepared_authors(UserBlock)]


def record_entries(
    actor: User | None, user: User, also: Sequence[tuple[Any, tuple[Any, ...]]] = ()
) -> RecordEntries:
    """The whole record's entries at once (the Alma API's user object), as the selectors
    above give them one kind at a time; ``also``: more prepared queries to run with them.

    The kinds are queries compiled once per connection (``prepared.py``), run together (one
    statement on PostgreSQL). Library-owned kinds (notes, statistics, blocks) are read that
    way only when the actor's grants reach every library; otherwise through their
    ``restrict``-ed querysets. Entries get their user without a query of their own.
    """
    require_details(actor)
    narrowed: dict[str, list[Any]] = {}
    if not reaches_everywhere(actor, Permission.USERS_VIEW):
        for kind, model in _LIBRARY_OWNED.items():
            narrowed[kind] = list(
                restrict(model.objects.filter(user=user), actor, Permission.USERS_VIEW)
            )
    kinds = [kind for kind in _PREPARED_ENTRIES if kind not in narrowed]
    calls: list[tuple[Any, tuple[Any, ...]]] = [
        *((_PREPARED_ENTRIES[kind], (user.pk,)) for kind in kinds),
        *((authors, (user.pk,)) for authors in _AUTHORS),
        *also,
    ]
    results = fetch_together(calls, using=user._state.db or "default")
    found = {**dict(zip(kinds, results, strict=False)), **narrowed}
    for rows in found.values():
        for row in rows:
            row.user = user
    rest = results[len(kinds) :]
    return RecordEntries(
        **{kind: found[kind] for kind in _PREPARED_ENTRIES},
        created_by=dict(itertools.chain(*rest[: len(_AUTHORS)])),
        also=rest[len(_AUTHORS) :],
    )


def attachments_of(actor: User | None, user: User) -> QuerySet[UserAttachment]:
    require_details(actor)
    return UserAttachment.objects.filter(user=user)


def get_attachment(actor: User | None, user: User, pk: int | str) -> UserAttachment:
    return _one_entry(user, attachments_of(actor, user), pk, "attachment")
