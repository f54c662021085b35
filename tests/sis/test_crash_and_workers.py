"""Crash safety and parallel workers, with real processes on a database of their own.

The import runs as ``patronage sis ...`` in child processes against a freshly migrated
database (a file on SQLite, a database on the PostgreSQL server the suite uses); the test
kills one with SIGKILL mid-run, resumes, and compares every user-visible row with a clean
import of the same file into a copy of the same empty database.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from patronage.sis.synthetic import user_element, write_users_xml

pytestmark = pytest.mark.xdist_group("sis_processes")

PYTHON = sys.executable
USERS = 3000
CHUNK = "200"

SETUP = """
from patronage.audit.context import Actor
from patronage.sis.actions import save_profile
save_profile(actor=Actor.system(), code="registrar", create=True, values={
    "name": "Registrar", "file_format": "xml", "match_by": "primary_id",
    "default_record_type": "PUBLIC", "override_fields": [], "full_sync": False,
    "missing_action": "nothing", "missing_expiry_days": 0})
"""

DUMP = """
import json
from patronage.accounts.models import *
from patronage.audit.models import AuditEvent
from patronage.sis.models import ImportRun
def rows(model, *fields):
    return sorted(list(map(str, r)) for r in model.objects.values_list("user__primary_id", *fields))
run = ImportRun.objects.get()
print(json.dumps({
    # sis_values["record"] binds the sync to the user's updated_at: a time, not compared.
    "users": sorted([*map(str, r[:-1]), str({k: v for k, v in r[-1].items() if k != "record"})]
        for r in User.objects.values_list(
        "primary_id", "first_name", "last_name", "user_group", "birth_date", "expiry_date",
        "campus_code", "status", "account_type", "external_id", "sort_name", "sis_values")),
    "identifiers": rows(UserIdentifier, "id_type", "value", "key", "segment_type", "is_primary"),
    "emails": rows(Email, "address", "types", "preferred", "segment_type"),
    "phones": rows(Phone, "number", "preferred", "segment_type"),
    "addresses": rows(Address, "line1", "line2", "city", "postal_code", "preferred"),
    "statistics": rows(UserStatistic, "category", "category_type", "segment_type"),
    "tokens": rows(UserNameToken, "token", "sort_name"),
    "created_events": AuditEvent.objects.filter(verb="user.created").count(),
    "created_subjects": AuditEvent.objects.filter(verb="user.created").values("subject_id")
        .distinct().count(),
    "run": [run.status, run.records_done, run.created, run.updated, run.unchanged,
            run.rejected, run.items.count(), run.chunks.filter(done=False).count()],
}))
"""


class Database:
    """A migrated database of the test's own, reachable by child processes."""

    def __init__(self, tmp_path: Path, name: str) -> None:
        self.vendor = connection.vendor
        if self.vendor == "sqlite":
            self.path = tmp_path / f"{name}.sqlite3"
            self.url = f"sqlite:///{self.path}"
        else:
            params = connection.settings_dict
            self.name = f"{params['NAME']}_{name}"[:60]
            self.server = (
                f"postgres://{params['USER']}:{params['PASSWORD'] or ''}@"
                f"{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}"
            )
            self.url = f"{self.server}/{self.name}"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": self.url,
            "PATRONAGE_SIS_CHUNK_SIZE": CHUNK,
            "DJANGO_SETTINGS_MODULE": "patronage.settings",
        }

    def admin(self, sql: str) -> None:
        with psycopg.connect(f"{self.server}/postgres", autocommit=True) as pg:
            pg.execute(sql)

    def create(self, template: Database | None = None) -> None:
        if self.vendor == "sqlite":
            if template is None:
                self.patronage("migrate", "-v0")
                self.python(SETUP)
            else:
                shutil.copy(template.path, self.path)
            return
        self.admin(f'DROP DATABASE IF EXISTS "{self.name}"')
        if template is None:
            self.admin(f'CREATE DATABASE "{self.name}"')
            self.patronage("migrate", "-v0")
            self.python(SETUP)
        else:
            self.admin(f'CREATE DATABASE "{self.name}" TEMPLATE "{template.name}"')

    def drop(self) -> None:
        if self.vendor != "sqlite":
            self.admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def patronage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [PYTHON, "-m", "patronage", *args],
            env=self.env(),
            capture_output=True,
            text=True,
            check=check,
            timeout=600,
        )

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [PYTHON, "-m", "patronage", *args],
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def python(self, code: str) -> str:
        setup = "import django; django.setup()\n"
        done = subprocess.run(
            [PYTHON, "-c", setup + code],
            env=self.env(),
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
        )
        return done.stdout

    def chunks_done(self) -> int:
        sql = "SELECT count(*) FROM sis_importchunk WHERE done"
        if self.vendor == "sqlite":
            with sqlite3.connect(self.path, timeout=30) as db:
                return int(db.execute(sql).fetchone()[0])
        with psycopg.connect(self.url) as pg:
            row = pg.execute(sql).fetchone()
            return int(row[0]) if row else 0

    def kill_connection_in_transaction(self) -> bool:
        """pg_terminate_backend on every client connection of this database that is inside
        a transaction (an importer applying a chunk); True if one was killed."""
        with psycopg.connect(self.url, autocommit=True) as pg:
            killed = pg.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND backend_type = 'client backend' AND xact_start IS NOT NULL"
            ).fetchall()
        return any(row[0] for row in killed)

    def dump(self) -> dict[str, object]:
        return json.loads(self.python(DUMP))  # type: ignore[no-any-return]


