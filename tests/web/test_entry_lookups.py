"""The one-entry lookups behind the tabs' edit and remove buttons (``accounts.selectors``):
an entry of another user, of a library outside the actor's scope, or that does not exist is
not found (404), and nothing is changed."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from patronage.accounts import actions, selectors
from patronage.accounts.models import UserBlock, UserStatistic
from patronage.errors import NotFound
from tests.factories import SYSTEM, make_library, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def person():
    return make_user(emails=[{"address": "ada@example.org", "types": ["personal"]}])


@pytest.fixture
def other():
    return make_user(emails=[{"address": "bob@example.org", "types": ["personal"]}])


def test_each_lookup_finds_the_users_own_entry(user_manager, person):
    email = person.emails.get()
    barcode = actions.add_identifier(actor=SYSTEM, user=person, id_type="BARCODE", value="B1")
    note = actions.add_note(actor=SYSTEM, user=person, note_type="OTHER", text="hello")
    statistic = actions.add_statistic(actor=SYSTEM, user=person, category="HIST")
    block = actions.add_block(actor=SYSTEM, user=person, block_type="GENERAL")
    upload = SimpleUploadedFile("a.txt", b"hello", content_type="text/plain")
    attachment = actions.add_attachment(actor=SYSTEM, user=person, upload=upload)

    assert selectors.get_contact_entry(user_manager, person, "email", email.pk) == email
    assert selectors.get_identifier(user_manager, person, barcode.pk) == barcode
    assert selectors.get_note(user_manager, person, note.pk) == note
    assert selectors.get_statistic(user_manager, person, statistic.pk) == statistic
    assert selectors.get_block(user_manager, person, block.pk) == block
    assert selectors.get_attachment(user_manager, person, attachment.pk) == attachment
    identifiers = selectors.identifiers_of(user_manager, person)
    assert [i.id_type for i in identifiers] == ["PRIMARY", "BARCODE"]


def test_entries_of_other_users_unknown_kinds_and_missing_entries_are_not_found(
    user_manager, person, other
):
    email = other.emails.get()
    note = actions.add_note(actor=SYSTEM, user=other, note_type="OTHER", text="not yours")
    with pytest.raises(NotFound):
        selectors.get_contact_entry(user_manager, person, "email", email.pk)
    with pytest.raises(NotFound):
        selectors.contact_entries(user_manager, person, "fax")
    with pytest.raises(NotFound):
        selectors.get_note(user_manager, person, note.pk)
    with pytest.raises(NotFound):
        selectors.get_identifier(user_manager, person, 999999)
    with pytest.raises(NotFound):
        selectors.get_attachment(user_manager, person, 999999)


def test_library_owned_entries_outside_the_scope_are_not_found(as_manager, user_manager, person):
    east = make_library("EAST", "East Library")
    statistic = actions.add_statistic(actor=SYSTEM, user=person, category="LAW", owner=east)
    block = actions.add_block(actor=SYSTEM, user=person, block_type="CONDUCT", owner=east)
    with pytest.raises(NotFound):
        selectors.get_statistic(user_manager, person, statistic.pk)
    with pytest.raises(NotFound):
        selectors.get_block(user_manager, person, block.pk)
    assert not selectors.statistics_of(user_manager, person).exists()

    url = f"/users/{person.pk}"
    assert as_manager.post(f"{url}/statistics/{statistic.pk}/remove/").status_code == 404
    assert as_manager.post(f"{url}/blocks/{block.pk}/remove/").status_code == 404
    assert UserStatistic.objects.filter(pk=statistic.pk).exists()
    assert UserBlock.objects.filter(pk=block.pk).exists()


def test_removing_another_users_entries_through_this_user_is_not_found(as_manager, person, other):
    note = actions.add_note(actor=SYSTEM, user=other, note_type="OTHER", text="not yours")
    statistic = actions.add_statistic(actor=SYSTEM, user=other, category="HIST")
    block = actions.add_block(actor=SYSTEM, user=other, block_type="GENERAL")
    barcode = actions.add_identifier(actor=SYSTEM, user=other, id_type="BARCODE", value="B2")
    email = other.emails.get()
    url = f"/users/{person.pk}"
    for path in (
        f"{url}/notes/{note.pk}/remove/",
        f"{url}/statistics/{statistic.pk}/remove/",
        f"{url}/blocks/{block.pk}/remove/",
        f"{url}/identifiers/{barcode.pk}/remove/",
        f"{url}/contact/email/{email.pk}/remove/",
    ):
        assert as_manager.post(path).status_code == 404, path
    assert other.notes.count() == 1 and other.statistics.count() == 1
    assert other.blocks.count() == 1 and other.identifiers.count() == 2
    assert other.emails.count() == 1
