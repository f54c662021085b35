"""Seed 000 in the staff UI: staff who may find users but not see patrons' details get the
user's card (name, primary ID, record type, user group, status, expiry, picture, whether
blocked) and nothing else; the search lists only the card's columns. Library independence:
notes of libraries outside the viewer's scope do not set the Notes column."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from patronage.accounts import actions
from patronage.accounts.models import UserNote
from tests.factories import SYSTEM, make_library, make_staff, make_user
from tests.web.conftest import login

pytestmark = pytest.mark.django_db
DETAIL_TABS = ("general", "contact", "identifiers", "notes", "blocks", "statistics", "attachments")


@pytest.fixture
def patron():
    user = make_user(
        primary_id="card1",
        first_name="Carla",
        last_name="Card",
        user_group="GRAD",
        birth_date="1990-04-01",
        expiry_date="2000-01-31",
        identifiers=[{"id_type": "BARCODE", "value": "CB-1"}],
        emails=[{"address": "carla@example.org", "types": ["personal"]}],
        addresses=[{"line1": "1 Hidden Lane", "types": ["home"]}],
    )
    actions.add_note(actor=SYSTEM, user=user, note_type="OTHER", text="Confidential note")
    actions.add_block(actor=SYSTEM, user=user, block_type="CONDUCT", note="Shouted at staff")
    return user


def test_a_desk_operator_sees_only_the_card(as_desk, patron):
    response = as_desk.get(f"/users/{patron.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="user-card"' in html
    assert "Carla Card" in html and "card1" in html and "Graduate student" in html
    assert "2000-01-31" in html and 'id="card-expired"' in html
    assert "Yes — see a supervisor" in html
    for secret in (
        "carla@example.org",
        "Hidden Lane",
        "Confidential note",
        "Shouted at staff",
        "Conduct",
        "1990-04-01",
        "CB-1",
        "Record information",
    ):
        assert secret not in html, secret
    for tab in (*DETAIL_TABS, "history"):
        assert f"?tab={tab}" not in html, tab


@pytest.mark.parametrize("tab", [*DETAIL_TABS, "history"])
def test_asking_for_a_detail_tab_shows_the_card(as_desk, patron, tab):
    for headers in ({}, {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "user-tabs"}):
        html = as_desk.get(f"/users/{patron.pk}/", {"tab": tab}, **headers).content.decode()
        assert 'id="tab-card"' in html and f'id="tab-{tab}"' not in html
        assert "carla@example.org" not in html and "Confidential note" not in html


def test_an_unblocked_user_says_so(as_desk):
    person = make_user()
    html = as_desk.get(f"/users/{person.pk}/").content.decode()
    assert "see a supervisor" not in html and 'id="card-expired"' not in html


def test_the_card_shows_the_picture(as_desk, patron):
    actions.update_settings(
        actor=SYSTEM, changes={"photo_server_url": "https://pics.example.edu/users/"}
    )
    html = as_desk.get(f"/users/{patron.pk}/").content.decode()
    assert 'src="https://pics.example.edu/users/card1.png"' in html


def test_staff_allowed_to_see_details_get_the_tabs(patron):
    operator = login(make_staff("FULFILLMENT_OPERATOR_EXTENDED_PLUS"))
    html = operator.get(f"/users/{patron.pk}/", {"tab": "contact"}).content.decode()
    assert 'id="tab-contact"' in html and "carla@example.org" in html
    assert 'id="user-card"' not in html


def test_attachments_are_not_downloaded_by_card_only_staff(as_desk, as_manager, patron):
    upload = SimpleUploadedFile("a.pdf", b"%PDF-1.4 x", content_type="application/pdf")
    attachment = actions.add_attachment(actor=SYSTEM, user=patron, upload=upload)
    assert as_desk.get(f"/users/{patron.pk}/attachments/{attachment.pk}/").status_code == 403
    assert as_manager.get(f"/users/{patron.pk}/attachments/{attachment.pk}/").status_code == 200


def test_an_unknown_user_is_still_not_found(as_desk):
    assert as_desk.get("/users/999999/").status_code == 404


# --- the search list ---------------------------------------------------------------------


def _headers(html: str) -> str:
    return html.split("<thead>", 1)[1].split("</thead>", 1)[0]


def test_card_only_staff_get_only_the_card_columns(as_desk, patron):
    html = as_desk.get("/users/", {"q": "CB-1"}).content.decode()
    assert "Carla Card" in html
    head = _headers(html)
    for label in ("Name", "Primary ID", "Record type", "User group", "Status", "Expiry date"):
        assert label in head
    assert "Blocks" in head and "✓ Blocked" in html
    for label in ("Notes", "Account type", "Job category"):
        assert label not in head
    assert 'title="Has notes"' not in html


def test_staff_allowed_to_see_details_get_the_notes_column(as_manager, patron):
    html = as_manager.get("/users/", {"q": "CB-1"}).content.decode()
    assert "Notes" in _headers(html) and 'title="Has notes"' in html


def test_a_note_of_another_library_does_not_set_the_notes_column(as_manager):
    # The manager's roles are scoped to the main library (tests/conftest.py).
    law = make_library("LAW", "Law Library")
    person = make_user(primary_id="lawonly")
    actions.add_note(actor=SYSTEM, user=person, note_type="OTHER", text="law only", owner=law)
    html = as_manager.get("/users/", {"q": "lawonly"}).content.decode()
    assert "lawonly" in html and 'title="Has notes"' not in html
    actions.add_note(
        actor=SYSTEM, user=person, note_type="OTHER", text="main", owner=make_library()
    )
    html = as_manager.get("/users/", {"q": "lawonly"}).content.decode()
    assert 'title="Has notes"' in html
    assert UserNote.objects.filter(user=person).count() == 2
