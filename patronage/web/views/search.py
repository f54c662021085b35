"""Find and Manage Users (seed 002): a query with a field choice, filters, sorting, pages.

Seed 000: looking people up by name needs its own permission. Without it, exact primary
IDs, identifiers and email addresses still work, and the list of all users is not offered
either (browsing the whole list is a lookup by name by another route). Staff who see only
users' cards get only the card's columns (no account type, job category or Notes).
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.utils.http import urlencode

from patronage.access.checks import can
from patronage.access.decorators import requires
from patronage.access.permissions import Permission
from patronage.accounts.choices import AccountType, CodeTable
from patronage.accounts.selectors import (
    SearchField,
    StatusFilter,
    UserSearch,
    may_see_details,
    search_users,
)
from patronage.privacy.reads import SEARCHED, note_read, reads_patron_data

from ..common import domain_errors, render_page, staff
from ..options import code_labels, code_options, record_type_options, role_options

PAGE_SIZE = 25
FILTERS = ("record_type", "account_type", "user_group", "job_category", "status", "role")
FIELD_OPTIONS = [
    (SearchField.ALL, "All fields"),
    (SearchField.NAME, "Name"),
    (SearchField.IDENTIFIER, "Identifier"),
    (SearchField.EMAIL, "Email"),
]
STATUS_OPTIONS = [
    (StatusFilter.ACTIVE, "Active and not expired"),
    (StatusFilter.INACTIVE, "Not active or expired"),
]
# Column → (sort when ascending, sort when descending); only the sorts the selector offers.
# Columns only staff allowed to see patrons' details get.
DETAIL_COLUMNS = {"account_type", "job_category", "notes"}
SORTABLE = {
    "name": ("name", "-name"),
    "expiry_date": ("expiry_date", "-expiry_date"),
    "user_group": ("user_group", "user_group"),
    "primary_id": ("primary_id", "primary_id"),
}


def _search_from(request: HttpRequest) -> UserSearch:
    get = request.GET
    field = get.get("field", SearchField.ALL)
    status = get.get("status", "")
    return UserSearch(
        query=get.get("q", "")[:200],
        field=field if field in SearchField.CHOICES else SearchField.ALL,
        record_type=get.get("record_type", ""),
        account_type=get.get("account_type", ""),
        user_group=get.get("user_group", ""),
        job_category=get.get("job_category", ""),
        status=status if status in StatusFilter.CHOICES else "",
        role=get.get("role", ""),
        sort=get.get("sort", "name"),
    )


def _params(search: UserSearch, **override: str) -> str:
    params = {
        "q": search.query,
        "field": search.field,
        **{name: getattr(search, name) for name in FILTERS},
        "sort": search.sort,
        **override,
    }
    return urlencode({k: v for k, v in params.items() if v and not (k == "field" and v == "all")})


def _columns(search: UserSearch, details: bool = True) -> list[dict[str, Any]]:
    columns = []
    for key, label in [
        ("active", "Active"),
        ("name", "Name"),
        ("primary_id", "Primary ID"),
        ("account_type", "Account type"),
        ("record_type", "Record type"),
        ("job_category", "Job category"),
        ("user_group", "User group"),
        ("status", "Status"),
        ("expiry_date", "Expiry date"),
        ("blocks", "Blocks"),
        ("notes", "Notes"),
    ]:
        if key in DETAIL_COLUMNS and not details:
            continue
        column: dict[str, Any] = {"key": key, "label": label}
        if key in SORTABLE:
            ascending, descending = SORTABLE[key]
            current = search.sort in (ascending, descending)
            next_sort = descending if search.sort == ascending else ascending
            column["sort_url"] = "?" + _params(search, sort=next_sort)
            if current:
                column["aria_sort"] = "descending" if search.sort.startswith("-") else "ascending"
        columns.append(column)
    return columns


@requires(Permission.USERS_VIEW)
@reads_patron_data(SEARCHED)
@domain_errors
def user_search(request: HttpRequest) -> HttpResponse:
    actor = staff(request)
    search = _search_from(request)
    may_browse = can(actor, Permission.USERS_SEARCH_BY_NAME)
    details = may_see_details(actor)
    filtered = bool(search.query.strip()) or any(getattr(search, f) for f in FILTERS)
    page = None
    if search.query.strip() or may_browse:
        users = search_users(actor, search)
        page = Paginator(users, PAGE_SIZE).get_page(request.GET.get("page"))
    note_read(
        request,
        query=search.query,
        field=search.field,
        results=page.paginator.count if page is not None else 0,
    )
    context = {
        "nav": "users",
        "search": search,
        "page": page,
        "filtered": filtered,
        "may_browse": may_browse,
        "details": details,
        "columns": _columns(search, details),
        "params": _params(search),
        "field_options": FIELD_OPTIONS,
        "record_type_options": record_type_options(),
        "account_type_options": [(str(v), str(label)) for v, label in AccountType.choices],
        "user_group_options": code_options(CodeTable.USER_GROUP),
        "job_category_options": code_options(CodeTable.JOB_CATEGORY),
        "status_options": STATUS_OPTIONS,
        "role_options": role_options(),
        "group_labels": code_labels(CodeTable.USER_GROUP),
        "category_labels": code_labels(CodeTable.JOB_CATEGORY),
        "values": {"q": search.query, "field": search.field}
        | {name: getattr(search, name) for name in FILTERS},
    }
    return render_page(
        request, "web/users/search.html", "web/users/_results.html", "results", context
    )
