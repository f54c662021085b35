"""The staff UI of bulk updates: saved searches, starting a job from a list of IDs or a saved
search, its progress and report; 403 without the permission, 404 for others' runs."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from patronage.accounts.models import User, UserBlock
from patronage.audit.models import AuditEvent
from patronage.sis.models import ImportRun, SavedSearch
from tests.factories import make_staff, make_user


@pytest.fixture(autouse=True)
def _plain_http_and_immediate_tasks(settings):
    settings.SECURE_SSL_REDIRECT = False
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def manager(db):
    return make_staff("USER_MANAGER", primary_id="uma")


@pytest.fixture
def patrons(db):
    return [make_user(primary_id=f"p{n}") for n in range(1, 3)]


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_job_from_an_uploaded_file_of_ids_runs_and_reports(
    manager, patrons, django_capture_on_commit_callbacks
):
    client = _client(manager)
    page = client.get("/bulk/").content.decode()
    assert "Start a bulk job" in page
    assert "<script>" not in page  # CSP: no inline script
    upload = SimpleUploadedFile("ids.txt", b"p1\np2\nghost\n", content_type="text/plain")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/bulk/",
            {
                "selection": "ids",
                "ids_file": upload,
                "match_by": "primary_id",
                "operation": "add_block",
                "block_type": "GENERAL",
                "block_note": "Card lost",
            },
        )
    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/bulk/runs/{run.pk}/"
    assert UserBlock.objects.count() == 2
    reads = AuditEvent.objects.filter(verb="users.searched")
    page = client.get(f"/bulk/runs/{run.pk}/").content.decode()
    assert reads.filter(details__run=run.job).count() == 1  # the page names users: logged
    assert "Add a GENERAL block" in page
    assert "ghost" in page
    assert "No user has this ID" in page
    report = client.get(f"/bulk/runs/{run.pk}/report/")
    assert "Card lost" not in b"".join(report.streaming_content).decode()  # the type, not the note
    progress = client.get(
        f"/bulk/runs/{run.pk}/progress/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="run-progress"
    )
    assert 'id="run-rejected">1<' in progress.content.decode()
    assert reads.filter(details__run=run.job).count() == 2  # the page, the CSV; not polling


def test_a_bad_job_shows_the_form_again_with_the_message_and_starts_nothing(manager, patrons):
    client = _client(manager)
    response = client.post(
        "/bulk/",
        {
            "selection": "ids",
            "ids": "p1",
            "operation": "set_field",
            "field": "user_group",
            "value": "NOPE",
        },
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "Nothing was started" in page
    assert "User group: &#x27;NOPE&#x27; is not a known value." in page
    response = client.post("/bulk/", {"selection": "search", "operation": "set_field"})
    assert response.status_code == 422
    assert "Choose one of your saved searches." in response.content.decode()
    assert not ImportRun.objects.exists()


def test_saved_searches_from_the_find_users_page_then_a_dry_run_on_one(
    manager, patrons, django_capture_on_commit_callbacks
):
    client = _client(manager)
    results = client.get("/users/", {"user_group": "UNDERGRAD"}).content.decode()
    assert 'href="/bulk/?user_group=UNDERGRAD' in results
    prefilled = client.get("/bulk/", {"user_group": "UNDERGRAD", "q": "p"}).content.decode()
    assert 'value="p"' in prefilled  # the query, ready to be saved

    response = client.post(
        "/bulk/searches/",
        {"name": "Undergrads", "user_group": "UNDERGRAD", "record_type": "PUBLIC"},
    )
    assert response.status_code == 302
    search = SavedSearch.objects.get()
    assert search.filters == {"user_group": "UNDERGRAD", "record_type": "PUBLIC"}
    bad = client.post("/bulk/searches/", {"name": "", "status": "sleeping"})
    assert bad.status_code == 422
    assert "Enter the name of the search." in bad.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/bulk/",
            {
                "selection": "search",
                "saved_search": str(search.pk),
                "operation": "set_field",
                "field": "status",
                "value": "INACTIVE",
                "dry_run": "1",
            },
        )
    run = ImportRun.objects.get()
    assert (run.dry_run, run.updated) == (True, 2)
    assert set(
        User.objects.filter(primary_id__in=["p1", "p2"]).values_list("status", flat=True)
    ) == {"ACTIVE"}

    other = _client(make_staff("USER_MANAGER", primary_id="otto"))
    assert other.get(f"/bulk/runs/{run.pk}/").status_code == 404
    assert other.get(f"/bulk/runs/{run.pk}/report/").status_code == 404
    assert other.post(f"/bulk/searches/{search.pk}/delete/").status_code == 404
    assert client.post(f"/bulk/searches/{search.pk}/delete/").status_code == 302
    assert not SavedSearch.objects.exists()


def test_without_the_permission_the_pages_are_403(desk_operator):
    client = _client(desk_operator)
    assert client.get("/bulk/").status_code == 403
    assert client.post("/bulk/", {"selection": "ids", "ids": "x"}).status_code == 403
    assert client.post("/bulk/searches/", {"name": "x"}).status_code == 403
    assert "Bulk updates" not in client.get("/").content.decode()
