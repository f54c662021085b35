"""Seed 002, "Adding Users" and "Editing Users": the general tab of a user record."""

import datetime

import pytest
from django.contrib.auth import authenticate
from django.db import IntegrityError

from patronage.accounts import actions
from patronage.accounts.models import User, UserIdentifier, UserManagementSettings
from patronage.accounts.selectors import effective_blocks, user_history
from patronage.audit.models import AuditEvent
from patronage.errors import ConfirmationRequired, Forbidden, ValidationFailed
from tests.factories import SYSTEM, actor_for, changes_of, make_user

pytestmark = pytest.mark.django_db

BASE = {
    "primary_id": "jdoe01",
    "first_name": "Jane",
    "last_name": "Doe",
    "record_type": "PUBLIC",
    "user_group": "UNDERGRAD",
}


def counts() -> tuple[int, int, int]:
    return User.objects.count(), UserIdentifier.objects.count(), AuditEvent.objects.count()


def test_a_new_user_is_active_internal_and_its_creation_is_audited(user_manager):
    user = actions.create_user(actor=actor_for(user_manager), fields=BASE)
    assert user.status == "ACTIVE"
    assert user.account_type == "INTERNAL"
    assert user.status_date == datetime.date.today()
    assert user.created_by == user_manager
    assert user.created_via == user_manager.primary_id
    event = AuditEvent.objects.get(verb="user.created", subject=user)
    changed = {change["field"]: change["new"] for change in changes_of(event)}
    assert changed["first_name"] == "Jane"
    assert changed["primary_id"] == "jdoe01"
    assert event.actor == user_manager
    assert event.channel == "ui"


def test_first_and_last_name_and_primary_id_are_always_mandatory(user_manager):
    before = counts()
    with pytest.raises(ValidationFailed) as refused:
        actions.create_user(
            actor=actor_for(user_manager),
            fields={**BASE, "first_name": " ", "primary_id": ""},
        )
    assert set(refused.value.errors) >= {"first_name", "primary_id"}
    assert "mandatory" in refused.value.errors["first_name"]
    assert counts() == before


def test_mandatory_fields_are_configurable_per_record_type(user_manager):
    config = UserManagementSettings.current()
    config.mandatory_fields = {"PUBLIC": ["birth_date"], "CONTACT": []}
    config.save()
    with pytest.raises(ValidationFailed) as refused:
        actions.create_user(actor=actor_for(user_manager), fields=BASE)
    assert set(refused.value.errors) == {"birth_date"}
    # Contact users need no user group ("not required for Contacts").
    contact = actions.create_user(
        actor=actor_for(user_manager),
        fields={
            "primary_id": "acme",
            "first_name": "Acme",
            "last_name": "Books",
            "record_type": "CONTACT",
        },
    )
    assert contact.user_group == ""


def test_user_groups_and_job_categories_depend_on_the_record_type(user_manager):
    with pytest.raises(ValidationFailed) as refused:
        actions.create_user(
            actor=actor_for(user_manager),
            fields={**BASE, "user_group": "STAFF", "job_category": "CATALOGER"},
        )
    assert "not available for Public users" in refused.value.errors["user_group"]
    assert "not available for Public users" in refused.value.errors["job_category"]


def test_an_unknown_code_table_value_is_refused_with_a_field_error(user_manager):
    before = counts()
    with pytest.raises(ValidationFailed) as refused:
        actions.create_user(actor=actor_for(user_manager), fields={**BASE, "campus_code": "MOON"})
    assert refused.value.errors == {"campus_code": "Campus: 'MOON' is not a known value."}
    assert counts() == before


def test_the_primary_id_format_is_checked_by_a_configurable_regular_expression(user_manager):
    config = UserManagementSettings.current()
    config.primary_identifier_regex = r"^[0-9]{8}$"
    config.save()
    with pytest.raises(ValidationFailed) as refused:
        actions.create_user(actor=actor_for(user_manager), fields=BASE)
    assert "required format" in refused.value.errors["primary_id"]
    user = actions.create_user(
        actor=actor_for(user_manager), fields={**BASE, "primary_id": "12345678"}
    )
    assert user.primary_id == "12345678"


