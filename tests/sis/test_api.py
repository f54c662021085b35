"""/api/v1/sis: profiles, runs started by upload and applied by the task worker, reports."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from patronage.accounts.models import User
from patronage.sis.models import ImportProfile, ImportRun
from tests.api.client import ApiClient
from tests.factories import make_staff

from .conftest import user_xml, users_file

PROFILE = {
    "code": "hr",
    "name": "HR system",
    "file_format": "xml",
    "match_by": "any_identifier",
    "default_record_type": "STAFF",
    "override_fields": ["user_group"],
    "full_sync": True,
    "missing_action": "inactive",
    "missing_expiry_days": 0,
}


@pytest.fixture(autouse=True)
def _plain_http_and_immediate_tasks(settings):
    settings.SECURE_SSL_REDIRECT = False
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def user_admin(db):
    return make_staff("USER_ADMINISTRATOR", primary_id="ursula")


def test_user_administrators_manage_profiles(user_admin):
    client = ApiClient(user_admin)
    created = client.post("/sis/profiles", PROFILE)
    assert created.status_code == 201, created.json_body
    assert created.json_body["override_fields"] == ["user_group"]
    profile_id = created.json_body["id"]
    changed = client.call("PATCH", f"/sis/profiles/{profile_id}", {"missing_action": "expire"})
    assert changed.json_body["missing_action"] == "expire"
    assert [p["code"] for p in client.get("/sis/profiles").json_body] == ["hr"]
    assert client.get(f"/sis/profiles/{profile_id}").json_body["code"] == "hr"
    assert client.get("/sis/profiles/999").status_code == 404


def test_bad_profiles_are_422_with_the_field_and_nothing_saved(user_admin):
    client = ApiClient(user_admin)
    bad = client.post(
        "/sis/profiles",
        {**PROFILE, "file_format": "csv", "csv_mapping": {"Id": "primary_idd"}},
    )
    assert bad.status_code == 422
    assert (
        bad.json_body["errors"]["Id"] == "'primary_idd' is not a target a column can be mapped to."
    )
    assert not ImportProfile.objects.exists()


def test_staff_without_the_permissions_are_refused(user_manager):
    client = ApiClient(user_manager)
    assert client.post("/sis/profiles", PROFILE).status_code == 403
    assert client.get("/sis/runs").status_code == 403


def test_an_uploaded_file_is_imported_by_the_task_worker_and_reported(
    user_admin, profile, tmp_path, django_capture_on_commit_callbacks
):
    path = users_file(tmp_path / "a.xml", user_xml("s1"), user_xml("s2", user_group="NOPE"))
    client = Client()
    client.force_login(user_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/sis/runs",
            {
                "profile": "registrar",
                "files": SimpleUploadedFile("a.xml", Path(path).read_bytes()),
            },
        )
    assert response.status_code == 202, response.content
    run_id = response.json()["id"]
    api = ApiClient(user_admin)
    run = api.get(f"/sis/runs/{run_id}").json_body
    assert (run["status"], run["created"], run["rejected"], run["files"]) == (
        "finished",
        1,
        1,
        ["a.xml"],
    )
    rejected = api.get(f"/sis/runs/{run_id}/items", outcome="rejected").json_body
    assert rejected["count"] == 1 and rejected["items"][0]["line"] == 4
    report = client.get(f"/api/v1/sis/runs/{run_id}/report")
    assert report["Content-Type"].startswith("text/csv")
    body = b"".join(report.streaming_content).decode()
    assert "'NOPE' is not a known value" in body
    assert User.objects.get(primary_id="s1").account_type == "EXTERNAL"
    assert ImportRun.objects.get().started_by == user_admin


def test_unknown_profile_is_404_and_nothing_is_stored(user_admin, tmp_path):
    client = Client()
    client.force_login(user_admin)
    response = client.post(
        "/api/v1/sis/runs",
        {"profile": "nope", "files": SimpleUploadedFile("a.xml", b"<users/>")},
    )
    assert response.status_code == 404
    assert response.json()["code"] == "profile_not_found"
    assert not ImportRun.objects.exists()


def test_a_finished_run_cannot_be_resumed(user_admin, profile, tmp_path):
    from patronage.sis.actions import execute_run, start_import
    from tests.factories import SYSTEM

    run = start_import(
        actor=SYSTEM,
        profile_code="registrar",
        paths=[users_file(tmp_path / "a.xml", user_xml("s1"))],
    )
    execute_run(run_id=run.pk)
    response = ApiClient(user_admin).post(f"/sis/runs/{run.pk}/resume")
    assert response.status_code == 409 and response.json_body["code"] == "run_finished"
    assert ApiClient(user_admin).post("/sis/runs/999/resume").status_code == 404
