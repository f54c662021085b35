"""``patronage privacy``: a user's personal data from the operator's shell.

    patronage privacy export PRIMARY_ID --format json|xml|html|pdf [--output FILE] [--reason ...]
    patronage privacy send-letter PRIMARY_ID [--reason ...]

``export`` writes everything held about the user (``patronage.privacy.personal_data``) to
standard output or ``--output`` (a PDF needs ``--output``); ``send-letter`` e-mails the
Personal Information Letter with the XML attached to the user's preferred address. Both are
``user.exported`` events in the read-access log (channel ``cli``). With ``--as`` the staff
user must hold ``privacy:personal_data:export`` / ``privacy:personal_data:send_letter`` and
see the user; without it the trusted operator acts (``patronage.access.commands``).

Exit codes: 0 done; 1 refused or not found (the reason on stderr).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from patronage.access.commands import PatronageCommand
from patronage.access.permissions import Permission
from patronage.accounts import selectors
from patronage.accounts.models import User, identifier_key
from patronage.errors import DomainError

from ... import personal_data
from ...reads import require_reason


class Command(PatronageCommand):
    help = "Export a user's personal data, or e-mail it as the Personal Information Letter."
    required_permission = {
        "export": Permission.PRIVACY_PERSONAL_DATA_EXPORT,
        "send-letter": Permission.PRIVACY_PERSONAL_DATA_LETTER,
    }

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="subcommand", required=True, metavar="COMMAND")
        export = commands.add_parser(
            "export", help="Everything held about a user", description="Export personal data."
        )
        export.add_argument("primary_id", metavar="PRIMARY_ID")
        export.add_argument("--format", choices=personal_data.FORMATS, default="json")
        export.add_argument("--output", metavar="FILE", help="Write here (default: stdout)")
        export.add_argument("--reason", default="", help="Why you export it (access log)")
        letter = commands.add_parser(
            "send-letter",
            help="E-mail the Personal Information Letter",
            description="E-mail the Personal Information Letter to the user.",
        )
        letter.add_argument("primary_id", metavar="PRIMARY_ID")
        letter.add_argument("--reason", default="", help="Why (audit trail)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = self.user(options["primary_id"])
            if options["subcommand"] == "export":
                self.export(user, options)
            else:
                address = personal_data.send_letter(
                    actor=self.actor, user=user, reason=options["reason"].strip()
                )
                self.stdout.write(f"The Personal Information Letter was sent to {address}.")
        except DomainError as exc:
            raise CommandError(exc.message) from None

    def user(self, primary_id: str) -> User:
        if self.actor.user is not None:
            return selectors.get_user_by_primary_id(self.actor.user, primary_id)
        found = User.objects.filter(
            identifiers__key=identifier_key(primary_id), identifiers__is_primary=True
        ).first()
        if found is None:
            raise CommandError(f"No user with primary ID '{primary_id}'.")
        return found

    def export(self, user: User, options: dict[str, Any]) -> None:
        fmt, output, reason = options["format"], options["output"], options["reason"].strip()
        if fmt == "pdf" and not output:
            raise CommandError("A PDF is binary: give --output FILE.")
        require_reason(reason, user.pk)
        done = personal_data.export(actor=self.actor, user=user, fmt=fmt)
        if output:
            Path(output).write_bytes(done.content)
        else:
            self.stdout.write(done.content.decode(), ending="")
        personal_data.record_export(self.actor, user, fmt, reason)
