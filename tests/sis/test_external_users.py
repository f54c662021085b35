"""Editing external users (seed 002): what staff may change, and what the next sync does."""

from __future__ import annotations

import pytest

from patronage.accounts import actions as accounts
from patronage.accounts.models import User
from patronage.errors import Forbidden, ValidationFailed
from patronage.sis.actions import set_open_for_update, toggle_account_type
from tests.factories import SYSTEM, actor_for, make_staff, make_user

from .conftest import run_import, user_xml, users_file


def _user(primary_id: str) -> User:
    return User.objects.get(primary_id=primary_id)


@pytest.fixture
def synced(profile, tmp_path):
    path = users_file(tmp_path / "a.xml", user_xml("s1", pref_first_name="Patty", user_title="Ms"))
    run_import([path])
    return path


def test_sis_fields_of_an_external_user_are_read_only(synced):
    with pytest.raises(ValidationFailed) as caught:
        accounts.update_user(actor=SYSTEM, user=_user("s1"), fields={"last_name": "Other"})
    assert caught.value.code == "external_field"
    assert "comes from the student information system" in caught.value.errors["last_name"]
    # Fields the SIS does not send stay editable.
    accounts.update_user(actor=SYSTEM, user=_user("s1"), fields={"mfa_enabled": True})


def test_a_hand_change_sticks_until_staff_pick_the_original_value(synced):
    accounts.update_user(actor=SYSTEM, user=_user("s1"), fields={"pref_first_name": "Trish"})
    run_import([synced])
    assert _user("s1").pref_first_name == "Trish"
    user = _user("s1")
    accounts.update_user(
        actor=SYSTEM, user=user, fields={"pref_first_name": user.sis_values["pref_first_name"]}
    )
    assert _user("s1").sis_kept_fields == []


def test_a_new_sis_value_replaces_a_field_handed_back(synced, tmp_path):
    accounts.update_user(actor=SYSTEM, user=_user("s1"), fields={"pref_first_name": "Trish"})
    accounts.update_user(actor=SYSTEM, user=_user("s1"), fields={"pref_first_name": "Patty"})
    run_import(
        [users_file(tmp_path / "b.xml", user_xml("s1", pref_first_name="P.", user_title="Ms"))]
    )
    assert _user("s1").pref_first_name == "P."


def test_open_for_update_edits_are_lost_at_the_next_sync_unless_staff_keep_them(synced):
    set_open_for_update(actor=SYSTEM, user=_user("s1"), open_for_update=True)
    accounts.update_user(
        actor=SYSTEM,
        user=_user("s1"),
        fields={"user_group": "GRAD", "user_title": "Dr", "last_name": "Typo"},
        keep_on_sync=["user_group"],
    )
    run_import([synced])
    user = _user("s1")
    assert (user.user_group, user.user_title, user.last_name) == ("GRAD", "Ms", "Ron s1")
    assert not user.open_for_update  # the sync ends it
    with pytest.raises(ValidationFailed):
        accounts.update_user(actor=SYSTEM, user=user, fields={"user_title": "Dr"})


def test_internal_entries_cannot_be_turned_external(synced):
    user = _user("s1")
    email = accounts.add_contact(
        actor=SYSTEM, user=user, kind="email", data={"address": "x@y.org", "types": ["work"]}
    )
    with pytest.raises(ValidationFailed) as caught:
        accounts.update_contact(actor=SYSTEM, entry=email, data={"segment_type": "External"})
    assert caught.value.code == "internal_entry"


def test_toggling_to_external_marks_the_user_for_the_next_sync(profile, tmp_path):
    user = make_user(primary_id="s9", identifiers=[{"id_type": "BARCODE", "value": "B-s9"}])
    manager = make_staff("USER_MANAGER")
    operator = make_staff("FULFILLMENT_OPERATOR")
    with pytest.raises(Forbidden):
        toggle_account_type(actor=actor_for(operator), user=user)
    user = toggle_account_type(actor=actor_for(manager), user=user)
    assert (user.account_type, user.external_id) == ("EXTERNAL", "SIS_temp")
    assert set(user.identifiers.values_list("segment_type", flat=True)) == {"External"}
    run = run_import([users_file(tmp_path / "a.xml", user_xml("s9", first_name="Sam"))])
    assert run.updated == 1
    user = _user("s9")
    assert (user.external_id, user.first_name) == ("registrar", "Sam")
    assert user.identifiers.count() == 2  # the barcode the SIS sent again is not doubled
    toggle_account_type(actor=actor_for(manager), user=user)
    user = _user("s9")
    assert user.account_type == "INTERNAL"
    assert set(user.emails.values_list("segment_type", flat=True)) == {"Internal"}
    accounts.update_user(actor=SYSTEM, user=user, fields={"last_name": "Staff-owned"})
