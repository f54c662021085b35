"""The legal-process register (seed 000): a request is recorded and escalated, referred to
General Counsel, and records are released only under a validated order, exactly what it
names; only the Privacy Officer and counsel see the register."""

from __future__ import annotations

import datetime
import json

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from patronage.accounts.actions import add_contact, add_note
from patronage.audit.models import AuditEvent
from patronage.errors import Conflict, Forbidden, ValidationFailed
from patronage.privacy import actions
from patronage.privacy.models import LegalRelease, LegalRequest, LegalState
from tests.api.client import ApiClient
from tests.factories import SYSTEM, actor_for, make_staff, make_user

pytestmark = pytest.mark.django_db

REQUEST = {
    "agency": "County Sheriff",
    "agency_contact": "Det. Smith",
    "kind": "subpoena",
    "description": "Borrowing records of two patrons, March 2026",
    "received_on": "2026-11-30",
    "supervisor_email": "supervisor@library.example",
    "director_email": "director@library.example",
}


@pytest.fixture
def officer(db):
    return make_staff("PRIVACY_OFFICER", primary_id="officer")


@pytest.fixture
def counsel(db):
    person = make_staff("GENERAL_COUNSEL", primary_id="counsel")
    add_contact(
        actor=SYSTEM,
        user=person,
        kind="email",
        data={"address": "counsel@university.example", "types": ["work"], "preferred": True},
    )
    return person


@pytest.fixture
def patrons(db):
    named = make_user(primary_id="named01", first_name="Nora", last_name="Named")
    add_note(actor=SYSTEM, user=named, note_type="OTHER", text="Asked about a book")
    add_contact(
        actor=SYSTEM,
        user=named,
        kind="email",
        data={"address": "nora@example.org", "types": ["personal"], "preferred": True},
    )
    other = make_user(primary_id="other01", first_name="Otto", last_name="Other")
    return named, other


def received(officer) -> LegalRequest:
    return actions.record_legal_request(actor=actor_for(officer), fields=dict(REQUEST))


def validated(officer, counsel, patrons, kinds=("record", "contact")) -> LegalRequest:
    legal = received(officer)
    actions.transition(actor=actor_for(officer), request=legal, action="refer")
    return actions.transition(
        actor=actor_for(counsel),
        request=legal,
        action="validate_order",
        order_reference="Superior Court, No. 26-1234, 2026-12-01",
        user_ids=[patrons[0].pk],
        record_kinds=list(kinds),
    )


