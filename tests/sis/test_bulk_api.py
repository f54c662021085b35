"""/api/v1/bulk: saved searches and bulk runs, applied by the task worker."""

from __future__ import annotations

import pytest

from patronage.accounts.models import User
from patronage.audit.models import AuditEvent
from patronage.sis.models import ImportRun, SavedSearch
from tests.api.client import ApiClient
from tests.factories import make_staff, make_user


@pytest.fixture(autouse=True)
def _plain_http_and_immediate_tasks(settings):
    settings.SECURE_SSL_REDIRECT = False
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def manager(db):
    return make_staff("USER_MANAGER", primary_id="uma")


@pytest.fixture
def patrons(db):
    return [make_user(primary_id=f"p{n}") for n in range(1, 3)]


def test_saved_searches_are_kept_per_staff_user(manager):
    client = ApiClient(manager)
    created = client.post("/bulk/searches", {"name": "Grads", "filters": {"user_group": "GRAD"}})
    assert created.status_code == 201, created.json_body
    search_id = created.json_body["id"]
    assert [s["name"] for s in client.get("/bulk/searches").json_body] == ["Grads"]
    changed = client.call("PATCH", f"/bulk/searches/{search_id}", {"filters": {"status": "active"}})
    assert changed.json_body["filters"] == {"status": "active"}
    assert changed.json_body["name"] == "Grads"

    other = ApiClient(make_staff("USER_MANAGER", primary_id="otto"))
    assert other.get(f"/bulk/searches/{search_id}").status_code == 404
    assert other.call("DELETE", f"/bulk/searches/{search_id}").status_code == 404
    assert other.get("/bulk/searches").json_body == []

    assert client.call("DELETE", f"/bulk/searches/{search_id}").status_code == 204
    assert not SavedSearch.objects.exists()


def test_a_bad_saved_search_is_422_with_the_filter(manager):
    bad = ApiClient(manager).post(
        "/bulk/searches", {"name": "x", "filters": {"record_type": "ALIEN"}}
    )
    assert bad.status_code == 422
    assert bad.json_body["errors"] == {
        "record_type": "'ALIEN' is not one of STAFF, PUBLIC, CONTACT."
    }
    assert not SavedSearch.objects.exists()


def test_without_the_bulk_permission_everything_is_403(desk_operator):
    client = ApiClient(desk_operator)
    assert client.get("/bulk/searches").status_code == 403
    assert client.get("/bulk/runs").status_code == 403
    body = {
        "ids": ["p1"],
        "operation": {"type": "set_field", "field": "user_group", "value": "GRAD"},
    }
    assert client.post("/bulk/runs", body).status_code == 403
    assert not ImportRun.objects.exists()


def test_a_run_on_a_list_of_ids_is_applied_and_reported(
    manager, patrons, django_capture_on_commit_callbacks
):
    client = ApiClient(manager)
    body = {
        "ids": ["p1", "p2", "ghost"],
        "operation": {"type": "set_field", "field": "expiry_date", "value": "2031-12-31"},
    }
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post("/bulk/runs", body)
    assert started.status_code == 202, started.json_body
    assert started.json_body["operation"] == "Set expiry date to 2031-12-31"
    assert started.json_body["selection"] == "3 IDs (primary id)"
    run_id = started.json_body["id"]
    run = client.get(f"/bulk/runs/{run_id}").json_body
    assert (run["status"], run["updated"], run["rejected"]) == ("finished", 2, 1)
    assert str(User.objects.get(primary_id="p1").expiry_date) == "2031-12-31"

    rejected = client.get(f"/bulk/runs/{run_id}/items", outcome="rejected").json_body
    assert [item["primary_id"] for item in rejected["items"]] == ["ghost"]
    report = client.client.get(f"/api/v1/bulk/runs/{run_id}/report")
    text = b"".join(report.streaming_content).decode()
    assert "expiry_date: — → 2031-12-31" in text
    assert "ghost" in text

    assert client.post(f"/bulk/runs/{run_id}/resume").status_code == 409
    other = ApiClient(make_staff("USER_MANAGER", primary_id="otto"))
    assert other.get(f"/bulk/runs/{run_id}").status_code == 404
    assert other.get(f"/bulk/runs/{run_id}/report").status_code == 404
    assert other.get("/bulk/runs").json_body == []


def test_a_dry_run_through_the_api_writes_nothing(
    manager, patrons, django_capture_on_commit_callbacks
):
    events = AuditEvent.objects.filter(verb="user.updated").count()
    body = {
        "ids": ["p1"],
        "operation": {"type": "set_field", "field": "user_group", "value": "GRAD"},
        "dry_run": True,
    }
    with django_capture_on_commit_callbacks(execute=True):
        started = ApiClient(manager).post("/bulk/runs", body)
    run = ImportRun.objects.get(pk=started.json_body["id"])
    assert (run.dry_run, run.updated) == (True, 1)
    assert User.objects.get(primary_id="p1").user_group == "UNDERGRAD"
    assert AuditEvent.objects.filter(verb="user.updated").count() == events


def test_bad_runs_are_refused_with_the_field_and_nothing_started(manager, patrons):
    client = ApiClient(manager)
    bad = client.post(
        "/bulk/runs",
        {"ids": ["p1"], "operation": {"type": "set_field", "field": "user_group", "value": "NOPE"}},
    )
    assert bad.status_code == 422
    assert bad.json_body["errors"] == {"value": "User group: 'NOPE' is not a known value."}
    both = client.post(
        "/bulk/runs",
        {"ids": ["p1"], "saved_search": 1, "operation": {"type": "add_note"}},
    )
    assert both.status_code == 422
    assert both.json_body["code"] == "bad_selection"
    unknown = client.post("/bulk/runs", {"ids": ["p1"], "operation": {"type": "purge"}})
    assert unknown.status_code in (400, 422)
    missing = client.post(
        "/bulk/runs",
        {
            "saved_search": 4242,
            "operation": {"type": "set_field", "field": "status", "value": "ACTIVE"},
        },
    )
    assert missing.status_code == 404
    assert not ImportRun.objects.exists()
