"""Import profiles in the staff UI: listed for those who run imports, added and changed by
those who manage profiles, with each refusal beside its field."""

from __future__ import annotations

import pytest
from django.test import Client

from patronage.audit.models import AuditEvent
from patronage.sis.models import ImportProfile
from tests.factories import make_staff


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def admin_client(db):
    client = Client()
    client.force_login(make_staff("USER_ADMINISTRATOR", primary_id="ursula"))
    return client


CSV_PROFILE = {
    "code": "hr",
    "name": "HR system",
    "file_format": "csv",
    "csv_mapping": "Emplid = primary_id\nGiven = first_name\n\nFamily = last_name\n"
    "Mail = email:work",
    "csv_delimiter": ";",
    "match_by": "any_identifier",
    "default_record_type": "STAFF",
    "override_fields": ["user_group", "expiry_date"],
    "full_sync": "1",
    "missing_action": "expire",
    "missing_expiry_days": "30",
}


def test_a_profile_is_added_then_changed(admin_client):
    assert "Add a profile" in admin_client.get("/sis/profiles/").content.decode()
    response = admin_client.post("/sis/profiles/new/", CSV_PROFILE)
    assert response.status_code == 302, response.content.decode()
    profile = ImportProfile.objects.get(code="hr")
    assert profile.csv_mapping == {
        "Emplid": "primary_id",
        "Given": "first_name",
        "Family": "last_name",
        "Mail": "email:work",
    }
    assert (profile.csv_delimiter, profile.full_sync, profile.missing_expiry_days) == (
        ";",
        True,
        30,
    )
    assert profile.override_fields == ["user_group", "expiry_date"]

    page = admin_client.get(f"/sis/profiles/{profile.pk}/").content.decode()
    assert "Emplid = primary_id" in page
    changed = {**CSV_PROFILE, "name": "HR (nightly)", "missing_action": "inactive"}
    changed.pop("full_sync")
    assert admin_client.post(f"/sis/profiles/{profile.pk}/", changed).status_code == 302
    profile.refresh_from_db()
    assert (profile.name, profile.full_sync, profile.missing_action) == (
        "HR (nightly)",
        False,
        "inactive",
    )
    assert AuditEvent.objects.filter(verb="sis_profile.saved").count() == 2


def test_bad_settings_are_shown_beside_their_fields_and_nothing_is_saved(admin_client):
    bad = {
        **CSV_PROFILE,
        "csv_mapping": "Emplid = primary_idd\nGiven = first_name",
        "missing_expiry_days": "soon",
    }
    response = admin_client.post("/sis/profiles/new/", bad)
    assert response.status_code == 422
    assert "A number of days, 0 or more." in response.content.decode()
    response = admin_client.post("/sis/profiles/new/", {**bad, "missing_expiry_days": "3"})
    page = response.content.decode()
    assert response.status_code == 422
    assert "Emplid: &#x27;primary_idd&#x27; is not a target a column can be mapped to." in page
    assert "No column is mapped to &#x27;primary_id&#x27;." in page
    response = admin_client.post("/sis/profiles/new/", {**CSV_PROFILE, "csv_mapping": "no equals"})
    assert "Line 1: write &#x27;Column heading = target&#x27;." in response.content.decode()
    assert not ImportProfile.objects.exists()


def test_who_may_see_and_change_profiles(admin_client, user_manager):
    admin_client.post("/sis/profiles/new/", CSV_PROFILE)
    profile = ImportProfile.objects.get()
    manager = Client()
    manager.force_login(user_manager)  # neither runs imports nor manages profiles
    assert manager.get("/sis/profiles/").status_code == 403
    assert (
        manager.post(f"/sis/profiles/{profile.pk}/", {**CSV_PROFILE, "name": "x"}).status_code
        == 403
    )
    assert admin_client.get("/sis/profiles/999/").status_code == 404
    assert ImportProfile.objects.get().name == "HR system"
