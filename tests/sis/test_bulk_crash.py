"""A bulk update killed with SIGKILL mid-run, in a real process on a database of its own,
resumes with every user changed exactly once (one note, one audit event, one report row)."""

from __future__ import annotations

import json
import signal
import time

import pytest

from patronage.sis.synthetic import write_users_xml

from .test_crash_and_workers import Database

pytestmark = pytest.mark.xdist_group("sis_processes")

USERS = 1000
BULK_RUN = "2"  # run 1 is the import that loads the users

COUNT = """
import json
from patronage.accounts.models import User, UserNote
from patronage.audit.models import AuditEvent
from patronage.sis.models import ImportRun
run = ImportRun.objects.get(pk=2)
notes = UserNote.objects.filter(text="Renew your card")
print(json.dumps({
    "run": [run.status, run.records_done, run.updated, run.rejected, run.items.count()],
    "notes": notes.count(),
    "users_with_a_note": notes.values("user_id").distinct().count(),
    "events": AuditEvent.objects.filter(verb="note.added", job="bulk_update-2").count(),
}))
"""


@pytest.fixture
def database(db, tmp_path):
    database = Database(tmp_path, "bulk")
    database.create()
    yield database
    database.drop()


def test_a_bulk_run_killed_mid_run_resumes_with_each_user_changed_once(database, tmp_path):
    students = write_users_xml(tmp_path / "students.xml", USERS)
    database.patronage("sis", "import", str(students), "--profile", "registrar", "--no-progress")
    ids = tmp_path / "ids.txt"
    ids.write_text(
        database.python(
            "from patronage.accounts.models import User\n"
            "print('\\n'.join(User.objects.values_list('primary_id', flat=True)))"
        )
    )
    import_chunks = database.chunks_done()
    process = database.start(
        "bulk", "note", "--type", "CIRCULATION", "--text", "Renew your card",
        "--ids", str(ids), "--no-progress",
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while database.chunks_done() < import_chunks + 2:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    interrupted = json.loads(database.python(COUNT))
    assert interrupted["run"][0] == "running"
    assert 0 < interrupted["notes"] < USERS
    assert interrupted["notes"] == interrupted["events"] == interrupted["run"][2]

    resumed = database.patronage("bulk", "resume", BULK_RUN, "--no-progress")
    assert "finished" in resumed.stdout
    after = json.loads(database.python(COUNT))
    assert after == {
        "run": ["finished", USERS, USERS, 0, USERS],
        "notes": USERS,
        "users_with_a_note": USERS,
        "events": USERS,
    }