def test_a_purge_date_before_the_expiry_date_is_refused(user_manager):
    fields = {**BASE, "expiry_date": "2027-06-30", "purge_date": "2027-01-01"}
    with pytest.raises(ValidationFailed) as refused:
        actions.create_user(actor=actor_for(user_manager), fields=fields)
    assert refused.value.errors == {"purge_date": "Purge date cannot be before the expiry date."}


def test_the_database_itself_refuses_a_purge_date_before_expiry(db):
    user = make_user(expiry_date="2027-06-30")
    user.purge_date = datetime.date(2027, 1, 1)
    with pytest.raises(IntegrityError):
        user.save()


def test_malformed_dates_and_unknown_fields_get_clear_errors(user_manager):
    with pytest.raises(ValidationFailed) as refused:
        actions.create_user(
            actor=actor_for(user_manager),
            fields={**BASE, "birth_date": "31/12/1999", "shoe_size": "42"},
        )
    assert "not a valid date" in refused.value.errors["birth_date"]
    assert "not a field" in refused.value.errors["shoe_size"]


def test_preferred_names_replace_the_main_names_where_a_name_is_shown(db):
    user = make_user(first_name="Robert", last_name="Jones", pref_first_name="Bobbie")
    assert user.display_name == "Bobbie Jones"
    assert str(user).startswith("Bobbie Jones")


def test_adding_a_possible_duplicate_needs_an_explicit_confirmation(user_manager):
    fields = {**BASE, "birth_date": "2001-04-05"}
    actions.create_user(actor=actor_for(user_manager), fields=fields)
    before = counts()
    with pytest.raises(ConfirmationRequired) as warned:
        actions.create_user(
            actor=actor_for(user_manager),
            fields={**fields, "primary_id": "jdoe02", "first_name": "JANE"},
        )
    assert warned.value.code == "possible_duplicate"
    assert counts() == before
    second = actions.create_user(
        actor=actor_for(user_manager),
        fields={**fields, "primary_id": "jdoe02"},
        confirm_duplicate=True,
    )
    assert second.pk


def test_editing_records_a_field_level_diff_shown_in_history(user_manager):
    user = make_user(last_name="Smith")
    actions.update_user(
        actor=actor_for(user_manager),
        user=user,
        fields={"last_name": "Smythe", "user_group": "GRAD", "first_name": user.first_name},
    )
    rows = [
        (change["field"], change["old"], change["new"])
        for event in user_history(user_manager, user)
        for change in changes_of(event)
        if event.verb == "user.updated"
    ]
    assert sorted(rows) == [("last_name", "Smith", "Smythe"), ("user_group", "UNDERGRAD", "GRAD")]
    user.refresh_from_db()
    assert user.updated_by == user_manager


def test_an_edit_that_changes_nothing_writes_nothing(user_manager):
    user = make_user()
    before = AuditEvent.objects.count()
    actions.update_user(
        actor=actor_for(user_manager), user=user, fields={"last_name": user.last_name}
    )
    assert AuditEvent.objects.count() == before


def test_a_rejected_edit_leaves_the_record_as_it_was(user_manager):
    user = make_user(expiry_date="2028-01-01")
    with pytest.raises(ValidationFailed):
        actions.update_user(
            actor=actor_for(user_manager),
            user=user,
            fields={"last_name": "Changed", "purge_date": "2027-01-01"},
        )
    user.refresh_from_db()
    assert user.last_name != "Changed"
    assert user.purge_date is None


def test_marking_a_user_inactive_works_like_a_block(user_manager):
    user = make_user()
    assert effective_blocks(user_manager, user) == []
    actions.update_user(actor=actor_for(user_manager), user=user, fields={"status": "INACTIVE"})
    user.refresh_from_db()
    assert [block["type"] for block in effective_blocks(user_manager, user)] == ["INACTIVE"]
    assert user.status_date == datetime.date.today()


