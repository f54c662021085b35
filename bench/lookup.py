"""Finding a user: exact lookups through the selectors against raw indexed SQL, and name search.

    python bench/lookup.py [--users N] [--database-url URL] [--keep]

Sets Django up itself (``patronage.settings``) on a database of its own:

* no URL: a throwaway SQLite file in a temporary directory, removed at the end;
* ``sqlite:///path``: that file, which must not exist yet (or hold this benchmark's data);
* ``postgres://user@host:port/bench_lookup``: the benchmark creates that database, and drops it
  at the end. Only names starting with ``bench`` are accepted, so it never touches a database
  someone else uses (``test``, ``postgres``, an installation's own).

``--keep`` leaves the database in place, and a later run with the same URL and ``--users``
reuses it without seeding again (migrations still run, so a new index is picked up).

The N patrons are written with ``bulk_create`` in chunks: creating them one by one through
``accounts.actions.create_user`` would take hours at a million. The rows are built as the
actions build them: the primary identifier row (``identifier_key``), a BARCODE identifier,
a preferred email (``identifier_key`` again), ``User.computed_sort_name()`` and one
``UserNameToken`` per ``User.name_tokens()`` word. Not written: the ``user.created`` audit
events, which no lookup reads. The acting staff member is created through the actions and
holds the User Administrator role (institution-wide).

Measured, side by side in the same run:

* ``primary_id_lookup``, ``barcode_lookup``, ``email_lookup``: ops/s through
  ``accounts.selectors`` (``get_user_by_primary_id``, ``find_by_identifier(..., "BARCODE")``,
  ``find_by_email``), each against the equivalent raw indexed SELECT via ``cursor.execute``;
  ``lookup_ratio_vs_raw_sql`` is the worst of the three time ratios selector / raw SQL.
* ``name_search_p95``: ``search_users`` with a 2-5 letter prefix of a patron's last or first
  name (drawn in proportion to how common the name is), first page of 25 sorted results.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEED = 1_000_003
CHUNK = 5_000
PAGE = 25
BENCH_LABEL = "Command line bench-lookup"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the database the benchmark owns ---------------------------------------------------------


def prepare_database(url: str | None, keep: bool) -> tuple[str, Callable[[], None]]:
    """Return the DATABASE_URL to use and a clean-up function."""
    if not url:
        directory = tempfile.mkdtemp(prefix="bench-lookup-")
        path = Path(directory) / "lookup.sqlite3"
        if keep:
            log(f"keeping the database: --database-url sqlite:///{path}")
            return f"sqlite:///{path}", lambda: None
        return f"sqlite:///{path}", lambda: shutil.rmtree(directory, ignore_errors=True)
    parts = urlsplit(url)
    if parts.scheme.startswith("sqlite"):
        path = Path(parts.path)
        existed = path.exists()

        def remove_sqlite() -> None:
            if not keep and not existed:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)

        return url, remove_sqlite
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit(f"unsupported database URL: {url}")
    name = parts.path.lstrip("/") or "bench_lookup"
    if not name.startswith("bench"):
        sys.exit(f"refusing to use database '{name}': give one named bench_... (it is dropped)")
    target = urlunsplit(parts._replace(path=f"/{name}"))
    maintenance = urlunsplit(parts._replace(path="/postgres"))

    import psycopg

    def admin(sql: str) -> None:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            conn.execute(sql)

    with psycopg.connect(maintenance, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    if not exists:
        admin(f'CREATE DATABASE "{name}"')
    elif not keep:
        admin(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        from django.db import connections

        connections.close_all()
        if keep:
            log(f"keeping the database: --database-url {target}")
        else:
            admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return target, drop


def setup_django(database_url: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "patronage.settings"
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("SECRET_KEY", "bench-lookup-not-secret")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    log("migrating ...")
    call_command("migrate", verbosity=0, interactive=False, skip_checks=True)


# --- seeding -------------------------------------------------------------------------------


def zipf_weights(count: int, exponent: float = 0.8) -> list[float]:
    return [1 / (rank + 1) ** exponent for rank in range(count)]


class Population:
    """Who the patrons are: common names more common than rare ones, as in life."""

    def __init__(self, rnd: random.Random) -> None:
        from patronage.accounts.demo_data import FIRST_NAMES, LAST_NAMES

        self.rnd = rnd
        self.first = list(FIRST_NAMES)
        self.last = list(LAST_NAMES)
        rnd.shuffle(self.first)
        rnd.shuffle(self.last)
        self.first_weights = zipf_weights(len(self.first))
        self.last_weights = zipf_weights(len(self.last))

    def names(self, k: int) -> tuple[list[str], list[str]]:
        return (
            self.rnd.choices(self.first, self.first_weights, k=k),
            self.rnd.choices(self.last, self.last_weights, k=k),
        )


def seeded_count() -> int:
    from patronage.accounts.models import User

    return User.objects.filter(created_via=BENCH_LABEL, record_type="PUBLIC").count()


def seed(n: int, rnd: random.Random) -> None:
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.db.models import Max
    from django.utils import timezone

    from patronage.accounts.choices import Segment
    from patronage.accounts.models import (
        Email,
        User,
        UserBlock,
        UserIdentifier,
        UserNameToken,
        UserNote,
        identifier_key,
    )

    population = Population(rnd)
    today = timezone.localdate()
    groups = ["UNDERGRAD"] * 55 + ["GRAD"] * 20 + ["FACULTY"] * 8 + ["ALUMNI"] * 10
    # Ids are given here, so the rows need not come back from the database; the sequence is
    # moved past them at the end.
    first_id = (User.objects.aggregate(top=Max("id"))["top"] or 0) + 1
    # Every bench user row starts as the row Django prepares for this template (defaults,
    # auto_now timestamps, JSON); only the columns that differ are replaced per user.
    template = User(
        id=0,
        record_type="PUBLIC",
        status="ACTIVE",
        status_date=today,
        created_via=BENCH_LABEL,
        updated_via=BENCH_LABEL,
        last_updated_by_job="bench-lookup",
    )
    columns, template_row = prepared_row(template)
    at = {name: columns.index(name) for name in columns}
    scratch = User()  # computes sort_name and tokens exactly as the actions do
    started = time.perf_counter()
    for start in range(0, n, CHUNK):
        size = min(CHUNK, n - start)
        firsts, lasts = population.names(size)
        users: list[tuple[int, str, str, set[str]]] = []
        rows: list[tuple[Any, ...]] = []
        for offset in range(size):
            serial = start + offset
            scratch.first_name, scratch.last_name = firsts[offset], lasts[offset]
            scratch.middle_name = rnd.choice(population.first) if rnd.random() < 0.15 else ""
            scratch.pref_first_name = rnd.choice(population.first) if rnd.random() < 0.04 else ""
            row = list(template_row)
            pk, primary_id = first_id + serial, f"p{serial:07d}"
            sort_name = scratch.computed_sort_name()
            values = {
                "id": pk,
                "primary_id": primary_id,
                "user_group": rnd.choice(groups),
                "first_name": scratch.first_name,
                "middle_name": scratch.middle_name,
                "last_name": scratch.last_name,
                "pref_first_name": scratch.pref_first_name,
                "sort_name": sort_name,
                # What set_unusable_password() stores, without 40 calls to secrets per row.
                "password": f"!{rnd.getrandbits(160):040x}",
            }
            for name, value in values.items():
                row[at[name]] = value
            rows.append(tuple(row))
            users.append((pk, primary_id, sort_name, scratch.name_tokens()))
        with transaction.atomic():
            insert_tuples(User, columns, rows)
            # The children are plain tuples (a model instance costs ~80 us to build and
            # prepare); columns the actions leave at their defaults are spelled out.
            identifiers: list[tuple[Any, ...]] = []
            emails: list[tuple[Any, ...]] = []
            tokens: list[tuple[int, str, str]] = []
            notes: list[UserNote] = []
            blocks: list[UserBlock] = []
            for pk, primary_id, sort_name, name_words in users:
                serial = int(primary_id[1:])
                barcode = barcode_of(serial)
                identifiers.append((pk, "PRIMARY", primary_id, identifier_key(primary_id), True))
                identifiers.append((pk, "BARCODE", barcode, identifier_key(barcode), False))
                address = email_of(serial)
                emails.append((pk, address, identifier_key(address), '["school"]', True))
                tokens.extend((pk, token, sort_name) for token in sorted(name_words))
                if rnd.random() < 0.02:
                    notes.append(UserNote(user_id=pk, note_type="CIRCULATION", text="Bench note"))
                if rnd.random() < 0.01:
                    blocks.append(UserBlock(user_id=pk, block_type="GENERAL", note="Bench block"))
            insert_tuples(
                UserIdentifier,
                ["user_id", "id_type", "value", "key", "is_primary"],
                identifiers,
                note="",
                segment_type=Segment.INTERNAL,
            )
            insert_tuples(
                Email,
                ["user_id", "address", "key", "types", "preferred"],
                emails,
                description="",
                segment_type=Segment.INTERNAL,
                start_date=None,
                end_date=None,
            )
            insert_tuples(UserNameToken, ["user_id", "token", "sort_name"], tokens)
            insert_rows(notes)
            insert_rows(blocks)
        done = start + size
        if done % (CHUNK * 10) == 0 or done == n:
            rate = done / (time.perf_counter() - started)
            log(f"  seeded {done:,}/{n:,} users ({rate:,.0f} users/s)")
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [User]):
            cursor.execute(sql)


def insert_rows(objects: Sequence[Any]) -> None:
    """A few model instances, prepared as ``save()`` would."""
    for obj in objects:
        columns, values = prepared_row(obj)
        insert_tuples(type(obj), columns, [tuple(values)])


def prepared_row(obj: Any) -> tuple[list[str], list[Any]]:
    """The columns and values ``save()`` would write for ``obj`` (``pre_save`` and
    ``get_db_prep_save`` per field, so ``auto_now`` and JSON fields behave as in an action)."""
    from django.db import connection

    fields = [f for f in obj._meta.concrete_fields if not (f.primary_key and obj.pk is None)]
    values = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    return [f.column for f in fields], values


def insert_tuples(
    model: Any, columns: list[str], rows: list[tuple[Any, ...]], **constant: Any
) -> None:
    """INSERT plain value tuples, plus columns that hold the same value in every row."""
    from django.db import connection

    quote = connection.ops.quote_name
    names = [*columns, *constant]
    extra = tuple(constant.values())
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(n) for n in names)}) "
        f"VALUES ({', '.join(['%s'] * len(names))})"
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY is PostgreSQL's bulk path (several times executemany's rate).
            copy_sql = (
                f"COPY {quote(model._meta.db_table)} ({', '.join(quote(n) for n in names)}) "
                "FROM STDIN"
            )
            with cursor.cursor.copy(copy_sql) as copy:
                for row in rows:
                    copy.write_row(row + extra)
        else:
            cursor.executemany(sql, [row + extra for row in rows])


def barcode_of(serial: int) -> str:
    return f"2{serial * 7_919 % 10**9:09d}{serial % 1000:03d}01"


def email_of(serial: int) -> str:
    return f"patron.{serial}@Students.Example.edu"


def analyze() -> None:
    """The state of a database that has been in use for a while: statistics for the planner
    and, on PostgreSQL, the visibility map index-only scans need (autovacuum's work)."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in (
                "accounts_user",
                "accounts_useridentifier",
                "accounts_email",
                "accounts_usernametoken",
            ):
                cursor.execute(f"VACUUM ANALYZE {table}")
        else:
            cursor.execute("ANALYZE")
            # Fold the seeding's write-ahead log into the database file, as SQLite's own
            # checkpoints would have by now: reads through a large WAL are several times slower.
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def make_actor() -> Any:
    """A staff member holding the User Administrator role for the whole institution."""
    from patronage.access.actions import grant_role
    from patronage.access.models import Role
    from patronage.accounts.actions import create_user
    from patronage.accounts.models import User, UserIdentifier
    from patronage.audit.context import Actor, Channel

    system = Actor.system(Channel.CLI, job="bench-lookup")
    found = UserIdentifier.objects.filter(key="bench-admin", is_primary=True).first()
    if found is None:
        user = create_user(
            actor=system,
            fields={
                "primary_id": "bench-admin",
                "record_type": "STAFF",
                "user_group": "STAFF",
                "first_name": "Bench",
                "last_name": "Administrator",
            },
        )
        role = Role.objects.get(code="USER_ADMINISTRATOR")
        grant_role(actor=system, user=user, role=role)
        return User.objects.get(pk=user.pk)
    return User.objects.get(pk=found.user_id)