def test_recording_escalates_to_supervisor_and_director(
    officer, counsel, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        legal = received(officer)
    assert legal.state == LegalState.RECEIVED and legal.reference.startswith("LR-2026-")
    (message,) = mail.outbox
    assert set(message.to) == {REQUEST["supervisor_email"], REQUEST["director_email"]}
    assert legal.reference in message.subject
    with django_capture_on_commit_callbacks(execute=True):
        actions.transition(actor=actor_for(officer), request=legal, action="refer")
    assert mail.outbox[1].to == ["counsel@university.example"]
    assert AuditEvent.objects.filter(verb="legal_request.refer", object_id=str(legal.pk)).exists()


def test_bad_requests_are_refused_field_by_field(officer):
    with pytest.raises(ValidationFailed) as refused:
        actions.record_legal_request(
            actor=actor_for(officer),
            fields={
                **REQUEST,
                "kind": "letter",
                "supervisor_email": "nope",
                "received_on": "2999-01-01",
            },
        )
    assert set(refused.value.errors) == {"kind", "supervisor_email", "received_on"}
    assert not LegalRequest.objects.exists()


def test_transitions_are_enforced(officer, counsel, patrons):
    legal = received(officer)
    with pytest.raises(Conflict, match="received cannot move to order validated"):
        actions.transition(
            actor=actor_for(counsel),
            request=legal,
            action="validate_order",
            order_reference="x",
            user_ids=[patrons[0].pk],
            record_kinds=["record"],
        )
    actions.transition(actor=actor_for(officer), request=legal, action="refer")
    # Counsel's decisions are counsel's.
    with pytest.raises(Forbidden):
        actions.transition(actor=actor_for(officer), request=legal, action="resist")
    legal = actions.transition(
        actor=actor_for(counsel), request=legal, action="resist", notes="No cause shown"
    )
    assert legal.state == LegalState.RESISTED and "No cause shown" in legal.counsel_notes
    legal = actions.transition(actor=actor_for(counsel), request=legal, action="refuse")
    with pytest.raises(Conflict, match="refused cannot move to withdrawn"):
        actions.transition(actor=actor_for(officer), request=legal, action="withdraw")


def test_an_order_must_name_its_patrons_and_records(officer, counsel):
    legal = received(officer)
    actions.transition(actor=actor_for(officer), request=legal, action="refer")
    with pytest.raises(ValidationFailed) as refused:
        actions.transition(
            actor=actor_for(counsel),
            request=legal,
            action="validate_order",
            order_reference="",
            user_ids=[999_999_999],
            record_kinds=["everything"],
        )
    assert set(refused.value.errors) == {"order_reference", "user_ids", "record_kinds"}
    assert LegalRequest.objects.get(pk=legal.pk).state == LegalState.WITH_COUNSEL


def test_no_release_without_a_validated_order(officer, counsel, patrons):
    legal = received(officer)
    actions.transition(actor=actor_for(officer), request=legal, action="refer")
    with pytest.raises(Conflict, match="nothing is released") as refused:
        actions.release_records(actor=actor_for(officer), request=legal)
    assert refused.value.code == "order_not_validated"
    assert not LegalRelease.objects.exists()
    assert not AuditEvent.objects.filter(verb="user.exported").exists()


def test_the_release_holds_exactly_what_the_order_names_and_is_logged(officer, counsel, patrons):
    named, _ = patrons
    legal = validated(officer, counsel, patrons)
    release = actions.release_records(actor=actor_for(officer), request=legal)
    content = release.content
    assert content["legal_release"] is True
    assert content["order"]["record_kinds"] == ["record", "contact"]
    (only,) = content["records"]
    assert only["id"] == named.pk and set(only) == {"id", "record", "contact"}
    assert only["contact"]["emails"] == ["nora@example.org"]
    assert "Asked about a book" not in json.dumps(content)  # notes were not named
    assert "other01" not in json.dumps(content)
    assert LegalRequest.objects.get(pk=legal.pk).state == LegalState.DISCLOSED
    (logged,) = AuditEvent.objects.filter(verb="user.exported")
    assert logged.subject_id == named.pk and legal.reference in logged.reason
    with pytest.raises(Conflict):  # released once
        actions.release_records(actor=actor_for(officer), request=legal)


# --- who sees the register -----------------------------------------------------------------------


def test_only_the_privacy_officer_and_counsel_see_the_register(
    officer, counsel, admin, user_manager
):
    legal = received(officer)
    for person in (officer, counsel):
        assert ApiClient(person).get(f"/legal-requests/{legal.pk}").status_code == 200
    for person in (admin, user_manager):  # not even the system administrator
        assert ApiClient(person).get("/legal-requests").status_code == 403
        client = Client()
        client.force_login(person)
        assert client.get(f"/privacy/legal/{legal.pk}/").status_code == 403
    assert ApiClient(officer).get("/legal-requests/999999999").status_code == 404


# --- the API ------------------------------------------------------------------------------------


def test_the_api_flow_from_receipt_to_release(officer, counsel, patrons):
    named, _ = patrons
    api = ApiClient(officer)
    created = api.post("/legal-requests", REQUEST)
    assert created.status_code == 201
    legal_id = created.json()["id"]
    early = api.post(f"/legal-requests/{legal_id}/release")
    assert early.status_code == 409 and early.json()["code"] == "order_not_validated"
    assert api.post(f"/legal-requests/{legal_id}/refer", {"notes": "Urgent"}).status_code == 200
    officer_tries = api.post(
        f"/legal-requests/{legal_id}/validate-order",
        {"order_reference": "x", "user_ids": [named.pk], "record_kinds": ["record"]},
    )
    assert officer_tries.status_code == 403
    bad = ApiClient(counsel).post(
        f"/legal-requests/{legal_id}/validate-order",
        {"order_reference": "Court order 7", "user_ids": [named.pk], "record_kinds": ["dna"]},
    )
    assert bad.status_code == 422 and "record_kinds" in bad.json()["errors"]
    good = ApiClient(counsel).post(
        f"/legal-requests/{legal_id}/validate-order",
        {"order_reference": "Court order 7", "user_ids": [named.pk], "record_kinds": ["notes"]},
    )
    assert good.status_code == 200 and good.json()["state"] == "order_validated"
    released = api.post(f"/legal-requests/{legal_id}/release")
    assert released.status_code == 200
    body = released.json()
    assert body["legal_release"] and body["records"][0]["notes"][0]["text"] == "Asked about a book"
    assert api.get(f"/legal-requests/{legal_id}/release").json() == body
    upload = api.client.post(
        f"/api/v1/legal-requests/{legal_id}/documents",
        {
            "file": SimpleUploadedFile(
                "order.pdf", b"%PDF-1.4 order", content_type="application/pdf"
            )
        },
    )
    assert upload.status_code == 201 and upload.json()["name"] == "order.pdf"


# --- the staff UI -------------------------------------------------------------------------------


def test_the_ui_records_a_request_and_shows_field_errors(officer):
    client = Client()
    client.force_login(officer)
    bad = client.post("/privacy/legal/new/", {**REQUEST, "agency": "", "kind": "letter"})
    assert bad.status_code == 422
    assert "Required." in bad.content.decode() and not LegalRequest.objects.exists()
    good = client.post("/privacy/legal/new/", REQUEST)
    legal = LegalRequest.objects.get()
    assert good.status_code == 302 and good["Location"] == f"/privacy/legal/{legal.pk}/"
    page = client.get(good["Location"]).content.decode()
    assert "County Sheriff" in page and "Refer to General Counsel" in page
    assert "Record a valid order" not in page  # counsel's, not the officer's
    early = client.post(f"/privacy/legal/{legal.pk}/release/")
    assert early.status_code == 409 and "nothing is released" in early.content.decode()


def test_the_ui_names_unknown_patrons_in_an_order(officer, counsel, patrons):
    legal = received(officer)
    actions.transition(actor=actor_for(officer), request=legal, action="refer")
    client = Client()
    client.force_login(counsel)
    refused = client.post(
        f"/privacy/legal/{legal.pk}/transition/",
        {
            "action": "validate_order",
            "order_reference": "Order 1",
            "patrons": "named01 ghost99",
            "record_kinds": ["record"],
        },
    )
    assert refused.status_code == 422 and "ghost99" in refused.content.decode()
    assert LegalRequest.objects.get(pk=legal.pk).state == LegalState.WITH_COUNSEL


def test_received_on_today_is_accepted(officer):
    legal = actions.record_legal_request(
        actor=actor_for(officer), fields={**REQUEST, "received_on": datetime.date.today()}
    )
    assert legal.received_on == datetime.date.today()
