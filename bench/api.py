"""The Alma-compatible API under a production server, against a baseline view, same run.

    python bench/api.py [--users N] [--database-url URL] [--seconds S] [--clients C] [--keep]

Seeds N patrons (default 100,000) the way bench/lookup.py does (its database handling too:
PostgreSQL by default, a database named ``bench_...`` that is created and dropped), then
starts granian (WSGI, 2 workers, persistent database connections) on 127.0.0.1 with
bench/api_settings.py and drives it from a loopback load generator (C keep-alive clients
in two processes) for S seconds per figure:

* ``baseline``: ``GET /bench/baseline/{primary_id}`` — one indexed SELECT of the user row and
  one INSERT of a read-audit row, returned as JSON (bench/api_urls.py);
* ``user_get_json`` / ``user_get_xml``: ``GET /almaws/v1/users/{primary_id}`` with an
  administrator's API key (the full user object: identifiers, contact information, notes,
  blocks, statistics, roles, proxies, threshold counting, JSON or XML);
* ``search``: ``GET /almaws/v1/users?q=last_name~{prefix}`` (first page of 10, total count).

Prints requests/s, p50 and p99 for each, and ``ratio_to_baseline_view`` (the full JSON GET's
time per request over the baseline's) and ``ratio_xml_to_baseline_view`` (the XML GET's).
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import lookup  # noqa: E402  (bench/lookup.py: database, seeding, analysis)

SEED = 1_000_033
WORKERS = 2
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/bench_api"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the server -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(database_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE)]),
        "DJANGO_SETTINGS_MODULE": "api_settings",
        "DATABASE_URL": database_url,
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-api-not-secret"),
        "PATRONAGE_HTTPS": "0",
        "CONN_MAX_AGE": "600",
        "LOG_LEVEL": "WARNING",
        # The thresholds are measured by the tests; here they would only stop the load.
        "ALMAWS_PER_SECOND_THRESHOLD": str(10**9),
        "ALMAWS_DAILY_THRESHOLD": str(10**12),
    }
    # As 'patronage serve' runs it: granian, WSGI, 4 blocking threads a worker.
    command = [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "wsgi",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(WORKERS),
        "--blocking-threads",
        "4",
        "--no-access-log",
        "--log-level",
        "warning",
        "patronage.wsgi:application",
    ]
    server = subprocess.Popen(command, env=env, cwd=ROOT)  # noqa: S603 (our own command)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/bench/baseline/p0000000")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.3)
    server.terminate()
    sys.exit("the server did not start")


# --- the load generator -----------------------------------------------------------------------


def _client(
    port: int, paths: list[str], headers: dict[str, str], until: float, seed: int, out: list[Any]
) -> None:
    rnd = random.Random(seed)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies: list[float] = []
    errors = 0
    while time.monotonic() < until:
        started = time.perf_counter()
        try:
            connection.request("GET", rnd.choice(paths), headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                errors += 1
        except (OSError, http.client.HTTPException):
            errors += 1
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        latencies.append(time.perf_counter() - started)
    out.append((latencies, errors))


def _process(
    port: int,
    paths: list[str],
    headers: dict[str, str],
    until: float,
    threads: int,
    seed: int,
    queue: Any,
) -> None:
    out: list[Any] = []
    workers = [
        threading.Thread(target=_client, args=(port, paths, headers, until, seed + i, out))
        for i in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    queue.put(out)


def drive(
    port: int, paths: list[str], headers: dict[str, str], seconds: float, clients: int
) -> dict[str, float]:
    """``clients`` keep-alive clients in two processes for ``seconds``; figures of the run."""
    processes = 2
    queue: Any = multiprocessing.Queue()
    started = time.monotonic()
    until = started + seconds
    workers = [
        multiprocessing.Process(
            target=_process,
            args=(port, paths, headers, until, max(1, clients // processes), 100 * p, queue),
        )
        for p in range(processes)
    ]
    for worker in workers:
        worker.start()
    results = [entry for _ in workers for entry in queue.get()]
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - started
    latencies = sorted(value for values, _ in results for value in values)
    errors = sum(count for _, count in results)
    if not latencies:
        sys.exit("no request succeeded")
    return {
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "errors": errors,
    }


# --- set-up -------------------------------------------------------------------------------


def api_key() -> str:
    """An API key of a General System Administrator (created through the actions)."""
    from patronage.access.actions import grant_role, set_login_model
    from patronage.access.api_key_actions import create_api_key
    from patronage.access.models import Role
    from patronage.accounts.actions import create_user
    from patronage.accounts.models import User, UserIdentifier
    from patronage.audit.context import Actor, Channel

    system = Actor.system(Channel.CLI, job="bench-api")
    found = UserIdentifier.objects.filter(key="bench-api-admin", is_primary=True).first()
    if found is None:
        user = create_user(
            actor=system,
            fields={
                "primary_id": "bench-api-admin",
                "record_type": "STAFF",
                "user_group": "STAFF",
                "first_name": "Bench",
                "last_name": "Api",
            },
        )
        set_login_model(actor=system, user=user, login_model="CUSTOM")
        role = Role.objects.get(code="GENERAL_SYSTEM_ADMINISTRATOR")
        grant_role(actor=system, user=user, role=role)
    else:
        user = User.objects.get(pk=found.user_id)
    return create_api_key(actor=system, owner=user, name="bench").key


def name_prefixes(rnd: random.Random, count: int) -> list[str]:
    """3-5 letter prefixes of last names, drawn as common as the names are."""
    population = lookup.Population(rnd)
    _, lasts = population.names(count)
    return [last[: rnd.randint(3, 5)].lower() for last in lasts]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument("--seconds", type=float, default=10.0, help="per figure")
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
            log(f"seeding {args.users:,} users ...")
            lookup.seed(args.users, random.Random(SEED))
        lookup.analyze()
        key = api_key()
        from django.db import connections

        connections.close_all()
        port = free_port()
        log(f"starting granian ({WORKERS} workers) on 127.0.0.1:{port} ...")
        server = start_server(database_url, port)
        rnd = random.Random(SEED + 1)
        ids = [f"p{rnd.randrange(args.users):07d}" for _ in range(5_000)]
        as_json = {"Authorization": f"apikey {key}", "Accept": "application/json"}
        as_xml = {"Authorization": f"apikey {key}"}
        users = [f"/almaws/v1/users/{i}" for i in ids]
        searches = [
            f"/almaws/v1/users?q={quote(f'last_name~{p}')}" for p in name_prefixes(rnd, 2_000)
        ]
        log("warming up ...")
        drive(port, users, as_json, 2, args.clients)
        drive(port, [f"/bench/baseline/{i}" for i in ids], {}, 2, args.clients)
        figures: dict[str, dict[str, float]] = {}
        for name, paths, headers in (
            ("baseline", [f"/bench/baseline/{i}" for i in ids], {}),
            ("user_get_json", users, as_json),
            ("user_get_xml", users, as_xml),
            ("search", searches, as_json),
        ):
            log(f"{name} ({args.seconds:g} s, {args.clients} clients) ...")
            figures[name] = drive(port, paths, headers, args.seconds, args.clients)
            shown = figures[name]
            log(
                f"  {shown['rps']:,.0f} req/s, p50 {shown['p50']:.1f} ms, "
                f"p99 {shown['p99']:.1f} ms, {shown['errors']:.0f} errors"
            )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        clean_up()

    for name, shown in figures.items():
        print(f"RESULT {name}: {shown['rps']:.0f} req/s")
        print(f"RESULT {name}_p50: {shown['p50']:.2f} ms")
        print(f"RESULT {name}_p99: {shown['p99']:.2f} ms")
    ratio = figures["baseline"]["rps"] / figures["user_get_json"]["rps"]
    ratio_xml = figures["baseline"]["rps"] / figures["user_get_xml"]["rps"]
    print(f"RESULT user_get_p99: {figures['user_get_json']['p99']:.2f} ms")
    print(f"RESULT ratio_to_baseline_view: {ratio:.2f} x")
    print(f"RESULT ratio_xml_to_baseline_view: {ratio_xml:.2f} x")
    print(f"RESULT server_errors: {sum(f['errors'] for f in figures.values()):.0f} errors")


if __name__ == "__main__":
    main()