@pytest.fixture
def databases(db, tmp_path):
    made = []

    def make(name: str, template: Database | None = None) -> Database:
        database = Database(tmp_path, name)
        database.create(template)
        made.append(database)
        return database

    yield make
    for database in reversed(made):
        database.drop()


@pytest.fixture
def sis_file(tmp_path):
    path = write_users_xml(tmp_path / "students.xml", USERS)
    # One student twice, in different chunks: the repeat is rejected, never doubled.
    text = path.read_text().replace("</users>", user_element(5, random.Random(5)) + "</users>")
    path.write_text(text)
    return str(path)


def test_an_import_killed_mid_run_resumes_to_the_same_result_as_a_clean_one(databases, sis_file):
    crashed = databases("crash")
    clean = databases("clean", template=crashed)
    process = crashed.start("sis", "import", sis_file, "--profile", "registrar", "--no-progress")
    deadline = time.monotonic() + 300
    while crashed.chunks_done() < 3:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    interrupted = crashed.dump()["run"]
    assert interrupted[0] == "running" and interrupted[-1] > 0  # chunks were left to do
    resumed = crashed.patronage("sis", "resume", "1", "--no-progress")
    assert "finished" in resumed.stdout

    clean.patronage("sis", "import", sis_file, "--profile", "registrar", "--no-progress")
    after_crash, reference = crashed.dump(), clean.dump()
    assert after_crash == reference
    assert reference["run"][:6] == ["finished", USERS + 1, USERS, 0, 0, 1]
    assert reference["created_events"] == reference["created_subjects"] == USERS


@pytest.mark.skipif(connection.vendor == "sqlite", reason="parallel workers need PostgreSQL")
def test_several_workers_apply_one_run_in_parallel_without_conflicts(databases, sis_file):
    # Three workers, both ways: three `sis work` processes on a run read beforehand, and one
    # `sis import --workers 3`; each database must equal a serial import's.
    parallel = databases("parallel")
    by_option = databases("workers", template=parallel)
    serial = databases("serial", template=parallel)
    started = parallel.python(
        "from patronage.audit.context import Actor\n"
        "from patronage.sis.actions import start_import, read_run\n"
        "run = start_import(actor=Actor.system(), profile_code='registrar', "
        f"paths=[{sis_file!r}])\n"
        "print(read_run(run_id=run.pk).pk)\n"
    )
    run_id = started.strip()
    workers = [parallel.start("sis", "work", run_id, "--no-progress") for _ in range(3)]
    outputs = [worker.communicate(timeout=600) for worker in workers]
    assert all(worker.returncode == 0 for worker in workers), outputs
    done = by_option.patronage(
        "sis", "import", sis_file, "--profile", "registrar", "--workers", "3", "--no-progress"
    )
    assert f"finished: records_done {USERS + 1}, created {USERS}" in done.stdout
    assert done.stdout.count("finished") == 1  # the helpers' summaries are not repeated
    serial.patronage("sis", "import", sis_file, "--profile", "registrar", "--no-progress")
    reference = serial.dump()
    assert parallel.dump() == reference
    assert by_option.dump() == reference


@pytest.mark.skipif(connection.vendor == "sqlite", reason="pg_terminate_backend")
def test_a_database_connection_killed_mid_chunk_is_retried_to_the_same_result(databases, sis_file):
    # Issue 10's fault test for imports: the chunk being written when the connection dies
    # rolls back whole, the importer takes it again on a new connection, and the end result
    # is exactly a clean import's.
    killed = databases("killed")
    clean = databases("unkilled", template=killed)
    process = killed.start("sis", "import", sis_file, "--profile", "registrar", "--no-progress")
    deadline = time.monotonic() + 300
    while not (killed.chunks_done() >= 2 and killed.kill_connection_in_transaction()):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.01)
    _, errors = process.communicate(timeout=600)
    assert process.returncode == 0, errors
    assert "chunk not applied" in errors and "retrying" in errors

    clean.patronage("sis", "import", sis_file, "--profile", "registrar", "--no-progress")
    assert killed.dump() == clean.dump()
