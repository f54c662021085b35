"""Sustained mixed load on the production server, beside the API benchmark's baseline view.

    python bench/soak.py [--users N] [--database-url URL] [--seconds S] [--clients C] [--keep]

Seeds N patrons (default 20,000) as bench/lookup.py does (PostgreSQL by default, a database
named ``bench_...`` created and dropped unless ``--keep``), starts granian as bench/api.py
does (WSGI, 2 workers, persistent connections), then, in the same run:

* ``baseline``: bench/api.py's baseline view (one indexed SELECT of a user row and one INSERT
  of a read-audit row, as JSON) for S seconds;
* ``mixed_load``: C keep-alive clients, each running the soak test's mix (tests/load.py:
  create, change and read patrons and search by name through ``/api/v1``, open records and
  name searches in the staff UI) for S seconds, as an administrator with an API key and a
  staff session.

Prints ``mixed_load`` (req/s over all clients), ``mixed_p99`` (ms), ``server_errors`` (answers
with a 5xx status or a dropped connection), the baseline's req/s, and
``ratio_to_baseline_view`` (the mixed request's time over the baseline's). Afterwards it
checks, as the soak test does, that the audit trail holds exactly one event per write that
succeeded, and says so on stderr (``audit_mismatch`` counts the writes it could not match).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import threading
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import api  # noqa: E402  (bench/api.py: server, load generator, the administrator's key)
import lookup  # noqa: E402  (bench/lookup.py: database, seeding)

from tests.load import Driver  # noqa: E402  (the soak test's mix)

SEED = 1_000_037
# The server checks sessions with its SECRET_KEY: this process signs them with the same one.
os.environ.setdefault("SECRET_KEY", "bench-soak-not-secret")


def staff_session(primary_id: str) -> str:
    """A logged-in staff session for the administrator, stored where the server reads it."""
    from django.test import Client

    from patronage.accounts.models import User, UserIdentifier

    found = UserIdentifier.objects.get(key=primary_id, is_primary=True)
    client = Client()
    client.force_login(User.objects.get(pk=found.user_id))
    return client.cookies["sessionid"].value


def write_events() -> Counter[str]:
    from django.db.models import Count

    from patronage.audit.models import AuditEvent

    rows = AuditEvent.objects.filter(verb__in=("user.created", "user.updated")).values("verb")
    return Counter({row["verb"]: row["n"] for row in rows.annotate(n=Count("id"))})


def mixed(port: int, key: str, session: str, patrons: list[int], seconds: float, clients: int):
    drivers = [
        Driver(f"http://127.0.0.1:{port}", key, session, SEED + n, patrons) for n in range(clients)
    ]
    started = time.monotonic()
    threads = [threading.Thread(target=driver.run, args=(started + seconds,)) for driver in drivers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    outcomes = sum((driver.outcomes for driver in drivers), Counter())
    by_kind: dict[str, list[float]] = {}
    for driver in drivers:
        for kind, values in driver.latencies.items():
            by_kind.setdefault(kind, []).extend(values)
    return outcomes, by_kind, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/bench_soak")
    parser.add_argument("--seconds", type=float, default=20.0, help="per figure")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--keep", action="store_true", help="keep (and reuse) the database")
    args = parser.parse_args()

    database_url, clean_up = lookup.prepare_database(args.database_url or None, args.keep)
    server = None
    try:
        lookup.setup_django(database_url)
        have = lookup.seeded_count()
        if have and have != args.users:
            sys.exit(f"the database holds {have:,} benchmark users, not {args.users:,}")
        if not have:
            api.log(f"seeding {args.users:,} users ...")
            lookup.seed(args.users, random.Random(SEED))
        lookup.analyze()
        key = api.api_key()
        from django.core.management import call_command

        # The pages name their static files by hash, as in production: collect them first.
        call_command("collectstatic", "--noinput", verbosity=0)
        session = staff_session("bench-api-admin")
        from patronage.accounts.models import User

        # Patrons the mix reads and changes: a random sample of the seeded ones, by row id.
        ids = list(User.objects.filter(record_type="PUBLIC").values_list("pk", flat=True))
        patrons = random.Random(SEED).sample(ids, min(500, len(ids)))
        before = write_events()
        from django.db import connections

        connections.close_all()
        port = api.free_port()
        api.log(f"starting granian ({api.WORKERS} workers) on 127.0.0.1:{port} ...")
        server = api.start_server(database_url, port)
        rnd = random.Random(SEED + 1)
        baseline_paths = [f"/bench/baseline/p{rnd.randrange(args.users):07d}" for _ in range(2_000)]
        api.log("warming up ...")
        api.drive(port, baseline_paths, {}, 2, args.clients)
        api.log(f"baseline ({args.seconds:g} s, {args.clients} clients) ...")
        baseline = api.drive(port, baseline_paths, {}, args.seconds, args.clients)
        api.log(f"mixed load ({args.seconds:g} s, {args.clients} clients) ...")
        outcomes, by_kind, elapsed = mixed(port, key, session, patrons, args.seconds, args.clients)
        after = write_events()
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        clean_up()

    errors = sum(count for (_, status), count in outcomes.items() if status == 0 or status >= 500)
    refused = {o: c for o, c in outcomes.items() if 0 < o[1] < 500 and o[1] not in (200, 201)}
    mismatch = abs(
        after["user.created"] - before["user.created"] - outcomes[("create", 201)]
    ) + abs(after["user.updated"] - before["user.updated"] - outcomes[("update", 200)])
    api.log(f"answers: {dict(sorted(outcomes.items()))}")
    if refused:
        api.log(f"refused (4xx) answers, which the mix does not expect: {refused}")
    api.log("audit: one event per successful write" if not mismatch else "audit: MISMATCH")

    for kind, values in sorted(by_kind.items()):
        api.log(f"  {kind}: {len(values)} requests, p50 {statistics.median(values) * 1000:.1f} ms")
    latencies = sorted(value for values in by_kind.values() for value in values)
    rps = len(latencies) / elapsed
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    print(f"RESULT baseline: {baseline['rps']:.0f} req/s")
    print(f"RESULT baseline_p99: {baseline['p99']:.2f} ms")
    print(f"RESULT mixed_load: {rps:.0f} req/s")
    print(f"RESULT mixed_p99: {p99:.2f} ms")
    print(f"RESULT ratio_to_baseline_view: {baseline['rps'] / rps:.2f} x")
    print(f"RESULT server_errors: {errors} errors")
    print(f"RESULT audit_mismatch: {mismatch} errors")


if __name__ == "__main__":
    main()
