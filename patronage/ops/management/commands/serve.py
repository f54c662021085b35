"""``patronage serve``: the production HTTP server (granian, WSGI) for Patronage.

    patronage serve [--host 0.0.0.0] [--port 8000] [--workers N] [--threads N]

Workers are processes (default ``PATRONAGE_WORKERS``, else one per core); each serves with
``--threads`` blocking threads (default ``PATRONAGE_THREADS``, 4), so a slow request
does not hold up the others. A worker that dies is started again. Static files are served
by WhiteNoise from ``STATIC_ROOT`` with hashed names and far-future caching, so
``patronage collectstatic`` must have run (the command refuses to start otherwise), and
``DEBUG`` must be off.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management.base import CommandError, CommandParser

from patronage.access.commands import TRUSTED, PatronageCommand


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(PatronageCommand):
    @staticmethod
    def _share_metrics() -> None:
        """Worker processes share their metrics through files (prometheus_client's
        multiprocess mode), in a directory emptied at each start: samples of processes
        from an earlier run would be counted again."""
        directory = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or settings.VAR_DIR / "metrics")
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)

    help = "Serve Patronage with the production server (granian)."
    # Starting the service is the server operators' business, not a role's.
    required_permission = TRUSTED

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("PATRONAGE_HOST", "127.0.0.1"))
        parser.add_argument(
            "--port", type=_positive, default=int(os.environ.get("PATRONAGE_PORT", "8000"))
        )
        parser.add_argument(
            "--workers",
            type=_positive,
            default=int(os.environ.get("PATRONAGE_WORKERS", "0")) or os.cpu_count() or 1,
            help="Worker processes (default: PATRONAGE_WORKERS, else one per core)",
        )
        parser.add_argument(
            "--threads",
            type=_positive,
            default=int(os.environ.get("PATRONAGE_THREADS", "4")),
            help="Blocking threads per worker (default: PATRONAGE_THREADS, else 4)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.DEBUG:
            raise CommandError("DEBUG is on: the production server never runs with DEBUG.")
        manifest = getattr(staticfiles_storage, "manifest_name", None)
        if manifest and not (settings.STATIC_ROOT / manifest).exists():
            raise CommandError(
                f"No static files in {settings.STATIC_ROOT}: run 'patronage collectstatic' first."
            )
        command = [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "wsgi",
            "--host",
            options["host"],
            "--port",
            str(options["port"]),
            "--workers",
            str(options["workers"]),
            "--blocking-threads",
            str(options["threads"]),
            "--respawn-failed-workers",
            "--no-access-log",  # Patronage writes its own, with the request id
            "patronage.wsgi:application",
        ]
        self.stdout.write(
            f"Serving on http://{options['host']}:{options['port']}/ with "
            f"{options['workers']} worker(s) x {options['threads']} thread(s)."
        )
        self.stdout.flush()
        self._share_metrics()
        # The server takes over the process: its signals (SIGTERM: stop gracefully) and exit.
        os.execv(sys.executable, command)  # noqa: S606
