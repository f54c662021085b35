"""The directory under /api/v1/directory/: staff read units (with their liaisons and
approvers), leads and holidays; Library IT keeps them. The allowed caller succeeds, one without
the permission gets 403, an unknown object 404, bad input 422, a unit in use 409."""

from __future__ import annotations

import pytest

from patronage.accounts.models import User
from patronage.approvals.models import Holiday, Placement, Steward, Unit, UnitContact
from patronage.audit.models import AuditEvent
from tests.api.client import ApiClient
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False


def test_staff_read_who_their_liaisons_approvers_and_leads_are(org, no_roles):
    staff = ApiClient(org.colleague)
    units = staff.get("/directory/units")
    assert units.status_code == 200
    (unit,) = units.json_body
    assert unit["code"] == "ACCESS" and unit["library"] == org.unit.library.code
    assert [(c["duty"], c["primary_id"]) for c in unit["contacts"]] == [("LIAISON", "lia")]
    leads = staff.get("/directory/stewards", role_type="fulfillment").json_body
    assert [(s["duty"], s["primary_id"]) for s in leads] == [("AREA_LEAD", "flo")]
    assert len(staff.get("/directory/stewards").json_body) == 4
    assert staff.get(f"/directory/units/{org.unit.pk}").json_body["name"] == "Access Services"
    assert staff.get("/directory/units/999999").status_code == 404
    # Who supervises whom, and every change, is Library IT's.
    assert staff.get("/directory/placements").status_code == 403
    assert staff.post("/directory/units", {"code": "X", "name": "X"}).status_code == 403
    assert ApiClient(no_roles).get("/directory/units").status_code == 403


def test_library_it_keeps_units_and_their_liaisons_and_approvers(org):
    it = ApiClient(org.it)
    created = it.post("/directory/units", {"code": "law", "name": "Law Library"})
    assert created.status_code == 201, created.json_body
    law = created.json_body
    assert law["code"] == "LAW" and law["contacts"] == []
    duplicate = it.post("/directory/units", {"code": "LAW", "name": "Again"})
    assert duplicate.status_code == 422
    assert duplicate.json_body["errors"]["code"] == "A unit with the code LAW exists."
    changed = it.call(
        "PUT",
        f"/directory/units/{law['id']}",
        {"code": "LAW", "name": "Law", "library_id": org.unit.library_id},
    )
    assert changed.status_code == 200 and changed.json_body["library_id"] == org.unit.library_id
    assert it.call("PUT", "/directory/units/999999", {"code": "Y", "name": "Y"}).status_code == 404
    bad_library = it.call(
        "PUT", f"/directory/units/{law['id']}", {"code": "L", "name": "L", "library_id": 9999}
    )
    assert bad_library.status_code == 422 and "library_id" in bad_library.json_body["errors"]

    approver = it.post(
        f"/directory/units/{law['id']}/contacts", {"user_id": org.colleague.pk, "duty": "APPROVER"}
    )
    assert approver.status_code == 201
    (contact,) = approver.json_body["contacts"]
    assert (contact["duty"], contact["primary_id"]) == ("APPROVER", "cole")
    again = it.post(
        f"/directory/units/{law['id']}/contacts", {"user_id": org.colleague.pk, "duty": "APPROVER"}
    )
    assert again.status_code == 422
    patron = make_user()
    not_staff = it.post(
        f"/directory/units/{law['id']}/contacts", {"user_id": patron.pk, "duty": "LIAISON"}
    )
    assert not_staff.status_code == 422
    assert not_staff.json_body["errors"]["user_id"] == "No such staff member."
    wrong_unit = f"/directory/units/{org.unit.pk}/contacts/{contact['id']}"
    assert it.delete(wrong_unit).status_code == 404
    assert it.delete(f"/directory/units/{law['id']}/contacts/{contact['id']}").status_code == 204
    assert not UnitContact.objects.filter(pk=contact["id"]).exists()

    assert it.delete(f"/directory/units/{law['id']}").status_code == 204
    assert not Unit.objects.filter(pk=law["id"]).exists()
    verbs = set(AuditEvent.objects.values_list("verb", flat=True))
    assert {"unit.created", "unit.updated", "unit_contact.added", "unit.deleted"} <= verbs


def test_a_unit_staff_are_placed_in_is_not_deleted(org):
    refused = ApiClient(org.it).delete(f"/directory/units/{org.unit.pk}")
    assert refused.status_code == 409
    assert refused.json_body["code"] == "unit_in_use"
    assert "3 staff members placed there" in refused.json_body["message"]
    assert Unit.objects.filter(pk=org.unit.pk).exists()
    assert UnitContact.objects.filter(unit=org.unit).exists()


