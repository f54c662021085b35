"""``patronage users add | show | find``: the operator's shell, through the same actions."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from patronage.accounts.models import User
from patronage.audit.models import AuditEvent
from tests.factories import make_user

JANE = [
    "add",
    "--primary-id",
    "jdoe",
    "--record-type",
    "PUBLIC",
    "--first-name",
    "Jane",
    "--last-name",
    "Doe",
    "--user-group",
    "GRAD",
    "--birth-date",
    "1999-12-31",
]


class Keyboard(io.StringIO):
    """Standard input typed at a terminal."""

    def isatty(self) -> bool:
        return True


class Pipe(io.StringIO):
    def isatty(self) -> bool:
        return False


def users(*args: str, stdin: io.StringIO | None = None) -> str:
    out = io.StringIO()
    call_command("users", *args, stdout=out, stdin=stdin or Pipe(""))
    return out.getvalue()


@pytest.fixture
def jane_exists(db):
    return make_user(
        primary_id="jane1", first_name="Jane", last_name="Doe", birth_date="1999-12-31"
    )


# --- add --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_adding_a_user_with_email_barcode_and_password():
    out = users(
        *JANE,
        "--email",
        "jane@example.org",
        "--barcode",
        "39001234",
        "--expiry-date",
        "2030-06-30",
        "--password-stdin",
        stdin=Pipe("correct-horse-battery\n"),
    )
    user = User.objects.get(primary_id="jdoe")
    assert out.strip() == f"Added Jane Doe (jdoe), id {user.pk}."
    assert user.check_password("correct-horse-battery")
    assert str(user.expiry_date) == "2030-06-30"
    assert user.emails.get().address == "jane@example.org"
    assert user.identifiers.filter(id_type="BARCODE", value="39001234").exists()
    assert user.created_via == "Command line"
    event = AuditEvent.objects.get(verb="user.created", subject=user)
    assert event.channel == "cli" and event.actor is None


@pytest.mark.django_db
def test_every_refused_field_is_named_on_its_own_line():
    args = [a if a != "GRAD" else "ASTRONAUT" for a in JANE]
    args = [a if a != "1999-12-31" else "31/12/1999" for a in args]
    with pytest.raises(CommandError) as refused:
        users(*args, "--email", "not-an-email")
    lines = str(refused.value).splitlines()
    assert lines[0] == "The request was refused:"
    assert any(line.startswith("  user_group: User group: 'ASTRONAUT'") for line in lines)
    assert any(line.startswith("  birth_date: ") for line in lines)
    assert refused.value.returncode == 1
    assert not User.objects.filter(primary_id="jdoe").exists()


@pytest.mark.django_db
def test_a_bad_email_given_to_add_adds_nothing():
    with pytest.raises(CommandError, match="address: Email address: 'nope'"):
        users(*JANE, "--email", "nope")
    assert not User.objects.filter(primary_id="jdoe").exists()


@pytest.mark.django_db
def test_a_possible_duplicate_is_asked_about_at_a_terminal(jane_exists):
    out = users(*JANE, stdin=Keyboard("y\n"))
    assert "A user with the same name and birth date exists. Add anyway? [y/N]" in out
    assert "Added Jane Doe (jdoe)" in out
    assert User.objects.filter(primary_id="jdoe").exists()


@pytest.mark.django_db
def test_answering_no_adds_nothing(jane_exists):
    with pytest.raises(CommandError) as refused:
        users(*JANE, stdin=Keyboard("\n"))
    assert refused.value.returncode == 2
    assert not User.objects.filter(primary_id="jdoe").exists()


@pytest.mark.django_db
def test_without_a_terminal_a_possible_duplicate_needs_yes(jane_exists):
    with pytest.raises(CommandError, match="--yes") as refused:
        users(*JANE, stdin=Pipe(""))
    assert refused.value.returncode == 2
    assert not User.objects.filter(primary_id="jdoe").exists()
    users(*JANE, "--yes")
    assert User.objects.filter(primary_id="jdoe").exists()


def test_the_record_type_is_required():
    with pytest.raises(CommandError, match="--record-type"):
        users("add", "--primary-id", "x")


# --- show and find ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_showing_a_user():
    make_user(
        primary_id="pat",
        first_name="Pat",
        last_name="Ron",
        emails=[{"address": "pat@example.org", "types": ["personal"]}],
    )
    out = users("show", "PAT")
    assert out.splitlines()[0].startswith("Pat Ron (pat), id ")
    assert "  User group: UNDERGRAD" in out
    assert "  Password set: no" in out
    assert "Emails:\n  pat@example.org (preferred)" in out


@pytest.mark.django_db
def test_showing_a_user_that_does_not_exist():
    with pytest.raises(CommandError, match="No user with primary ID 'ghost'") as refused:
        users("show", "ghost")
    assert refused.value.returncode == 1


@pytest.mark.django_db
def test_finding_users_by_name_identifier_or_email():
    pat = make_user(
        primary_id="pat",
        first_name="Pat",
        last_name="Ron",
        identifiers=[{"id_type": "BARCODE", "value": "B0001"}],
        emails=[{"address": "pat@example.org", "types": ["personal"]}],
    )
    make_user(primary_id="other", first_name="Patricia", last_name="Zed")
    assert [line.split("\t")[0] for line in users("find", "pat").splitlines()] == [
        "pat",
        "other",
    ]
    assert users("find", "b0001").splitlines() == ["pat\tPat Ron\tPUBLIC\tUNDERGRAD\tACTIVE\t-\t-"]
    assert users("find", "PAT@example.org", "--field", "email").startswith("pat\t")
    assert users("find", "pat ron", "--field", "identifier") == "No users found.\n"
    assert pat.pk


# --- the real console command ----------------------------------------------------------------


@pytest.fixture(scope="module")
def console_env(tmp_path_factory):
    """A migrated SQLite database of its own, for running `patronage` as a process."""
    var = tmp_path_factory.mktemp("patronage-cli")
    env = {
        **os.environ,
        "PATRONAGE_VAR_DIR": str(var),
        "DATABASE_URL": f"sqlite:///{var / 'db.sqlite3'}",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    subprocess.run([*PATRONAGE, "migrate", "-v0"], env=env, check=True, timeout=120)
    return env


PATRONAGE = [sys.executable, "-m", "patronage"]


def run(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PATRONAGE, "users", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parent.parent,
    )


def test_the_console_refuses_cleanly_without_a_traceback(console_env):
    first = run(console_env, *[a if a != "jdoe" else "jd1" for a in JANE])
    assert first.returncode == 0, first.stderr
    duplicate = run(console_env, *JANE)
    assert duplicate.returncode == 2
    assert "Run again with --yes" in duplicate.stderr
    assert "Traceback" not in duplicate.stderr
    invalid = run(console_env, *JANE, "--user-group", "ASTRONAUT", "--yes")
    assert invalid.returncode == 1
    assert "\n  user_group: User group: 'ASTRONAUT' is not a known value." in invalid.stderr
    assert "Traceback" not in invalid.stderr
    assert run(console_env, "show", "jdoe").returncode == 1


def test_the_console_prompts_at_a_terminal(console_env):
    assert run(console_env, *[a if a != "jdoe" else "jd2" for a in JANE], "--yes").returncode == 0
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [*PATRONAGE, "users", *[a if a != "jdoe" else "jd3" for a in JANE]],
            env=console_env,
            stdin=terminal,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        os.write(controller, b"y\n")
        out, err = process.communicate(timeout=60)
    finally:
        os.close(controller)
        os.close(terminal)
    assert process.returncode == 0, err
    assert "Add anyway? [y/N]" in out
    assert "Added Jane Doe (jd3)" in out
    shown = run(console_env, "show", "jd3")
    assert shown.returncode == 0 and "Jane Doe (jd3)" in shown.stdout
