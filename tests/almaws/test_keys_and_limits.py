"""API keys and Alma's governance thresholds on /almaws/v1."""

from __future__ import annotations

import pytest

from patronage.access.api_key_actions import create_api_key, revoke_api_key
from patronage.access.models import ApiKey
from patronage.almaws.models import ApiCallCount
from patronage.almaws.throttle import count_call
from tests.almaws.conftest import AlmaClient, error_code, key_for
from tests.factories import SYSTEM

pytestmark = pytest.mark.django_db

BAD_KEY = "API-key not defined or not configured to allow this API."


def test_the_key_works_in_the_query_and_in_the_authorization_header(admin, patron):
    key = key_for(admin)
    assert AlmaClient(key).get("/users/pat01").status_code == 200
    assert AlmaClient(key, header=True).get("/users/pat01").status_code == 200


@pytest.mark.parametrize("key", ["", "not-a-key"])
def test_a_missing_or_unknown_key_is_refused_as_alma_refuses_it(patron, key):
    response = AlmaClient(key).get("/users/pat01")
    assert response.status_code == 400
    assert error_code(response) == "UNAUTHORIZED"
    assert response.json_body["errorList"]["error"][0]["errorMessage"] == BAD_KEY


def test_the_key_test_of_the_reference_answers_ok_for_a_good_key(admin):
    key = key_for(admin)
    as_xml = AlmaClient(key, as_json=False).get("/users/operation/test")
    assert as_xml.status_code == 200 and as_xml.xml.tag == "test"
    assert "configured correctly" in as_xml.xml.findtext("result")
    assert int(as_xml["X-Exl-Api-Remaining"]) > 0
    written = AlmaClient(key).post("/users/operation/test")
    assert written.status_code == 200 and written.json_body["result"].startswith("POST")


@pytest.mark.parametrize("key", ["", "not-a-key"])
def test_the_key_test_refuses_a_bad_key_as_the_reference_says(key):
    """The reference: "test if the API key was configured correctly" — 200, or 400 Bad
    Request, in Alma's web_service_result (XML unless JSON is asked for)."""
    response = AlmaClient(key, as_json=False).get("/users/operation/test")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/xml")
    ns = {"w": "http://com/exlibris/urm/general/xmlbeans"}
    assert response.xml.findtext("w:errorsExist", namespaces=ns) == "true"
    assert error_code(response) == "UNAUTHORIZED"
    assert response.xml.findtext("w:errorList/w:error/w:errorMessage", namespaces=ns) == BAD_KEY
    assert "X-Exl-Api-Remaining" not in response  # no key, nothing counted


def test_the_key_test_with_post_refuses_a_read_only_key(admin):
    client = AlmaClient(key_for(admin, read_only=True))
    assert client.get("/users/operation/test").status_code == 200
    refused = client.post("/users/operation/test")
    assert refused.status_code == 400 and error_code(refused) == "UNAUTHORIZED"
    assert refused.json_body["errorList"]["error"][0]["errorMessage"] == BAD_KEY


def test_a_revoked_key_is_refused(admin, patron):
    key = key_for(admin)
    revoke_api_key(actor=SYSTEM, api_key=ApiKey.objects.get(owner=admin), reason="test")
    assert error_code(AlmaClient(key).get("/users/pat01")) == "UNAUTHORIZED"


def test_a_read_only_key_reads_but_does_not_write(admin, patron):
    client = AlmaClient(key_for(admin, read_only=True))
    body = client.get("/users/pat01").json_body
    refused = client.put("/users/pat01", {**body, "first_name": "Changed"})
    assert refused.status_code == 400 and error_code(refused) == "UNAUTHORIZED"
    assert client.get("/users/pat01").json_body["first_name"] == "Petra"


def test_a_key_limited_to_some_permissions_gets_403_for_the_others(admin, patron):
    client = AlmaClient(key_for(admin, permissions=("users:user:view",)))
    assert client.get("/users/pat01").status_code == 200
    refused = client.post("/users", {"primary_id": "x"})
    assert refused.status_code == 403 and error_code(refused) == "UNAUTHORIZED"


def test_every_answer_says_how_many_calls_are_left_today(admin, patron, settings):
    settings.ALMAWS_DAILY_THRESHOLD = 1000
    client = AlmaClient(key_for(admin))
    first = client.get("/users/pat01")
    second = client.get("/users/nobody")  # errors count and say so too
    assert int(first["X-Exl-Api-Remaining"]) == 999
    assert int(second["X-Exl-Api-Remaining"]) == 998


def test_more_calls_a_second_than_allowed_are_429_per_second_threshold(
    admin, patron, settings, monkeypatch
):
    settings.ALMAWS_PER_SECOND_THRESHOLD = 2
    now = [1_800_000_000.0]
    monkeypatch.setattr("patronage.almaws.throttle.time.time", lambda: now[0])
    client = AlmaClient(key_for(admin))
    assert [client.get("/users/pat01").status_code for _ in range(2)] == [200, 200]
    refused = client.get("/users/pat01")
    assert refused.status_code == 429
    assert error_code(refused) == "PER_SECOND_THRESHOLD"
    now[0] += 1  # the next second
    assert client.get("/users/pat01").status_code == 200


def test_the_daily_threshold_is_429_daily_threshold(admin, patron, settings):
    settings.ALMAWS_DAILY_THRESHOLD = 2
    client = AlmaClient(key_for(admin))
    client.get("/users/pat01")
    client.get("/users/pat01")
    refused = client.get("/users/pat01")
    assert refused.status_code == 429
    assert error_code(refused) == "DAILY_THRESHOLD"
    assert refused["X-Exl-Api-Remaining"] == "0"


def test_counters_are_one_row_per_key_and_period_restarting_each_second(admin):
    key = create_api_key(actor=SYSTEM, owner=admin, name="counted").api_key
    first = count_call(key.pk)
    second = count_call(key.pk)
    assert second.today == first.today + 1
    assert ApiCallCount.objects.filter(api_key=key).count() == 2
    ApiCallCount.objects.filter(api_key=key, period="second").update(starts_at=0)
    assert count_call(key.pk).this_second == 1  # a new second starts from one
