"""User Details (seed 002 "Editing Users"): tabs, the General tab form, the History tab."""

from __future__ import annotations

import re

import pytest

from patronage.accounts import actions
from patronage.accounts.models import User
from patronage.audit.actions import record
from patronage.audit.models import AuditEvent
from patronage.privacy.reads import READ_VERBS
from tests.factories import SYSTEM, make_library, make_user

pytestmark = pytest.mark.django_db
TABS = ("general", "contact", "identifiers", "notes", "blocks", "statistics", "attachments")


@pytest.fixture
def person():
    return make_user(
        first_name="Ada",
        last_name="Lovelace",
        pref_first_name="Augusta",
        emails=[{"address": "ada@example.org", "types": ["personal"]}],
    )


def test_every_tab_opens_as_a_full_page_and_as_an_htmx_partial(as_manager, person):
    for tab in (*TABS, "history"):
        page = as_manager.get(f"/users/{person.pk}/", {"tab": tab})
        assert page.status_code == 200, tab
        assert "<html" in page.content.decode()
        partial = as_manager.get(
            f"/users/{person.pk}/", {"tab": tab}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="user-tabs"
        )
        html = partial.content.decode()
        assert partial.status_code == 200 and "<html" not in html
        assert f'id="tab-{tab}"' in html


def test_the_general_tab_shows_the_record_and_who_made_it(as_manager, person):
    html = as_manager.get(f"/users/{person.pk}/").content.decode()
    assert "Augusta Lovelace" in html
    assert "Undergraduate student" in html  # the code's description, not the code
    assert "Record information" in html and "System" in html  # created via


def test_a_nonexistent_user_is_not_found(as_manager):
    assert as_manager.get("/users/999999/").status_code == 404
    assert as_manager.post("/users/999999/edit/", {"first_name": "X"}).status_code == 404


def test_staff_without_roles_are_refused(as_nobody, person):
    assert as_nobody.get(f"/users/{person.pk}/").status_code == 403


def test_contact_users_have_no_identifiers_or_blocks_tabs(as_manager):
    contact = make_user(record_type="CONTACT", user_group="")
    html = as_manager.get(f"/users/{contact.pk}/").content.decode()
    assert "?tab=contact" in html
    assert "?tab=identifiers" not in html and "?tab=blocks" not in html
    html = as_manager.get(f"/users/{contact.pk}/", {"tab": "blocks"}).content.decode()
    assert 'id="tab-general"' in html


def test_the_history_tab_needs_its_permission(as_desk, person):
    html = as_desk.get(f"/users/{person.pk}/").content.decode()
    assert "?tab=history" not in html
    assert (
        'id="tab-history"'
        not in as_desk.get(f"/users/{person.pk}/", {"tab": "history"}).content.decode()
    )


def test_a_picture_is_shown_when_a_picture_server_is_configured(as_manager, person):
    actions.update_settings(
        actor=SYSTEM, changes={"photo_server_url": "https://pics.example.edu/users/"}
    )
    html = as_manager.get(f"/users/{person.pk}/").content.decode()
    assert f'src="https://pics.example.edu/users/{person.primary_id}.png"' in html
    actions.update_settings(actor=SYSTEM, changes={"photo_identifier_type": "BARCODE"})
    assert "pics.example.edu" not in as_manager.get(f"/users/{person.pk}/").content.decode()
    actions.add_identifier(actor=SYSTEM, user=person, id_type="BARCODE", value="B77")
    assert "users/B77.png" in as_manager.get(f"/users/{person.pk}/").content.decode()


# --- editing the General tab --------------------------------------------------------------


def general_form(user, **changes):
    from patronage.web.views.details import general_values

    values = {k: v for k, v in general_values(user).items() if v not in ("", [])}
    values.update(changes)
    return values


def test_edit_form_opens_with_the_current_values(as_manager, person):
    html = as_manager.get(
        f"/users/{person.pk}/", {"tab": "general", "edit": "general"}
    ).content.decode()
    assert 'id="general-form"' in html and 'value="Lovelace"' in html


