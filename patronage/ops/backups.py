"""Backups and restores of the whole database, with the engine's own tools.

SQLite: the online backup API (a consistent copy while the service runs). PostgreSQL:
``pg_dump --format=custom`` and ``pg_restore --clean`` (client programs of the server's
major version or newer). A restore replaces everything: stop the app servers and workers
first (docs/deployment.md).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from django.db import connection


class BackupError(Exception):
    pass


def _pg_command(program: str, *args: str) -> tuple[list[str], dict[str, str]]:
    if shutil.which(program) is None:
        raise BackupError(
            f"{program} is not installed (Debian: apt-get install postgresql-client)."
        )
    db: dict[str, Any] = connection.settings_dict
    command = [program, "--no-password", *args]
    for option, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if db.get(key):
            command += [option, str(db[key])]
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return command, env


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip() or done.returncode}")


def backup(target: Path) -> None:
    """Write a backup to ``target`` (written under a temporary name, then renamed, so a
    failed backup never leaves a file that looks complete)."""
    partial = target.with_name(target.name + ".partial")
    try:
        if connection.vendor == "sqlite":
            connection.ensure_connection()
            copy = sqlite3.connect(partial)
            try:
                connection.connection.backup(copy)
            finally:
                copy.close()
        elif connection.vendor == "postgresql":
            command, env = _pg_command(
                "pg_dump",
                "--format=custom",
                "--file",
                str(partial),
                connection.settings_dict["NAME"],
            )
            _run(command, env)
        else:
            raise BackupError(f"No backup method for {connection.vendor}.")
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def restore(source: Path) -> None:
    """Replace the database's contents with the backup in ``source``."""
    if not source.is_file():
        raise BackupError(f"{source}: no such file.")
    if connection.vendor == "sqlite":
        try:
            backup_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
            backup_db.execute("SELECT 1 FROM django_migrations LIMIT 1")
        except sqlite3.DatabaseError:
            raise BackupError(f"{source} is not a Patronage SQLite backup.") from None
        try:
            connection.ensure_connection()
            backup_db.backup(connection.connection)
        finally:
            backup_db.close()
    elif connection.vendor == "postgresql":
        connection.close()  # pg_restore drops and re-creates the tables
        command, env = _pg_command(
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--dbname",
            connection.settings_dict["NAME"],
            str(source),
        )
        _run(command, env)
    else:
        raise BackupError(f"No restore method for {connection.vendor}.")
