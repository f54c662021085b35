"""The right to be forgotten: a request is recorded (by whom, for whom), its preconditions are
shown, and carrying it out anonymises the person while fees, balances and the audit chain
stay consistent -- only for the Privacy Officer, through the UI, the API and the CLI."""

from __future__ import annotations

import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from patronage.accounts.actions import add_contact, add_identifier, add_note
from patronage.accounts.models import Email, User, UserIdentifier, UserNameToken, UserNote
from patronage.accounts.selectors import find_by_identifier
from patronage.audit import chain
from patronage.audit.models import AuditEvent, SubjectKey
from patronage.audit.shredding import ERASED, Opener
from patronage.circulation import actions as circulation
from patronage.circulation.models import Fee, Loan
from patronage.circulation.selectors import fee_balance
from patronage.errors import Conflict, Forbidden, ValidationFailed
from patronage.privacy import forgetting
from patronage.privacy.models import ForgettingRequest, ForgettingState, LegalRequest, LegalState
from tests.api.client import ApiClient
from tests.circulation.conftest import make_item
from tests.factories import SYSTEM, actor_for, make_library, make_staff, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(db):
    """A patron with a name, an identifier, an e-mail address and a note."""
    user = make_user(primary_id="jdoe", first_name="Jane", last_name="Doe", user_group="GRAD")
    add_identifier(actor=SYSTEM, user=user, id_type="BARCODE", value="2900123")
    add_contact(
        actor=SYSTEM,
        user=user,
        kind="email",
        data={"address": "jane@example.org", "types": ["personal"], "preferred": True},
    )
    add_note(actor=SYSTEM, user=user, note_type="OTHER", text="Prefers large print")
    return User.objects.get(pk=user.pk)


def request_for(officer, user) -> ForgettingRequest:
    return forgetting.record_forgetting_request(
        actor=actor_for(officer), user=user, received_via="letter", notes="Signed letter, ID seen"
    )


def unmet(request) -> list[str]:
    return [p.code for p in forgetting.preconditions(request) if not p.met]


def test_a_request_is_recorded_with_who_recorded_it_and_for_whom(officer, person):
    request = request_for(officer, person)
    assert request.reference.startswith(f"RTBF-{timezone.localdate().year}-")
    assert (request.user_id, request.recorded_by_id) == (person.pk, officer.pk)
    assert request.state == ForgettingState.RECEIVED
    event = AuditEvent.objects.get(verb="forgetting_request.recorded")
    assert event.actor_id == officer.pk and event.subject_id == person.pk
    with pytest.raises(Conflict):  # one open request per person
        request_for(officer, person)


def test_bad_input_is_refused_field_by_field(officer, person):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(ValidationFailed) as refused:
        forgetting.record_forgetting_request(
            actor=actor_for(officer), user=person, received_via="pigeon", received_on=tomorrow
        )
    assert set(refused.value.errors) == {"received_via", "received_on"}
    assert not ForgettingRequest.objects.exists()


def test_the_preconditions_name_what_stands_in_the_way(operator, desk, officer, person):
    item = make_item(desk.library)
    circulation.check_out(actor=actor_for(operator), user=person, barcode=item.barcode, desk=desk)
    fee = circulation.create_fee(actor=SYSTEM, user=person, fee_type="OTHER", amount="5.00")
    circulation.dispute_fee(actor=SYSTEM, fee=fee, comment="Never had it")
    legal = LegalRequest.objects.create(
        reference="LP-9",
        agency="Sheriff",
        kind="subpoena",
        description="records",
        received_on=timezone.localdate(),
        supervisor_email="s@example.org",
        director_email="d@example.org",
        state=LegalState.ORDER_VALIDATED,
        state_changed_at=timezone.now(),
    )
    legal.order_users.add(person)
    request = request_for(officer, person)
    assert unmet(request) == ["balance_due", "outstanding_loans", "legal_hold"]
    with pytest.raises(Conflict) as refused:
        forgetting.carry_out(actor=actor_for(officer), request=request)
    assert refused.value.code == "forgetting_refused"
    assert "on loan" in refused.value.message and "LP-9" in refused.value.message
    person.refresh_from_db()
    assert person.first_name == "Jane"  # nothing changed
    assert not SubjectKey.objects.filter(subject_id=person.pk, destroyed_at__isnull=False)


def test_staff_with_role_grants_in_force_cannot_be_forgotten(officer):
    staff = make_staff("FULFILLMENT_OPERATOR")
    assert "staff_grants" in unmet(request_for(officer, staff))


