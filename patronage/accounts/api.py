"""The user records of the native API (/api/v1/users): parse, call a selector or an action,
serialise. Thin, like the staff UI.

Every operation declares its permission. Users are looked up through the selectors, so a
user outside the caller's reach is a 404; an entry (identifier, email, note, ...) must belong
to that user and, if a library owns it, lie within the caller's scope, else it is a 404 too.

Seed 000: callers without ``users:patron:view_details`` get users' cards only; the selectors
decide (``user_card``) and refuse them every detail (403). Answers are serialised with
``exclude_unset`` so the fields a card leaves out are absent, as the schemas document.
"""

from typing import Annotated, Any, TypeVar

from django.db import models
from django.http import HttpRequest
from ninja import Path, Query, Router, Status

from patronage.access.permissions import Permission
from patronage.api_support import MAX_ID, acting_user, error_responses, permission_required
from patronage.audit.context import Actor, Channel
from patronage.audit.shredding import Opener
from patronage.errors import ValidationFailed
from patronage.privacy.reads import SEARCHED, VIEWED, note_read, reads_patron_data

from . import actions, selectors
from .choices import ContactKind
from .models import User
from .schemas import (
    AddressIn,
    AddressOut,
    AddressPatch,
    BlockIn,
    BlockOut,
    EmailIn,
    EmailOut,
    EmailPatch,
    GeneralFieldsPatch,
    HistoryPage,
    IdentifierIn,
    IdentifierOut,
    NoteIn,
    NoteOut,
    PageQuery,
    PasswordIn,
    PhoneIn,
    PhoneOut,
    PhonePatch,
    PinIn,
    PinOut,
    StatisticIn,
    StatisticOut,
    UserCreateIn,
    UserOut,
    UserPage,
    UserPatchIn,
    UserSearchQuery,
)

router = Router()

Id = Annotated[int, Path(ge=1, le=MAX_ID)]
M = TypeVar("M", bound=models.Model)

GENERAL_FIELD_NAMES = set(GeneralFieldsPatch.model_fields)
CREATED = 201
NO_CONTENT = 204


# --- helpers ----------------------------------------------------------------------------------


def _actor(request: HttpRequest) -> Actor:
    return Actor.from_request(request, Channel.API)


def _user(request: HttpRequest, user_id: int) -> User:
    return selectors.get_user(acting_user(request), user_id)


def _pages(count: int, page_size: int) -> int:
    return (count + page_size - 1) // page_size


def _page(queryset: models.QuerySet[M], page: int, page_size: int) -> tuple[list[M], int]:
    count = queryset.count()
    start = (page - 1) * page_size
    return list(queryset[start : start + page_size]) if start < count else [], count


def user_out(request: HttpRequest, user: User) -> dict[str, Any]:
    """The record as the caller may see it: the card, plus the details if they may see them
    (library-owned entries within their scope)."""
    viewer = acting_user(request)
    user = User.objects.get(pk=user.pk)  # fresh: actions may have changed it
    card = selectors.user_card(viewer, user)
    out: dict[str, Any] = {
        "card_only": not card.details,
        "id": user.pk,
        **{name: getattr(card, name) for name in _CARD_FIELDS},
    }
    if not card.details:
        return out
    return {
        **out,
        **{name: getattr(user, name) for name in _PLAIN_FIELDS},
        "has_password": user.has_usable_password(),
        "has_pin": bool(user.pin_number),
        "rs_libraries": sorted(user.rs_libraries.values_list("code", flat=True)),
        "purchase_request_libraries": sorted(
            user.purchase_request_libraries.values_list("code", flat=True)
        ),
        "created_by": user.created_via,
        "updated_by": user.updated_via,
        "identifiers": list(selectors.identifiers_of(viewer, user)),
        "emails": list(selectors.contact_entries(viewer, user, "email")),
        "phones": list(selectors.contact_entries(viewer, user, "phone")),
        "addresses": list(selectors.contact_entries(viewer, user, "address")),
        "notes": list(selectors.notes_of(viewer, user)),
        "statistics": list(selectors.statistics_of(viewer, user)),
        "blocks": list(selectors.blocks_of(viewer, user)),
        "blocks_in_force": selectors.effective_blocks(viewer, user),
    }


