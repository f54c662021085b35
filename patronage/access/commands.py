"""Management commands declare the permission they need, and may run as a staff user.

Every Patronage command subclasses ``PatronageCommand`` and sets ``required_permission``:

* a ``Permission`` (what a user must hold to run it), or a mapping of subcommand name to
  ``Permission`` for a command with subcommands (``users add`` / ``show`` / ``find``);
* ``TRUSTED`` for a command any shell operator may run and no role grants (``demo``, which
  must work on a fresh install where nobody holds a role yet).

Leaving it out is an error at import time, and ``tests/test_cli_permissions.py`` walks every
command under ``patronage/`` so a new one cannot skip the declaration.

Who acts:

* ``--as PRIMARY_ID`` (or the environment variable ``PATRONAGE_CLI_USER``): the command runs
  as that staff user (``Actor(user=..., channel="cli")``). It must be an active staff user
  holding the declared permission, else the command stops before doing anything (exit
  code 1); the actions and selectors it calls then apply that user's scopes, as in the UI.
* otherwise: the trusted operator (``Actor.system(Channel.CLI)``), who may do everything.
  Shell access to the server is itself the privilege: whoever can run ``patronage`` there can
  also read the settings, the database and its credentials, so no check inside the command
  could stop them. ``--as`` is how an operator works under their own name and power (scripts,
  shared admin hosts), and what the audit trail then shows.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from typing import Any, ClassVar

from django.core.management.base import BaseCommand, CommandError, CommandParser

from patronage.audit.context import Actor, Channel

from .checks import can
from .permissions import Permission

TRUSTED = "trusted"  # any shell operator may run the command; no role grants it
CLI_USER_ENV = "PATRONAGE_CLI_USER"
AS_DEST = "as_user"

Declared = Permission | str | Mapping[str, Permission]


class PatronageCommand(BaseCommand):
    """A management command that declares ``required_permission`` and honours ``--as``."""

    required_permission: ClassVar[Declared]
    # For commands with subcommands: the ``dest`` of the subparsers (and the mapping's keys).
    subcommand_dest: ClassVar[str] = "subcommand"
    # The job named on the actor (``Actor.job``), e.g. "demo".
    cli_job: ClassVar[str] = ""

    actor: Actor

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared = getattr(cls, "required_permission", None)
        if declared is None:
            raise TypeError(
                f"{cls.__module__}.{cls.__name__} must declare required_permission "
                "(a Permission, a mapping of subcommand to Permission, or TRUSTED)"
            )
        values = declared.values() if isinstance(declared, Mapping) else [declared]
        for value in values:
            if value != TRUSTED and value not in Permission.values:
                raise TypeError(
                    f"{cls.__module__}.{cls.__name__}.required_permission: {value!r} is not a "
                    "Permission"
                )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        help_text = (
            f"Run as this staff user (primary ID), with their permissions; default: "
            f"${CLI_USER_ENV}, else the trusted operator"
        )
        parser.add_argument("--as", dest=AS_DEST, metavar="PRIMARY_ID", help=help_text)
        # Also after a subcommand (``users add --as jdoe``); SUPPRESS keeps the value given
        # before the subcommand when it is not repeated after it.
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for subparser in set(action.choices.values()):
                    subparser.add_argument(
                        "--as",
                        dest=AS_DEST,
                        metavar="PRIMARY_ID",
                        default=argparse.SUPPRESS,
                        help=help_text,
                    )
        return parser

    def execute(self, *args: Any, **options: Any) -> Any:
        self.actor = self.resolve_actor(options)
        return super().execute(*args, **options)

    # --- who acts --------------------------------------------------------------------------

    def permission_for(self, options: Mapping[str, Any]) -> str:
        declared = self.required_permission
        if isinstance(declared, Mapping):
            subcommand = str(options.get(self.subcommand_dest))
            if subcommand not in declared:
                raise CommandError(f"No permission is declared for '{subcommand}'.")
            return declared[subcommand]
        return declared

    def resolve_actor(self, options: Mapping[str, Any]) -> Actor:
        primary_id = (options.get(AS_DEST) or os.environ.get(CLI_USER_ENV, "")).strip()
        if not primary_id:
            return Actor.system(Channel.CLI, job=self.cli_job)
        user = staff_user(primary_id)
        permission = self.permission_for(options)
        if permission != TRUSTED and not can(user, Permission(permission)):
            raise CommandError(
                f"{user.primary_id} may not run this command: it needs the permission "
                f"'{Permission(permission).label}' ({permission})."
            )
        return Actor(user=user, channel=Channel.CLI, job=self.cli_job)


def staff_user(primary_id: str) -> Any:
    """The active staff user ``--as`` names, or a clear refusal."""
    from patronage.accounts.choices import RecordType
    from patronage.accounts.models import User, identifier_key

    user = User.objects.filter(
        identifiers__key=identifier_key(primary_id), identifiers__is_primary=True
    ).first()
    if user is None:
        raise CommandError(f"--as: no user with primary ID '{primary_id}'.")
    if user.record_type != RecordType.STAFF:
        raise CommandError(f"--as: '{user.primary_id}' is not a staff user.")
    if not user.is_active:
        raise CommandError(f"--as: the account '{user.primary_id}' is not active.")
    return user
