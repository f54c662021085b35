"""Seed 000 in the selectors: staff without the permission to see patrons' details get a user's
card and nothing more; every detail selector refuses them. The role catalogue never gives a
permission to change user records without the permission to see their details."""

from __future__ import annotations

import datetime

import pytest

from patronage.access.catalogue import ROLES
from patronage.access.permissions import Permission as P
from patronage.accounts import actions, selectors
from patronage.errors import Forbidden
from tests.factories import SYSTEM, make_library, make_staff, make_user

# Whoever holds one of these works on (or searches by name through) patrons' details.
NEEDS_DETAILS = {
    P.USERS_EDIT,
    P.USERS_EDIT_RESTRICTED,
    P.USERS_MANAGE_BLOCKS,
    P.USERS_MANAGE_ATTACHMENTS,
    P.USERS_VIEW_HISTORY,
    P.USERS_SEARCH_BY_NAME,
}


@pytest.mark.parametrize("role", ROLES, ids=[role.code for role in ROLES])
def test_every_role_that_edits_users_also_sees_their_details(role):
    held = {str(p) for p in role.permissions}
    if held & {str(p) for p in NEEDS_DETAILS}:
        assert str(P.USERS_VIEW_DETAILS) in held, role.code
    if str(P.USERS_VIEW_DETAILS) in held:
        assert str(P.USERS_VIEW) in held, role.code


def test_the_edit_permission_is_held_only_with_the_details_permission():
    editing = [r for r in ROLES if str(P.USERS_EDIT) in {str(p) for p in r.permissions}]
    assert editing  # the invariant above is not vacuous
    assert all(str(P.USERS_VIEW_DETAILS) in {str(p) for p in r.permissions} for r in editing)


@pytest.fixture
def patron(db):
    user = make_user(
        primary_id="card1",
        first_name="Carla",
        last_name="Card",
        user_group="GRAD",
        expiry_date="2000-01-31",
        emails=[{"address": "carla@example.org", "types": ["personal"]}],
    )
    actions.add_note(actor=SYSTEM, user=user, note_type="OTHER", text="secret")
    actions.add_block(actor=SYSTEM, user=user, block_type="GENERAL", note="Why: unpaid")
    return user


def test_a_desk_operator_gets_the_card(desk_operator, patron):
    card = selectors.user_card(desk_operator, patron)
    assert (card.display_name, card.primary_id, card.user_group) == ("Carla Card", "card1", "GRAD")
    assert card.status == "ACTIVE" and card.expired is True
    assert card.expiry_date == datetime.date(2000, 1, 31)
    assert card.blocked is True and card.details is False


@pytest.mark.parametrize(
    "read",
    [
        lambda a, u: selectors.contact_entries(a, u, "email"),
        lambda a, u: selectors.get_contact_entry(a, u, "email", u.emails.get().pk),
        lambda a, u: selectors.identifiers_of(a, u),
        lambda a, u: selectors.notes_of(a, u),
        lambda a, u: selectors.get_note(a, u, u.notes.get().pk),
        lambda a, u: selectors.statistics_of(a, u),
        lambda a, u: selectors.blocks_of(a, u),
        lambda a, u: selectors.get_block(a, u, u.blocks.get().pk),
        lambda a, u: selectors.effective_blocks(a, u),
        lambda a, u: selectors.attachments_of(a, u),
        lambda a, u: selectors.user_history(a, u),
    ],
    ids=[
        "contacts",
        "contact",
        "identifiers",
        "notes",
        "note",
        "statistics",
        "blocks",
        "block",
        "blocks_in_force",
        "attachments",
        "history",
    ],
)
def test_every_detail_is_refused_to_card_only_staff(read, desk_operator, user_manager, patron):
    with pytest.raises(Forbidden) as refused:
        read(desk_operator, patron)
    assert refused.value.code == "permission_denied"
    read(user_manager, patron)  # the same read is fine for staff allowed to see details


def test_the_list_has_no_notes_column_for_card_only_staff(desk_operator, user_manager, patron):
    users = type(patron).objects.filter(pk=patron.pk)
    card_only = selectors.with_list_columns(desk_operator, users).get()
    assert card_only.has_blocks is True and not hasattr(card_only, "has_notes")
    assert selectors.with_list_columns(user_manager, users).get().has_notes is True


def test_a_block_of_another_library_does_not_block_the_card(desk_operator):
    east = make_library("EAST", "East Library")
    person = make_user()
    actions.add_block(actor=SYSTEM, user=person, block_type="GENERAL", owner=east)
    assert selectors.user_card(desk_operator, person).blocked is False
    assert selectors.user_card(make_staff("GENERAL_SYSTEM_ADMINISTRATOR"), person).blocked is True


def test_extended_plus_operators_see_details(db):
    operator = make_staff("FULFILLMENT_OPERATOR_EXTENDED_PLUS")
    assert selectors.may_see_details(operator)