_CARD_FIELDS = (
    "primary_id",
    "display_name",
    "record_type",
    "user_group",
    "status",
    "expiry_date",
    "expired",
    "picture_url",
    "blocked",
)
_COMPUTED_FIELDS = {
    "card_only",
    "id",
    *_CARD_FIELDS,
    "has_password",
    "has_pin",
    "rs_libraries",
    "purchase_request_libraries",
    "created_by",
    "updated_by",
    "identifiers",
    "emails",
    "phones",
    "addresses",
    "notes",
    "statistics",
    "blocks",
    "blocks_in_force",
}
_PLAIN_FIELDS = [name for name in UserOut.model_fields if name not in _COMPUTED_FIELDS]
# The list columns a card-only caller gets (seed 000: no Notes column, no job category).
_CARD_COLUMNS = (
    "id",
    "primary_id",
    "display_name",
    "record_type",
    "user_group",
    "status",
    "expiry_date",
    "has_blocks",
)


# --- users ------------------------------------------------------------------------------------


@router.get(
    "", response={200: UserPage, **error_responses()}, summary="Find users", exclude_unset=True
)
@permission_required(Permission.USERS_VIEW)
@reads_patron_data(SEARCHED, Channel.API)
def search_users(request: HttpRequest, filters: Query[UserSearchQuery]) -> dict[str, Any]:
    """The Find and Manage Users list: exact identifier and email matches for everyone, name
    words only for callers allowed to look users up by name (seed 000)."""
    search = selectors.UserSearch(
        query=filters.q,
        field=filters.field,
        record_type=filters.record_type or "",
        account_type=filters.account_type or "",
        user_group=filters.user_group,
        job_category=filters.job_category,
        status=filters.status or "",
        role=filters.role,
        sort=filters.sort,
    )
    viewer = acting_user(request)
    users = selectors.search_users(viewer, search)
    items, count = _page(users, filters.page, filters.page_size)
    card_only = not selectors.may_see_details(viewer)
    note_read(request, query=filters.q, field=filters.field, results=count)
    return {
        "items": [
            {name: getattr(user, name) for name in _CARD_COLUMNS} if card_only else user
            for user in items
        ],
        "card_only": card_only,
        "count": count,
        "page": filters.page,
        "page_size": filters.page_size,
        "pages": _pages(count, filters.page_size),
        "name_search_refused": search.name_search_refused,
        "name_match_limit": search.name_match_limit,
    }


@router.post(
    "",
    response={CREATED: UserOut, **error_responses(400, 409)},
    summary="Add a user",
    exclude_unset=True,
)
@permission_required(Permission.USERS_CREATE)
def create_user(request: HttpRequest, payload: UserCreateIn) -> Status[dict[str, Any]]:
    """Add a user with its first identifiers and contact entries. If a user with the same
    first name, last name and birth date exists, the answer is 409 ``possible_duplicate``
    unless ``confirm_duplicate`` is set."""
    data = payload.model_dump(exclude_unset=True)
    user = actions.create_user(
        actor=_actor(request),
        fields={name: value for name, value in data.items() if name in GENERAL_FIELD_NAMES},
        identifiers=[entry.model_dump() for entry in payload.identifiers],
        emails=[entry.model_dump() for entry in payload.emails],
        phones=[entry.model_dump() for entry in payload.phones],
        addresses=[entry.model_dump() for entry in payload.addresses],
        password=payload.password,
        pin=payload.pin,
        confirm_duplicate=payload.confirm_duplicate,
    )
    return Status(CREATED, user_out(request, user))


@router.get(
    "/{user_id}",
    response={200: UserOut, **error_responses(404)},
    summary="Get a user",
    exclude_unset=True,
)
@permission_required(Permission.USERS_VIEW)
@reads_patron_data(VIEWED, Channel.API)
def get_user(request: HttpRequest, user_id: Id) -> dict[str, Any]:
    """The whole record for staff allowed to see patrons' details; for everyone else the
    user's card (``card_only: true``, the other fields absent)."""
    return user_out(request, _user(request, user_id))


