"""``patronage forget``: a person's request to be forgotten, from receipt to anonymisation.

    patronage forget request PRIMARY_ID --via letter [--received-on YYYY-MM-DD] [--notes TEXT]
    patronage forget show REFERENCE          # the request and its preconditions
    patronage forget carry-out REFERENCE     # anonymise (every precondition must hold)
    patronage forget withdraw REFERENCE [--reason TEXT]

Exit codes: 0 done; 1 refused (no permission, unknown user or request, bad input, an unmet
precondition: nothing changed).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from patronage.access.commands import PatronageCommand
from patronage.access.permissions import Permission
from patronage.accounts.models import User, identifier_key
from patronage.accounts.selectors import visible_users
from patronage.errors import DomainError, ValidationFailed

from ... import forgetting
from ...models import ForgettingRequest, RequestChannel


class Command(PatronageCommand):
    help = "Record, check, carry out or withdraw a person's request to be forgotten."
    required_permission = Permission.PRIVACY_FORGET
    cli_job = "forget"

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="subcommand", required=True, metavar="COMMAND")
        new = commands.add_parser("request", help="Record a request to be forgotten")
        new.add_argument("primary_id", metavar="PRIMARY_ID")
        new.add_argument("--via", required=True, choices=RequestChannel.values)
        new.add_argument("--received-on", default="", metavar="YYYY-MM-DD")
        new.add_argument("--notes", default="")
        for name, text in (
            ("show", "Show a request and its preconditions"),
            ("carry-out", "Anonymise the person"),
            ("withdraw", "The person withdrew the request"),
        ):
            sub = commands.add_parser(name, help=text)
            sub.add_argument("reference", metavar="REFERENCE")
            if name == "withdraw":
                sub.add_argument("--reason", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        subcommand = options["subcommand"]
        try:
            if subcommand == "request":
                request = forgetting.record_forgetting_request(
                    actor=self.actor,
                    user=self.user(options["primary_id"]),
                    received_via=options["via"],
                    received_on=options["received_on"],
                    notes=options["notes"],
                )
                self.show(request)
                return
            request = forgetting.request_by_reference(self.actor.user, options["reference"])
            if subcommand == "carry-out":
                request = forgetting.carry_out(actor=self.actor, request=request)
            elif subcommand == "withdraw":
                request = forgetting.withdraw_forgetting_request(
                    actor=self.actor, request=request, reason=options["reason"]
                )
            self.show(request)
        except ValidationFailed as exc:
            reasons = "; ".join(f"{name}: {text}" for name, text in exc.errors.items())
            raise CommandError(f"Nothing was changed. {reasons}") from None
        except DomainError as exc:
            raise CommandError(exc.message) from None

    def user(self, primary_id: str) -> User:
        users = User.objects.all() if self.actor.user is None else visible_users(self.actor.user)
        found = users.filter(
            identifiers__key=identifier_key(primary_id), identifiers__is_primary=True
        ).first()
        if found is None:
            raise CommandError(f"No user with primary ID '{primary_id}'.")
        return found

    def show(self, request: ForgettingRequest) -> None:
        write = self.stdout.write
        write(
            f"{request.reference}: user id {request.user_id}, received {request.received_on} "
            f"({request.get_received_via_display()}), {request.get_state_display().lower()}"
        )
        if request.state == forgetting.ForgettingState.RECEIVED:
            for p in forgetting.preconditions(request, actor=self.actor):
                mark = "ok" if p.met else "NOT MET"
                write(f"  [{mark}] {p.label}{f': {p.detail}' if p.detail else ''}")
        for name, count in sorted(request.outcome.items()):
            write(f"  {name.replace('_', ' ')}: {count}")