def test_forgetting_anonymises_the_person_and_keeps_fees_and_the_chain(
    operator, desk, officer, person
):
    item = make_item(desk.library)
    circulation.check_out(actor=actor_for(operator), user=person, barcode=item.barcode, desk=desk)
    circulation.return_item(actor=actor_for(operator), barcode=item.barcode, desk=desk)
    fee = circulation.create_fee(actor=SYSTEM, user=person, fee_type="OTHER", amount="6.00")
    circulation.pay_fee(actor=SYSTEM, fee=fee, amount="6.00", method="CASH")
    credit = circulation.create_fee(actor=SYSTEM, user=person, fee_type="OTHER", amount="2.00")
    circulation.waive_fees(actor=SYSTEM, fees=[credit], reason="OTHER")
    balances = {f.pk: fee_balance(f) for f in Fee.objects.filter(user=person)}
    chain.chain_pending()
    assert chain.verify().ok

    request = request_for(officer, person)
    assert unmet(request) == []
    done = forgetting.carry_out(actor=actor_for(officer), request=request)

    assert done.state == ForgettingState.CARRIED_OUT and done.decided_by_id == officer.pk
    assert done.outcome["loans_anonymised"] == 1 and done.outcome["emails_removed"] == 1
    person.refresh_from_db()
    assert (person.first_name, person.last_name) == ("Forgotten", f"user {person.pk}")
    assert person.primary_id == f"FORGOTTEN-{person.pk}" and person.status == "INACTIVE"
    assert not person.has_usable_password()
    assert find_by_identifier(None, "jdoe") is None
    assert find_by_identifier(None, "2900123") is None
    assert not Email.objects.filter(user=person).exists()
    assert not UserNote.objects.filter(user=person).exists()
    assert list(UserIdentifier.objects.filter(user=person).values_list("value", flat=True)) == [
        f"FORGOTTEN-{person.pk}"
    ]
    assert not UserNameToken.objects.filter(user=person, token__in=["jane", "doe"]).exists()
    assert not Loan.objects.filter(user=person).exists()
    assert Loan.objects.get(item=item).borrower_group == "GRAD"
    # The ledger is whole: the same fees, the same balances, still on the (anonymous) record.
    assert {f.pk: fee_balance(f) for f in Fee.objects.filter(user=person)} == balances
    assert sum(balances.values(), Decimal(0)) == 0
    # The audit trail: the person's values are erased, and the chain still verifies.
    created = AuditEvent.objects.get(verb="user.created", subject_id=person.pk)
    assert {c["new"] for c in Opener([created]).changes(created)} == {ERASED}
    assert AuditEvent.objects.filter(verb="user.forgotten", object_id=str(person.pk)).exists()
    chain.chain_pending()
    assert chain.verify().ok
    with pytest.raises(Conflict):  # carried out once
        forgetting.carry_out(actor=actor_for(officer), request=done)


def test_a_withdrawn_request_changes_nothing(officer, person):
    request = request_for(officer, person)
    done = forgetting.withdraw_forgetting_request(
        actor=actor_for(officer), request=request, reason="Changed their mind"
    )
    assert done.state == ForgettingState.WITHDRAWN
    person.refresh_from_db()
    assert person.first_name == "Jane"
    with pytest.raises(Conflict):
        forgetting.carry_out(actor=actor_for(officer), request=done)


def test_only_holders_of_the_permission_may(officer, person, no_roles, user_manager):
    request = request_for(officer, person)
    for someone in (no_roles, user_manager):
        with pytest.raises(Forbidden):
            forgetting.carry_out(actor=actor_for(someone), request=request)
        with pytest.raises(Forbidden):
            forgetting.forgetting_requests(someone)


# --- the API ------------------------------------------------------------------------------------