@router.patch(
    "/{user_id}",
    response={200: UserOut, **error_responses(400, 404)},
    summary="Change a user",
    exclude_unset=True,
)
@permission_required(Permission.USERS_EDIT)
def update_user(request: HttpRequest, user_id: Id, payload: UserPatchIn) -> dict[str, Any]:
    """Change general fields; only the fields given are touched. A user restricted for
    editing, and the fields restricted_for_editing and disable_login_restrictions, need the
    permission to edit restricted users (else 403 ``restricted_for_editing``). On an external
    user open for update, ``keep_on_sync`` names the changed fields the next SIS sync must
    not override (title, job category, user group, campus, preferred language,
    resource-sharing libraries, cataloger level, patron letters)."""
    user = _user(request, user_id)
    fields = payload.model_dump(exclude_unset=True)
    reason = fields.pop("reason", "")
    keep_on_sync = fields.pop("keep_on_sync", [])
    if fields:
        user = actions.update_user(
            actor=_actor(request),
            user=user,
            fields=fields,
            reason=reason,
            keep_on_sync=keep_on_sync,
        )
    return user_out(request, user)


@router.get(
    "/{user_id}/history",
    response={200: HistoryPage, **error_responses(404)},
    summary="The change history of a user",
)
@permission_required(Permission.USERS_VIEW_HISTORY)
@reads_patron_data(VIEWED, Channel.API)
def user_history(request: HttpRequest, user_id: Id, paging: Query[PageQuery]) -> dict[str, Any]:
    user = _user(request, user_id)
    events, count = _page(
        selectors.user_history(acting_user(request), user), paging.page, paging.page_size
    )
    opener = Opener(events)
    note_read(request, part="history")
    return {
        "items": [
            {
                "id": event.pk,
                "occurred_at": event.occurred_at,
                "actor": event.actor_label,
                "channel": event.channel,
                "verb": event.verb,
                "object_type": event.object_type,
                "object_id": event.object_id,
                "reason": event.reason,
                "changes": opener.changes(event),
            }
            for event in events
        ],
        "count": count,
        "page": paging.page,
        "page_size": paging.page_size,
        "pages": _pages(count, paging.page_size),
    }


# --- password and PIN -------------------------------------------------------------------------


@router.post(
    "/{user_id}/password",
    response={NO_CONTENT: None, **error_responses(400, 404)},
    summary="Set a user's password",
)
@permission_required(Permission.USERS_EDIT)
def set_password(request: HttpRequest, user_id: Id, payload: PasswordIn) -> Status[None]:
    actions.set_password(
        actor=_actor(request),
        user=_user(request, user_id),
        password=payload.password,
        force_change=payload.force_change,
    )
    return Status(NO_CONTENT, None)


@router.post(
    "/{user_id}/pin",
    response={200: PinOut, **error_responses(400, 404)},
    summary="Set or generate a user's PIN",
)
@permission_required(Permission.USERS_EDIT)
def set_pin(request: HttpRequest, user_id: Id, payload: PinIn) -> dict[str, Any]:
    """Set the four-digit SIP2 PIN, or (``generate``) a random one, returned this once."""
    user = _user(request, user_id)
    if payload.generate == bool(payload.pin):
        raise ValidationFailed(
            {"pin": "Give either a PIN or generate: true."}, code="validation_failed"
        )
    pin = actions.generate_pin() if payload.generate else str(payload.pin)
    actions.set_pin(actor=_actor(request), user=user, pin=pin, keep_on_sync=payload.keep_on_sync)
    return {"generated_pin": pin if payload.generate else None}


# --- identifiers ------------------------------------------------------------------------------


@router.post(
    "/{user_id}/identifiers",
    response={CREATED: IdentifierOut, **error_responses(400, 404)},
    summary="Add an identifier",
)
@permission_required(Permission.USERS_EDIT)
def add_identifier(request: HttpRequest, user_id: Id, payload: IdentifierIn) -> Status[Any]:
    entry = actions.add_identifier(
        actor=_actor(request), user=_user(request, user_id), **payload.model_dump()
    )
    return Status(CREATED, entry)