def test_staff_without_the_permission_cannot_add_or_edit(desk_operator, no_roles):
    with pytest.raises(Forbidden):
        actions.create_user(actor=actor_for(no_roles), fields=BASE)
    user = make_user()
    with pytest.raises(Forbidden):
        actions.update_user(actor=actor_for(desk_operator), user=user, fields={"last_name": "X"})


def test_changing_the_primary_id_keeps_login_and_lookup_working(user_manager):
    user = make_user(password="correct horse battery staple")
    actions.update_user(actor=actor_for(user_manager), user=user, fields={"primary_id": "NewId9"})
    assert authenticate(username="newid9", password="correct horse battery staple") == user
    assert authenticate(username=user.primary_id, password="wrong") is None


def test_a_weak_password_is_refused_and_nothing_changes(user_manager):
    user = make_user(password="correct horse battery staple")
    with pytest.raises(ValidationFailed) as refused:
        actions.set_password(actor=actor_for(user_manager), user=user, password="12345")
    assert refused.value.code == "weak_password"
    assert "password" in refused.value.errors
    user.refresh_from_db()
    assert user.check_password("correct horse battery staple")


def test_passwords_are_hashed_with_argon2(settings, user_manager):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    user = make_user()
    actions.set_password(
        actor=actor_for(user_manager), user=user, password="a sturdy passphrase", force_change=True
    )
    user.refresh_from_db()
    assert user.password.startswith("argon2$")
    assert user.force_password_change is True
    event = AuditEvent.objects.filter(verb="user.password_set", subject=user).get()
    assert "sturdy" not in str(changes_of(event))


def test_external_users_have_no_password_here(user_manager):
    user = make_user(account_type="EXTERNAL")
    with pytest.raises(ValidationFailed) as refused:
        actions.set_password(
            actor=actor_for(user_manager), user=user, password="a sturdy passphrase"
        )
    assert refused.value.code == "password_not_allowed"


@pytest.mark.parametrize("pin", ["123", "12345", "12a4", "١٢٣٤", ""])
def test_a_pin_is_exactly_four_digits(user_manager, pin):
    user = make_user()
    with pytest.raises(ValidationFailed) as refused:
        actions.set_pin(actor=actor_for(user_manager), user=user, pin=pin)
    assert refused.value.errors == {"pin_number": "The PIN must be exactly four digits."}


def test_a_generated_pin_is_four_digits_and_stored_hashed(user_manager):
    user = make_user()
    pin = actions.generate_pin()
    assert len(pin) == 4 and pin.isdigit()
    actions.set_pin(actor=actor_for(user_manager), user=user, pin=pin)
    user.refresh_from_db()
    assert pin not in user.pin_number
    assert user.pin_number


def test_a_process_is_named_as_the_creator_of_what_it_creates(db):
    user = make_user()
    assert user.created_by is None
    assert user.created_via == SYSTEM.label


def test_resource_sharing_and_purchase_request_libraries(user_manager):
    from tests.factories import make_library

    ill = make_library("ILL", "Interlibrary Loan Office")
    ill.is_resource_sharing = True
    ill.save()
    make_library("LAW", "Law Library")
    with pytest.raises(ValidationFailed) as refused:
        actions.create_user(actor=actor_for(user_manager), fields={**BASE, "rs_libraries": ["LAW"]})
    assert "LAW is not a resource-sharing library" in refused.value.errors["rs_libraries"]
    user = actions.create_user(
        actor=actor_for(user_manager),
        fields={**BASE, "rs_libraries": ["ILL"], "purchase_request_libraries": ["LAW", "ILL"]},
    )
    assert list(user.rs_libraries.values_list("code", flat=True)) == ["ILL"]
    actions.update_user(
        actor=actor_for(user_manager), user=user, fields={"purchase_request_libraries": ["LAW"]}
    )
    event = AuditEvent.objects.get(verb="user.updated", subject=user)
    assert changes_of(event) == [
        {"field": "purchase_request_libraries", "old": ["ILL", "LAW"], "new": ["LAW"]}
    ]
