"""``patronage backup FILE``: a consistent copy of the whole database (docs/deployment.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from patronage.access.commands import TRUSTED, PatronageCommand
from patronage.ops.backups import BackupError, backup


class Command(PatronageCommand):
    help = "Back up the whole database to FILE (SQLite backup API or pg_dump)."
    # The database itself, credentials and all: the server's operators, never a role.
    required_permission = TRUSTED

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        target: Path = options["file"]
        if not target.parent.is_dir():
            raise CommandError(f"{target.parent}: no such directory.")
        try:
            backup(target)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Backed up to {target} ({target.stat().st_size:,} bytes).")
