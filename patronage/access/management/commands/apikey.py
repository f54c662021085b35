"""``patronage apikey``: create, list and revoke API keys from the operator's shell.

    patronage apikey create --user jdoe --name "SIS import" [--read-only] \\
        [--expires 2027-06-30] [--permission users:user:view ...]
    patronage apikey list --user jdoe
    patronage apikey revoke KEY_ID

``create`` prints the key once, on its own line on stdout (only a digest is stored). The shell
is trusted: the commands act as the system (channel "cli") and are audited as such; the
delegation rule still holds (a key's permissions are within its owner's). ``--expires``: the
key stops working at the start of that day, local time.

Exit codes: 0 done; 1 refused (the reasons on stderr) or not found.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from patronage.access.api_key_actions import create_api_key, keys_of, revoke_api_key
from patronage.access.commands import PatronageCommand
from patronage.access.models import ApiKey
from patronage.access.permissions import Permission
from patronage.accounts.management.commands.users import refusal
from patronage.accounts.models import User, identifier_key
from patronage.errors import DomainError


def _user(primary_id: str) -> User:
    user = User.objects.filter(
        identifiers__key=identifier_key(primary_id), identifiers__is_primary=True
    ).first()
    if user is None:
        raise CommandError(f"No user with primary ID '{primary_id}'.")
    return user


def _expiry(value: str | None) -> datetime.datetime | None:
    if not value:
        return None
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--expires: '{value}' is not a date (YYYY-MM-DD).") from None
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class Command(PatronageCommand):
    help = "Create, list and revoke API keys."
    required_permission = Permission.APIKEYS_MANAGE

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="subcommand", required=True, metavar="COMMAND")
        create = commands.add_parser("create", help="Create a key and print it once")
        create.add_argument("--user", required=True, metavar="PRIMARY_ID", help="The owner")
        create.add_argument("--name", default="", help="What will use the key")
        create.add_argument("--read-only", action="store_true", help="GET and HEAD only")
        create.add_argument("--expires", metavar="YYYY-MM-DD", help="Stops working that day")
        create.add_argument(
            "--permission",
            action="append",
            default=[],
            metavar="P",
            help="A permission the key may use (repeat; none: all the owner holds)",
        )
        listing = commands.add_parser("list", help="List a user's keys")
        listing.add_argument("--user", required=True, metavar="PRIMARY_ID")
        revoke = commands.add_parser("revoke", help="Revoke a key")
        revoke.add_argument("key_id", type=int, metavar="KEY_ID")
        revoke.add_argument("--reason", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = self.actor
        try:
            if options["subcommand"] == "create":
                owner = _user(options["user"])
                created = create_api_key(
                    actor=actor,
                    owner=owner,
                    name=options["name"] or "command line",
                    permissions=options["permission"],
                    read_only=options["read_only"],
                    expires_at=_expiry(options["expires"]),
                )
                key = created.api_key
                self.stderr.write(
                    f"Created key {key.pk} '{key.name}' for {owner.primary_id}. "
                    "It is shown once, below:"
                )
                self.stdout.write(created.key)
            elif options["subcommand"] == "list":
                for key in keys_of(_user(options["user"])):
                    scope = ",".join(key.permissions) or "all"
                    expires = key.expires_at.date().isoformat() if key.expires_at else "-"
                    access = "read-only" if key.read_only else "read-write"
                    self.stdout.write(
                        f"{key.pk}\t{key.prefix}…\t{key.name}\t{key.state}\t{access}\t"
                        f"expires {expires}\t{scope}"
                    )
            else:
                api_key = ApiKey.objects.filter(pk=options["key_id"]).first()
                if api_key is None:
                    raise CommandError(f"No API key {options['key_id']}.")
                revoke_api_key(actor=actor, api_key=api_key, reason=options["reason"])
                self.stdout.write(f"Key {api_key.pk} ({api_key.prefix}…) is revoked.")
        except DomainError as exc:
            raise CommandError(refusal(exc)) from None
