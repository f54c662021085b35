"""The users of the Alma-compatible API: what an Alma client sees and what it can change."""

from __future__ import annotations

import copy

import pytest
from lxml import etree

from patronage.access.models import Role, RoleGrant
from patronage.accounts import actions
from patronage.accounts.models import User, UserIdentifier
from patronage.audit.context import Actor, Channel
from patronage.audit.models import AuditEvent
from tests.almaws.conftest import AlmaClient, error_code, key_for
from tests.almaws.xsd import schema
from tests.factories import SYSTEM, make_desk, make_library, make_staff, make_user

pytestmark = pytest.mark.django_db


def new_user_json(**changes):
    body = {
        "record_type": {"value": "PUBLIC"},
        "primary_id": "newbie",
        "first_name": "Nina",
        "last_name": "Newcomer",
        "user_group": {"value": "UNDERGRAD"},
        "expiry_date": "2030-06-30Z",
        "password": "A-long-enough-passphrase-9",
        "contact_info": {
            "email": [
                {
                    "email_address": "nina@example.org",
                    "email_type": [{"value": "personal"}],
                    "preferred": True,
                }
            ],
            "phone": [{"phone_number": "+44 20 7946 0000", "phone_type": [{"value": "mobile"}]}],
            "address": [
                {
                    "line1": "1 Library Road",
                    "city": "Oxford",
                    "postal_code": "OX1 1AA",
                    "address_type": [{"value": "home"}],
                    "preferred": True,
                }
            ],
        },
        "user_identifier": [{"id_type": {"value": "BARCODE"}, "value": "NB-0001"}],
        "user_note": [{"note_type": {"value": "CIRCULATION"}, "note_text": "Welcome"}],
        "user_statistic": [{"statistic_category": {"value": "HIST"}}],
    }
    body.update(changes)
    return body


NEW_USER_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<user>
  <record_type>PUBLIC</record_type>
  <primary_id>xmlnewbie</primary_id>
  <first_name>Xavier</first_name>
  <last_name>Xmlson</last_name>
  <user_group>UNDERGRAD</user_group>
  <contact_info>
    <emails>
      <email preferred="true"><email_address>xavier@example.org</email_address>
        <email_types><email_type>personal</email_type></email_types></email>
    </emails>
  </contact_info>
  <user_identifiers>
    <user_identifier><id_type>BARCODE</id_type><value>XB-1</value></user_identifier>
  </user_identifiers>