@router.delete(
    "/{user_id}/identifiers/{identifier_id}",
    response={NO_CONTENT: None, **error_responses(404)},
    summary="Remove an identifier",
)
@permission_required(Permission.USERS_EDIT)
def remove_identifier(request: HttpRequest, user_id: Id, identifier_id: Id) -> Status[None]:
    user = _user(request, user_id)
    identifier = selectors.get_identifier(acting_user(request), user, identifier_id)
    actions.remove_identifier(actor=_actor(request), identifier=identifier)
    return Status(NO_CONTENT, None)


# --- emails, phones, addresses ----------------------------------------------------------------


def _add_contact(request: HttpRequest, user_id: int, kind: str, data: dict[str, Any]) -> Any:
    user = _user(request, user_id)
    return actions.add_contact(actor=_actor(request), user=user, kind=kind, data=data)


def _update_contact(
    request: HttpRequest,
    user_id: int,
    kind: str,
    entry_id: int,
    data: dict[str, Any],
) -> Any:
    entry = selectors.get_contact_entry(
        acting_user(request), _user(request, user_id), kind, entry_id
    )
    if not data:
        return entry
    return actions.update_contact(actor=_actor(request), entry=entry, data=data)


def _remove_contact(
    request: HttpRequest,
    user_id: int,
    kind: str,
    entry_id: int,
) -> None:
    entry = selectors.get_contact_entry(
        acting_user(request), _user(request, user_id), kind, entry_id
    )
    actions.remove_contact(actor=_actor(request), entry=entry)


@router.post(
    "/{user_id}/emails",
    response={CREATED: EmailOut, **error_responses(400, 404)},
    summary="Add an email address",
)
@permission_required(Permission.USERS_EDIT)
def add_email(request: HttpRequest, user_id: Id, payload: EmailIn) -> Status[Any]:
    return Status(CREATED, _add_contact(request, user_id, ContactKind.EMAIL, payload.model_dump()))


@router.patch(
    "/{user_id}/emails/{email_id}",
    response={200: EmailOut, **error_responses(400, 404)},
    summary="Change an email address",
)
@permission_required(Permission.USERS_EDIT)
def update_email(request: HttpRequest, user_id: Id, email_id: Id, payload: EmailPatch) -> Any:
    return _update_contact(
        request, user_id, "email", email_id, payload.model_dump(exclude_unset=True)
    )


@router.delete(
    "/{user_id}/emails/{email_id}",
    response={NO_CONTENT: None, **error_responses(404)},
    summary="Remove an email address",
)
@permission_required(Permission.USERS_EDIT)
def remove_email(request: HttpRequest, user_id: Id, email_id: Id) -> Status[None]:
    _remove_contact(request, user_id, "email", email_id)
    return Status(NO_CONTENT, None)


@router.post(
    "/{user_id}/phones",
    response={CREATED: PhoneOut, **error_responses(400, 404)},
    summary="Add a phone number",
)
@permission_required(Permission.USERS_EDIT)
def add_phone(request: HttpRequest, user_id: Id, payload: PhoneIn) -> Status[Any]:
    return Status(CREATED, _add_contact(request, user_id, ContactKind.PHONE, payload.model_dump()))


@router.patch(
    "/{user_id}/phones/{phone_id}",
    response={200: PhoneOut, **error_responses(400, 404)},
    summary="Change a phone number",
)
@permission_required(Permission.USERS_EDIT)
def update_phone(request: HttpRequest, user_id: Id, phone_id: Id, payload: PhonePatch) -> Any:
    return _update_contact(
        request, user_id, "phone", phone_id, payload.model_dump(exclude_unset=True)
    )


@router.delete(
    "/{user_id}/phones/{phone_id}",
    response={NO_CONTENT: None, **error_responses(404)},
    summary="Remove a phone number",
)
@permission_required(Permission.USERS_EDIT)
def remove_phone(request: HttpRequest, user_id: Id, phone_id: Id) -> Status[None]:
    _remove_contact(request, user_id, "phone", phone_id)
    return Status(NO_CONTENT, None)


