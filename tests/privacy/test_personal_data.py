"""The personal-data export (seed 002, Personal Information Letter): everything held about a
user, in JSON, Alma-style XML, an HTML letter and PDF; the letter e-mailed to the patron; the
UI tab, the API and the CLI; every export in the read-access log."""

from __future__ import annotations

import io
import json

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from lxml import etree

from patronage.accounts.actions import add_attachment, add_block, add_contact, add_note
from patronage.audit.models import AuditEvent
from patronage.circulation import actions as circulation
from patronage.errors import Forbidden, ValidationFailed
from patronage.privacy import personal_data
from patronage.privacy.models import AccessReason, PrivacySettings
from patronage.privacy.reads import EXPORTED, VIEWED, record_read
from tests.circulation.conftest import make_item
from tests.factories import SYSTEM, actor_for, make_desk, make_library, make_staff, make_user

pytestmark = pytest.mark.django_db

API = "/api/v1/users/{}/personal-data"
LETTER_API = "/api/v1/users/{}/personal-information-letter"


@pytest.fixture
def patron(db):
    """A patron with something of everything, and a name no Latin-1 font prints."""
    library = make_library()
    desk = make_desk(library)
    person = make_user(
        primary_id="pat01",
        first_name="Łucja",
        last_name="Żółć",
        emails=[{"address": "lucja@example.org", "types": ["personal"], "preferred": True}],
        identifiers=[{"id_type": "BARCODE", "value": "B0001"}],
    )
    add_contact(
        actor=SYSTEM, user=person, kind="phone", data={"number": "+1 555 0100", "types": ["home"]}
    )
    add_note(
        actor=SYSTEM,
        user=person,
        note_type="OTHER",
        text="Welcome to the library",
        user_viewable=True,
    )
    add_note(actor=SYSTEM, user=person, note_type="OTHER", text="Staff only: argued at the desk")
    add_attachment(
        actor=SYSTEM,
        user=person,
        upload=SimpleUploadedFile("consent.txt", b"signed", content_type="text/plain"),
        note="Signed consent",
    )
    make_item(library, barcode="RET1", title="Returned Book")
    circulation.check_out(actor=SYSTEM, user=person, barcode="RET1", desk=desk)
    circulation.return_item(actor=SYSTEM, barcode="RET1", desk=desk)
    make_item(library, barcode="OPEN1", title="Borrowed Book")
    circulation.check_out(actor=SYSTEM, user=person, barcode="OPEN1", desk=desk)
    fee = circulation.create_fee(actor=SYSTEM, user=person, fee_type="OTHER", amount="7.50")
    circulation.pay_fee(actor=SYSTEM, fee=fee, method="CASH", amount="2.50")
    add_block(actor=SYSTEM, user=person, block_type="GENERAL", note="Lost card")
    sponsor = make_user(primary_id="sponsor1", first_name="Sam", last_name="Sponsor")
    helper = make_user(primary_id="helper1", first_name="Hal", last_name="Helper")
    circulation.add_proxy(actor=SYSTEM, proxy=person, sponsor=sponsor)
    circulation.add_proxy(actor=SYSTEM, proxy=helper, sponsor=person)
    viewer = make_staff(first_name="Vera", last_name="Viewer")
    record_read(actor_for(viewer), VIEWED, person.pk, "checking a fine", {})
    return person


@pytest.fixture
def other(db):
    return make_user(primary_id="other01", first_name="Otto", last_name="Other")


@pytest.fixture
def sending(django_capture_on_commit_callbacks):
    """The letter is e-mailed once the transaction commits: run what waits for the commit."""
    return django_capture_on_commit_callbacks


def exports() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(verb=EXPORTED).order_by("id"))


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- what is in it -----------------------------------------------------------------------------


