"""Configuration: code tables and user-management settings."""

from __future__ import annotations

import pytest

from patronage.accounts.models import CodeTableEntry, UserManagementSettings

pytestmark = pytest.mark.django_db


def test_an_administrator_sees_the_code_tables(as_admin):
    html = as_admin.get("/config/code-tables/", {"table": "JOB_CATEGORY"}).content.decode()
    assert "Job categories" in html and "Cataloger" in html


def test_add_and_change_a_code_table_value(as_admin):
    url = "/config/code-tables/USER_GROUP/save/"
    data = {"code": "EMERITUS", "description": "Emeritus", "record_types": ["PUBLIC"]}
    response = as_admin.post(url, {**data, "enabled": "1", "sort_order": "9"})
    assert response.status_code == 302
    entry = CodeTableEntry.objects.get(table="USER_GROUP", code="EMERITUS")
    assert entry.record_types == ["PUBLIC"] and entry.enabled
    html = as_admin.get("/config/code-tables/", {"edit": "EMERITUS"}).content.decode()
    assert 'value="Emeritus"' in html
    as_admin.post(url, {"original_code": "EMERITUS", "code": "EMERITUS", "description": "Emeriti"})
    entry.refresh_from_db()
    assert entry.description == "Emeriti" and not entry.enabled


def test_bad_code_table_input_is_shown_and_nothing_changes(as_admin):
    url = "/config/code-tables/USER_GROUP/save/"
    response = as_admin.post(url, {"code": "NEW", "description": "", "sort_order": "1"})
    assert response.status_code == 422
    assert 'id="new-f-description-error"' in response.content.decode()
    response = as_admin.post(url, {"code": "NEW", "description": "New", "sort_order": "-x"})
    assert response.status_code == 422 and "whole number" in response.content.decode()
    assert not CodeTableEntry.objects.filter(code="NEW").exists()


def test_an_unknown_code_table_is_not_found(as_admin):
    assert as_admin.get("/config/code-tables/", {"table": "NOPE"}).status_code == 404
    assert as_admin.post("/config/code-tables/NOPE/save/", {"code": "A"}).status_code == 404


def test_user_managers_cannot_configure(as_manager):
    assert as_manager.get("/config/code-tables/").status_code == 403
    assert (
        as_manager.post(
            "/config/code-tables/USER_GROUP/save/", {"code": "X", "description": "X"}
        ).status_code
        == 403
    )
    assert as_manager.get("/config/user-settings/").status_code == 403
    assert not CodeTableEntry.objects.filter(code="X").exists()


def settings_form(**changes):
    config = UserManagementSettings.current()
    data = {
        name: getattr(config, name)
        for name in (
            "primary_identifier_regex",
            "email_regex",
            "phone_regex",
            "postal_code_regex",
            "address_line_regex",
            "photo_server_url",
            "photo_identifier_type",
            "photo_suffix",
        )
    }
    data["mandatory_STAFF"] = ["user_group"]
    data["mandatory_PUBLIC"] = ["user_group"]
    data.update(changes)
    return data


def test_change_the_settings(as_admin):
    response = as_admin.post(
        "/config/user-settings/",
        settings_form(
            photo_server_url="https://pics.example.edu/",
            mandatory_PUBLIC=["user_group", "birth_date"],
        ),
    )
    assert response.status_code == 302
    config = UserManagementSettings.current()
    assert config.photo_server_url == "https://pics.example.edu/"
    assert config.mandatory_for("PUBLIC") == [
        "birth_date",
        "first_name",
        "last_name",
        "primary_id",
        "user_group",
    ]
    html = as_admin.get("/config/user-settings/").content.decode()
    assert 'name="mandatory_PUBLIC" value="birth_date"' in html


def test_bad_settings_are_shown_beside_their_fields_and_nothing_changes(as_admin):
    response = as_admin.post(
        "/config/user-settings/",
        settings_form(email_regex="([a-z", photo_server_url="http://insecure.example/"),
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="f-email_regex-error"' in html and 'id="f-photo_server_url-error"' in html
    assert 'value="([a-z"' in html
    config = UserManagementSettings.current()
    assert config.email_regex != "([a-z" and config.photo_server_url == ""


def test_saving_unchanged_settings_says_so(as_admin):
    response = as_admin.post("/config/user-settings/", settings_form(), follow=True)
    assert "Nothing was changed" in response.content.decode()
