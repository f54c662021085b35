"""Role requests, the directory and separations in the staff UI: the allowed role succeeds,
others get 403, a request out of reach is 404, bad input 422, a step out of order 409."""

from __future__ import annotations

import html

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from patronage.access.models import Role
from patronage.approvals import actions
from patronage.approvals.actions import LineSpec
from patronage.approvals.models import Holiday, Placement, RoleRequest, Separation, Steward, Unit
from tests.approvals.conftest import login
from tests.factories import actor_for

pytestmark = pytest.mark.django_db


def filed(org) -> RoleRequest:
    return actions.file_request(
        actor=actor_for(org.supervisor),
        subject=org.new_hire,
        kind="NEW",
        login_type="CUSTOM",
        rationale="Desk shifts",
        lines=[LineSpec("ADD", Role.objects.get(code="FULFILLMENT_OPERATOR_EXTENDED"), org.desk)],
    )


def test_filing_through_the_form(org):
    client = login(org.supervisor)
    page = client.get("/governance/requests/new/", {"subject": org.new_hire.pk})
    assert page.status_code == 200 and "Staff information" in page.content.decode()
    bad = client.post(
        "/governance/requests/new/",
        {"subject": org.new_hire.pk, "kind": "NEW", "login_type": "CUSTOM", "rationale": ""},
    )
    assert bad.status_code == 422 and "Outline the work" in bad.content.decode()
    response = client.post(
        "/governance/requests/new/",
        {
            "subject": org.new_hire.pk,
            "kind": "NEW",
            "login_type": "CUSTOM",
            "rationale": "Desk shifts",
            "role_0": "FULFILLMENT_OPERATOR_EXTENDED",
            "scope_0": f"CIRCULATION_DESK:{org.desk.pk}",
        },
    )
    request = RoleRequest.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{request.pk}/")
    assert request.lines.get().unit == org.desk


def test_nobody_files_for_strangers(org):
    response = login(org.fulfillment_lead).post(
        "/governance/requests/new/",
        {"subject": org.new_hire.pk, "kind": "NEW", "login_type": "VIEW", "rationale": "x"},
    )
    assert response.status_code == 422
    assert not RoleRequest.objects.exists()


def test_the_lead_decides_on_the_request_page(org):
    request = filed(org)
    line = request.lines.get()
    lead = login(org.fulfillment_lead)
    inbox = lead.get("/governance/requests/").content.decode()
    assert "Decide as functional-area lead" in inbox
    page = lead.get(f"/governance/requests/{request.pk}/").content.decode()
    assert 'id="your-step"' in page
    refused = login(org.analytics_lead).post(
        f"/governance/requests/{request.pk}/decide/", {"line": line.pk, "decision": "approve"}
    )
    assert refused.status_code == 404  # not a request the analytics lead may see
    response = lead.post(
        f"/governance/requests/{request.pk}/decide/", {"line": line.pk, "decision": "approve"}
    )
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.decision == "APPROVED"


def test_steps_out_of_order_and_without_the_permission(org):
    request = filed(org)
    it = login(org.it)
    response = it.post(f"/governance/requests/{request.pk}/production/")
    assert response.status_code == 409 and "not possible now" in response.content.decode()
    assert (
        login(org.supervisor).post(f"/governance/requests/{request.pk}/production/").status_code
        == 403
    )
    assert login(org.supervisor).get("/governance/requests/999999/").status_code == 404


def test_the_person_signs_their_form_without_any_role(org):
    request = filed(org)
    actions.decide_line(
        actor=actor_for(org.fulfillment_lead), line=request.lines.get(), approve=True
    )
    client = login(org.new_hire)
    page = client.get("/governance/privacy-form/").content.decode()
    assert "Data privacy &amp; security responsibilities (staff)" in page
    outdated = client.post("/governance/privacy-form/", {"request": request.pk, "version": 7})
    assert outdated.status_code == 422 and "no longer current" in outdated.content.decode()
    assert (
        client.post("/governance/privacy-form/", {"request": request.pk, "version": 1}).status_code
        == 302
    )
    request.refresh_from_db()
    assert request.status == "AWAITING_SANDBOX"
    assert "No form waits" in client.get("/governance/privacy-form/").content.decode()


