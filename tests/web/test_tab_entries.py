"""The tabs that hold entries: contact information, identifiers, notes, statistics, blocks,
attachments. Each write goes through one action; errors stay beside their fields."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from patronage.accounts import actions
from patronage.accounts.models import Email, UserAttachment
from tests.factories import SYSTEM, make_library, make_user

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "user-tabs"}


@pytest.fixture
def person():
    return make_user(
        first_name="Ada",
        last_name="Lovelace",
        emails=[{"address": "ada@example.org", "types": ["personal"]}],
    )


# --- contact information ------------------------------------------------------------------


def test_the_contact_tab_offers_only_the_types_of_the_record_type(as_manager, person):
    html = as_manager.get(f"/users/{person.pk}/", {"tab": "contact"}).content.decode()
    assert "ada@example.org" in html
    assert 'value="school"' in html  # public users may have school addresses
    assert 'value="claimMail"' not in html  # contact (vendor) users only


def test_add_an_email(as_manager, person):
    response = as_manager.post(
        f"/users/{person.pk}/contact/email/add/",
        {"address": "ada@work.example", "types": ["work"], "preferred": "1"},
    )
    assert response.status_code == 302
    assert person.emails.get(preferred=True).address == "ada@work.example"


def test_edit_an_email_with_htmx(as_manager, person):
    email = person.emails.get()
    form = as_manager.get(
        f"/users/{person.pk}/", {"tab": "contact", "edit": f"email-{email.pk}"}, **HX
    ).content.decode()
    assert 'value="ada@example.org"' in form
    response = as_manager.post(
        f"/users/{person.pk}/contact/email/{email.pk}/edit/",
        {"address": "countess@example.org", "types": ["personal", "work"]},
        **HX,
    )
    assert response.status_code == 200
    assert "countess@example.org" in response.content.decode()
    email.refresh_from_db()
    assert email.address == "countess@example.org" and email.types == ["personal", "work"]


def test_an_invalid_email_is_refused_beside_the_field_and_nothing_changes(as_manager, person):
    email = person.emails.get()
    response = as_manager.post(
        f"/users/{person.pk}/contact/email/{email.pk}/edit/",
        {"address": "no at sign", "types": ["personal"]},
        **HX,
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert f'id="email-{email.pk}-f-address-error"' in html
    assert 'value="no at sign"' in html
    email.refresh_from_db()
    assert email.address == "ada@example.org"
    response = as_manager.post(f"/users/{person.pk}/contact/phone/add/", {"number": "12"})
    assert response.status_code == 422
    assert 'id="phone-new-f-types-error"' in response.content.decode()
    assert not person.phones.exists()


def test_remove_an_address(as_manager, person):
    address = actions.add_contact(
        actor=SYSTEM, user=person, kind="address", data={"line1": "1 Main St", "types": ["home"]}
    )
    response = as_manager.post(f"/users/{person.pk}/contact/address/{address.pk}/remove/")
    assert response.status_code == 302
    assert not person.addresses.exists()


def test_another_users_entry_or_an_unknown_kind_is_not_found(as_manager, person):
    other = make_user(emails=[{"address": "x@example.org", "types": ["personal"]}])
    theirs = other.emails.get()
    url = f"/users/{person.pk}/contact/email/{theirs.pk}/edit/"
    assert as_manager.post(url, {"address": "y@example.org", "types": ["work"]}).status_code == 404
    assert Email.objects.get(pk=theirs.pk).address == "x@example.org"
    assert as_manager.post(f"/users/{person.pk}/contact/fax/add/", {}).status_code == 404


def test_viewers_cannot_change_contact_information(as_desk, person):
    email = person.emails.get()
    html = as_desk.get(f"/users/{person.pk}/", {"tab": "contact"}).content.decode()
    assert "Add an email address" not in html
    response = as_desk.post(f"/users/{person.pk}/contact/email/{email.pk}/remove/")
    assert response.status_code == 403
    assert person.emails.exists()


# --- identifiers --------------------------------------------------------------------------


def test_identifiers_add_refuse_duplicates_and_keep_the_primary(as_manager, person):
    url = f"/users/{person.pk}/identifiers/add/"
    assert as_manager.post(url, {"id_type": "BARCODE", "value": "B1"}).status_code == 302
    response = as_manager.post(url, {"id_type": "BARCODE", "value": "b1"})
    assert response.status_code == 422
    assert "already in use" in response.content.decode()
    primary = person.identifiers.get(is_primary=True)
    response = as_manager.post(f"/users/{person.pk}/identifiers/{primary.pk}/remove/")
    assert response.status_code == 422
    assert person.identifiers.filter(pk=primary.pk).exists()
    barcode = person.identifiers.get(value="B1")
    assert (
        as_manager.post(f"/users/{person.pk}/identifiers/{barcode.pk}/remove/").status_code == 302
    )
    assert as_manager.post(f"/users/{person.pk}/identifiers/999999/remove/").status_code == 404


# --- notes, statistics, blocks ------------------------------------------------------------


def test_notes_add_and_remove(as_manager, person):
    url = f"/users/{person.pk}/notes/add/"
    response = as_manager.post(url, {"note_type": "OTHER", "text": ""})
    assert response.status_code == 422 and "Enter the text of the note" in response.content.decode()
    assert (
        as_manager.post(url, {"note_type": "OTHER", "text": "Lost card", "popup": "1"}).status_code
        == 302
    )
    note = person.notes.get()
    assert note.popup
    assert as_manager.post(f"/users/{person.pk}/notes/{note.pk}/remove/").status_code == 302
    assert not person.notes.exists()


def test_a_note_cannot_be_given_to_a_library_outside_the_scope(as_manager, person):
    east = make_library("EAST", "East Library")
    response = as_manager.post(
        f"/users/{person.pk}/notes/add/", {"note_type": "OTHER", "text": "x", "owner": east.pk}
    )
    assert response.status_code == 422
    assert "within the scope" in response.content.decode()
    assert not person.notes.exists()


def test_statistics_add_and_remove(as_manager, person):
    url = f"/users/{person.pk}/statistics/add/"
    assert as_manager.post(url, {"category": "NOPE"}).status_code == 422
    assert (
        as_manager.post(url, {"category": "HIST", "category_type": "DEPARTMENT"}).status_code == 302
    )
    statistic = person.statistics.get()
    html = as_manager.get(f"/users/{person.pk}/", {"tab": "statistics"}).content.decode()
    assert "History" in html and "Academic department" in html
    assert (
        as_manager.post(f"/users/{person.pk}/statistics/{statistic.pk}/remove/").status_code == 302
    )


def test_blocks_add_show_and_remove(as_manager, desk_operator, person):
    url = f"/users/{person.pk}/blocks/add/"
    response = as_manager.post(url, {"block_type": "GENERAL", "expiry_date": "soon"})
    assert (
        response.status_code == 422
        and 'id="block-new-f-expiry_date-error"' in response.content.decode()
    )
    assert as_manager.post(url, {"block_type": "GENERAL", "note": "Ask at desk"}).status_code == 302
    html = as_manager.get(f"/users/{person.pk}/", {"tab": "blocks"}).content.decode()
    assert "General block" in html and "Ask at desk" in html
    block = person.blocks.get()
    assert as_manager.post(f"/users/{person.pk}/blocks/{block.pk}/remove/").status_code == 302
    assert not person.blocks.exists()


def test_derived_blocks_show_for_inactive_users(as_manager, person):
    actions.update_user(actor=SYSTEM, user=person, fields={"status": "INACTIVE"})
    html = as_manager.get(f"/users/{person.pk}/", {"tab": "blocks"}).content.decode()
    assert "The account is not active" in html


def test_viewers_cannot_block(as_desk, person):
    assert (
        as_desk.post(f"/users/{person.pk}/blocks/add/", {"block_type": "GENERAL"}).status_code
        == 403
    )
    assert not person.blocks.exists()


# --- attachments --------------------------------------------------------------------------


def upload(name="letter.pdf", content=b"%PDF-1.4 hello"):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def test_attachments_upload_download_remove(as_manager, person):
    url = f"/users/{person.pk}/attachments/add/"
    assert as_manager.post(url, {"file": upload(), "note": "Signed form"}).status_code == 302
    attachment = UserAttachment.objects.get(user=person)
    response = as_manager.get(f"/users/{person.pk}/attachments/{attachment.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 hello"
    assert "attachment" in response["Content-Disposition"]
    assert (
        as_manager.post(f"/users/{person.pk}/attachments/{attachment.pk}/remove/").status_code
        == 302
    )
    assert not UserAttachment.objects.filter(user=person).exists()


def test_a_refused_file_type_or_no_file_is_a_field_error(as_manager, person):
    url = f"/users/{person.pk}/attachments/add/"
    response = as_manager.post(url, {"file": upload("tool.exe", b"MZ")})
    assert response.status_code == 422 and "cannot be attached" in response.content.decode()
    response = as_manager.post(url, {})
    assert response.status_code == 422 and "Choose a file" in response.content.decode()
    assert not UserAttachment.objects.exists()


def test_downloads_check_permission_and_ownership(as_manager, as_nobody, person):
    attachment = actions.add_attachment(actor=SYSTEM, user=person, upload=upload())
    other = make_user()
    assert as_nobody.get(f"/users/{person.pk}/attachments/{attachment.pk}/").status_code == 403
    assert as_manager.get(f"/users/{other.pk}/attachments/{attachment.pk}/").status_code == 404
    assert as_manager.get(f"/users/{person.pk}/attachments/999999/").status_code == 404


def test_viewers_cannot_attach(as_desk, person):
    response = as_desk.post(f"/users/{person.pk}/attachments/add/", {"file": upload()})
    assert response.status_code == 403
    assert not UserAttachment.objects.exists()
