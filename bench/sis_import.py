"""SIS import speed: a first load and a no-change re-sync of synthetic SIS files, against a raw
bulk insert of the same rows.

    python bench/sis_import.py [--users N] [--database-url URL] [--workers N] [--keep-file]

Database: no URL, a throwaway SQLite file; ``postgres://user@host:port/bench_sis``, a
database the benchmark creates and drops (only names starting with ``bench``), plus
``<name>_raw`` for the baseline. Both start from the same migrated, empty schema.

Measured in one run:

* ``first_load``: users/s of ``patronage sis import`` on an empty database (reading the
  XML, checking every record, creating users, identifiers, e-mails, phones, addresses,
  statistics, name index and audit events; chunks of 1,000, each its own transaction).
* ``resync_no_change``: users/s importing the same file again (every user unchanged).
* ``ratio_vs_raw_insert``: first-load time over the time of inserting the very rows the
  first load wrote (users, their entries, the name index, the audit events), read back and
  written into the ``_raw`` copy with ``executemany`` (SQLite) or ``COPY`` (PostgreSQL) in
  batches of 5,000 rows, committed per batch, each table analysed once loaded (PostgreSQL);
  only the inserts and the ANALYZEs are timed.
* ``peak_rss``: the process's peak resident memory after both imports (MB): flat in N.
* ``first_load_importer_cpu_per_user`` and (a local PostgreSQL server)
  ``first_load_database_cpu_per_user``: CPU milliseconds per user of the first load, in the
  importer's processes and in the server's; ``first_load_cpu_bound_on_this_machine``: the
  machine's cores over their sum, the rate no spreading of the work could beat here.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BATCH = 5_000
# What a first load writes, table by table (the raw baseline inserts the same rows).
TABLES = [
    "accounts_user",
    "accounts_useridentifier",
    "accounts_email",
    "accounts_phone",
    "accounts_address",
    "accounts_userstatistic",
    "accounts_usernametoken",
    "audit_subjectkey",
    "audit_auditevent",
]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def databases(url: str | None) -> tuple[str, str, Callable[[], None]]:
    """(the import's DATABASE_URL, the baseline's, clean-up)."""
    if not url:
        directory = tempfile.mkdtemp(prefix="bench-sis-")
        return (
            f"sqlite:///{directory}/sis.sqlite3",
            f"sqlite:///{directory}/raw.sqlite3",
            lambda: shutil.rmtree(directory, ignore_errors=True),
        )
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not parts.scheme.startswith("postgres"):
        sys.exit(f"unsupported database URL: {url} (give none for SQLite, or postgres://)")
    if not name.startswith("bench"):
        sys.exit(f"refusing to use database '{name}': give one named bench_... (it is dropped)")
    import psycopg

    admin_url = urlunsplit(parts._replace(path="/postgres"))

    def admin(sql: str) -> None:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql)

    for db in (name, f"{name}_raw"):
        admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        for db in (name, f"{name}_raw"):
            admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')

    raw = urlunsplit(parts._replace(path=f"/{name}_raw"))
    drop.admin = admin  # type: ignore[attr-defined]
    drop.names = (name, f"{name}_raw")  # type: ignore[attr-defined]
    return url, raw, drop


def copy_empty_schema(import_url: str, raw_url: str, cleanup: Callable[[], None]) -> None:
    from django.db import connection

    connection.close()
    if import_url.startswith("sqlite"):
        shutil.copy(urlsplit(import_url).path, urlsplit(raw_url).path)
    else:
        source, target = cleanup.names  # type: ignore[attr-defined]
        cleanup.admin(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')  # type: ignore[attr-defined]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def importer_cpu() -> float:
    """CPU seconds of this process and of the workers it started and waited for."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def database_cpu() -> float | None:
    """CPU seconds of the local PostgreSQL server's processes, those that ended included
    (the postmaster reaps its backends: their time is in its children's); None if no server
    process is visible here. Other clients' work counts too: run it on a quiet server."""
    total, found = 0, False
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if comm.startswith("postgres"):
            found = True
            total += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return total / os.sysconf("SC_CLK_TCK") if found else None


def import_file(path: Path, label: str, workers: int = 1) -> float:
    """One import through ``patronage sis import`` (with ``--workers`` N: this process and
    N-1 ``patronage sis work RUN`` processes it starts)."""
    from django.core.management import call_command

    from patronage.sis.models import ImportRun

    started = time.perf_counter()
    call_command(
        *("sis", "import", str(path), "--profile", "bench", "--workers", str(workers)),
        "--no-progress",
        stdout=io.StringIO(),
    )
    elapsed = time.perf_counter() - started
    run = ImportRun.objects.latest("pk")
    log(
        f"{label}: {elapsed:.1f} s — created {run.created}, updated {run.updated}, "
        f"unchanged {run.unchanged}, rejected {run.rejected}"
    )
    if run.rejected:
        sys.exit(f"{run.rejected} records rejected: the synthetic file is wrong")
    return elapsed


