"""``patronage users``: add, show and find user records from the operator's shell.

    patronage users add --primary-id jdoe --record-type PUBLIC --first-name Jane \\
        --last-name Doe --user-group GRAD --email jane@example.org --barcode 39001234
    patronage users show jdoe
    patronage users find "doe" --field name

The shell is trusted: commands act as the system (channel "cli"), every write goes through
the actions and is audited as such. With ``--as PRIMARY_ID`` (or ``PATRONAGE_CLI_USER``) they
act as that staff user instead, who must hold the subcommand's permission (``add``: create
users; ``show``, ``find``: view users), and see only what that user sees: a name search only
with the permission to look users up by name, as in the UI (``patronage.access.commands``).

Exit codes: 0 done; 1 refused (the reasons on stderr, one field per line) or not found;
2 a possible duplicate needs confirmation (answer the prompt, or pass --yes).
"""

from __future__ import annotations

import getpass
import sys
from typing import IO, Any

from django.core.management.base import CommandError, CommandParser
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from patronage.access.checks import restrict
from patronage.access.commands import PatronageCommand
from patronage.access.permissions import Permission
from patronage.errors import ConfirmationRequired, DomainError, ValidationFailed
from patronage.privacy.reads import SEARCHED, VIEWED, record_read, require_reason

from ... import actions, selectors
from ...choices import BlockStatus, RecordType
from ...models import Email, User, UserBlock, UserIdentifier, UserNote, identifier_key
from ...validation import GENERAL_FIELDS

DUPLICATE_PROMPT = "A user with the same name and birth date exists. Add anyway? [y/N] "
NEEDS_CONFIRMATION = 2
FIND_LIMIT = 50
LIST_FIELDS = ("library_notices", "rs_libraries", "purchase_request_libraries")
FLAG_FIELDS = ("force_password_change", "mfa_enabled")


def option_name(field: str) -> str:
    return "--" + field.replace("_", "-")


