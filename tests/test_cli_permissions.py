"""Every Patronage command declares its permission; ``--as`` runs it as a staff user."""

from __future__ import annotations

import argparse
import io
from collections.abc import Mapping

import pytest
from django.core.management import call_command, get_commands, load_command_class
from django.core.management.base import CommandError

from patronage.access.commands import TRUSTED, PatronageCommand
from patronage.access.permissions import Permission
from patronage.accounts.models import User
from patronage.audit.models import AuditEvent
from tests.factories import make_staff, make_user

NEW_USER = [
    "add",
    "--primary-id",
    "newbie",
    "--record-type",
    "PUBLIC",
    "--first-name",
    "New",
    "--last-name",
    "Reader",
    "--user-group",
    "GRAD",
]


def patronage_commands() -> dict[str, object]:
    """Every management command whose module lives in the ``patronage`` package."""
    found = {}
    for name, app in get_commands().items():
        if not isinstance(app, str):
            continue
        command = load_command_class(app, name)
        if type(command).__module__.startswith("patronage."):
            found[name] = command
    return found


def subcommands(command: object) -> set[str]:
    assert isinstance(command, PatronageCommand)
    parser = command.create_parser("patronage", "x")
    return {
        name
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
        for name in action.choices
    }


def test_the_walk_finds_the_commands_we_know():
    assert {"users", "demo"} <= set(patronage_commands())


@pytest.mark.parametrize("name", sorted(patronage_commands()))
def test_every_command_declares_the_permission_it_needs(name):
    command = patronage_commands()[name]
    assert isinstance(command, PatronageCommand), f"{name} must subclass PatronageCommand"
    declared = type(command).__dict__.get("required_permission") or getattr(
        type(command), "required_permission", None
    )
    assert declared is not None, f"{name} declares no required_permission"
    if isinstance(declared, Mapping):
        assert set(declared) == subcommands(command), f"{name}: one permission per subcommand"
        values = list(declared.values())
    else:
        values = [declared]
    for value in values:
        assert value == TRUSTED or value in Permission.values, (name, value)


def test_a_command_without_a_declaration_is_refused_at_import():
    with pytest.raises(TypeError, match="must declare required_permission"):

        class Undeclared(PatronageCommand):
            pass

    with pytest.raises(TypeError, match="is not a Permission"):

        class Misspelt(PatronageCommand):
            required_permission = "users:user:fly"


def test_users_declares_a_permission_per_subcommand():
    command = patronage_commands()["users"]
    assert type(command).required_permission == {
        "add": Permission.USERS_CREATE,
        "show": Permission.USERS_VIEW,
        "find": Permission.USERS_VIEW,
    }
    assert type(patronage_commands()["demo"]).required_permission == TRUSTED


# --- --as ---------------------------------------------------------------------------------------


def users(*args: str, **options: object) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("users", *args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


@pytest.fixture(autouse=True)
def _no_cli_user_in_the_environment(monkeypatch):
    monkeypatch.delenv("PATRONAGE_CLI_USER", raising=False)


@pytest.mark.django_db
@pytest.mark.parametrize("where", ["before", "after"])
def test_a_user_manager_adds_a_user_under_their_own_name(where):
    make_staff("USER_MANAGER", primary_id="umgr")
    args = ["--as", "UMGR", *NEW_USER] if where == "before" else [*NEW_USER, "--as", "umgr"]
    out, _ = users(*args)
    assert "Added New Reader (newbie)" in out
    created = User.objects.get(primary_id="newbie")
    event = AuditEvent.objects.get(verb="user.created", subject=created)
    assert event.channel == "cli"
    assert event.actor.primary_id == "umgr"


@pytest.mark.django_db
def test_the_environment_names_the_cli_user(monkeypatch):
    make_staff("USER_MANAGER", primary_id="umgr")
    monkeypatch.setenv("PATRONAGE_CLI_USER", "umgr")
    users(*NEW_USER)
    event = AuditEvent.objects.get(verb="user.created", subject__primary_id="newbie")
    assert event.actor.primary_id == "umgr"


@pytest.mark.django_db
def test_without_the_permission_the_command_stops_and_writes_nothing():
    make_staff("FULFILLMENT_OPERATOR", primary_id="desk1")  # may view users, not create them
    events = AuditEvent.objects.count()
    with pytest.raises(CommandError) as refused:
        users("--as", "desk1", *NEW_USER)
    assert refused.value.returncode == 1
    assert "desk1 may not run this command" in str(refused.value)
    assert Permission.USERS_CREATE.value in str(refused.value)
    assert not User.objects.filter(primary_id="newbie").exists()
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_a_staff_member_without_roles_may_not_even_show_a_user():
    make_staff(primary_id="nobody")
    make_user(primary_id="pat", first_name="Pat", last_name="Ron")
    with pytest.raises(CommandError, match="nobody may not run this command") as refused:
        users("show", "pat", "--as", "nobody")
    assert refused.value.returncode == 1


@pytest.mark.django_db
def test_an_unknown_or_unsuitable_as_user_is_a_clear_error():
    with pytest.raises(CommandError, match="--as: no user with primary ID 'ghost'") as refused:
        users("--as", "ghost", "show", "pat")
    assert refused.value.returncode == 1
    make_user(primary_id="patron1")
    with pytest.raises(CommandError, match="'patron1' is not a staff user"):
        users("--as", "patron1", "show", "pat")


@pytest.mark.django_db
def test_show_and_find_as_a_desk_operator_see_identifiers_but_search_no_names():
    make_staff("FULFILLMENT_OPERATOR", primary_id="desk1")
    make_user(
        primary_id="pat",
        first_name="Pat",
        last_name="Ron",
        identifiers=[{"id_type": "BARCODE", "value": "B0001"}],
    )
    out, _ = users("show", "pat", "--as", "desk1")
    assert out.startswith("Pat Ron (pat), id ")
    out, err = users("find", "b0001", "--as", "desk1")
    assert out.startswith("pat\tPat Ron\t")
    out, err = users("find", "Ron", "--field", "name", "--as", "desk1")
    assert out == "No users found.\n"
    assert "desk1 may not look users up by name" in err


@pytest.mark.django_db
def test_find_as_a_user_manager_searches_names_as_in_the_ui():
    make_staff("USER_MANAGER", primary_id="umgr")
    make_user(primary_id="pat", first_name="Pat", last_name="Ron")
    out, err = users("find", "ron", "--as", "umgr")
    assert out.startswith("pat\tPat Ron\t")
    assert err == ""


@pytest.mark.django_db
def test_without_as_the_trusted_operator_runs_the_command():
    out, _ = users(*NEW_USER)
    assert "Added New Reader (newbie)" in out
    event = AuditEvent.objects.get(verb="user.created", subject__primary_id="newbie")
    assert event.actor is None and event.channel == "cli"