def test_editing_changes_only_what_was_changed_and_shows_in_history(as_manager, person):
    response = as_manager.post(
        f"/users/{person.pk}/edit/",
        general_form(person, last_name="King", expiry_date="2030-01-31"),
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.last_name == "King" and str(person.expiry_date) == "2030-01-31"
    event = AuditEvent.objects.filter(subject=person, verb="user.updated").get()
    assert {c["field"] for c in event.changes} == {"last_name", "expiry_date"}
    assert event.channel == "ui"
    html = as_manager.get(f"/users/{person.pk}/", {"tab": "history"}).content.decode()
    assert "Last name" in html and "Lovelace" in html and "King" in html


def test_saving_without_changes_writes_nothing(as_manager, person):
    writes = AuditEvent.objects.exclude(verb__in=READ_VERBS)  # showing the record is a read
    before = writes.count()
    response = as_manager.post(f"/users/{person.pk}/edit/", general_form(person), follow=True)
    assert "Nothing was changed" in response.content.decode()
    assert writes.count() == before


def test_bad_input_is_shown_beside_the_field_and_nothing_changes(as_manager, person):
    response = as_manager.post(
        f"/users/{person.pk}/edit/",
        general_form(person, last_name="", expiry_date="2030-05-01", purge_date="2020-01-01"),
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="f-last_name-error"' in html and "Last name is mandatory" in html
    assert 'id="f-purge_date-error"' in html
    assert 'value="2030-05-01"' in html  # input kept
    person.refresh_from_db()
    assert person.last_name == "Lovelace" and person.expiry_date is None


def test_a_malformed_date_is_a_field_error_not_a_crash(as_manager, person):
    response = as_manager.post(
        f"/users/{person.pk}/edit/", general_form(person, birth_date="31/12/1999")
    )
    assert response.status_code == 422
    assert 'id="f-birth_date-error"' in response.content.decode()


def test_editing_through_htmx_returns_the_tabs(as_manager, person):
    response = as_manager.post(
        f"/users/{person.pk}/edit/",
        general_form(person, first_name="Ada Augusta"),
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="user-tabs",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and "was saved" in html
    bad = as_manager.post(
        f"/users/{person.pk}/edit/",
        general_form(person, first_name=""),
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="user-tabs",
    )
    assert bad.status_code == 422 and "<html" not in bad.content.decode()


def test_staff_who_may_only_view_cannot_edit(as_desk, person):
    html = as_desk.get(f"/users/{person.pk}/").content.decode()
    assert 'id="edit-general"' not in html
    response = as_desk.post(f"/users/{person.pk}/edit/", general_form(person, last_name="X"))
    assert response.status_code == 403
    assert User.objects.get(pk=person.pk).last_name == "Lovelace"


def test_the_edit_url_only_accepts_posts(as_manager, person):
    assert as_manager.get(f"/users/{person.pk}/edit/").status_code == 405


# --- library-owned entries (library independence) -----------------------------------------


def test_notes_of_libraries_outside_the_scope_do_not_show(as_manager, person):
    east = make_library("EAST", "East Library")
    actions.add_note(actor=SYSTEM, user=person, note_type="OTHER", text="Institution note")
    hidden = actions.add_note(
        actor=SYSTEM, user=person, note_type="OTHER", text="East-only note", owner=east
    )
    html = as_manager.get(f"/users/{person.pk}/", {"tab": "notes"}).content.decode()
    assert "Institution note" in html and "East-only note" not in html
    response = as_manager.post(f"/users/{person.pk}/notes/{hidden.pk}/remove/")
    assert response.status_code == 404
    assert person.notes.filter(pk=hidden.pk).exists()


# --- the edit form follows the record type ------------------------------------------------


def test_the_edit_form_refreshes_user_groups_when_the_record_type_changes(as_manager, person):
    form = as_manager.get(
        f"/users/{person.pk}/", {"tab": "general", "edit": "general"}
    ).content.decode()
    assert f'hx-get="/users/{person.pk}/edit/options/"' in form
    assert '<div id="general-group-fields" class="grid-contents">' in form
    html = as_manager.get(
        f"/users/{person.pk}/edit/options/",
        {"record_type": "STAFF", "user_group": "FACULTY", "job_category": ""},
    ).content.decode()
    assert "<html" not in html and 'id="general-group-fields"' in html
    assert 'value="STAFF"' in html and 'value="UNDERGRAD"' not in html
    assert 'value="FACULTY" selected' in html  # allowed for staff too, so kept
    assert 'value="SYSTEMS"' in html  # staff job categories
    # an unknown record type falls back to the user's own
    html = as_manager.get(
        f"/users/{person.pk}/edit/options/", {"record_type": "ROBOT"}
    ).content.decode()
    assert 'value="UNDERGRAD"' in html and 'value="STAFF"' not in html


def test_the_edit_form_lists_need_the_edit_permission(as_desk, as_manager, person):
    url = f"/users/{person.pk}/edit/options/"
    assert as_desk.get(url, {"record_type": "STAFF"}).status_code == 403
    assert as_manager.get("/users/999999/edit/options/").status_code == 404


# --- the History tab reads like the record ------------------------------------------------


def _history_rows(client, user):
    html = client.get(f"/users/{user.pk}/", {"tab": "history"}).content.decode()
    cells = re.findall(
        r'<td>([^<]*)</td>\s*<td class="old">([^<]*)</td>\s*<td class="new">([^<]*)</td>', html
    )
    newest_first: dict[str, tuple[str, str]] = {}
    for field, old, new in cells:
        newest_first.setdefault(field, (old, new))
    return newest_first


def test_history_shows_field_labels_and_code_descriptions(as_manager, person):
    actions.update_user(
        actor=SYSTEM,
        user=person,
        fields={
            "user_group": "GRAD",
            "preferred_language": "fr",
            "campus_code": "MED",
            "user_title": "Dr",
            "status": "INACTIVE",
            "gender": "FEMALE",
            "account_type": "INTERNAL_EXTERNAL_AUTH",
            "library_notices": ["OVERDUE", "COURTESY"],
        },
    )
    rows = _history_rows(as_manager, person)
    assert rows["User group"] == ("Undergraduate student", "Graduate student")
    assert rows["Preferred language"] == ("", "French")
    assert rows["Campus"] == ("", "Medical campus")
    assert rows["Title"] == ("", "Dr")
    assert rows["Status"] == ("Active", "Inactive")
    assert rows["Gender"] == ("", "Female")
    assert rows["Account type"] == ("Internal", "Internal with external authentication")
    assert rows["Patron letters"] == ("", "Courtesy notice (due soon), Overdue notice")
    assert rows["Record type"] == ("", "Public")  # the user's creation


def test_history_falls_back_to_the_code_when_it_left_the_table(as_manager, person):
    actions.save_code_entry(
        actor=SYSTEM,
        table="USER_GROUP",
        code="GRAD",
        description="Graduate student",
        record_types=["PUBLIC"],
        enabled=False,
    )
    record(
        actor=SYSTEM,
        verb="user.updated",
        obj=person,
        subject=person,
        changes=[
            {"field": "user_group", "old": "RETIRED_GROUP", "new": "GRAD"},
            {"field": "job_category", "old": None, "new": "GONE"},
            {"field": "first_name", "old": "ADA", "new": "Ada"},
        ],
    )
    rows = _history_rows(as_manager, person)
    # a disabled value still has its description; a deleted one shows as stored
    assert rows["User group"] == ("RETIRED_GROUP", "Graduate student")
    assert rows["Job category"] == ("", "GONE")
    assert rows["First name"] == ("ADA", "Ada")  # not a code field: as recorded