class Command(PatronageCommand):
    help = "Add, show and find user records."
    required_permission = {
        "add": Permission.USERS_CREATE,
        "show": Permission.USERS_VIEW,
        "find": Permission.USERS_VIEW,
    }
    # call_command(..., stdin=...) lets tests answer the prompt and feed --password-stdin.
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="subcommand", required=True, metavar="COMMAND")

        add = commands.add_parser("add", help="Add a user", description="Add a user.")
        add.add_argument(
            "--record-type", required=True, choices=RecordType.values, help="Record type"
        )
        for name, spec in GENERAL_FIELDS.items():
            if name == "record_type":
                continue
            if name in FLAG_FIELDS:
                add.add_argument(
                    option_name(name), dest=name, action="store_true", default=None, help=spec.label
                )
            elif name in LIST_FIELDS:
                add.add_argument(
                    option_name(name),
                    dest=name,
                    action="append",
                    metavar="CODE",
                    help=f"{spec.label} (repeat for several)",
                )
            else:
                metavar = "YYYY-MM-DD" if spec.kind == "date" else None
                add.add_argument(option_name(name), dest=name, metavar=metavar, help=spec.label)
        add.add_argument("--email", action="append", default=[], help="An email address")
        add.add_argument("--email-type", default="personal", help="Type of the email addresses")
        add.add_argument("--barcode", action="append", default=[], help="A barcode identifier")
        add.add_argument(
            "--password-stdin",
            action="store_true",
            help="Read the password from standard input (its first line)",
        )
        add.add_argument(
            "--yes",
            action="store_true",
            help="Add the user even if one with the same name and birth date exists",
        )

        show = commands.add_parser("show", help="Show a user", description="Show a user.")
        show.add_argument("primary_id", metavar="PRIMARY_ID")
        show.add_argument("--reason", default="", help="Why you open this record (access log)")

        find = commands.add_parser("find", help="Find users", description="Find users.")
        find.add_argument("query", metavar="QUERY")
        find.add_argument("--field", choices=selectors.SearchField.CHOICES, default="all")
        find.add_argument("--limit", type=int, default=FIND_LIMIT)
        find.add_argument("--reason", default="", help="Why you search (access log)")

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdin: IO[str] = options.get("stdin") or sys.stdin
        subcommand = options["subcommand"]
        try:
            if subcommand == "add":
                self.add(options)
            elif subcommand == "show":
                self.show(options["primary_id"], options["reason"].strip())
            else:
                self.find(options["query"], options["field"], options["limit"], options["reason"])
        except DomainError as exc:
            raise CommandError(refusal(exc)) from None

    # --- add ----------------------------------------------------------------------------------

    def add(self, options: dict[str, Any]) -> None:
        fields = {
            name: options[name]
            for name in GENERAL_FIELDS
            if name != "record_type" and options.get(name) is not None
        }
        fields["record_type"] = options["record_type"]
        password = self.read_password() if options["password_stdin"] else ""
        create: dict[str, Any] = {
            "actor": self.actor,
            "fields": fields,
            "identifiers": [{"id_type": "BARCODE", "value": b} for b in options["barcode"]],
            "emails": [{"address": a, "types": [options["email_type"]]} for a in options["email"]],
            "password": password,
        }
        try:
            user = actions.create_user(**create, confirm_duplicate=options["yes"])
        except ConfirmationRequired as exc:
            if exc.code != "possible_duplicate":
                raise
            if not self.confirm_duplicate():
                raise CommandError(
                    "A user with the same first name, last name and birth date already exists; "
                    "the user was not added. Run again with --yes to add it anyway.",
                    returncode=NEEDS_CONFIRMATION,
                ) from None
            user = actions.create_user(**create, confirm_duplicate=True)
        self.stdout.write(f"Added {user.display_name} ({user.primary_id}), id {user.pk}.")

    def read_password(self) -> str:
        if self.stdin.isatty():
            return getpass.getpass("Password: ")
        password = self.stdin.readline().rstrip("\r\n")
        if not password:
            raise CommandError("--password-stdin: standard input holds no password.")
        return password

    def confirm_duplicate(self) -> bool:
        if not self.stdin.isatty():
            return False
        self.stdout.write(DUPLICATE_PROMPT, ending="")
        self.stdout.flush()
        return self.stdin.readline().strip().lower() in {"y", "yes"}

    # --- show and find ------------------------------------------------------------------------

    def show(self, primary_id: str, reason: str = "") -> None:
        user = (
            self.visible_users()
            .filter(identifiers__key=identifier_key(primary_id), identifiers__is_primary=True)
            .first()
        )
        if user is None:
            raise CommandError(f"No user with primary ID '{primary_id}'.")
        require_reason(reason, user.pk)
        record_read(self.actor, VIEWED, user.pk, reason, {})
        write = self.stdout.write
        write(f"{user.display_name} ({user.primary_id}), id {user.pk}")
        for name, spec in GENERAL_FIELDS.items():
            if name in ("rs_libraries", "purchase_request_libraries"):
                value: Any = ", ".join(getattr(user, name).values_list("code", flat=True))
            else:
                value = getattr(user, name)
            if isinstance(value, list):
                value = ", ".join(value)
            if value not in (None, "", False):
                write(f"  {spec.label}: {value}")
        write(f"  Password set: {'yes' if user.has_usable_password() else 'no'}")
        write(f"  Added: {user.created_at:%Y-%m-%d %H:%M} by {user.created_via}")
        write(f"  Last changed: {user.updated_at:%Y-%m-%d %H:%M} by {user.updated_via}")
        entries = [
            ("Identifiers", [f"{i.id_type}: {i.value}" for i in user.identifiers.all()]),
            ("Emails", [preferred(e.address, e.preferred) for e in user.emails.all()]),
            ("Phones", [preferred(p.number, p.preferred) for p in user.phones.all()]),
            ("Addresses", [preferred(str(a), a.preferred) for a in user.addresses.all()]),
            ("Blocks", [b.block_type for b in self.library_owned(user.blocks.all())]),
            ("Notes", [f"{n.note_type}: {n.text}" for n in self.library_owned(user.notes.all())]),
        ]
        for title, lines in entries:
            if lines:
                write(f"{title}:")
                for line in lines:
                    write(f"  {line}")

    def find(self, query: str, field: str, limit: int, reason: str = "") -> None:
        if self.actor.user is None:
            found = find_users(query, field)
        else:
            search = selectors.UserSearch(query=query, field=field)
            found = selectors.search_users(self.actor.user, search)
            if search.name_search_refused:
                self.stderr.write(
                    f"{self.actor.user.primary_id} may not look users up by name: "
                    "only exact identifiers and email addresses were matched."
                )
        users = list(found[: max(limit, 1)])
        details = {"query": query, "field": field, "results": len(users)}
        record_read(self.actor, SEARCHED, None, reason.strip(), details)
        if not users:
            self.stdout.write("No users found.")
            return
        for user in users:
            flags = "".join(
                flag
                for flag, column in (("B", "has_blocks"), ("N", "has_notes"))
                if getattr(user, column, False)  # no Notes column for card-only staff
            )
            expiry = f"{user.expiry_date:%Y-%m-%d}" if user.expiry_date else "-"
            self.stdout.write(
                "\t".join(
                    [
                        user.primary_id,
                        user.display_name,
                        user.record_type,
                        user.user_group or "-",
                        user.status,
                        expiry,
                        flags or "-",
                    ]
                )
            )

    # --- what the actor sees -----------------------------------------------------------------

    def visible_users(self) -> QuerySet[User]:
        if self.actor.user is None:
            return trusted_users()
        return selectors.visible_users(self.actor.user)

    def library_owned(self, entries: QuerySet[Any]) -> QuerySet[Any]:
        """Notes and blocks of libraries outside the acting user's scope are left out."""
        if self.actor.user is None:
            return entries
        return restrict(entries, self.actor.user, Permission.USERS_VIEW)


