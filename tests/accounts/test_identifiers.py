"""Seed 002: "All primary and additional identifiers must be unique for users, including for
the same user" — compared case-insensitively, enforced by the database."""

import pytest
from django.db import IntegrityError, transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from patronage.accounts import actions
from patronage.accounts.models import UserIdentifier, identifier_key
from patronage.accounts.selectors import find_by_identifier
from patronage.errors import ValidationFailed
from tests.factories import actor_for, make_user

pytestmark = pytest.mark.django_db


def test_an_identifier_is_unique_across_all_users_whatever_its_case(user_manager):
    first = make_user(first_name="Amelia", last_name="Earhart")
    second = make_user()
    actions.add_identifier(
        actor=actor_for(user_manager), user=first, id_type="BARCODE", value="AB-1234"
    )
    with pytest.raises(ValidationFailed) as refused:
        actions.add_identifier(
            actor=actor_for(user_manager), user=second, id_type="UNIV_ID", value=" ab-1234 "
        )
    assert refused.value.code == "identifier_in_use"
    # The error does not tell who holds the identifier.
    message = str(refused.value.errors)
    assert "Earhart" not in message and first.primary_id not in message
    assert second.identifiers.count() == 1  # only its primary ID


def test_an_identifier_cannot_repeat_within_the_same_user(user_manager):
    user = make_user()
    actions.add_identifier(actor=actor_for(user_manager), user=user, id_type="BARCODE", value="X1")
    with pytest.raises(ValidationFailed):
        actions.add_identifier(
            actor=actor_for(user_manager), user=user, id_type="UNIV_ID", value="x1"
        )


def test_an_identifier_cannot_equal_another_users_primary_id(user_manager):
    holder = make_user(primary_id="Shared42")
    other = make_user()
    with pytest.raises(ValidationFailed):
        actions.add_identifier(
            actor=actor_for(user_manager), user=other, id_type="BARCODE", value="SHARED42"
        )
    with pytest.raises(ValidationFailed) as refused:
        actions.update_user(
            actor=actor_for(user_manager), user=other, fields={"primary_id": "shared42"}
        )
    assert refused.value.errors == {"primary_id": "This identifier is already in use."}
    assert holder.identifiers.get(is_primary=True).value == "Shared42"


def test_a_new_user_cannot_take_a_primary_id_in_use(user_manager):
    make_user(primary_id="taken")
    with pytest.raises(ValidationFailed) as refused:
        actions.create_user(
            actor=actor_for(user_manager),
            fields={
                "primary_id": "TAKEN",
                "first_name": "A",
                "last_name": "B",
                "record_type": "PUBLIC",
                "user_group": "GRAD",
            },
        )
    assert refused.value.code == "identifier_in_use"


def test_the_database_enforces_uniqueness_even_past_the_action(db):
    user = make_user()
    UserIdentifier.objects.create(
        user=user, id_type="BARCODE", value="Q9", key=identifier_key("Q9")
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        UserIdentifier.objects.create(
            user=user, id_type="BARCODE", value="q9", key=identifier_key("q9")
        )


@settings(max_examples=25, deadline=None)
@given(
    value=st.text(alphabet="abcdefXYZ019-", min_size=1, max_size=12),
    flips=st.lists(st.booleans(), max_size=12),
)
def test_any_change_of_case_is_the_same_identifier(value, flips):
    variant = (
        "".join(ch.swapcase() if flip else ch for ch, flip in zip(value, flips, strict=False))
        + value[len(flips) :]
    )
    assert identifier_key(variant) == identifier_key(value)
    assert identifier_key(f"  {value} ") == identifier_key(value)


def test_lookup_by_identifier_is_exact_and_case_insensitive(user_manager):
    user = make_user()
    actions.add_identifier(
        actor=actor_for(user_manager), user=user, id_type="BARCODE", value="39001234"
    )
    assert find_by_identifier(user_manager, "39001234") == user
    assert find_by_identifier(user_manager, "3900123") is None  # no partial match
    assert find_by_identifier(user_manager, "39001234", id_type="UNIV_ID") is None


def test_external_identifiers_only_for_external_users(user_manager):
    internal = make_user()
    with pytest.raises(ValidationFailed) as refused:
        actions.add_identifier(
            actor=actor_for(user_manager),
            user=internal,
            id_type="BARCODE",
            value="E1",
            segment_type="External",
        )
    assert "external" in refused.value.errors["segment_type"].lower()
    external = make_user(account_type="EXTERNAL")
    entry = actions.add_identifier(
        actor=actor_for(user_manager),
        user=external,
        id_type="BARCODE",
        value="E1",
        segment_type="External",
    )
    assert entry.is_external


def test_contact_users_have_no_identifiers_tab(user_manager):
    contact = make_user(record_type="CONTACT", user_group="")
    with pytest.raises(ValidationFailed):
        actions.add_identifier(
            actor=actor_for(user_manager), user=contact, id_type="BARCODE", value="C1"
        )


def test_the_primary_identifier_cannot_be_removed_but_others_can(user_manager):
    user = make_user()
    barcode = actions.add_identifier(
        actor=actor_for(user_manager), user=user, id_type="BARCODE", value="B77"
    )
    with pytest.raises(ValidationFailed):
        actions.remove_identifier(
            actor=actor_for(user_manager), identifier=user.identifiers.get(is_primary=True)
        )
    actions.remove_identifier(actor=actor_for(user_manager), identifier=barcode)
    assert find_by_identifier(user_manager, "B77") is None
