"""Access reports as pages and CSV downloads (seed 003 "Requesting information on existing
roles"): a user's roles, who holds a permission or role, who can see a user."""

from __future__ import annotations

import csv
import io

import pytest

from patronage.access.actions import grant_role, revoke_grant
from patronage.access.models import Role
from tests.factories import SYSTEM, make_staff, make_user

pytestmark = pytest.mark.django_db


def role(code):
    return Role.objects.get(code=code)


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="')
    assert response["Content-Disposition"].endswith('.csv"')
    text = response.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def patron(db):
    return make_user(primary_id="patron1", first_name="Pat", last_name="Ron")


@pytest.fixture
def desk_clerk(front_desk):
    return make_staff(
        "FULFILLMENT_OPERATOR", scope=front_desk, primary_id="dclerk", first_name="Dee"
    )


# --- the index and the menu --------------------------------------------------------------------


def test_the_reports_page_and_its_menu_entry_need_the_report_permission(
    as_admin, as_privacy, as_manager
):
    assert "Access reports" in as_admin.get("/reports/").content.decode()
    assert as_privacy.get("/reports/").status_code == 200
    assert as_manager.get("/reports/").status_code == 403
    assert "Access reports" not in as_manager.get("/users/").content.decode()


# --- a user's roles -------------------------------------------------------------------------------


def test_a_users_roles_as_a_page_and_as_csv(as_privacy, desk_clerk):
    page = as_privacy.get(f"/reports/users/{desk_clerk.pk}/").content.decode()
    assert "Fulfillment Operator" in page and "Front desk (MAIN)" in page
    rows = read_csv(as_privacy.get(f"/reports/users/{desk_clerk.pk}/", {"format": "csv"}))
    assert rows[0][:7] == [
        "Primary ID",
        "Name",
        "Login model",
        "Role code",
        "Role",
        "Scope type",
        "Scope",
    ]
    body = {row[3]: row for row in rows[1:]}
    assert set(body) == {"LOGIN_CUSTOM", "FULFILLMENT_OPERATOR"}
    operator = body["FULFILLMENT_OPERATOR"]
    assert operator[:2] == ["dclerk", desk_clerk.display_name]
    assert operator[2] == "Custom"
    assert operator[5:7] == ["Circulation desk", "Front desk (MAIN)"]
    assert "users:user:view" in operator[-1].split()


def test_role_viewers_without_the_report_permission_get_a_users_roles_too(
    fulfillment_admin, desk_clerk
):
    from tests.roles.conftest import login

    client = login(fulfillment_admin)  # ROLES_VIEW, not REPORTS_ACCESS
    assert client.get("/reports/").status_code == 403
    assert client.get(f"/reports/users/{desk_clerk.pk}/").status_code == 200
    assert client.get(f"/reports/users/{desk_clerk.pk}/", {"format": "csv"}).status_code == 200


def test_a_users_roles_need_a_permission_and_an_existing_user(as_manager, as_admin, desk_clerk):
    assert as_manager.get(f"/reports/users/{desk_clerk.pk}/").status_code == 403
    assert as_admin.get("/reports/users/999999/").status_code == 404


def test_finding_the_user_by_exact_identifier(as_admin, desk_clerk):
    response = as_admin.get("/reports/users/", {"q": "DCLERK"})
    assert response.status_code == 302
    assert response["Location"] == f"/reports/users/{desk_clerk.pk}/"
    missing = as_admin.get("/reports/users/", {"q": "Dee"})  # names are not identifiers
    assert missing.status_code == 422
    assert "No user has exactly this identifier" in missing.content.decode()


# --- who holds a permission or role -------------------------------------------------------------


def test_holders_of_a_permission_as_a_page_and_as_csv(as_admin, desk_clerk, law_desk):
    make_staff("FULFILLMENT_OPERATOR", scope=law_desk, primary_id="lawclerk")
    query = {"permission": "users:user:view"}
    page = as_admin.get("/reports/holders/", query).content.decode()
    assert "dclerk" in page and "lawclerk" in page and "admin" in page
    rows = read_csv(as_admin.get("/reports/holders/", {**query, "format": "csv"}))
    assert rows[0][:5] == ["Primary ID", "Name", "Job category", "Role code", "Role"]
    assert sorted((row[0], row[3], row[6]) for row in rows[1:]) == [
        ("admin", "GENERAL_SYSTEM_ADMINISTRATOR", "Institution"),
        ("dclerk", "FULFILLMENT_OPERATOR", "Front desk (MAIN)"),
        ("lawclerk", "FULFILLMENT_OPERATOR", "Law desk (LAW)"),
    ]