def test_leads_placements_and_holidays(org):
    it = ApiClient(org.it)
    lead = it.post(
        "/directory/stewards",
        {"user_id": org.colleague.pk, "duty": "AREA_LEAD", "role_type": "acquisitions"},
    )
    assert lead.status_code == 201 and lead.json_body["role_type"] == "ACQUISITIONS"
    no_type = it.post("/directory/stewards", {"user_id": org.colleague.pk, "duty": "AREA_LEAD"})
    assert no_type.status_code == 422
    assert no_type.json_body["errors"]["role_type"] == "Choose the role type the lead owns."
    assert it.delete(f"/directory/stewards/{lead.json_body['id']}").status_code == 204
    assert it.delete(f"/directory/stewards/{lead.json_body['id']}").status_code == 404
    assert not Steward.objects.filter(user=org.colleague).exists()

    law = Unit.objects.create(code="LAW", name="Law")
    placed = it.call(
        "PUT",
        f"/directory/placements/{org.colleague.pk}",
        {"unit_id": law.pk, "supervisor_id": org.liaison.pk},
    )
    assert placed.status_code == 200, placed.json_body
    assert placed.json_body["unit"] == "LAW"
    assert placed.json_body["supervisor"]["primary_id"] == "lia"
    assert Placement.objects.get(user=org.colleague).unit == law
    own = it.call(
        "PUT",
        f"/directory/placements/{org.colleague.pk}",
        {"unit_id": law.pk, "supervisor_id": org.colleague.pk},
    )
    assert own.status_code == 422
    assert own.json_body["errors"]["supervisor"] == "Nobody supervises themself."
    assert it.call("PUT", "/directory/placements/999999", {"unit_id": law.pk}).status_code == 404
    listed = it.get("/directory/placements", unit_id=law.pk).json_body
    assert [p["primary_id"] for p in listed] == ["cole"]

    added = it.post("/directory/holidays", {"date": "2026-12-25", "name": "Christmas"})
    assert added.status_code == 201
    assert (
        it.post("/directory/holidays", {"date": "2026-12-25", "name": "Again"}).status_code == 422
    )
    assert it.post("/directory/holidays", {"date": "someday", "name": "X"}).status_code == 422
    assert ApiClient(org.colleague).get("/directory/holidays").json_body[0]["name"] == "Christmas"
    assert it.delete(f"/directory/holidays/{added.json_body['id']}").status_code == 204
    assert not Holiday.objects.exists()


def test_publishing_the_privacy_forms_and_the_confidentiality_policy(org, no_roles):
    from patronage.approvals.acknowledgements import acknowledgement_required

    it = ApiClient(org.it)
    before = {f["variant"]: f["version"] for f in it.get("/privacy-forms").json_body}
    published = it.post(
        "/privacy-forms", {"variant": "STUDENT", "title": "Student form", "text": "I will."}
    )
    assert published.status_code == 201
    assert published.json_body["version"] == before["STUDENT"] + 1
    newest = ApiClient(org.colleague).get("/privacy-forms", variant="student").json_body[0]
    assert newest["title"] == "Student form"
    assert (
        it.post("/privacy-forms", {"variant": "OTHER", "title": "T", "text": "x"}).status_code
        == 422
    )
    assert (
        it.post("/privacy-forms", {"variant": "STAFF", "title": "", "text": "x"}).status_code == 422
    )
    assert (
        ApiClient(org.colleague)
        .post("/privacy-forms", {"variant": "STAFF", "title": "T", "text": "x"})
        .status_code
        == 403
    )

    # Until a policy is published, nobody is asked to acknowledge it.
    assert not acknowledgement_required(org.it)
    policy = it.post("/confidentiality-policy", {"title": "Confidentiality", "text": "Keep it."})
    assert policy.status_code == 201 and policy.json_body["version"] == 1
    assert acknowledgement_required(User.objects.get(pk=org.it.pk))
    state = it.get("/confidentiality-policy").json_body
    assert state["required"] and state["policy"]["title"] == "Confidentiality"
    assert it.post("/confidentiality-policy", {"title": "", "text": "x"}).status_code == 422
    assert (
        ApiClient(no_roles).post("/confidentiality-policy", {"title": "T", "text": "x"}).status_code
        == 403
    )
