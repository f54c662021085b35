"""Alma's brief-search syntax for ``GET /users?q=``: ``field~value`` terms joined by ``AND``
and ``OR`` (AND binds tighter), e.g. ``last_name~Smith AND user_group~STAFF OR email~x@y.org``.

Each term becomes a condition on the users the caller may see (``accounts.selectors``); name
terms use the name-search index and need the permission to look users up by name (seed 000).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from patronage.access.checks import can
from patronage.access.permissions import Permission
from patronage.accounts import selectors
from patronage.accounts.models import Email, Phone, User, UserIdentifier, identifier_key
from patronage.accounts.validation import parse_date

from .errors import AlmaError, invalid_parameter

_SPLIT = re.compile(r"\s+(AND|OR)\s+")
_TERM = re.compile(r"^\s*(\w+)~(.*?)\s*$", re.DOTALL)

NAME_FIELDS = {
    "first_name": ("first_name", "pref_first_name"),
    "middle_name": ("middle_name", "pref_middle_name"),
    "last_name": ("last_name", "pref_last_name"),
}
CODE_FIELDS = ("user_group", "job_category", "campus_code")
FIELDS = (*NAME_FIELDS, *CODE_FIELDS, "primary_id", "email", "identifiers", "birth_date")
FIELDS_WITH_ALL = (*FIELDS, "phone_number", "ALL")

ORDERS = {
    "last_name": ("sort_name", "primary_id"),
    "first_name": ("first_name", "primary_id"),
    "primary_id": ("primary_id",),
}


@dataclass(frozen=True)
class Term:
    field: str
    value: str


def parse(q: str) -> list[list[Term]]:
    """``q`` as OR-groups of AND-ed terms; an unparsable ``q`` is Alma's parameter error."""
    parts = _SPLIT.split(q.strip())
    groups: list[list[Term]] = [[]]
    for index, part in enumerate(parts):
        if index % 2:
            if part == "OR":
                groups.append([])
            continue
        match = _TERM.match(part)
        if not match or not match.group(2) or match.group(1) not in FIELDS_WITH_ALL:
            raise invalid_parameter(
                "q",
                q,
                "Use field~value terms joined by AND or OR; fields: "
                + ", ".join(FIELDS_WITH_ALL)
                + ".",
            )
        groups[-1].append(Term(match.group(1), match.group(2).strip()))
    return groups


def require_name_search(viewer: User | None) -> None:
    if not can(viewer, Permission.USERS_SEARCH_BY_NAME):
        raise AlmaError(
            "UNAUTHORIZED",
            "Searching users by name needs the permission "
            f"'{Permission.USERS_SEARCH_BY_NAME.label}'; search by an identifier or email.",
            status=403,
        )


def _condition(viewer: User | None, term: Term) -> Q:
    value, key = term.value, identifier_key(term.value)
    if term.field in NAME_FIELDS:
        require_name_search(viewer)
        matches = selectors.users_matching_name(value)
        if matches is None:
            return Q(pk__in=[])
        # Every word in this name (legal or preferred); Alma clients write spaces as "_".
        legal, preferred = NAME_FIELDS[term.field]
        in_field = Q()
        for word in value.replace("_", " ").split():
            in_field &= Q(**{f"{legal}__icontains": word}) | Q(**{f"{preferred}__icontains": word})
        return Q(pk__in=matches.values("pk")) & in_field
    if term.field == "primary_id":
        return Q(pk__in=UserIdentifier.objects.filter(key=key, is_primary=True).values("user_id"))
    if term.field == "identifiers":
        return Q(pk__in=UserIdentifier.objects.filter(key=key).values("user_id"))
    if term.field == "email":
        return Q(pk__in=Email.objects.filter(key=key).values("user_id"))
    if term.field == "phone_number":
        return Q(pk__in=Phone.objects.filter(number=value).values("user_id"))
    if term.field in CODE_FIELDS:
        return Q(**{f"{term.field}__iexact": value})
    if term.field == "birth_date":
        try:
            return Q(birth_date=parse_date(value))
        except ValueError:
            raise invalid_parameter("q", f"birth_date~{value}", "Use YYYY-MM-DD.") from None
    # ALL: an exact identifier or email, or (for those allowed) the words of a name.
    exact = Q(pk__in=UserIdentifier.objects.filter(key=key).values("user_id")) | Q(
        pk__in=Email.objects.filter(key=key).values("user_id")
    )
    if not can(viewer, Permission.USERS_SEARCH_BY_NAME):
        return exact
    matches = selectors.users_matching_name(value)
    return exact if matches is None else exact | Q(pk__in=matches.values("pk"))


def search(viewer: User | None, q: str, order_by: str) -> QuerySet[User]:
    users = selectors.visible_users(viewer)
    if q.strip():
        condition = Q()
        for group in parse(q):
            both = Q()
            for term in group:
                both &= _condition(viewer, term)
            condition |= both
        users = users.filter(condition)
    order = (order_by or "last_name").strip()
    if order not in ORDERS:
        raise invalid_parameter("order_by", order, "Use last_name, first_name or primary_id.")
    return users.order_by(*ORDERS[order])