# --- reading as the trusted operator ----------------------------------------------------------
# The selectors narrow to what an acting *user* may see; the trusted operator (no --as) has
# no user and sees every record.


def trusted_users() -> QuerySet[User]:
    return User.objects.all()


def find_users(query: str, field: str) -> QuerySet[User]:
    key = identifier_key(query)
    by_identifier = Q(pk__in=UserIdentifier.objects.filter(key=key).values("user_id"))
    by_email = Q(pk__in=Email.objects.filter(key=key).values("user_id"))
    named = selectors.users_matching_name(query)
    by_name = Q(pk__in=named.values("pk")) if named is not None else Q(pk__in=[])
    condition = {
        selectors.SearchField.IDENTIFIER: by_identifier,
        selectors.SearchField.EMAIL: by_email,
        selectors.SearchField.NAME: by_name,
    }.get(field, by_identifier | by_email | by_name)
    return (
        trusted_users()
        .filter(condition)
        .annotate(
            has_blocks=Exists(
                UserBlock.objects.filter(
                    Q(expiry_date__isnull=True) | Q(expiry_date__gte=timezone.localdate()),
                    user=OuterRef("pk"),
                    status=BlockStatus.ACTIVE,
                )
            ),
            has_notes=Exists(UserNote.objects.filter(user=OuterRef("pk"))),
        )
        .order_by("sort_name", "id")
    )


def preferred(text: str, is_preferred: bool) -> str:
    return f"{text} (preferred)" if is_preferred else text


def refusal(exc: DomainError) -> str:
    """The message of a refusal; each field's message on its own line."""
    if isinstance(exc, ValidationFailed):
        lines = [f"  {field}: {message}" for field, message in exc.errors.items()]
        return "\n".join(["The request was refused:", *lines])
    return exc.message
