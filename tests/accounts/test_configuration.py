"""Code tables and user-management parameters are data that administrators edit."""

import pytest

from patronage.accounts import actions
from patronage.accounts.models import CodeTableEntry, UserManagementSettings
from patronage.audit.models import AuditEvent
from patronage.errors import Forbidden, ValidationFailed
from tests.factories import actor_for, make_user

pytestmark = pytest.mark.django_db


def test_code_tables_are_seeded_with_defaults(db):
    groups = set(CodeTableEntry.objects.filter(table="USER_GROUP").values_list("code", flat=True))
    assert {"UNDERGRAD", "GRAD", "FACULTY", "STAFF"} <= groups
    claim = CodeTableEntry.objects.get(table="EMAIL_TYPE", code="claimMail")
    assert claim.record_types == ["CONTACT"]


def test_an_administrator_adds_a_user_group_that_records_can_then_use(admin):
    actions.save_code_entry(
        actor=actor_for(admin),
        table="USER_GROUP",
        code="EMERITUS",
        description="Emeritus faculty",
        record_types=["PUBLIC"],
    )
    assert make_user(user_group="EMERITUS").user_group == "EMERITUS"
    assert AuditEvent.objects.filter(verb="code_table.saved").exists()


def test_a_disabled_value_can_no_longer_be_chosen(admin):
    actions.save_code_entry(
        actor=actor_for(admin),
        table="USER_GROUP",
        code="ALUMNI",
        description="Alumni",
        enabled=False,
    )
    with pytest.raises(ValidationFailed):
        make_user(user_group="ALUMNI")


def test_bad_code_table_input_is_refused(admin):
    with pytest.raises(ValidationFailed) as refused:
        actions.save_code_entry(
            actor=actor_for(admin), table="NOPE", code="", description="", record_types=["ALIEN"]
        )
    assert set(refused.value.errors) == {"table", "code", "description", "record_types"}


def test_only_administrators_edit_configuration(user_manager):
    with pytest.raises(Forbidden):
        actions.save_code_entry(
            actor=actor_for(user_manager), table="USER_GROUP", code="X", description="X"
        )
    with pytest.raises(Forbidden):
        actions.update_settings(actor=actor_for(user_manager), changes={"email_regex": ".*"})


def test_settings_refuse_broken_patterns_and_insecure_picture_urls(admin):
    with pytest.raises(ValidationFailed) as refused:
        actions.update_settings(
            actor=actor_for(admin),
            changes={"email_regex": "([a-z", "photo_server_url": "http://pics.example.edu/p"},
        )
    assert set(refused.value.errors) == {"email_regex", "photo_server_url"}
    assert UserManagementSettings.current().email_regex != "([a-z"


def test_settings_changes_are_audited(admin):
    actions.update_settings(
        actor=actor_for(admin),
        changes={"photo_server_url": "https://pics.example.edu/users/", "photo_suffix": "jpg"},
    )
    event = AuditEvent.objects.get(verb="settings.updated")
    assert {c["field"] for c in event.changes} == {"photo_server_url", "photo_suffix"}


def test_mandatory_fields_must_name_real_fields(admin):
    with pytest.raises(ValidationFailed):
        actions.update_settings(
            actor=actor_for(admin), changes={"mandatory_fields": {"PUBLIC": ["shoe"]}}
        )
    actions.update_settings(
        actor=actor_for(admin), changes={"mandatory_fields": {"PUBLIC": ["birth_date"]}}
    )
    assert "birth_date" in UserManagementSettings.current().mandatory_for("PUBLIC")
