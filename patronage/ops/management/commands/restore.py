"""``patronage restore FILE --yes``: replace the whole database with a backup."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from patronage.access.commands import TRUSTED, PatronageCommand
from patronage.ops.backups import BackupError, restore


class Command(PatronageCommand):
    help = "Replace the whole database with the backup in FILE. Stop the service first."
    required_permission = TRUSTED

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--yes", action="store_true", help="Confirm: everything now in the database is lost"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["yes"]:
            raise CommandError(
                "A restore replaces everything in the database; run it again with --yes."
            )
        try:
            restore(options["file"])
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Restored from {options['file']}.")
