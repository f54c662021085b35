"""With ``DATABASE_REPLICA_URL``, exports read the replica and every write goes to the primary.

Two SQLite files stand in for a PostgreSQL primary and its streaming replica: the replica is
a copy of the primary taken at one moment, so a user created afterwards exists only on the
primary, and an export that lists it would have read the primary.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CREATE = """
from patronage.accounts.actions import create_user
from patronage.audit.context import Actor, Channel
create_user(actor=Actor.system(Channel.CLI), fields={{"primary_id": "{0}", "record_type": "PUBLIC",
    "user_group": "GRAD", "first_name": "Rep", "last_name": "{0}"}})
"""


def test_an_export_reads_the_replica_and_its_audit_event_goes_to_the_primary(tmp_path):
    primary, replica = tmp_path / "primary.sqlite3", tmp_path / "replica.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{primary}",
        "DATABASE_REPLICA_URL": f"sqlite:///{replica}",
        "PATRONAGE_HTTPS": "false",
        "PYTHONPATH": str(ROOT),
    }

    def patronage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "patronage", *args],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    patronage("migrate", "-v0")
    patronage("shell", "-c", CREATE.format("replicated"))
    with sqlite3.connect(primary) as source, sqlite3.connect(replica) as copy:
        source.backup(copy)  # the replica has caught up to this moment
    patronage("shell", "-c", CREATE.format("notyetreplicated"))

    exported = patronage("export", "users", "--format", "csv")

    assert "replicated" in exported
    assert "notyetreplicated" not in exported

    def exports_audited(path: Path) -> int:
        with sqlite3.connect(path) as database:
            query = "SELECT count(*) FROM audit_auditevent WHERE verb = 'users.exported'"
            return int(database.execute(query).fetchone()[0])

    assert (exports_audited(primary), exports_audited(replica)) == (1, 0)
