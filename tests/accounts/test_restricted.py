"""Restricting users for editing (seed 002): only staff allowed to edit restricted users may
change such a user or its entries, or e-mail them; setting or clearing the flag (and
"disable all login restrictions") takes the same permission. Checked once, in the actions."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from patronage.accounts import actions
from patronage.accounts.models import User
from patronage.audit.models import AuditEvent
from patronage.errors import Forbidden, NotFound, ValidationFailed
from tests.factories import SYSTEM, actor_for, changes_of, make_library, make_staff, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def user_administrator(db):
    return make_staff("USER_ADMINISTRATOR", scope=make_library(), first_name="Ursula")


@pytest.fixture
def protected():
    """A restricted user with one entry of each kind."""
    user = make_user(
        primary_id="vip1",
        identifiers=[{"id_type": "BARCODE", "value": "VIP-B1"}],
        emails=[{"address": "vip@example.org", "types": ["personal"]}],
    )
    actions.add_note(actor=SYSTEM, user=user, note_type="OTHER", text="kept")
    actions.add_statistic(actor=SYSTEM, user=user, category="HIST")
    actions.add_block(actor=SYSTEM, user=user, block_type="GENERAL")
    actions.add_attachment(
        actor=SYSTEM,
        user=user,
        upload=SimpleUploadedFile("a.pdf", b"%PDF-1.4", content_type="application/pdf"),
    )
    actions.update_user(actor=SYSTEM, user=user, fields={"restricted_for_editing": True})
    return User.objects.get(pk=user.pk)


def writes(user: User) -> dict:
    """Every write the actions offer on ``user`` and its entries, as (name → call(actor))."""
    email = user.emails.get()
    barcode = user.identifiers.get(id_type="BARCODE")
    note, statistic = user.notes.get(), user.statistics.get()
    block, attachment = user.blocks.get(), user.attachments.get()
    upload = SimpleUploadedFile("b.pdf", b"%PDF-1.4 more", content_type="application/pdf")
    return {
        "update_user": lambda a: actions.update_user(
            actor=a, user=user, fields={"middle_name": "Q"}
        ),
        "set_password": lambda a: actions.set_password(
            actor=a, user=user, password="correct-horse-battery"
        ),
        "set_pin": lambda a: actions.set_pin(actor=a, user=user, pin="1234"),
        "add_identifier": lambda a: actions.add_identifier(
            actor=a, user=user, id_type="BARCODE", value="VIP-B2"
        ),
        "remove_identifier": lambda a: actions.remove_identifier(actor=a, identifier=barcode),
        "add_contact": lambda a: actions.add_contact(
            actor=a, user=user, kind="phone", data={"number": "+1 555 0111", "types": ["home"]}
        ),
        "update_contact": lambda a: actions.update_contact(
            actor=a, entry=email, data={"address": "new@example.org"}
        ),
        "remove_contact": lambda a: actions.remove_contact(actor=a, entry=email),
        "add_note": lambda a: actions.add_note(actor=a, user=user, note_type="OTHER", text="x"),
        "remove_note": lambda a: actions.remove_note(actor=a, note=note),
        "add_statistic": lambda a: actions.add_statistic(actor=a, user=user, category="LAW"),
        "remove_statistic": lambda a: actions.remove_statistic(actor=a, statistic=statistic),
        "add_block": lambda a: actions.add_block(actor=a, user=user, block_type="CONDUCT"),
        "remove_block": lambda a: actions.remove_block(actor=a, block=block),
        "add_attachment": lambda a: actions.add_attachment(actor=a, user=user, upload=upload),
        "remove_attachment": lambda a: actions.remove_attachment(actor=a, attachment=attachment),
        "email": lambda a: actions.require_may_email(actor=a, user=user),
    }


WRITES = [
    "update_user",
    "set_password",
    "set_pin",
    "add_identifier",
    "remove_identifier",
    "add_contact",
    "update_contact",
    "remove_contact",
    "add_note",
    "remove_note",
    "add_statistic",
    "remove_statistic",
    "add_block",
    "remove_block",
    "add_attachment",
    "remove_attachment",
    "email",
]


@pytest.mark.parametrize("name", WRITES)
def test_staff_who_may_not_edit_restricted_users_are_refused_every_write(
    name, protected, user_manager
):
    before = AuditEvent.objects.count()
    with pytest.raises(Forbidden) as refused:
        writes(protected)[name](actor_for(user_manager))
    assert refused.value.code == "restricted_for_editing"
    assert "restricted for editing" in refused.value.message
    assert AuditEvent.objects.count() == before
    fresh = User.objects.get(pk=protected.pk)
    assert fresh.middle_name == "" and not fresh.has_usable_password() and not fresh.pin_number
    assert fresh.identifiers.count() == 2 and fresh.emails.count() == 1
    assert fresh.notes.count() == fresh.statistics.count() == fresh.blocks.count() == 1
    assert fresh.attachments.count() == 1 and not fresh.phones.exists()


@pytest.mark.parametrize("name", WRITES)
def test_staff_allowed_to_edit_restricted_users_may(name, protected, user_administrator):
    writes(protected)[name](actor_for(user_administrator))


def test_without_the_edit_permission_the_refusal_is_the_permissions(protected, desk_operator):
    with pytest.raises(Forbidden) as refused:
        actions.update_user(actor=actor_for(desk_operator), user=protected, fields={"x": 1})
    assert refused.value.code == "permission_denied"


def test_an_entry_outside_the_scope_is_not_found_before_anything_else(protected, user_manager):
    law = make_library("LAW", "Law Library")
    note = actions.add_note(actor=SYSTEM, user=protected, note_type="OTHER", text="law", owner=law)
    with pytest.raises(NotFound):
        actions.remove_note(actor=actor_for(user_manager), note=note)
    assert protected.notes.filter(pk=note.pk).exists()


@pytest.mark.parametrize("flag", ["restricted_for_editing", "disable_login_restrictions"])
def test_setting_or_clearing_the_flags_needs_the_permission(flag, user_manager, user_administrator):
    person = make_user()
    before = AuditEvent.objects.count()
    with pytest.raises(Forbidden) as refused:
        actions.update_user(actor=actor_for(user_manager), user=person, fields={flag: True})
    assert refused.value.code == "restricted_for_editing"
    assert AuditEvent.objects.count() == before
    assert getattr(User.objects.get(pk=person.pk), flag) is False

    actions.update_user(actor=actor_for(user_administrator), user=person, fields={flag: "true"})
    assert getattr(User.objects.get(pk=person.pk), flag) is True
    event = AuditEvent.objects.filter(subject=person, verb="user.updated").latest("id")
    assert changes_of(event) == [{"field": flag, "old": False, "new": True}]

    if flag == "disable_login_restrictions":  # the user is not restricted: clearing is refused
        with pytest.raises(Forbidden):
            actions.update_user(actor=actor_for(user_manager), user=person, fields={flag: False})
    actions.update_user(actor=actor_for(user_administrator), user=person, fields={flag: False})
    assert getattr(User.objects.get(pk=person.pk), flag) is False


def test_giving_the_current_value_is_no_change_and_allowed(user_manager):
    person = make_user()
    actions.update_user(
        actor=actor_for(user_manager),
        user=person,
        fields={"restricted_for_editing": False, "middle_name": "Q"},
    )
    assert User.objects.get(pk=person.pk).middle_name == "Q"


def test_adding_a_restricted_user_needs_the_permission(user_manager, user_administrator):
    fields = {
        "primary_id": "newvip",
        "record_type": "PUBLIC",
        "first_name": "New",
        "last_name": "Vip",
        "user_group": "UNDERGRAD",
        "restricted_for_editing": True,
    }
    with pytest.raises(Forbidden) as refused:
        actions.create_user(actor=actor_for(user_manager), fields=fields)
    assert refused.value.code == "restricted_for_editing"
    assert not User.objects.filter(primary_id="newvip").exists()
    created = actions.create_user(actor=actor_for(user_administrator), fields=fields)
    assert created.restricted_for_editing is True


def test_bad_input_with_the_flag_writes_nothing(user_administrator):
    person = make_user(last_name="Kept")
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationFailed) as refused:
        actions.update_user(
            actor=actor_for(user_administrator),
            user=person,
            fields={"restricted_for_editing": "yes", "last_name": "", "expiry_date": "soon"},
        )
    assert set(refused.value.errors) == {"last_name", "expiry_date"}
    fresh = User.objects.get(pk=person.pk)
    assert fresh.restricted_for_editing is False and fresh.last_name == "Kept"
    assert AuditEvent.objects.count() == before


def test_processes_without_a_user_are_trusted(protected):
    actions.update_user(actor=SYSTEM, user=protected, fields={"middle_name": "Sys"})
    assert User.objects.get(pk=protected.pk).middle_name == "Sys"


def test_may_change_user_tells_the_ui_what_to_offer(protected, user_manager, user_administrator):
    assert actions.may_change_user(user_manager, make_user()) is True
    assert actions.may_change_user(user_manager, protected) is False
    assert actions.may_change_user(user_administrator, protected) is True
