"""The staff UI on external users: SIS fields read-only with the reason, Open for Update,
Toggle account type."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from patronage.accounts.models import User
from patronage.web.views.details import general_values
from tests.factories import make_staff

from .conftest import run_import, user_xml, users_file


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def external(profile, tmp_path):
    run_import([users_file(tmp_path / "a.xml", user_xml("s1", pref_first_name="Patty"))])
    return User.objects.get(primary_id="s1")


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_sis_fields_are_read_only_with_the_reason_unless_open_for_update(external):
    client = _client(make_staff("USER_MANAGER"))
    page = client.get(f"/users/{external.pk}/?tab=general&edit=general").content.decode()
    assert 'id="f-last_name" name="last_name" value="Ron s1"  disabled' in page.replace(
        'aria-required="true" ', ""
    ) or ('name="last_name"' in page and "disabled" in page.split('name="last_name"')[1][:120])
    assert "read-only here unless the user is Open for Update" in page
    assert "disabled" not in page.split('name="pref_first_name"')[1][:120]
    # A read-only field sent anyway is ignored, an editable one saved.
    client.post(
        f"/users/{external.pk}/edit/",
        {**general_values(external), "last_name": "Hacked", "pref_first_name": "Trish"},
    )
    external.refresh_from_db()
    assert (external.last_name, external.pref_first_name) == ("Ron s1", "Trish")

    client.post(f"/users/{external.pk}/open-for-update/", {"open": "1"})
    external.refresh_from_db()
    assert external.open_for_update
    page = client.get(f"/users/{external.pk}/?tab=general&edit=general").content.decode()
    assert "disabled" not in page.split('name="last_name"')[1][:120]


def test_toggle_account_type_needs_its_permission(external, desk_operator):
    assert (
        _client(desk_operator).post(f"/users/{external.pk}/toggle-account-type/").status_code == 403
    )
    manager = make_staff("USER_MANAGER")
    response = _client(manager).post(f"/users/{external.pk}/toggle-account-type/")
    assert response.status_code == 302
    external.refresh_from_db()
    assert external.account_type == "INTERNAL"
    assert _client(manager).post("/users/999999/toggle-account-type/").status_code == 404


def test_open_for_update_of_an_internal_user_is_refused_clearly(db):
    manager = make_staff("USER_MANAGER")
    internal = make_staff()
    response = _client(manager).post(f"/users/{internal.pk}/open-for-update/", {"open": "1"})
    assert response.status_code == 422
    assert "Only external users are opened for update." in response.content.decode()


def test_an_import_started_in_the_ui_runs_and_shows_its_report(
    profile, tmp_path, settings, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    admin = make_staff("USER_ADMINISTRATOR")
    client = _client(admin)
    assert "SIS imports" in client.get("/sis/runs/").content.decode()
    xml = users_file(tmp_path / "a.xml", user_xml("s1"), user_xml("s2", user_group="NOPE"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/sis/runs/",
            {"profile": "registrar", "files": SimpleUploadedFile("a.xml", Path(xml).read_bytes())},
        )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Finished" in page
    assert "User group: &#x27;NOPE&#x27; is not a known value." in page
    report = client.get(response["Location"] + "report/")
    assert "s2" in b"".join(report.streaming_content).decode()


def test_starting_without_files_or_permission_is_refused(profile, desk_operator):
    admin = make_staff("USER_ADMINISTRATOR")
    response = _client(admin).post("/sis/runs/", {"profile": "registrar"})
    assert response.status_code == 422
    assert "Choose at least one SIS file." in response.content.decode()
    assert _client(desk_operator).get("/sis/runs/").status_code == 403
    assert _client(admin).get("/sis/runs/999/").status_code == 404