def raw_insert(raw_url: str) -> float:
    """Insert the rows the first load wrote into the empty copy; time the inserts only."""
    from django.db import connection

    seconds = 0.0
    if connection.vendor == "sqlite":
        import sqlite3

        target = sqlite3.connect(urlsplit(raw_url).path)
        target.execute("PRAGMA journal_mode=WAL")
        target.execute("PRAGMA synchronous=NORMAL")
    else:
        import psycopg

        target = psycopg.connect(raw_url)  # type: ignore[assignment]
    with connection.cursor() as source:
        for table in TABLES:
            source.execute(f"SELECT * FROM {table}")
            columns = [c[0] for c in source.description]
            names = ", ".join(f'"{c}"' for c in columns)
            count = 0
            while rows := source.fetchmany(BATCH):
                count += len(rows)
                started = time.perf_counter()
                if connection.vendor == "sqlite":
                    marks = ", ".join("?" * len(columns))
                    target.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
                    target.commit()
                else:
                    with (
                        target.cursor() as cursor,
                        cursor.copy(  # type: ignore[attr-defined]
                            f"COPY {table} ({names}) FROM STDIN"
                        ) as copy,
                    ):
                        for row in rows:
                            copy.write_row(row)
                    target.commit()
                seconds += time.perf_counter() - started
            if connection.vendor == "postgresql":
                # As any bulk loader must (and the importer does): without statistics, the
                # server plans the foreign-key checks of the next tables as scans of this one.
                started = time.perf_counter()
                target.execute(f"ANALYZE {table}")
                target.commit()
                seconds += time.perf_counter() - started
            log(f"raw insert: {table} {count} rows")
    target.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--database-url")
    parser.add_argument("--keep-file", action="store_true", help="keep the generated XML")
    parser.add_argument(
        "--workers", type=int, default=1, help="processes applying the chunks (PostgreSQL)"
    )
    args = parser.parse_args()

    import_url, raw_url, cleanup = databases(args.database_url)
    os.environ["DATABASE_URL"] = import_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "patronage.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from patronage.audit.context import Actor
    from patronage.sis.actions import save_profile
    from patronage.sis.synthetic import write_users_xml

    directory = Path(tempfile.mkdtemp(prefix="bench-sis-file-"))
    try:
        call_command("migrate", verbosity=0, interactive=False, skip_checks=True)
        copy_empty_schema(import_url, raw_url, cleanup)
        save_profile(
            actor=Actor.system(),
            code="bench",
            create=True,
            values={
                "name": "Benchmark SIS",
                "file_format": "xml",
                "match_by": "primary_id",
                "default_record_type": "PUBLIC",
                "override_fields": [],
                "full_sync": False,
                "missing_action": "nothing",
                "missing_expiry_days": 0,
            },
        )
        path = write_users_xml(directory / "students.xml", args.users)
        log(f"{args.users} users, {path.stat().st_size / 1e6:.0f} MB of XML")
        rss_before = peak_rss_mb()
        postgres = not import_url.startswith("sqlite")
        cpu, db_cpu = importer_cpu(), database_cpu() if postgres else None
        first = import_file(path, "first load", args.workers)
        cpu = importer_cpu() - cpu
        db_after = database_cpu() if postgres else None
        resync = import_file(path, "no-change re-sync", args.workers)
        rss = peak_rss_mb()
        log(f"peak RSS {rss:.0f} MB (before the imports {rss_before:.0f} MB)")
        raw = raw_insert(raw_url)
        log(f"raw insert of the same rows: {raw:.1f} s")
        print(f"RESULT first_load: {args.users / first:.0f} users/s")
        print(f"RESULT resync_no_change: {args.users / resync:.0f} users/s")
        print(f"RESULT ratio_vs_raw_insert: {first / raw:.2f} x")
        print(f"RESULT peak_rss: {rss:.0f} MB")
        # Where a first load's time goes: CPU per user of the importer (reading, checks,
        # planning, every worker) and of the database server. With C cores, no first load
        # can beat C / (their sum) users/s on this machine, however it is spread out.
        print(f"RESULT first_load_importer_cpu_per_user: {cpu / args.users * 1000:.3f} ms")
        if db_cpu is not None and db_after is not None:
            db = db_after - db_cpu
            print(f"RESULT first_load_database_cpu_per_user: {db / args.users * 1000:.3f} ms")
            ceiling = (os.cpu_count() or 1) * args.users / (cpu + db)
            print(f"RESULT first_load_cpu_bound_on_this_machine: {ceiling:.0f} users/s")
    finally:
        from django.db import connection

        connection.close()
        if not args.keep_file:
            shutil.rmtree(directory, ignore_errors=True)
        cleanup()


if __name__ == "__main__":
    main()