@router.post(
    "/{user_id}/addresses",
    response={CREATED: AddressOut, **error_responses(400, 404)},
    summary="Add an address",
)
@permission_required(Permission.USERS_EDIT)
def add_address(request: HttpRequest, user_id: Id, payload: AddressIn) -> Status[Any]:
    return Status(
        CREATED, _add_contact(request, user_id, ContactKind.ADDRESS, payload.model_dump())
    )


@router.patch(
    "/{user_id}/addresses/{address_id}",
    response={200: AddressOut, **error_responses(400, 404)},
    summary="Change an address",
)
@permission_required(Permission.USERS_EDIT)
def update_address(request: HttpRequest, user_id: Id, address_id: Id, payload: AddressPatch) -> Any:
    return _update_contact(
        request, user_id, "address", address_id, payload.model_dump(exclude_unset=True)
    )


@router.delete(
    "/{user_id}/addresses/{address_id}",
    response={NO_CONTENT: None, **error_responses(404)},
    summary="Remove an address",
)
@permission_required(Permission.USERS_EDIT)
def remove_address(request: HttpRequest, user_id: Id, address_id: Id) -> Status[None]:
    _remove_contact(request, user_id, "address", address_id)
    return Status(NO_CONTENT, None)


# --- notes, statistics, blocks (library-owned) -------------------------------------------------


@router.post(
    "/{user_id}/notes",
    response={CREATED: NoteOut, **error_responses(400, 404)},
    summary="Add a note",
)
@permission_required(Permission.USERS_EDIT)
def add_note(request: HttpRequest, user_id: Id, payload: NoteIn) -> Status[Any]:
    note = actions.add_note(
        actor=_actor(request), user=_user(request, user_id), **payload.model_dump()
    )
    return Status(CREATED, note)


@router.delete(
    "/{user_id}/notes/{note_id}",
    response={NO_CONTENT: None, **error_responses(404)},
    summary="Remove a note",
)
@permission_required(Permission.USERS_EDIT)
def remove_note(request: HttpRequest, user_id: Id, note_id: Id) -> Status[None]:
    user = _user(request, user_id)
    note = selectors.get_note(acting_user(request), user, note_id)
    actions.remove_note(actor=_actor(request), note=note)
    return Status(NO_CONTENT, None)


@router.post(
    "/{user_id}/statistics",
    response={CREATED: StatisticOut, **error_responses(400, 404)},
    summary="Add a statistical category",
)
@permission_required(Permission.USERS_EDIT)
def add_statistic(request: HttpRequest, user_id: Id, payload: StatisticIn) -> Status[Any]:
    statistic = actions.add_statistic(
        actor=_actor(request), user=_user(request, user_id), **payload.model_dump()
    )
    return Status(CREATED, statistic)


@router.delete(
    "/{user_id}/statistics/{statistic_id}",
    response={NO_CONTENT: None, **error_responses(404)},
    summary="Remove a statistical category",
)
@permission_required(Permission.USERS_EDIT)
def remove_statistic(request: HttpRequest, user_id: Id, statistic_id: Id) -> Status[None]:
    user = _user(request, user_id)
    statistic = selectors.get_statistic(acting_user(request), user, statistic_id)
    actions.remove_statistic(actor=_actor(request), statistic=statistic)
    return Status(NO_CONTENT, None)


@router.post(
    "/{user_id}/blocks",
    response={CREATED: BlockOut, **error_responses(400, 404)},
    summary="Add a block",
)
@permission_required(Permission.USERS_MANAGE_BLOCKS)
def add_block(request: HttpRequest, user_id: Id, payload: BlockIn) -> Status[Any]:
    block = actions.add_block(
        actor=_actor(request), user=_user(request, user_id), **payload.model_dump()
    )
    return Status(CREATED, block)


@router.delete(
    "/{user_id}/blocks/{block_id}",
    response={NO_CONTENT: None, **error_responses(404)},
    summary="Remove a block",
)
@permission_required(Permission.USERS_MANAGE_BLOCKS)
def remove_block(request: HttpRequest, user_id: Id, block_id: Id) -> Status[None]:
    user = _user(request, user_id)
    block = selectors.get_block(acting_user(request), user, block_id)
    actions.remove_block(actor=_actor(request), block=block)
    return Status(NO_CONTENT, None)