def test_everything_held_is_in_the_data_and_internal_notes_are_not(patron):
    data = personal_data.build(patron)
    assert data["record"]["primary_id"] == "pat01"
    assert data["record"]["full_name"] == "Łucja Żółć"
    assert data["record"]["keep_loan_history"] is False
    assert {i["value"] for i in data["identifiers"]} == {"pat01", "B0001"}
    assert data["contact"]["emails"][0]["address"] == "lucja@example.org"
    assert data["contact"]["phones"][0]["number"] == "+1 555 0100"
    assert [n["text"] for n in data["notes"]] == ["Welcome to the library"]
    assert [b["note"] for b in data["blocks"]] == ["Lost card"]
    assert [a["name"] for a in data["attachments"]] == ["consent.txt"]
    assert [(loan["title"], loan["returned_at"] is None) for loan in data["loans"]] == [
        ("Returned Book", False),
        ("Borrowed Book", True),
    ]
    (fee,) = data["fees"]
    assert str(fee["balance"]) == "5.00"
    assert [t["kind"]["value"] for t in fee["transactions"]] == ["CREATED", "PAYMENT"]
    assert [p["primary_id"] for p in data["proxy_for"]] == ["sponsor1"]
    assert [p["primary_id"] for p in data["proxies"]] == ["helper1"]
    assert [(e["by"], e["what"], e["reason"]) for e in data["access_log"]] == [
        ("Vera Viewer", "viewed", "checking a fine")
    ]
    assert "password" not in json.dumps(data, default=str)


def test_roles_of_a_staff_member_are_in_their_data(db):
    clerk = make_staff("FULFILLMENT_OPERATOR", first_name="Cleo", last_name="Clerk")
    data = personal_data.build(clerk)
    assert "FULFILLMENT_OPERATOR" in [r["code"] for r in data["roles"]]


def test_json_is_the_data(patron):
    parsed = json.loads(personal_data.as_json(personal_data.build(patron)))
    assert parsed["record"]["primary_id"] == "pat01"
    assert parsed["fees"][0]["transactions"][1]["amount"] == "-2.50"


def test_xml_is_alma_user_personal_data(patron):
    root = etree.fromstring(personal_data.as_xml(personal_data.build(patron)))
    assert root.tag == "user_personal_data"
    assert root.findtext("user/primary_id") == "pat01"
    assert root.findtext("user/last_name") == "Żółć"
    assert root.findtext("user/contact_info/emails/email/email_address") == "lucja@example.org"
    assert root.findtext("user/user_identifiers/user_identifier/value") == "B0001"
    assert [n.findtext("note_text") for n in root.iterfind("user/user_notes/user_note")] == [
        "Welcome to the library"
    ]
    assert root.findtext("user/proxy_for_users/proxy_for_user/primary_id") == "sponsor1"
    assert root.find("item_loans").get("total_record_count") == "2"
    assert root.find("fees/fee/transactions").__len__() == 2
    assert root.findtext("proxy_users/proxy_user/primary_id") == "helper1"
    assert root.findtext("access_events/access_event/reason") == "checking a fine"
    assert root.findtext("attachments/attachment/file_name") == "consent.txt"


def test_html_letter_and_pdf(patron):
    data = personal_data.build(patron)
    html = personal_data.as_html(data).decode()
    assert "Personal information of Łucja Żółć" in html
    assert "Welcome to the library" in html and "Borrowed Book" in html and "Hal Helper" in html
    assert "Staff only" not in html
    assert "<script" not in html and "<style" not in html and "style=" not in html
    pdf = personal_data.as_pdf(data)
    assert pdf.startswith(b"%PDF-") and len(pdf) > 1000


# --- the API -----------------------------------------------------------------------------------