def test_holders_of_a_role_in_a_library(as_admin, desk_clerk, law_desk, main_library):
    make_staff("FULFILLMENT_OPERATOR", scope=law_desk, primary_id="lawclerk")
    query = {"role": "FULFILLMENT_OPERATOR", "library": str(main_library.pk), "format": "csv"}
    rows = read_csv(as_admin.get("/reports/holders/", query))
    assert [row[0] for row in rows[1:]] == ["dclerk"]


def test_the_holders_page_without_a_choice_shows_the_form(as_admin):
    response = as_admin.get("/reports/holders/")
    assert response.status_code == 200
    assert 'id="holders-form"' in response.content.decode()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"permission": "users:everything:own"}, "is not a permission"),
        ({"role": "EMPEROR"}, "is not a role"),
        ({"permission": "users:user:view", "library": "99999"}, "Choose an existing library."),
        ({"permission": "users:user:view", "library": "x"}, "Choose an existing library."),
    ],
)
def test_bad_report_filters_are_422_with_a_message(as_admin, query, message):
    response = as_admin.get("/reports/holders/", query)
    assert response.status_code == 422
    assert message in response.content.decode()


def test_holders_need_the_report_permission(as_manager):
    assert as_manager.get("/reports/holders/", {"role": "USER_MANAGER"}).status_code == 403


# --- who can see a user --------------------------------------------------------------------------


def test_who_can_see_a_patron_as_a_page_and_as_csv(as_privacy, patron, desk_clerk, front_desk):
    plus = make_staff("FULFILLMENT_OPERATOR_EXTENDED_PLUS", scope=front_desk, primary_id="plus")
    gone = make_staff("FULFILLMENT_OPERATOR_EXTENDED_PLUS", scope=front_desk, primary_id="gone")
    revoke_grant(actor=SYSTEM, grant=gone.role_grants.get(role__code__startswith="FULFILLMENT"))
    page = as_privacy.get(f"/reports/who-can-see/{patron.pk}/").content.decode()
    assert f'id="viewer-{plus.pk}"' in page and f'id="viewer-{desk_clerk.pk}"' in page
    assert f'id="viewer-{gone.pk}"' not in page

    rows = read_csv(as_privacy.get(f"/reports/who-can-see/{patron.pk}/", {"format": "csv"}))
    assert rows[0] == [
        "Primary ID",
        "Name",
        "Job category",
        "Find users by exact identifier and see their card",
        "See patrons' addresses, blocks, notes, loan history and fees (seed 000)",
        "Look up users by name (seed 000)",
    ]
    by_id = {row[0]: row[3:] for row in rows[1:]}
    assert set(by_id) == {"privacy", "dclerk", "plus"}
    assert by_id["dclerk"] == ["Fulfillment Operator @ Front desk (MAIN)", "", ""]
    assert by_id["plus"] == ["Fulfillment Operator Extended Plus @ Front desk (MAIN)"] * 3
    assert by_id["privacy"] == ["Privacy Officer @ Institution"] * 3


def test_who_can_see_by_identifier_and_its_refusals(as_privacy, as_manager, patron):
    response = as_privacy.get("/reports/who-can-see/", {"q": "PATRON1"})
    assert response["Location"] == f"/reports/who-can-see/{patron.pk}/"
    assert as_privacy.get("/reports/who-can-see/", {"q": "nobody"}).status_code == 422
    assert as_privacy.get("/reports/who-can-see/999999/").status_code == 404
    assert as_manager.get(f"/reports/who-can-see/{patron.pk}/").status_code == 403


def test_csv_cells_that_look_like_formulas_are_defused(as_admin, front_desk):
    sneaky = make_staff(primary_id="sneaky", first_name="=HYPERLINK(1)", last_name="X")
    from patronage.access.actions import set_login_model

    set_login_model(actor=SYSTEM, user=sneaky, login_model="CUSTOM")
    grant_role(actor=SYSTEM, user=sneaky, role=role("FULFILLMENT_OPERATOR"), scope=front_desk)
    rows = read_csv(
        as_admin.get("/reports/holders/", {"role": "FULFILLMENT_OPERATOR", "format": "csv"})
    )
    assert rows[1][1] == "'=HYPERLINK(1) X"