def test_the_overdue_list(org):
    request = filed(org)
    RoleRequest.objects.filter(pk=request.pk).update(
        due_at=timezone.now() - timezone.timedelta(days=1)
    )
    page = login(org.it).get("/governance/requests/").content.decode()
    overdue = page[page.index('id="overdue"') : page.index('id="requests"')]
    assert f"/governance/requests/{request.pk}/" in overdue


def test_pages_need_their_permission(org, no_roles):
    client = login(no_roles)  # a staff member without a login model holds no permission
    for path in ("/governance/requests/", "/governance/directory/", "/governance/separations/"):
        assert client.get(path).status_code == 403
    assert login(org.supervisor).get("/governance/directory/").status_code == 403


def test_keeping_the_directory(org):
    client = login(org.it)
    assert client.get("/governance/directory/").status_code == 200
    assert client.post("/governance/directory/units/", {"code": "", "name": ""}).status_code == 422
    assert (
        client.post("/governance/directory/units/", {"code": "law", "name": "Law"}).status_code
        == 302
    )
    law = Unit.objects.get(code="LAW")
    response = client.post(
        "/governance/directory/stewards/",
        {"user": "cole", "duty": "AREA_LEAD", "role_type": "ANALYTICS"},
    )
    assert response.status_code == 302
    assert Steward.objects.filter(user=org.colleague, role_type="ANALYTICS").exists()
    unknown = client.post("/governance/directory/stewards/", {"user": "ghost", "duty": "AREA_LEAD"})
    assert unknown.status_code == 422
    client.post(
        "/governance/directory/placements/", {"user": "cole", "unit": law.pk, "supervisor": "lia"}
    )
    assert Placement.objects.get(user=org.colleague).supervisor == org.liaison
    client.post("/governance/directory/holidays/", {"date": "2026-12-25", "name": "Christmas"})
    holiday = Holiday.objects.get()
    assert client.post(f"/governance/directory/holidays/{holiday.pk}/remove/").status_code == 302
    assert client.post("/governance/directory/holidays/999999/remove/").status_code == 404


def test_separation_upload_reports_each_row(org):
    client = login(org.it)
    today = timezone.localdate().isoformat()
    upload = SimpleUploadedFile(
        "hr.csv", f"primary_id,separation_date\ncole,{today}\nghost,{today}\nlia,soon\n".encode()
    )
    page = client.post("/governance/separations/upload/", {"file": upload}).content.decode()
    assert "1 applied, 2 refused" in page
    assert "No user has this primary ID." in page and "is not a date" in page
    assert Separation.objects.get().user == org.colleague
    assert client.post("/governance/separations/upload/", {}).status_code == 422


def scope_choices(html: str, n: int = 0) -> list[str]:
    field = html[html.index(f'id="scope-field-{n}"') :]
    field = field[: field.index("</select>")]
    return [chunk.split('"', 1)[0] for chunk in field.split('<option value="')[1:]]


def test_the_form_offers_only_the_scopes_that_fit_the_chosen_role(org):
    client = login(org.supervisor)
    page = client.get(
        "/governance/requests/new/",
        {"subject": org.new_hire.pk, "role_0": "FULFILLMENT_OPERATOR_EXTENDED"},
    ).content.decode()
    assert scope_choices(page, 0) == [f"CIRCULATION_DESK:{org.desk.pk}"]
    assert scope_choices(page, 1) == [""]  # no role chosen on that line: choose one first
    # When the role of a line changes, htmx asks for that line's scope field.
    desks = client.get(
        "/governance/requests/new/scopes/", {"n": "2", "role_2": "FULFILLMENT_OPERATOR_EXTENDED"}
    )
    assert desks.status_code == 200
    assert scope_choices(desks.content.decode(), 2) == [f"CIRCULATION_DESK:{org.desk.pk}"]
    library_wide = client.get(
        "/governance/requests/new/scopes/", {"n": "0", "role_0": "USER_MANAGER"}
    ).content.decode()
    assert f"LIBRARY:{org.desk.library.pk}" in scope_choices(library_wide)
    assert f"CIRCULATION_DESK:{org.desk.pk}" not in scope_choices(library_wide)


