"""The cost of the read-access log, and how fast the audit chain is linked and verified.

    python bench/audit.py [--users N] [--fetches N] [--rounds N] [--events N]
                          [--database-url URL] [--keep]

The database is the benchmark's own, as in ``bench/lookup.py`` (a throwaway SQLite file by
default; a PostgreSQL database named ``bench...`` is created and dropped).

Measured in the same run:

* ``read_log_overhead``: a patron-record fetch through the selectors as the staff UI and
  the API do it (``get_user`` + ``user_card``) by a General System Administrator, with and
  without its ``user.viewed`` event (``privacy.reads.record_read``, committed as a request
  commits it), in alternating rounds (``--rounds``, 10 by default; more, shorter rounds
  cancel out a shared machine's changing load better); the figure is the median over
  rounds of (time with the event / time without - 1), in %. ``patron_fetch`` and
  ``patron_fetch_logged`` are the two rates.
* ``audit_chain_rate``: ``--events`` events (bulk-inserted) linked by ``chain_pending``.
* ``audit_verify_rate``: ``audit.chain.verify()`` over them (every link recomputed).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.lookup import log, prepare_database, setup_django  # noqa: E402

ROUNDS = 10
CHUNK = 10_000


def seed_patrons(n: int) -> tuple[object, list[int]]:
    from patronage.access.actions import grant_role, set_login_model
    from patronage.access.models import Role
    from patronage.accounts.actions import create_user
    from patronage.accounts.models import User
    from patronage.audit.context import Actor, Channel

    system = Actor.system(Channel.SYSTEM, job="bench-audit")
    staff = User.objects.filter(primary_id="bench-admin").first()
    if staff is None:
        staff = create_user(
            actor=system,
            fields={
                "primary_id": "bench-admin",
                "record_type": "STAFF",
                "first_name": "Bench",
                "last_name": "Admin",
                "user_group": "STAFF",
            },
            confirm_duplicate=True,
        )
        set_login_model(actor=system, user=staff, login_model="CUSTOM")
        role = Role.objects.get(code="GENERAL_SYSTEM_ADMINISTRATOR")
        grant_role(actor=system, user=staff, role=role, scope=None)
    have = User.objects.filter(record_type="PUBLIC").count()
    log(f"creating {max(n - have, 0)} patrons ...")
    for i in range(have, n):
        create_user(
            actor=system,
            fields={
                "primary_id": f"bench-patron-{i}",
                "record_type": "PUBLIC",
                "first_name": f"Pat{i}",
                "last_name": "Bench",
                "user_group": "UNDERGRAD",
            },
            confirm_duplicate=True,
        )
    ids = list(User.objects.filter(record_type="PUBLIC").values_list("pk", flat=True))
    return User.objects.get(pk=staff.pk), ids


def measure_reads(
    staff: object, ids: list[int], fetches: int, rounds: int = ROUNDS
) -> tuple[float, float, float]:
    from patronage.accounts import selectors
    from patronage.accounts.models import User
    from patronage.audit.context import Actor, Channel
    from patronage.privacy.reads import VIEWED, record_read

    actor = Actor(user=staff, channel=Channel.UI)  # type: ignore[arg-type]
    rnd = random.Random(7)

    def fetch(logged: bool, picks: list[int]) -> float:
        start = time.perf_counter()
        for pk in picks:
            viewer = User.objects.get(pk=staff.pk)  # type: ignore[attr-defined]  # per request
            user = selectors.get_user(viewer, pk)
            selectors.user_card(viewer, user)
            if logged:
                record_read(actor, VIEWED, user.pk, "", {"tab": "general"})
        return time.perf_counter() - start

    per_round = max(fetches // rounds, 1)
    fetch(False, rnd.choices(ids, k=50))  # warm the caches and prepared statements
    fetch(True, rnd.choices(ids, k=50))
    ratios, plain_times, logged_times = [], [], []
    for _ in range(rounds):
        picks = rnd.choices(ids, k=per_round)
        plain = fetch(False, picks)
        logged = fetch(True, picks)
        ratios.append(logged / plain - 1)
        plain_times.append(plain)
        logged_times.append(logged)
    overhead = statistics.median(ratios) * 100
    return (
        overhead,
        per_round / statistics.median(plain_times),
        per_round / statistics.median(logged_times),
    )


def fill_events(n: int, ids: list[int], staff_id: int) -> None:
    from django.db import transaction
    from django.utils import timezone

    from patronage.audit.models import AuditEvent

    log(f"inserting {n} events ...")
    rnd = random.Random(11)
    now = timezone.now()
    done = 0
    while done < n:
        size = min(CHUNK, n - done)
        with transaction.atomic():
            AuditEvent.objects.bulk_create(
                [
                    AuditEvent(
                        occurred_at=now,
                        actor_id=staff_id,
                        actor_label="bench-admin",
                        channel="ui",
                        ip="127.0.0.1",
                        request_id=f"{done + i:032x}",
                        verb="user.viewed",
                        object_type="user",
                        object_id=str(pk),
                        subject_id=pk,
                        details={"tab": "general"},
                    )
                    for i, pk in enumerate(rnd.choices(ids, k=size))
                ]
            )
        done += size
        if done % 100_000 == 0:
            log(f"  {done}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=2_000)
    parser.add_argument("--fetches", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--database-url")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    url, cleanup = prepare_database(args.database_url, args.keep)
    try:
        setup_django(url)
        from django.db import connection

        from patronage.audit import chain
        from patronage.audit.models import AuditEvent

        log(f"database: {connection.vendor}")
        staff, ids = seed_patrons(args.users)
        log(f"fetching {args.fetches} patron records with and without the read event ...")
        overhead, plain, logged = measure_reads(staff, ids, args.fetches, args.rounds)
        chain.chain_pending()
        have = AuditEvent.objects.count()
        fill_events(max(args.events - have, 0), ids, staff.pk)  # type: ignore[attr-defined]
        log("chaining ...")
        start = time.perf_counter()
        linked = chain.chain_pending()
        chain_seconds = time.perf_counter() - start
        log("verifying ...")
        start = time.perf_counter()
        result = chain.verify()
        verify_seconds = time.perf_counter() - start
        if not result.ok:
            sys.exit(f"the chain does not verify: {result.summary()}")
        print(f"RESULT patron_fetch: {plain:.0f} ops/s")
        print(f"RESULT patron_fetch_logged: {logged:.0f} ops/s")
        print(f"RESULT read_log_overhead: {overhead:.1f} %")
        if linked:
            print(f"RESULT audit_chain_rate: {linked / chain_seconds:.0f} events/s")
        print(f"RESULT audit_verify_rate: {result.checked / verify_seconds:.0f} events/s")
        log(f"verified {result.checked} events in {verify_seconds:.1f} s")
    finally:
        cleanup()


if __name__ == "__main__":
    main()
