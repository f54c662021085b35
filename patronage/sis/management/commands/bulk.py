"""``patronage bulk``: edit and message users in bulk from the shell (seed 002).

    patronage bulk set user_group GRAD --ids ids.txt [--match-by any_identifier] [--dry-run]
    patronage bulk set expiry_date 2027-06-30 --search "Graduating"
    patronage bulk note --type CIRCULATION --text "Renew your card" --search 3 [--owner MAIN]
    patronage bulk block --type GENERAL --note "Card lost" --ids ids.txt [--expiry-date D]
    patronage bulk email --subject "Your card, {{ first_name }}" --body-file mail.txt --ids ids.txt
    patronage bulk save-search "Graduating" --filter user_group=GRAD --filter status=active
    patronage bulk searches | runs | resume RUN_ID | report RUN_ID [-o report.csv]

The users are a saved search (``--search``: its id, or its name among yours; evaluated now)
or a file of IDs (``--ids``: one per line). Each user goes through the same checks as a
single edit; a refused user is rejected in the report, the others are changed. Runs show a
progress bar on stderr, and ``resume`` carries on after a crash. Run it ``--as`` yourself to
act with your own permissions and saved searches. Exit codes: 0 done; 1 refused.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from patronage.access.permissions import Permission
from patronage.accounts.management.commands.users import refusal
from patronage.errors import DomainError, ValidationFailed

from ... import actions, bulk_update
from ...models import ImportRun
from .sis import Command as SisCommand


class Command(SisCommand):
    help = "Edit and message users in bulk: set a field, add a note or block, send an e-mail."
    required_permission = dict.fromkeys(
        ("set", "note", "block", "email", "save-search", "searches", "resume", "report", "runs"),
        Permission.USERS_BULK_UPDATE,
    )

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="subcommand", required=True, metavar="COMMAND")
        field = commands.add_parser("set", help="Set a field of each user")
        field.add_argument("field", choices=bulk_update.BULK_FIELDS)
        field.add_argument("value", help="The new value ('' clears; lists: codes with commas)")
        note = commands.add_parser("note", help="Add a note to each user")
        note.add_argument("--type", required=True, dest="note_type", help="Note type code")
        note.add_argument("--text", required=True)
        note.add_argument("--user-viewable", action="store_true")
        note.add_argument("--popup", action="store_true")
        block = commands.add_parser("block", help="Add a block to each user")
        block.add_argument("--type", required=True, dest="block_type", help="Block type code")
        block.add_argument("--note", default="")
        block.add_argument("--expiry-date", default=None, help="YYYY-MM-DD")
        email = commands.add_parser("email", help="E-mail each user (preferred address)")
        email.add_argument("--subject", required=True)
        email.add_argument("--body-file", required=True, help="The message, a text file")
        for sub in (field, note, block, email):
            chosen = sub.add_mutually_exclusive_group(required=True)
            chosen.add_argument("--search", help="A saved search: its id, or its name")
            chosen.add_argument("--ids", metavar="FILE", help="A file of IDs, one per line")
            sub.add_argument("--match-by", choices=list(bulk_update.MATCH_BY), default="primary_id")
            sub.add_argument("--dry-run", action="store_true", help="Report only; write nothing")
            sub.add_argument("--no-progress", action="store_true", help="No progress bar")
            if sub in (note, block):
                sub.add_argument("--owner", default=None, help="Owning library (code or id)")
        save = commands.add_parser("save-search", help="Save a user search under a name")
        save.add_argument("name")
        save.add_argument(
            "--filter",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help=f"One of {', '.join(bulk_update.FILTERS)} (repeatable)",
        )
        commands.add_parser("searches", help="Your saved searches")
        resume = commands.add_parser("resume", help="Carry on with an interrupted run")
        resume.add_argument("run", type=int, metavar="RUN_ID")
        resume.add_argument("--no-progress", action="store_true", help="No progress bar")
        report = commands.add_parser("report", help="A run's report as CSV")
        report.add_argument("run", type=int, metavar="RUN_ID")
        report.add_argument("-o", "--output", help="Write to this file instead of stdout")
        commands.add_parser("runs", help="The latest bulk runs")

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["subcommand"].replace("-", "_")
        try:
            if name in ("set", "note", "block", "email"):
                self._start(self._operation(name, options), options)
            else:
                getattr(self, f"do_{name}")(options)
        except DomainError as exc:
            raise CommandError(refusal(exc)) from None

    def _operation(self, name: str, options: dict[str, Any]) -> dict[str, Any]:
        if name == "set":
            return {"type": "set_field", "field": options["field"], "value": options["value"]}
        if name == "note":
            keys: tuple[str, ...] = ("note_type", "text", "user_viewable", "popup", "owner")
            return {"type": "add_note", **{key: options[key] for key in keys}}
        if name == "block":
            keys = ("block_type", "note", "expiry_date", "owner")
            return {"type": "add_block", **{key: options[key] for key in keys}}
        return {
            "type": "send_email",
            "subject": options["subject"],
            "body": self._read(options["body_file"], "body_file"),
        }

    def _read(self, path: str, field: str) -> str:
        try:
            return Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValidationFailed({field: f"Cannot read {path}: {exc}."}) from exc

    def _start(self, operation: dict[str, Any], options: dict[str, Any]) -> None:
        search = None
        if options["search"]:
            search = bulk_update.find_search(self.actor.user, options["search"]).pk
        run = bulk_update.start_bulk(
            actor=self.actor,
            operation=operation,
            saved_search=search,
            ids=self._read(options["ids"], "ids") if options["ids"] else None,
            match_by=options["match_by"],
            dry_run=options["dry_run"],
        )
        self.stderr.write(f"Run {run.pk} ({run.job}) started: {bulk_update.operation_text(run)}.")
        self._execute_bulk(run, options)

    def _execute_bulk(self, run: ImportRun, options: dict[str, Any]) -> None:
        with self._progress(options, "Selecting", None) as reading:
            try:
                run = bulk_update.read_bulk(run_id=run.pk, progress=reading)
            except DomainError as exc:
                raise CommandError(f"Run {run.pk} failed: {exc.message}") from None
        with self._progress(options, "Applying", run.records_read, run.records_done) as applying:
            run = bulk_update.apply_bulk(run_id=run.pk, progress=applying)
        counts = ", ".join(
            f"{name} {getattr(run, name)}"
            for name in ("records_done", "updated", "unchanged", "rejected")
        )
        state = "dry run " if run.dry_run else ""
        self.stdout.write(f"Run {run.pk} {state}{run.get_status_display().lower()}: {counts}.")
        self.stdout.write(f"Report: patronage bulk report {run.pk}")

    def do_resume(self, options: dict[str, Any]) -> None:
        run = bulk_update.get_bulk_run(self.actor.user, options["run"])
        if run.finished:
            raise CommandError(f"Run {run.pk} is already {run.get_status_display().lower()}.")
        self._execute_bulk(run, options)

    def do_report(self, options: dict[str, Any]) -> None:
        run = bulk_update.get_bulk_run(self.actor.user, options["run"])
        if options.get("output"):
            with open(options["output"], "w", newline="", encoding="utf-8") as out:
                csv.writer(out).writerows(actions.report_rows(run))
            self.stderr.write(f"Report of run {run.pk} written to {options['output']}.")
        else:
            csv.writer(self.stdout).writerows(actions.report_rows(run))

    def do_runs(self, options: dict[str, Any]) -> None:
        for run in bulk_update.visible_runs(self.actor.user)[:20]:
            self.stdout.write(
                f"{run.pk:>6}  {run.created_at:%Y-%m-%d %H:%M}  {run.status:<10} "
                f"{'dry run ' if run.dry_run else ''}{bulk_update.operation_text(run)} — "
                f"{bulk_update.selection_text(run)}: {run.updated} changed, "
                f"{run.rejected} rejected"
            )

    def do_save_search(self, options: dict[str, Any]) -> None:
        filters: dict[str, str] = {}
        for item in options["filter"]:
            name, sep, value = item.partition("=")
            if not sep:
                raise CommandError(f"--filter {item}: give NAME=VALUE.")
            filters[name.strip()] = value
        search = bulk_update.save_search(actor=self.actor, name=options["name"], filters=filters)
        self.stdout.write(f"Saved search {search.pk} '{search.name}': {search.filters}.")

    def do_searches(self, options: dict[str, Any]) -> None:
        for search in bulk_update.visible_searches(self.actor.user):
            self.stdout.write(f"{search.pk:>6}  {search.name:<30} {search.filters}")