</user>"""


# --- formats ----------------------------------------------------------------------------------


def test_xml_is_the_default_and_valid_against_rest_user_xsd(admin, patron):
    client = AlmaClient(key_for(admin), as_json=False)
    response = client.get("/users/pat01")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    schema("rest_user.xsd").assertValid(response.xml)
    assert response.xml.find("user_group").get("desc") == "Undergraduate student"
    assert response.xml.findtext("password") == ""


def test_elements_come_in_the_order_of_the_xsd(admin_alma, patron):
    admin_alma.as_json = False
    order = [child.tag for child in admin_alma.get("/users/pat01").xml]
    assert order.index("record_type") < order.index("primary_id") < order.index("first_name")
    assert order.index("status") < order.index("contact_info") < order.index("user_identifiers")
    assert order.index("user_statistics") < order.index("pref_first_name")


@pytest.mark.parametrize("how", ["accept", "format"])
def test_json_on_request(admin, patron, how):
    client = AlmaClient(key_for(admin), as_json=how == "accept")
    response = client.get("/users/pat01", **({"format": "json"} if how == "format" else {}))
    assert response["Content-Type"].startswith("application/json")
    body = response.json_body
    assert body["user_group"] == {"value": "UNDERGRAD", "desc": "Undergraduate student"}
    assert body["contact_info"]["email"][0]["email_address"] == "petra@example.org"
    assert body["contact_info"]["email"][0]["preferred"] is True
    assert body["user_identifier"][0]["id_type"]["value"] == "BARCODE"
    assert body["password"] == "" and body["pin_number"] == ""
    assert body["link"].endswith("/almaws/v1/users/pat01")


def test_dates_are_written_as_alma_writes_them(admin_alma):
    make_user(primary_id="dated", expiry_date="2031-01-31", birth_date="1990-02-03")
    body = admin_alma.get("/users/dated").json_body
    assert body["expiry_date"] == "2031-01-31Z"
    assert body["birth_date"] == "1990-02-03Z"


def test_errors_are_a_web_service_result_in_xml_and_json(admin):
    as_xml = AlmaClient(key_for(admin), as_json=False).get("/users/nobody")
    assert as_xml.status_code == 400
    assert etree.QName(as_xml.xml).localname == "web_service_result"
    assert error_code(as_xml) == "401861"
    as_json = AlmaClient(key_for(admin)).get("/users/nobody").json_body
    error = as_json["errorList"]["error"][0]
    assert as_json["errorsExist"] is True
    assert error["errorCode"] == "401861"
    assert error["errorMessage"] == "User with identifier nobody was not found."
    assert error["trackingId"]


# --- finding users ------------------------------------------------------------------------------


def test_a_user_is_found_by_any_unique_identifier_or_only_one_type(admin_alma, patron):
    assert admin_alma.get("/users/B0001").json_body["primary_id"] == "pat01"
    assert admin_alma.get("/users/b0001").json_body["primary_id"] == "pat01"  # case-insensitive
    typed = admin_alma.get("/users/B0001", user_id_type="BARCODE")
    assert typed.json_body["primary_id"] == "pat01"
    wrong_type = admin_alma.get("/users/B0001", user_id_type="UNIV_ID")
    assert wrong_type.status_code == 400 and error_code(wrong_type) == "401861"


def test_an_unknown_user_id_type_is_refused(admin_alma, patron):
    response = admin_alma.get("/users/pat01", user_id_type="SHOE_SIZE")
    assert response.status_code == 400
    assert "user_id_type" in response.json_body["errorList"]["error"][0]["errorMessage"]


def test_view_brief_leaves_out_all_but_core_emails_identifiers_statistics(admin_alma, patron):
    body = admin_alma.get("/users/pat01", view="brief").json_body
    assert body["contact_info"]["email"]
    assert "address" not in body["contact_info"]
    assert "user_note" not in body and "user_block" not in body
    assert "user_identifier" in body and "user_statistic" in body


def test_expand_adds_counts_with_links(admin_alma, patron):
    body = admin_alma.get("/users/pat01", expand="loans,requests,fees").json_body
    assert body["loans"]["value"] == 0 and body["loans"]["link"].endswith("/pat01/loans")
    assert body["requests"]["value"] == 0
    assert body["fees"]["value"] == 0.0


def test_staff_who_see_only_cards_get_the_card(desk_alma, patron):
    body = desk_alma.get("/users/pat01").json_body
    assert body["primary_id"] == "pat01"
    assert "contact_info" not in body and "birth_date" not in body


def test_list_is_paged_sorted_by_last_name_with_a_total(admin_alma):
    for last in ("Zeta", "Alpha", "Mu"):
        make_user(last_name=last, first_name="Q")
    body = admin_alma.get("/users", q="first_name~Q", limit=2).json_body
    assert body["total_record_count"] == 3
    assert [u["last_name"] for u in body["user"]] == ["Alpha", "Mu"]
    assert body["user"][0]["link"].startswith("http://testserver/almaws/v1/users/")
    rest = admin_alma.get("/users", q="first_name~Q", limit=2, offset=2).json_body
    assert [u["last_name"] for u in rest["user"]] == ["Zeta"]
    by_id = admin_alma.get("/users", q="first_name~Q", order_by="primary_id").json_body
    ids = [u["primary_id"] for u in by_id["user"]]
    assert ids == sorted(ids)


def test_q_combines_terms_with_and_and_or(admin_alma):
    make_user(primary_id="aa1", first_name="Ann", last_name="Smith", user_group="GRAD")
    make_user(primary_id="aa2", first_name="Bob", last_name="Smith", user_group="UNDERGRAD")
    make_user(primary_id="aa3", first_name="Cat", last_name="Jones", user_group="GRAD")

    def ids(q):
        return sorted(u["primary_id"] for u in admin_alma.get("/users", q=q).json_body["user"])

    assert ids("last_name~smith") == ["aa1", "aa2"]
    assert ids("last_name~smith AND user_group~GRAD") == ["aa1"]
    assert ids("primary_id~aa3 OR first_name~bob") == ["aa2", "aa3"]
    assert ids("ALL~aa3") == ["aa3"]
    make_user(primary_id="aa4", first_name="Dirk", last_name="Van der Berg")
    assert ids("last_name~van_der_berg") == ["aa4"]  # as almapipy writes spaces


def test_limit_zero_gives_only_the_total(admin_alma, patron):
    body = admin_alma.get("/users", q="last_name~patron", limit=0).json_body
    assert body["total_record_count"] == 1
    assert "user" not in body or body["user"] == []


@pytest.mark.parametrize(
    "query",
    [
        {"limit": 101},
        {"limit": -1},
        {"limit": "ten"},
        {"q": "last_name=Smith"},
        {"q": "shoe_size~42"},
        {"q": "last_name~"},
        {"q": "birth_date~yesterday"},
        {"order_by": "shoe_size"},
    ],
)
def test_bad_list_parameters_are_alma_parameter_errors(admin_alma, patron, query):
    response = admin_alma.get("/users", **query)
    assert response.status_code == 400
    assert error_code(response) == "40166411"


def test_a_name_search_needs_the_permission_to_look_users_up_by_name(desk_alma, patron):
    refused = desk_alma.get("/users", q="last_name~patron")
    assert refused.status_code == 403 and error_code(refused) == "UNAUTHORIZED"
    found = desk_alma.get("/users", q="identifiers~B0001").json_body
    assert [u["primary_id"] for u in found["user"]] == ["pat01"]


# --- creating -----------------------------------------------------------------------------------


def test_create_a_user_in_json(admin_alma):
    response = admin_alma.post("/users", new_user_json())
    assert response.status_code == 200, response.content
    body = response.json_body
    assert body["primary_id"] == "newbie"
    assert body["password"] == ""
    user = User.objects.get(primary_id="newbie")
    assert user.check_password("A-long-enough-passphrase-9")
    assert user.identifiers.filter(value="NB-0001").exists()
    assert user.emails.get().address == "nina@example.org"
    assert user.notes.get().text == "Welcome"
    assert user.statistics.get().category == "HIST"
    assert str(user.expiry_date) == "2030-06-30"
    assert AuditEvent.objects.filter(subject=user, verb="user.created", channel="api").exists()


def test_create_a_user_in_xml(admin):
    client = AlmaClient(key_for(admin), as_json=False)
    response = client.post("/users", NEW_USER_XML)
    assert response.status_code == 200, response.content
    assert response.xml.findtext("primary_id") == "xmlnewbie"
    user = User.objects.get(primary_id="xmlnewbie")
    assert user.emails.get().preferred is True
    assert user.identifiers.filter(id_type="BARCODE", value="XB-1").exists()


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"primary_id": "pat01"}, "401851"),
        ({"user_identifier": [{"id_type": {"value": "BARCODE"}, "value": "B0001"}]}, "401851"),
        ({"user_group": {"value": "ASTRONAUT"}}, "401852"),
        ({"last_name": ""}, "401664"),
        ({"password": "short"}, "500038"),
        ({"user_identifier": [{"id_type": {"value": "SHOE"}, "value": "42"}]}, "401864"),
    ],
)
def test_a_refused_create_writes_nothing(admin_alma, patron, changes, code):
    users, events = User.objects.count(), AuditEvent.objects.count()
    response = admin_alma.post("/users", new_user_json(**changes))
    assert response.status_code == 400, response.content
    assert error_code(response) == code
    assert (User.objects.count(), AuditEvent.objects.count()) == (users, events)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<user><primary_id>broken</user>", "application/xml"),
        (b'{"primary_id": ', "application/json"),
        (b"[1, 2]", "application/json"),
        (b'{"contact_info": "everywhere"}', "application/json"),
        (b"<person/>", "application/xml"),
        (b"", "application/xml"),
    ],
)
def test_malformed_bodies_are_401676(admin_alma, body, content_type):
    response = admin_alma.call("POST", "/users", body, content_type=content_type)
    assert response.status_code == 400
    assert error_code(response) == "401676"
    assert not User.objects.filter(primary_id="broken").exists()


# --- replacing ----------------------------------------------------------------------------------


@pytest.fixture
def rich_patron(admin):
    user = make_user(
        primary_id="rich",
        first_name="Rita",
        last_name="Rich",
        birth_date="1991-01-01",
        expiry_date="2030-01-01",
        emails=[{"address": "rita@example.org", "types": ["personal"], "preferred": True}],
        phones=[{"number": "+44 1865 000000", "types": ["home"]}],
        addresses=[{"line1": "2 High St", "city": "Oxford", "types": ["home"]}],
        identifiers=[{"id_type": "BARCODE", "value": "R-1"}],
        password="Rita-original-passphrase-1",
    )
    actions.add_note(actor=SYSTEM, user=user, note_type="CIRCULATION", text="Likes maps")
    actions.add_statistic(actor=SYSTEM, user=user, category="LAW")
    actions.add_block(actor=SYSTEM, user=user, block_type="GENERAL", note="Check ID")
    return user


@pytest.mark.parametrize("as_json", [True, False])
def test_get_then_put_of_the_same_body_changes_nothing(admin, rich_patron, as_json):
    client = AlmaClient(key_for(admin), as_json=as_json)
    got = client.get("/users/rich")
    events = AuditEvent.objects.count()
    password = User.objects.get(pk=rich_patron.pk).password
    body = got.json_body if as_json else got.content
    put = client.put("/users/rich", body)
    assert put.status_code == 200, put.content
    assert AuditEvent.objects.count() == events
    assert User.objects.get(pk=rich_patron.pk).password == password
    again = client.get("/users/rich")
    assert (again.json_body if as_json else again.content) == body


def test_put_replaces_the_whole_record(admin_alma, rich_patron):
    body = admin_alma.get("/users/rich").json_body
    body["first_name"] = "Margarita"
    body["contact_info"]["email"] = [
        {"email_address": "m@example.org", "email_type": [{"value": "work"}], "preferred": True}
    ]
    body["contact_info"]["phone"] = []
    body["user_note"] = []
    body["user_identifier"].append({"id_type": {"value": "UNIV_ID"}, "value": "U-77"})
    response = admin_alma.put("/users/rich", body)
    assert response.status_code == 200, response.content
    user = User.objects.get(pk=rich_patron.pk)
    assert user.first_name == "Margarita"
    assert [e.address for e in user.emails.all()] == ["m@example.org"]
    assert not user.phones.exists() and not user.notes.exists()
    assert user.addresses.count() == 1 and user.blocks.count() == 1
    assert set(user.identifiers.values_list("value", flat=True)) == {"rich", "R-1", "U-77"}
    assert response.json_body["first_name"] == "Margarita"


def test_an_empty_password_keeps_the_password_and_a_new_one_sets_it(admin_alma, rich_patron):
    body = admin_alma.get("/users/rich").json_body
    admin_alma.put("/users/rich", {**body, "password": ""})
    assert User.objects.get(pk=rich_patron.pk).check_password("Rita-original-passphrase-1")
    admin_alma.put("/users/rich", {**body, "password": "Rita-new-passphrase-22"})
    assert User.objects.get(pk=rich_patron.pk).check_password("Rita-new-passphrase-22")


def test_a_put_that_takes_a_primary_id_in_use_is_401851_and_changes_nothing(
    admin_alma, rich_patron, patron
):
    body = admin_alma.get("/users/rich").json_body
    body["primary_id"] = "PAT01"
    body["first_name"] = "Changed"
    response = admin_alma.put("/users/rich", body)
    assert response.status_code == 400 and error_code(response) == "401851"
    assert User.objects.get(pk=rich_patron.pk).first_name == "Rita"


def test_a_put_can_change_the_primary_id(admin_alma, rich_patron):
    body = admin_alma.get("/users/rich").json_body
    response = admin_alma.put("/users/rich", {**body, "primary_id": "rita2"})
    assert response.status_code == 200, response.content
    assert admin_alma.get("/users/rita2").json_body["first_name"] == "Rita"
    assert error_code(admin_alma.get("/users/rich")) == "401861"


def test_fields_changed_by_hand_are_kept_unless_overridden(admin, admin_alma, rich_patron):
    ui = Actor(user=admin, channel=Channel.UI)
    actions.update_user(actor=ui, user=rich_patron, fields={"user_group": "GRAD"})
    body = admin_alma.get("/users/rich").json_body
    body["user_group"] = {"value": "FACULTY"}
    body["last_name"] = "Richer"
    admin_alma.put("/users/rich", body)
    user = User.objects.get(pk=rich_patron.pk)
    assert (user.user_group, user.last_name) == ("GRAD", "Richer")
    admin_alma.put("/users/rich", body, override="user_group")
    assert User.objects.get(pk=rich_patron.pk).user_group == "FACULTY"


@pytest.fixture
def staff_member(db):
    library = make_library("SCI", "Science Library")
    desk = make_desk(library, "SCIDESK", "Science desk")
    staff = make_staff("FULFILLMENT_OPERATOR", scope=desk, primary_id="clerk")
    return staff


def test_roles_are_shown_with_scope_and_desk_parameter(admin_alma, staff_member):
    roles = admin_alma.get("/users/clerk").json_body["user_role"]
    roles = [r for r in roles if r["role_type"]["value"] == "FULFILLMENT_OPERATOR"]
    assert roles == [
        {
            "status": {"value": "ACTIVE", "desc": "Active"},
            "scope": {"value": "SCI", "desc": "Science Library"},
            "role_type": {"value": "FULFILLMENT_OPERATOR", "desc": roles[0]["role_type"]["desc"]},
            "parameter": [
                {
                    "type": {"value": "CirculationDesk", "desc": ""},
                    "scope": {"value": "SCI", "desc": "Science Library"},
                    "value": {"value": "SCIDESK", "desc": "Science desk"},
                }
            ],
        }
    ]


def test_an_empty_role_list_keeps_the_roles(admin_alma, staff_member):
    body = admin_alma.get("/users/clerk").json_body
    body["user_role"] = []
    assert admin_alma.put("/users/clerk", body).status_code == 200
    assert RoleGrant.objects.active().filter(user=staff_member, role__login_model="").count() == 1


def test_roles_change_through_the_grant_rules(admin_alma, staff_member):
    body = admin_alma.get("/users/clerk").json_body
    body["user_role"] = [
        {
            "role_type": {"value": "USER_MANAGER"},
            "scope": {"value": "SCI"},
            "status": {"value": "ACTIVE"},
        }
    ]
    response = admin_alma.put("/users/clerk", body)
    assert response.status_code == 200, response.content
    held = RoleGrant.objects.active().filter(user=staff_member, role__login_model="")
    assert [g.role.code for g in held] == ["USER_MANAGER"]  # the login model's role stays
    shown = {r["role_type"]["value"] for r in response.json_body["user_role"]}
    assert "USER_MANAGER" in shown and "FULFILLMENT_OPERATOR" not in shown


def test_changing_roles_needs_the_role_management_permission(staff_member):
    manager = make_staff("USER_MANAGER", first_name="Uma")
    client = AlmaClient(key_for(manager))
    body = AlmaClient(key_for(make_staff("GENERAL_SYSTEM_ADMINISTRATOR"))).get("/users/clerk")
    body = copy.deepcopy(body.json_body)
    body["user_role"] = [{"role_type": {"value": "USER_MANAGER"}, "scope": {"value": "SCI"}}]
    response = client.put("/users/clerk", body)
    assert response.status_code == 403, response.content
    held = RoleGrant.objects.active().filter(user=staff_member, role__login_model="")
    assert [g.role.code for g in held] == ["FULFILLMENT_OPERATOR"]
    assert Role.objects.filter(code="USER_MANAGER").exists()


def test_an_unknown_role_is_refused(admin_alma, staff_member):
    body = admin_alma.get("/users/clerk").json_body
    body["user_role"] = [{"role_type": {"value": "WIZARD"}}]
    response = admin_alma.put("/users/clerk", body)
    assert response.status_code == 400 and error_code(response) == "401864"


# --- authentication of users (op=auth) ---------------------------------------------------------


def test_op_auth_checks_the_password_in_the_exl_user_pw_header(admin, rich_patron):
    client = AlmaClient(key_for(admin, read_only=True))  # allowed with read-only keys
    ok = client.call(
        "POST", "/users/rich", headers={"Exl-User-Pw": "Rita-original-passphrase-1"}, op="auth"
    )
    assert ok.status_code == 204, ok.content
    assert ok["X-Exl-Api-Remaining"]
    wrong = client.call("POST", "/users/rich", headers={"Exl-User-Pw": "guess"}, op="auth")
    assert wrong.status_code == 400 and error_code(wrong) == "401866"
    verbs = list(AuditEvent.objects.filter(subject=rich_patron).values_list("verb", flat=True))
    assert "auth.login" in verbs and "auth.login_failed" in verbs


def test_an_unknown_op_is_refused(admin_alma, rich_patron):
    response = admin_alma.post("/users/rich", op="explode")
    assert response.status_code == 400
    assert "op" in response.json_body["errorList"]["error"][0]["errorMessage"]


def test_identifiers_are_unique_across_users_case_insensitively(admin_alma, patron):
    response = admin_alma.post(
        "/users",
        new_user_json(user_identifier=[{"id_type": {"value": "BARCODE"}, "value": "b0001"}]),
    )
    assert error_code(response) == "401851"
    assert UserIdentifier.objects.filter(key="b0001").count() == 1


def test_nul_characters_are_bad_input_on_every_database(admin_alma, patron):
    assert error_code(admin_alma.get("/users/pat01", user_id_type="A%00B")) == "40166411"
    assert error_code(admin_alma.get("/users", q="last_name~a%00")) == "40166411"
    body = admin_alma.get("/users/pat01").json_body
    response = admin_alma.put("/users/pat01", {**body, "first_name": "Pe\x00tra"})
    assert error_code(response) == "401676"
    assert User.objects.get(primary_id="pat01").first_name == "Petra"


def test_delete_a_user(admin_alma, rich_patron):
    response = admin_alma.delete("/users/rich")
    assert response.status_code == 204, response.content
    assert not User.objects.filter(pk=rich_patron.pk).exists()
    again = admin_alma.delete("/users/rich")
    assert again.status_code == 400 and error_code(again) == "401890"


def test_a_refused_deletion_is_401850_and_deletes_nothing(admin, admin_alma):
    response = admin_alma.delete("/users/admin")  # one's own account
    assert response.status_code == 400 and error_code(response) == "401850"
    assert User.objects.filter(pk=admin.pk).exists()


def test_deleting_needs_the_permission(desk_alma, patron):
    response = desk_alma.delete("/users/pat01")
    assert response.status_code == 403 and error_code(response) == "UNAUTHORIZED"
    assert User.objects.filter(pk=patron.pk).exists()
