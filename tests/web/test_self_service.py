"""The patron's own account (/my/, issue 6 item 7): a patron signs in and sees their record,
loans, fees and the notes they may see, and downloads their data -- nothing of anyone else,
no staff page, and no staff permission needed."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from patronage.accounts.actions import add_note
from patronage.audit.models import AuditEvent
from patronage.circulation import actions as circulation
from patronage.privacy.reads import EXPORTED
from tests.circulation.conftest import make_item
from tests.factories import SYSTEM, make_desk, make_library, make_user

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


@pytest.fixture
def patron(db):
    person = make_user(primary_id="pat01", first_name="Pia", last_name="Patron", password=PASSWORD)
    library = make_library()
    make_item(library, barcode="MINE1", title="My Own Book")
    circulation.check_out(actor=SYSTEM, user=person, barcode="MINE1", desk=make_desk(library))
    circulation.create_fee(actor=SYSTEM, user=person, fee_type="OTHER", amount="3.00")
    add_note(
        actor=SYSTEM, user=person, note_type="OTHER", text="Your card is ready", user_viewable=True
    )
    add_note(actor=SYSTEM, user=person, note_type="OTHER", text="Internal: difficult patron")
    return person


@pytest.fixture
def neighbour(db):
    person = make_user(primary_id="nei01", first_name="Ned", last_name="Neighbour")
    library = make_library()
    make_item(library, barcode="THEIRS1", title="Their Secret Book")
    circulation.check_out(actor=SYSTEM, user=person, barcode="THEIRS1", desk=make_desk(library))
    add_note(actor=SYSTEM, user=person, note_type="OTHER", text="Ned's note", user_viewable=True)
    return person


@pytest.fixture
def signed_in(patron) -> Client:
    """The patron, signed in through the sign-in page like anyone else."""
    client = Client()
    response = client.post("/login/", {"username": "PAT01", "password": PASSWORD, "next": ""})
    assert response.status_code == 302
    return client


def test_a_patron_lands_on_their_own_account(signed_in):
    assert signed_in.get("/").headers["Location"] == "/my/"
    page = signed_in.get("/my/")
    assert page.status_code == 200
    html = page.content.decode()
    for shown in ("Pia Patron", "pat01", "My Own Book", "3.00", "Your card is ready"):
        assert shown in html
    assert "Internal: difficult patron" not in html
    assert "Find and manage users" not in html  # no staff menu
    assert "Content-Security-Policy" in page.headers
    assert "<script" not in html and "style=" not in html


def test_nothing_of_anyone_else(signed_in, neighbour):
    html = signed_in.get("/my/").content.decode()
    assert "Their Secret Book" not in html and "Ned" not in html
    data = json.loads(signed_in.get("/my/personal-data/", {"format": "json"}).content)
    assert data["record"]["primary_id"] == "pat01"
    assert "Their Secret Book" not in json.dumps(data) and "nei01" not in json.dumps(data)


@pytest.mark.parametrize(
    "path",
    [
        "/users/",
        "/users/{other}/",
        "/users/{me}/",
        "/users/{other}/personal-data/",
        "/users/{other}/personal-data/download/?format=json",
        "/users/{me}/personal-data/download/?format=json",
        "/privacy/access-log/",
        "/api/v1/users/{other}",
        "/api/v1/users/{other}/personal-data",
        "/api/v1/users/{me}/personal-data",
    ],
)
def test_a_patron_reaches_no_staff_page_nor_anyone_elses_data(signed_in, patron, neighbour, path):
    response = signed_in.get(path.format(me=patron.pk, other=neighbour.pk))
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(verb=EXPORTED).exists()


def test_download_of_ones_own_data_is_logged_and_needs_no_permission(signed_in, patron):
    for fmt, kind in (
        ("xml", "application/xml"),
        ("pdf", "application/pdf"),
        ("html", "text/html"),
    ):
        response = signed_in.get("/my/personal-data/", {"format": fmt})
        assert response.status_code == 200
        assert response["Content-Type"].startswith(kind)
        assert response["Content-Disposition"].startswith("attachment;")
    events = AuditEvent.objects.filter(verb=EXPORTED).order_by("id")
    assert [(e.actor_id, e.subject_id, e.channel, e.details["format"]) for e in events] == [
        (patron.pk, patron.pk, "ui", fmt) for fmt in ("xml", "pdf", "html")
    ]


def test_a_bad_format_is_refused_with_the_reason(signed_in):
    response = signed_in.get("/my/personal-data/", {"format": "docx"})
    assert response.status_code == 422
    assert "Choose one of json, xml, html, pdf" in response.content.decode()
    assert not AuditEvent.objects.filter(verb=EXPORTED).exists()


def test_my_account_needs_a_sign_in(db):
    client = Client()
    for path in ("/my/", "/my/personal-data/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_staff_without_roles_find_their_own_account_linked(as_nobody):
    home = as_nobody.get("/")
    assert home.status_code == 200 and 'href="/my/"' in home.content.decode()
    assert as_nobody.get("/my/").status_code == 200