# --- measuring -----------------------------------------------------------------------------


def timed(calls: Callable[[], object]) -> float:
    started = time.perf_counter()
    calls()
    return time.perf_counter() - started


def compare(
    name: str,
    keys: Sequence[str],
    selector: Callable[[str], Any],
    raw: Callable[[str], Any],
    rounds: int,
) -> tuple[float, float]:
    """Alternate rounds of selector and raw SQL over the same keys; return (ops/s, ratio)."""
    for key in keys[:50]:  # warm caches and the connection
        assert selector(key) is not None, (name, key)
        assert raw(key), (name, key)
    selector_times: list[float] = []
    ratios: list[float] = []
    for _ in range(rounds):
        selector_time = timed(lambda: [selector(k) for k in keys])
        raw_time = timed(lambda: [raw(k) for k in keys])
        selector_times.append(selector_time)
        ratios.append(selector_time / raw_time)
    ops = len(keys) * rounds / sum(selector_times)
    ratio = statistics.median(ratios)
    raw_ops = ops * ratio
    log(f"  {name}: {ops:,.0f} ops/s via selector, {raw_ops:,.0f} ops/s raw SQL, x{ratio:.2f}")
    return ops, ratio


def bench_lookups(actor: Any, n: int, rnd: random.Random, per_round: int, rounds: int) -> None:
    from django.db import connection

    from patronage.accounts import selectors
    from patronage.accounts.models import identifier_key

    serials = [rnd.randrange(n) for _ in range(per_round)]
    columns = "u.*"

    def raw_one(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    primary_sql = (
        f"SELECT {columns} FROM accounts_user u JOIN accounts_useridentifier i "
        "ON i.user_id = u.id WHERE i.key = %s AND i.is_primary LIMIT 1"
    )
    barcode_sql = (
        f"SELECT {columns} FROM accounts_user u JOIN accounts_useridentifier i "
        "ON i.user_id = u.id WHERE i.key = %s AND i.id_type = 'BARCODE' LIMIT 1"
    )
    email_sql = (
        f"SELECT {columns} FROM accounts_user u WHERE u.id IN "
        "(SELECT e.user_id FROM accounts_email e WHERE e.key = %s)"
    )
    results: dict[str, tuple[float, float]] = {}
    results["primary_id_lookup"] = compare(
        "primary_id_lookup",
        [f"P{s:07d}" for s in serials],  # case differs: the lookup is case-insensitive
        lambda key: selectors.get_user_by_primary_id(actor, key),
        lambda key: raw_one(primary_sql, [identifier_key(key)]),
        rounds,
    )
    results["barcode_lookup"] = compare(
        "barcode_lookup",
        [barcode_of(s) for s in serials],
        lambda key: selectors.find_by_identifier(actor, key, "BARCODE"),
        lambda key: raw_one(barcode_sql, [identifier_key(key)]),
        rounds,
    )
    results["email_lookup"] = compare(
        "email_lookup",
        [email_of(s).upper() for s in serials],
        lambda key: list(selectors.find_by_email(actor, key)) or None,
        lambda key: raw_one(email_sql, [identifier_key(key)]),
        rounds,
    )
    for name, (ops, _) in results.items():
        print(f"RESULT {name}: {ops:.0f} ops/s")
    worst = max(ratio for _, ratio in results.values())
    print(f"RESULT lookup_ratio_vs_raw_sql: {worst:.2f} x")


def name_queries(rnd: random.Random, count: int) -> list[str]:
    """Prefixes of 2-5 letters of a patron's last or first name, as staff type them."""
    from patronage.accounts.models import User, name_tokens

    queries: list[str] = []
    pks = list(
        User.objects.filter(created_via=BENCH_LABEL, record_type="PUBLIC").values_list(
            "pk", flat=True
        )[:20_000]
    )
    for pk in rnd.sample(pks, count):
        user = User.objects.get(pk=pk)
        name = user.last_name if rnd.random() < 0.7 else user.first_name
        words = sorted(name_tokens(name), key=len, reverse=True)
        word = words[0]
        length = rnd.randint(2, 5)
        prefix = word[:length]
        queries.append(prefix.capitalize() if rnd.random() < 0.3 else prefix)
    return queries


def bench_name_search(actor: Any, rnd: random.Random, count: int) -> None:
    from patronage.accounts.selectors import UserSearch, search_users

    queries = name_queries(rnd, count)
    for query in queries[:20]:
        list(search_users(actor, UserSearch(query=query))[:PAGE])
    times: list[float] = []
    slowest: list[tuple[float, str, int]] = []
    for query in queries:
        started = time.perf_counter()
        page = list(search_users(actor, UserSearch(query=query))[:PAGE])
        elapsed = (time.perf_counter() - started) * 1000
        times.append(elapsed)
        slowest.append((elapsed, query, len(page)))
        assert page, query
    times.sort()
    p50 = times[len(times) // 2]
    p95 = times[int(len(times) * 0.95) - 1]
    slowest.sort(reverse=True)
    log(f"  name search: p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {times[-1]:.1f} ms")
    log("  slowest: " + ", ".join(f"{q!r} {t:.1f} ms" for t, q, _ in slowest[:5]))
    print(f"RESULT name_search_p95: {p95:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--keep", action="store_true", help="keep (and reuse) the database")
    parser.add_argument("--lookups", type=int, default=2_000, help="keys per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--searches", type=int, default=300)
    args = parser.parse_args()

    database_url, clean_up = prepare_database(args.database_url or None, args.keep)
    try:
        setup_django(database_url)
        from django.db import connection

        log(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
        have = seeded_count()
        if have == args.users:
            log(f"reusing {have:,} seeded users")
        elif have:
            sys.exit(f"the database holds {have:,} benchmark users, not {args.users:,}")
        actor = make_actor()
        if not have:
            log(f"seeding {args.users:,} users ...")
            seed(args.users, random.Random(SEED))
        analyze()
        rnd = random.Random(SEED + 1)
        log("exact lookups (selector vs raw SQL) ...")
        bench_lookups(actor, args.users, rnd, args.lookups, args.rounds)
        log("name search ...")
        bench_name_search(actor, rnd, args.searches)
    finally:
        clean_up()


if __name__ == "__main__":
    main()
