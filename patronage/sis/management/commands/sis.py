"""``patronage sis``: run SIS imports from the shell, resume them, read their reports.

    patronage sis import students.xml more.zip --profile registrar [--dry-run] [--workers 4]
    patronage sis resume 42 [--workers 4]  # after a crash: carries on where the run stopped
    patronage sis work 42              # one more worker on a running run (PostgreSQL)
    patronage sis report 42 [-o report.csv]
    patronage sis runs

Imports show a progress bar (records/s, time left) on stderr. Exit codes: 0 done; 1 refused
(unknown profile, bad files or mapping, a malformed file: the reason on stderr).
"""

from __future__ import annotations

import csv
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import connection
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from patronage.access.commands import AS_DEST, PatronageCommand
from patronage.access.permissions import Permission
from patronage.accounts.management.commands.users import refusal
from patronage.errors import DomainError

from ... import actions
from ...models import ImportRun, RunStatus


class Command(PatronageCommand):
    help = "Run SIS imports, resume them and read their reports."
    required_permission = {
        "import": Permission.SIS_IMPORT_RUN,
        "resume": Permission.SIS_IMPORT_RUN,
        "work": Permission.SIS_IMPORT_RUN,
        "report": Permission.SIS_IMPORT_RUN,
        "runs": Permission.SIS_IMPORT_RUN,
    }

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="subcommand", required=True, metavar="COMMAND")
        run = commands.add_parser("import", help="Import SIS files with a profile")
        run.add_argument("files", nargs="+", metavar="FILE", help="XML, CSV or zip files")
        run.add_argument("--profile", required=True, help="The import profile's code")
        run.add_argument(
            "--dry-run", action="store_true", help="Report what would change; write nothing"
        )
        run.add_argument("--no-progress", action="store_true", help="No progress bar")
        resume = commands.add_parser("resume", help="Carry on with an interrupted run")
        work = commands.add_parser("work", help="Apply pending chunks of a run (one more worker)")
        for sub in (resume, work):
            sub.add_argument("run", type=int, metavar="RUN_ID")
            sub.add_argument("--no-progress", action="store_true", help="No progress bar")
        for sub in (run, resume):
            sub.add_argument(
                "--workers",
                type=int,
                default=1,
                metavar="N",
                help="Processes applying the run's chunks side by side (PostgreSQL); default 1",
            )
        report = commands.add_parser("report", help="A run's report as CSV")
        report.add_argument("run", type=int, metavar="RUN_ID")
        report.add_argument("-o", "--output", help="Write to this file instead of stdout")
        commands.add_parser("runs", help="The latest runs")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"do_{options['subcommand']}")(options)
        except DomainError as exc:
            raise CommandError(refusal(exc)) from None

    def _run(self, run_id: int) -> ImportRun:
        run = actions.imports().select_related("profile").filter(pk=run_id).first()
        if run is None:
            raise CommandError(f"There is no run {run_id}.")
        return run

    def _check_workers(self, options: dict[str, Any]) -> None:
        if options["workers"] < 1:
            raise CommandError("--workers: give 1 or more.")
        if options["workers"] > 1 and connection.vendor != "postgresql":
            raise CommandError(
                "--workers: several workers need PostgreSQL (SQLite lets one process write "
                "at a time)."
            )

    def do_import(self, options: dict[str, Any]) -> None:
        self._check_workers(options)
        run = actions.start_import(
            actor=self.actor,
            profile_code=options["profile"],
            paths=options["files"],
            dry_run=options["dry_run"],
        )
        self.stderr.write(f"Run {run.pk} ({run.job}) started.")
        self._execute(run, options)

    def do_resume(self, options: dict[str, Any]) -> None:
        self._check_workers(options)
        run = self._run(options["run"])
        if run.finished:
            raise CommandError(f"Run {run.pk} is already {run.get_status_display().lower()}.")
        self._execute(run, options)

    def do_work(self, options: dict[str, Any]) -> None:
        run = self._run(options["run"])
        if run.status != RunStatus.RUNNING:
            raise CommandError(
                f"Run {run.pk} is {run.get_status_display().lower()}: only a run being "
                "applied takes more workers."
            )
        with self._progress(options, "Applying", run.records_read) as applying:
            run = actions.apply_run(run_id=run.pk, progress=applying)
        self._summary(run)

    def _execute(self, run: ImportRun, options: dict[str, Any]) -> None:
        with self._progress(options, "Reading", None) as reading:
            run = actions.read_run(run_id=run.pk, progress=reading)
        helpers = [self._helper(run, options) for _ in range(options["workers"] - 1)]
        # With helpers the bar shows the whole run's progress, whoever applied the chunks.
        whole_run = run.pk if helpers else None
        with self._progress(
            options, "Applying", run.records_read, run.records_done, whole_run
        ) as applying:
            run = actions.apply_run(run_id=run.pk, progress=applying)
            for helper in helpers:
                if helper.wait() != 0:
                    self.stderr.write(f"A worker stopped (exit code {helper.returncode}).")
            if helpers:  # what a worker that stopped left undone, then the run's end
                run = actions.apply_run(run_id=run.pk, progress=applying)
                applying(0)
        self._summary(run)

    def _helper(self, run: ImportRun, options: dict[str, Any]) -> subprocess.Popen[bytes]:
        """One more process applying the run's chunks: ``patronage sis work RUN``."""
        command = [sys.executable, "-m", "patronage", "sis", "work", str(run.pk), "--no-progress"]
        if options.get(AS_DEST):
            command += ["--as", options[AS_DEST]]
        # Its summary would repeat this one's; its errors go to stderr.
        return subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603 (no shell)

    @contextmanager
    def _progress(
        self,
        options: dict[str, Any],
        what: str,
        total: int | None,
        done: int = 0,
        whole_run: int | None = None,
    ) -> Iterator[Callable[[int], None]]:
        """A progress bar; ``advance(records)`` counts what this process did, or with
        ``whole_run`` shows the run's own count (several workers)."""
        console = Console(file=sys.stderr, quiet=options.get("no_progress", False))
        columns = [
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]} records/s"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        ]
        with Progress(*columns, console=console, transient=False) as bar:
            task = bar.add_task(what, total=total, completed=done, rate="—")

            def advance(records: int) -> None:
                if whole_run is None:
                    bar.advance(task, records)
                else:
                    counts = ImportRun.objects.filter(pk=whole_run).values_list("records_done")
                    bar.update(task, completed=counts.get()[0])
                speed = bar.tasks[task].speed
                bar.update(task, rate=f"{speed:,.0f}" if speed else "—")

            yield advance

    def _summary(self, run: ImportRun) -> None:
        counts = ", ".join(f"{name} {getattr(run, name)}" for name in actions.COUNTERS)
        state = "dry run " if run.dry_run else ""
        self.stdout.write(f"Run {run.pk} {state}{run.get_status_display().lower()}: {counts}.")
        if run.status == RunStatus.RUNNING:
            self.stdout.write("Other workers are still applying chunks of this run.")
        self.stdout.write(f"Report: patronage sis report {run.pk}")

    def do_report(self, options: dict[str, Any]) -> None:
        run = self._run(options["run"])
        if options.get("output"):
            with open(options["output"], "w", newline="", encoding="utf-8") as out:
                csv.writer(out).writerows(actions.report_rows(run))
            self.stderr.write(f"Report of run {run.pk} written to {options['output']}.")
        else:
            csv.writer(self.stdout).writerows(actions.report_rows(run))

    def do_runs(self, options: dict[str, Any]) -> None:
        for run in actions.imports().select_related("profile")[:20]:
            self.stdout.write(
                f"{run.pk:>6}  {run.created_at:%Y-%m-%d %H:%M}  {run.get_kind_display():<12} "
                f"{run.profile.code if run.profile else '-':<16} {run.status:<10} "
                f"{'dry run ' if run.dry_run else ''}{run.records_done} records"
            )
