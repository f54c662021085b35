"""API keys under /api/v1/api-keys: list a user's keys, create one (the key is in the answer,
once), show one, revoke one. Thin: parse, call ``api_key_actions``, serialise.

Every operation needs ``access:apikey:manage``. Users are found through the selectors (a user
the caller may not see is a 404 ``user_not_found``); a key that does not exist is a 404
``api_key_not_found``.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Path, Query, Router, Schema, Status
from pydantic import Field

from patronage.accounts import selectors
from patronage.api_support import MAX_ID, NO_NUL, acting_user, error_responses, permission_required
from patronage.audit.context import Actor, Channel

from .api_key_actions import NAME_MAX, create_api_key, get_api_key, keys_of, revoke_api_key
from .models import ApiKey
from .permissions import Permission

router = Router()

Id = Annotated[int, Path(ge=1, le=MAX_ID)]
CREATED = 201
NO_CONTENT = 204


class ApiKeyOut(Schema):
    id: int
    name: str
    prefix: str = Field(description="The key's first characters, to tell keys apart")
    owner_id: int
    owner_primary_id: str
    permissions: list[str] = Field(description="What the key may use; empty: all the owner holds")
    read_only: bool = Field(description="Only GET and HEAD requests")
    expires_at: datetime.datetime | None
    last_used_at: datetime.datetime | None = Field(description="To the minute")
    created_at: datetime.datetime
    created_by: str | None = Field(description="Primary ID of who made it; null: the system")
    revoked_at: datetime.datetime | None
    state: str = Field(description="active, expired or revoked")


class ApiKeyCreatedOut(ApiKeyOut):
    key: str = Field(description="The key itself. Shown this once: only a digest is kept.")


class ApiKeyIn(Schema):
    user_id: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="The owner; default: the caller"
    )
    name: Annotated[str, Field(min_length=1, max_length=NAME_MAX), NO_NUL]
    permissions: list[Annotated[str, Field(max_length=100), NO_NUL]] = Field(
        default_factory=list,
        max_length=len(Permission),
        description="Permission values the key may use (within the owner's); empty: all",
    )
    read_only: bool = False
    expires_at: datetime.datetime | None = Field(
        default=None, description="When the key stops working; naive times are local"
    )


class KeyListQuery(Schema):
    user_id: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="Whose keys; default: the caller's"
    )


def _actor(request: HttpRequest) -> Actor:
    return Actor.from_request(request, Channel.API)


def key_out(api_key: ApiKey) -> dict[str, Any]:
    return {
        "id": api_key.pk,
        "name": api_key.name,
        "prefix": api_key.prefix,
        "owner_id": api_key.owner_id,
        "owner_primary_id": api_key.owner.primary_id,
        "permissions": list(api_key.permissions),
        "read_only": api_key.read_only,
        "expires_at": api_key.expires_at,
        "last_used_at": api_key.last_used_at,
        "created_at": api_key.created_at,
        "created_by": api_key.created_by.primary_id if api_key.created_by else None,
        "revoked_at": api_key.revoked_at,
        "state": api_key.state,
    }


@router.get("", response={200: list[ApiKeyOut], **error_responses(404)}, summary="List API keys")
@permission_required(Permission.APIKEYS_MANAGE)
def list_keys(request: HttpRequest, filters: Query[KeyListQuery]) -> list[dict[str, Any]]:
    """A user's keys, newest first, revoked and expired ones included (never the key itself)."""
    viewer = acting_user(request)
    assert viewer is not None
    owner = selectors.get_user(viewer, filters.user_id) if filters.user_id else viewer
    return [key_out(k) for k in keys_of(owner)]


@router.post(
    "",
    response={CREATED: ApiKeyCreatedOut, **error_responses(404)},
    summary="Create an API key",
)
@permission_required(Permission.APIKEYS_MANAGE)
def create_key(request: HttpRequest, payload: ApiKeyIn) -> Status:
    """Make a key acting as its owner with at most the listed permissions. The answer holds
    the key; it cannot be shown again."""
    viewer = acting_user(request)
    assert viewer is not None
    owner = selectors.get_user(viewer, payload.user_id) if payload.user_id else viewer
    expires_at = payload.expires_at
    if expires_at is not None and timezone.is_naive(expires_at):
        expires_at = timezone.make_aware(expires_at)
    created = create_api_key(
        actor=_actor(request),
        owner=owner,
        name=payload.name,
        permissions=payload.permissions,
        read_only=payload.read_only,
        expires_at=expires_at,
    )
    return Status(CREATED, {**key_out(created.api_key), "key": created.key})


@router.get("/{key_id}", response={200: ApiKeyOut, **error_responses(404)}, summary="Show a key")
@permission_required(Permission.APIKEYS_MANAGE)
def show_key(request: HttpRequest, key_id: Id) -> dict[str, Any]:
    return key_out(get_api_key(_actor(request), key_id))


@router.delete(
    "/{key_id}", response={NO_CONTENT: None, **error_responses(404)}, summary="Revoke a key"
)
@permission_required(Permission.APIKEYS_MANAGE)
def revoke_key(request: HttpRequest, key_id: Id) -> Status:
    """The key stops working now. Revoking a revoked key changes nothing."""
    actor = _actor(request)
    revoke_api_key(actor=actor, api_key=get_api_key(actor, key_id))
    return Status(NO_CONTENT, None)