def test_the_scope_field_refuses_bad_input_and_callers_without_the_permission(org, no_roles):
    client = login(org.supervisor)
    unknown = client.get("/governance/requests/new/scopes/", {"n": "0", "role_0": "NO_SUCH"})
    assert unknown.status_code == 422
    assert "'NO_SUCH' is not a role that can be requested." in html.unescape(
        unknown.content.decode()
    )
    assert client.get("/governance/requests/new/scopes/", {"n": "9"}).status_code == 422
    assert login(no_roles).get("/governance/requests/new/scopes/", {"n": "0"}).status_code == 403


def test_a_mismatched_scope_is_refused_on_its_line_of_the_form(org):
    response = login(org.supervisor).post(
        "/governance/requests/new/",
        {
            "subject": org.new_hire.pk,
            "kind": "NEW",
            "login_type": "CUSTOM",
            "rationale": "Desk shifts",
            "role_1": "FULFILLMENT_OPERATOR_EXTENDED",
            "scope_1": f"LIBRARY:{org.desk.library.pk}",
        },
    )
    page = response.content.decode()
    assert response.status_code == 422
    field = page[page.index('id="scope-field-1"') :]
    assert "must be limited to a circulation desk. Main Library is a library." in field[:800]
    assert not RoleRequest.objects.exists()


def test_editing_a_unit_in_the_directory(org, no_roles):
    client = login(org.it)
    url = f"/governance/directory/units/{org.unit.pk}/"
    saved = client.post(url, {"code": "access", "name": "Access & Delivery", "library": ""})
    assert saved.status_code == 302
    org.unit.refresh_from_db()
    assert (org.unit.name, org.unit.library) == ("Access & Delivery", None)
    Unit.objects.create(code="LAW", name="Law Library")
    taken = client.post(url, {"code": "law", "name": "Access"})
    page = taken.content.decode()
    assert taken.status_code == 422
    # The message is on the unit's own edit form, opened, with what was typed.
    row = page[page.index(f'id="unit-{org.unit.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "A unit with the code LAW exists." in row and "<details open>" in row
    assert 'value="law"' in row
    assert page.count("A unit with the code LAW exists.") == 1
    assert client.post(url, {"code": "X", "name": "X", "library": "999"}).status_code == 422
    org.unit.refresh_from_db()
    assert org.unit.code == "ACCESS"
    assert client.post("/governance/directory/units/999999/", {"code": "X"}).status_code == 404
    assert login(no_roles).post(url, {"code": "X", "name": "X"}).status_code == 403


def test_deleting_a_unit_only_when_nobody_works_there(org, no_roles):
    client = login(org.it)
    refused = client.post(f"/governance/directory/units/{org.unit.pk}/delete/")
    assert refused.status_code == 409
    assert "Access Services cannot be deleted: 3 staff members placed there." in html.unescape(
        refused.content.decode()
    )
    assert Unit.objects.filter(pk=org.unit.pk).exists()
    empty = Unit.objects.create(code="EMPTY", name="Empty unit")
    assert (
        login(no_roles).post(f"/governance/directory/units/{empty.pk}/delete/").status_code == 403
    )
    assert client.post(f"/governance/directory/units/{empty.pk}/delete/").status_code == 302
    assert not Unit.objects.filter(pk=empty.pk).exists()
    assert client.post(f"/governance/directory/units/{empty.pk}/delete/").status_code == 404