def test_api_export_for_the_permission_holder_is_logged(user_manager, patron):
    response = client_for(user_manager).get(API.format(patron.pk), {"format": "xml"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    assert 'filename="personal-data-pat01-' in response["Content-Disposition"]
    assert etree.fromstring(response.content).findtext("user/primary_id") == "pat01"
    (event,) = exports()
    assert (event.actor_id, event.subject_id, event.channel) == (user_manager.pk, patron.pk, "api")
    assert event.details == {"export": "personal_data", "format": "xml"}


@pytest.mark.parametrize("fmt", ["json", "html", "pdf"])
def test_api_export_formats(user_manager, patron, fmt):
    response = client_for(user_manager).get(API.format(patron.pk), {"format": fmt})
    assert response.status_code == 200
    assert response["Content-Type"] == personal_data.CONTENT_TYPES[fmt]


def test_api_export_refused_without_the_permission(desk_operator, patron):
    response = client_for(desk_operator).get(API.format(patron.pk))
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert not exports()


def test_api_export_of_a_missing_user_is_404_and_a_bad_format_422(user_manager, patron):
    client = client_for(user_manager)
    assert client.get(API.format(999_999)).status_code == 404
    bad = client.get(API.format(patron.pk), {"format": "docx"})
    assert bad.status_code == 422
    assert not exports()


def test_api_export_needs_the_reason_when_the_setting_requires_it(user_manager, patron):
    PrivacySettings.objects.update_or_create(
        pk=1, defaults={"access_reason": AccessReason.REQUIRED}
    )
    client = client_for(user_manager)
    refused = client.get(API.format(patron.pk))
    assert refused.status_code == 422 and refused.json()["code"] == "access_reason_required"
    given = client.get(API.format(patron.pk), HTTP_X_ACCESS_REASON="Patron asked at the desk")
    assert given.status_code == 200
    assert [e.reason for e in exports()] == ["Patron asked at the desk"]


def test_api_letter_is_emailed_with_the_xml_attached(desk_operator, patron, sending):
    with sending(execute=True):
        response = client_for(desk_operator).post(LETTER_API.format(patron.pk))
    assert response.status_code == 200, response.content
    assert response.json() == {"sent_to": "lucja@example.org"}
    (message,) = mail.outbox
    assert message.to == ["lucja@example.org"]
    assert "Dear Łucja Żółć" in message.body
    ((name, content, kind),) = message.attachments
    assert name.endswith(".xml") and kind == "application/xml"
    assert etree.fromstring(content).findtext("user/primary_id") == "pat01"
    (event,) = exports()
    assert event.details["export"] == "personal_information_letter"
    assert (event.actor_id, event.channel) == (desk_operator.pk, "api")


def test_api_letter_refused_without_email_without_permission_and_for_missing_users(
    desk_operator, no_roles, other
):
    client = client_for(desk_operator)
    no_email = client.post(LETTER_API.format(other.pk))
    assert no_email.status_code == 422
    assert no_email.json()["code"] == "no_email"
    assert "has no e-mail address" in no_email.json()["message"]
    assert client.post(LETTER_API.format(999_999)).status_code == 404
    assert client_for(no_roles).post(LETTER_API.format(other.pk)).status_code == 403
    assert not mail.outbox and not exports()


def test_a_user_restricted_for_editing_gets_the_letter_only_from_who_may_edit_them(
    desk_operator, admin, other, sending
):
    add_contact(
        actor=SYSTEM,
        user=other,
        kind="email",
        data={"address": "otto@example.org", "types": ["personal"]},
    )
    other.restricted_for_editing = True
    other.save(update_fields=["restricted_for_editing"])
    refused = client_for(desk_operator).post(LETTER_API.format(other.pk))
    assert refused.status_code == 403 and refused.json()["code"] == "restricted_for_editing"
    with sending(execute=True):
        assert client_for(admin).post(LETTER_API.format(other.pk)).status_code == 200
    assert [m.to for m in mail.outbox] == [["otto@example.org"]]


# --- actions -----------------------------------------------------------------------------------


def test_export_actions_refuse_without_permission_and_bad_formats(desk_operator, patron):
    with pytest.raises(Forbidden):
        personal_data.export(actor=actor_for(desk_operator), user=patron, fmt="json")
    with pytest.raises(ValidationFailed) as bad:
        personal_data.export(actor=SYSTEM, user=patron, fmt="docx")
    assert bad.value.code == "invalid_format"


# --- the staff UI ------------------------------------------------------------------------------


def test_ui_tab_download_and_letter(settings, user_manager, patron, sending):
    settings.SECURE_SSL_REDIRECT = False
    client = client_for(user_manager)
    tab = client.get(f"/users/{patron.pk}/personal-data/")
    assert tab.status_code == 200
    page = tab.content.decode()
    assert "Send the Personal Information Letter" in page and "lucja@example.org" in page
    assert f"/users/{patron.pk}/personal-data/download/?format=pdf" in page
    download = client.get(f"/users/{patron.pk}/personal-data/download/", {"format": "html"})
    assert download.status_code == 200
    assert "Personal information of Łucja Żółć" in download.content.decode()
    assert download["Content-Disposition"].startswith("attachment;")
    (event,) = exports()
    assert (event.channel, event.details["format"]) == ("ui", "html")
    with sending(execute=True):
        sent = client.post(
            f"/users/{patron.pk}/personal-data/letter/", {"reason": "Asked by e-mail"}
        )
    assert sent.status_code == 200 and "on its way" in sent.content.decode()
    assert len(mail.outbox) == 1 and exports()[-1].reason == "Asked by e-mail"


def test_ui_desk_operator_sends_the_letter_without_seeing_the_address(
    settings, desk_operator, patron, sending
):
    settings.SECURE_SSL_REDIRECT = False
    client = client_for(desk_operator)
    page = client.get(f"/users/{patron.pk}/personal-data/").content.decode()
    assert "Send the Personal Information Letter" in page
    assert "lucja@example.org" not in page and "/download/" not in page
    assert client.get(f"/users/{patron.pk}/personal-data/download/?format=json").status_code == 403
    with sending(execute=True):
        assert client.post(f"/users/{patron.pk}/personal-data/letter/").status_code == 200
    assert mail.outbox[0].to == ["lucja@example.org"]


def test_ui_refusals(settings, user_manager, no_roles, other):
    settings.SECURE_SSL_REDIRECT = False
    client = client_for(user_manager)
    assert client_for(no_roles).get(f"/users/{other.pk}/personal-data/").status_code == 403
    assert client.get("/users/999999/personal-data/").status_code == 404
    bad = client.get(f"/users/{other.pk}/personal-data/download/", {"format": "exe"})
    assert bad.status_code == 422 and "Choose one of json, xml, html, pdf" in bad.content.decode()
    no_email = client.post(f"/users/{other.pk}/personal-data/letter/")
    assert no_email.status_code == 422
    assert "has no e-mail address" in no_email.content.decode()
    assert client.get(f"/users/{other.pk}/personal-data/letter/").status_code == 405
    assert not exports() and not mail.outbox


# --- the CLI -----------------------------------------------------------------------------------


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("privacy", *args, stdout=out)
    return out.getvalue()


def test_cli_export_to_stdout_and_file(patron, user_manager, tmp_path):
    parsed = json.loads(run("export", "pat01", "--format", "json"))
    assert parsed["record"]["primary_id"] == "pat01"
    target = tmp_path / "letter.pdf"
    run(
        "export",
        "PAT01",
        "--format",
        "pdf",
        "--output",
        str(target),
        "--as",
        user_manager.primary_id,
    )
    assert target.read_bytes().startswith(b"%PDF-")
    first, second = exports()
    assert (first.actor_id, first.channel, first.details["format"]) == (None, "cli", "json")
    assert (second.actor_id, second.details["format"]) == (user_manager.pk, "pdf")


def test_cli_refusals(patron, desk_operator):
    with pytest.raises(CommandError, match="give --output"):
        run("export", "pat01", "--format", "pdf")
    with pytest.raises(CommandError, match="may not run this command"):
        run("export", "pat01", "--as", desk_operator.primary_id)
    with pytest.raises(CommandError, match="No user with primary ID 'nobody'"):
        run("export", "nobody")
    assert not exports()


def test_cli_send_letter(patron, other, sending):
    with sending(execute=True):
        assert "sent to lucja@example.org" in run("send-letter", "pat01")
    assert len(mail.outbox) == 1
    with pytest.raises(CommandError, match="has no e-mail address"):
        run("send-letter", "other01")