def test_the_api_from_request_to_forgetting(officer, person, no_roles, operator, desk):
    api = ApiClient(officer)
    bad = api.post("/forgetting-requests", {"user_id": person.pk, "received_via": "pigeon"})
    assert bad.status_code == 422 and "received_via" in bad.json()["errors"]
    assert (
        api.post(
            "/forgetting-requests", {"user_id": 999999999, "received_via": "letter"}
        ).status_code
        == 404
    )
    created = api.post("/forgetting-requests", {"user_id": person.pk, "received_via": "email"})
    assert created.status_code == 201
    body = created.json()
    assert body["recorded_by"] == "officer" and body["user_id"] == person.pk
    assert {p["code"]: p["met"] for p in body["preconditions"]}["outstanding_loans"] is True
    request_id = body["id"]

    item = make_item(desk.library)
    circulation.check_out(actor=actor_for(operator), user=person, barcode=item.barcode, desk=desk)
    refused = api.post(f"/forgetting-requests/{request_id}/carry-out")
    assert refused.status_code == 409 and refused.json()["code"] == "forgetting_refused"
    circulation.return_item(actor=actor_for(operator), barcode=item.barcode, desk=desk)

    done = api.post(f"/forgetting-requests/{request_id}/carry-out")
    assert done.status_code == 200 and done.json()["state"] == "carried_out"
    assert done.json()["outcome"]["loans_anonymised"] == 1
    assert api.get("/forgetting-requests").json()[0]["id"] == request_id
    assert api.get("/forgetting-requests/999999999").status_code == 404
    assert ApiClient(no_roles).get(f"/forgetting-requests/{request_id}").status_code == 403
    assert (
        ApiClient(no_roles).post(f"/forgetting-requests/{request_id}/carry-out").status_code == 403
    )


def test_a_request_about_a_user_out_of_scope_is_not_found(officer, person):
    from patronage.access.actions import grant_role
    from patronage.access.models import Role

    request = request_for(officer, person)
    # A library-scoped holder of the permission sees no user outside its scope's reach.
    role = Role.objects.create(
        code="LOCAL_PRIVACY",
        name="Local privacy",
        permissions=["privacy:forgetting:manage"],
        scope_types=["LIBRARY"],
    )
    local = make_staff()
    from patronage.access.actions import set_login_model

    set_login_model(actor=SYSTEM, user=local, login_model="CUSTOM")
    grant_role(actor=SYSTEM, user=local, role=role, scope=make_library("BRANCH", "Branch"))
    assert ApiClient(local).get(f"/forgetting-requests/{request.pk}").status_code == 404


# --- the CLI and the UI -------------------------------------------------------------------------


def cli(*args: str) -> str:
    out = StringIO()
    call_command("forget", *args, stdout=out)
    return out.getvalue()


def test_the_cli_records_checks_and_carries_out(officer, person, no_roles):
    out = cli("request", "jdoe", "--via", "in_person", "--as", "officer")
    reference = ForgettingRequest.objects.get(user=person).reference
    assert reference in out and "[ok] No outstanding loans" in out
    with pytest.raises(CommandError, match="No user"):
        cli("request", "nobody", "--via", "letter", "--as", "officer")
    with pytest.raises(CommandError):
        cli("show", reference, "--as", no_roles.primary_id)
    assert "emails removed: 1" in cli("carry-out", reference, "--as", "officer")
    person.refresh_from_db()
    assert person.first_name == "Forgotten"
    chain.chain_pending()
    assert chain.verify().ok


def test_the_ui_records_shows_the_preconditions_and_forgets(officer, person, no_roles):
    client = Client()
    client.force_login(officer)
    bad = client.post(
        "/privacy/forgetting/new/", {"primary_id": "nobody", "received_via": "letter"}
    )
    assert bad.status_code == 422 and b"No user with primary ID" in bad.content
    made = client.post("/privacy/forgetting/new/", {"primary_id": "jdoe", "received_via": "letter"})
    assert made.status_code == 302
    request = ForgettingRequest.objects.get(user=person)
    page = client.get(f"/privacy/forgetting/{request.pk}/")
    assert page.status_code == 200 and b'id="pre-legal_hold" class="met"' in page.content
    assert client.get("/privacy/forgetting/").status_code == 200
    assert client.get("/privacy/forgetting/999999999/").status_code == 404
    done = client.post(f"/privacy/forgetting/{request.pk}/decide/", {"action": "carry_out"})
    assert done.status_code == 302
    person.refresh_from_db()
    assert person.first_name == "Forgotten"
    outsider = Client()
    outsider.force_login(no_roles)
    assert outsider.get(f"/privacy/forgetting/{request.pk}/").status_code == 403
    assert outsider.get("/privacy/forgetting/").status_code == 403


def test_a_user_purged_while_a_request_waits_leaves_it_moot(officer, person):
    from patronage.circulation.deletion import delete_user

    request = request_for(officer, person)
    delete_user(actor=SYSTEM, user=person)  # e.g. the purge, at the purge date
    request.refresh_from_db()
    assert request.user_id is None
    assert unmet(request) == ["user_exists"]
    with pytest.raises(Conflict):
        forgetting.carry_out(actor=actor_for(officer), request=request)
    assert forgetting.get_forgetting_request(officer, request.pk) == request
    done = forgetting.withdraw_forgetting_request(actor=actor_for(officer), request=request)
    assert done.state == ForgettingState.WITHDRAWN
