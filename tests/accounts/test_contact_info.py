"""Seed 002, "Managing User Contact Information": types per record type, one preferred per
kind, formats checked by configurable regular expressions."""

import pytest

from patronage.accounts import actions
from patronage.accounts.models import Address, Email, Phone, UserManagementSettings
from patronage.accounts.selectors import find_by_email
from patronage.audit.models import AuditEvent
from patronage.errors import ValidationFailed
from tests.factories import actor_for, changes_of, make_user

pytestmark = pytest.mark.django_db


def add(actor, user, kind, **data):
    return actions.add_contact(actor=actor_for(actor), user=user, kind=kind, data=data)


@pytest.mark.parametrize(
    ("kind", "data", "field"),
    [
        ("email", {"address": "not-an-email", "types": ["personal"]}, "address"),
        ("email", {"address": "", "types": ["personal"]}, "address"),
        ("phone", {"number": "call me maybe", "types": ["mobile"]}, "number"),
        ("address", {"line1": "1 Main St", "postal_code": "!!!", "types": ["home"]}, "postal_code"),
        ("address", {"line1": "", "types": ["home"]}, "line1"),
        ("email", {"address": "a@b.org", "types": []}, "types"),
        ("email", {"address": "a@b.org", "types": ["telepathy"]}, "types"),
        (
            "email",
            {
                "address": "a@b.org",
                "types": ["work"],
                "start_date": "2026-05-01",
                "end_date": "2026-01-01",
            },
            "end_date",
        ),
    ],
)
def test_bad_contact_entries_are_refused_with_a_field_error(user_manager, kind, data, field):
    user = make_user()
    with pytest.raises(ValidationFailed) as refused:
        add(user_manager, user, kind, **data)
    assert field in refused.value.errors
    assert not (user.emails.exists() or user.phones.exists() or user.addresses.exists())


def test_contact_types_are_limited_to_record_types(user_manager):
    patron = make_user()
    with pytest.raises(ValidationFailed) as refused:
        add(user_manager, patron, "email", address="orders@vendor.com", types=["orderMail"])
    assert "not available for Public users" in refused.value.errors["types"]
    staff = make_user(record_type="STAFF")
    with pytest.raises(ValidationFailed):
        add(user_manager, staff, "address", line1="Dorm 4", types=["school"])  # public only
    contact = make_user(record_type="CONTACT", user_group="")
    entry = add(user_manager, contact, "phone", number="+1 617 555 0100", types=["claimFax"])
    assert entry.types == ["claimFax"]


def test_one_preferred_entry_per_kind(user_manager):
    user = make_user()
    first = add(user_manager, user, "email", address="one@example.edu", types=["work"])
    assert first.preferred  # the first one is preferred
    second = add(
        user_manager, user, "email", address="two@example.edu", types=["personal"], preferred=True
    )
    first.refresh_from_db()
    assert second.preferred and not first.preferred
    actions.remove_contact(actor=actor_for(user_manager), entry=second)
    first.refresh_from_db()
    assert first.preferred


def test_email_lookup_is_exact_and_case_insensitive(user_manager):
    user = make_user()
    add(user_manager, user, "email", address="Grace.Hopper@Example.edu", types=["work"])
    assert list(find_by_email(user_manager, "grace.hopper@example.EDU")) == [user]
    assert list(find_by_email(user_manager, "grace.hopper")) == []


def test_formats_follow_the_configured_regular_expressions(user_manager):
    config = UserManagementSettings.current()
    config.phone_regex = r"^\+44 [0-9 ]+$"
    config.save()
    user = make_user()
    with pytest.raises(ValidationFailed):
        add(user_manager, user, "phone", number="+1 617 555 0100", types=["mobile"])
    assert add(user_manager, user, "phone", number="+44 20 7946 0000", types=["mobile"]).pk


def test_editing_an_entry_is_audited_with_old_and_new_value(user_manager):
    user = make_user()
    email = add(user_manager, user, "email", address="old@example.edu", types=["work"])
    actions.update_contact(
        actor=actor_for(user_manager), entry=email, data={"address": "new@example.edu"}
    )
    event = AuditEvent.objects.get(subject=user, verb="email.updated")
    assert changes_of(event) == [
        {"field": "email", "old": "old@example.edu", "new": "new@example.edu"}
    ]


def test_an_address_keeps_all_its_lines(user_manager):
    user = make_user()
    address = add(
        user_manager,
        user,
        "address",
        line1="Widener Library",
        line2="Harvard Yard",
        city="Cambridge",
        state_province="MA",
        postal_code="02138",
        country="USA",
        types=["work"],
    )
    assert str(address) == "Widener Library, Harvard Yard, 02138 Cambridge, MA, USA"
    assert (
        Address.objects.count() == 1 and Email.objects.count() == 0 and Phone.objects.count() == 0
    )
