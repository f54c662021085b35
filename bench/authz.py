"""Deciding access: ``access.checks`` against pycasbin on the same grants, in the same run.

    python bench/authz.py [--users N] [--database-url URL] [--keep]

Set-up (/work/shared/BENCHMARKS.md, so figures compare across runs): 1,000 staff users,
100 roles, 20 circulation desks (5 libraries of 4); each role holds 20 permissions drawn from
the ``Permission`` enum, each granted on 3 desks (the role's desks); each user holds 3 role
grants, each at a random one of its role's desks; 5,000 random (user, desk, permission)
decisions. Placing a grant at one of its role's desks makes the two models hold exactly the
same rights, so every one of the 5,000 decisions is checked to agree before anything is timed.

The database is the benchmark's own, as in ``bench/lookup.py``: a throwaway SQLite file, or
``--database-url postgres://.../bench_authz`` (names must start with ``bench``; the database
is created and dropped). Rows are written with ``bulk_create`` (roles, users, grants).

Measured, side by side in the same run:

* pycasbin: an ``Enforcer`` loaded once with the RBAC-with-domains model
  (``g = _, _, _``; matcher ``g(r.sub, p.sub, r.dom) && r.dom == p.dom && r.obj == p.obj &&
  r.act == p.act``), one ``p`` line per (role, desk, permission) and one ``g`` line per grant.
  A permission ``area:resource:action`` is obj ``area:resource``, act ``action``.
* Patronage: ``access.checks.can(user, permission, loan_at_desk)`` on a fresh user instance
  per request, as Django loads the user anew for each. A user's coverage table is cached per
  process under the user's ``grants_token`` (read with the user row), so in a running server
  the first decision of a request finds it there. Timings: the headline **per request**
  (requests of ``--per-request`` decisions, default 5, by one user: the first from the process
  cache, the rest from the instance), the same **without the process cache**
  (``AUTHZ_CACHE_SECONDS=0``: the first decision reads the grants), **cold** (every decision
  reads the grants) and **warm** (the instance already knows them). ``restrict()`` (narrowing
  a ``UserNote`` queryset to what the user reaches) is timed warm.
* ``authz_share_of_user_fetch``: ``accounts.selectors.get_user(actor, pk)`` with a freshly
  loaded actor per fetch (authorization on: ``visible_users`` restricts) against the same
  fetch without the authorization step (``User.objects.get(pk=...)``); the share is
  (with - without) / with, in a running server's steady state (the process cache filled by
  the warm-up); the share without the process cache is printed to stderr.

``RESULT speedup_vs_pycasbin`` is pycasbin's time per decision over Patronage's per-request
time per decision; the cold and warm ratios are printed to stderr.
"""

from __future__ import annotations

import argparse
import copy
import gc
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from lookup import log, prepare_database, setup_django

SEED = 20_240_917
LIBRARIES = 5
DESKS = 20
ROLES = 100
PERMISSIONS_PER_ROLE = 20
DESKS_PER_ROLE = 3
GRANTS_PER_USER = 3
BENCH_LABEL = "Command line bench-authz"

CASBIN_MODEL = """
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && r.dom == p.dom && r.obj == p.obj && r.act == p.act
"""


@dataclass
class Data:
    user_ids: list[int]
    desks: list[Any]  # CirculationDesk
    role_desks: dict[str, list[int]]  # role code -> the desk ids its permissions are granted on
    role_permissions: dict[str, list[str]]


class LoanAtDesk:
    """An object placed at a circulation desk, as a loan is: its desk's and library's keys."""

    __slots__ = ("desk_id", "library_id")

    def __init__(self, desk_id: int, library_id: int) -> None:
        self.desk_id = desk_id
        self.library_id = library_id

    def scope_keys(self) -> frozenset[tuple[str, int]]:
        return frozenset({("CIRCULATION_DESK", self.desk_id), ("LIBRARY", self.library_id)})


# --- seeding -------------------------------------------------------------------------------


def seed(users: int, rnd: random.Random) -> Data:
    from django.db import transaction

    from patronage.access.models import Role, RoleGrant, ScopeType
    from patronage.access.permissions import Permission
    from patronage.accounts.models import User
    from patronage.organization.models import CirculationDesk, Library

    everything = [str(p) for p in Permission]
    with transaction.atomic():
        libraries = Library.objects.bulk_create(
            Library(code=f"BENCH{n}", name=f"Bench library {n}") for n in range(LIBRARIES)
        )
        CirculationDesk.objects.bulk_create(
            CirculationDesk(library=libraries[n % LIBRARIES], code=f"D{n:02d}", name=f"Desk {n}")
            for n in range(DESKS)
        )
        desks = list(CirculationDesk.objects.filter(code__startswith="D").order_by("code"))
        role_permissions = {
            f"BENCH_ROLE_{n:03d}": sorted(rnd.sample(everything, PERMISSIONS_PER_ROLE))
            for n in range(ROLES)
        }
        Role.objects.bulk_create(
            Role(
                code=code,
                name=f"Bench role {code[-3:]}",
                permissions=permissions,
                scope_types=[ScopeType.CIRCULATION_DESK],
            )
            for code, permissions in role_permissions.items()
        )
        roles = {role.code: role for role in Role.objects.filter(code__startswith="BENCH_ROLE_")}
        role_desks = {
            code: [d.pk for d in rnd.sample(desks, DESKS_PER_ROLE)] for code in role_permissions
        }
        created = User.objects.bulk_create(
            User(
                primary_id=f"bench{n:07d}",
                record_type="STAFF",
                user_group="STAFF",
                status="ACTIVE",
                login_model="CUSTOM",
                first_name="Bench",
                last_name=f"Staff {n}",
                sort_name=f"staff {n}, bench",
                created_via=BENCH_LABEL,
                updated_via=BENCH_LABEL,
                password=f"!{rnd.getrandbits(160):040x}",
            )
            for n in range(users)
        )
        user_ids = [u.pk for u in created] if created[0].pk else []
        if not user_ids:  # a backend that does not return ids
            user_ids = list(
                User.objects.filter(created_via=BENCH_LABEL)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
        grants = []
        codes = list(role_permissions)
        for user_id in user_ids:
            for code in rnd.sample(codes, GRANTS_PER_USER):
                grants.append(
                    RoleGrant(
                        user_id=user_id,
                        role=roles[code],
                        scope_type=ScopeType.CIRCULATION_DESK,
                        circulation_desk_id=rnd.choice(role_desks[code]),
                    )
                )
        RoleGrant.objects.bulk_create(grants)
    return Data(user_ids, desks, role_desks, role_permissions)


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


# --- pycasbin --------------------------------------------------------------------------------


def split(permission: str) -> tuple[str, str]:
    obj, _, act = permission.rpartition(":")
    return obj, act


def casbin_enforcer(data: Data, fast: bool = False) -> Any:
    """Loaded once from the same grants Patronage reads (the g lines come from the database).

    ``fast``: pycasbin's ``FastEnforcer`` with the policies indexed by domain (a request's
    subject is a user and a policy's a role, so the subject cannot be the index).
    """
    import casbin
    from casbin.model import FastModel

    from patronage.access.models import RoleGrant

    model = FastModel([1]) if fast else casbin.Model()
    model.load_model_from_text(CASBIN_MODEL)
    enforcer = casbin.FastEnforcer(model, cache_key_order=[1]) if fast else casbin.Enforcer(model)
    policies = [
        [code, f"desk:{desk_id}", *split(permission)]
        for code, desk_ids in data.role_desks.items()
        for desk_id in desk_ids
        for permission in data.role_permissions[code]
    ]
    groupings = [
        [f"user:{user_id}", code, f"desk:{desk_id}"]
        for user_id, code, desk_id in RoleGrant.objects.active()
        .filter(role__code__startswith="BENCH_ROLE_")
        .values_list("user_id", "role__code", "circulation_desk_id")
    ]
    enforcer.add_policies(policies)
    enforcer.add_grouping_policies(groupings)
    return enforcer


# --- measuring -----------------------------------------------------------------------------


def timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


@dataclass
class Case:
    user_id: int
    desk: LoanAtDesk
    permission: Any  # Permission
    casbin_request: tuple[str, str, str, str]


def draw_requests(
    data: Data, decisions: int, per_request: int, rnd: random.Random
) -> list[list[Case]]:
    """``decisions`` random (user, desk, permission) decisions, ``per_request`` per user."""
    from patronage.access.permissions import Permission

    permissions = list(Permission)
    requests = []
    for _ in range(decisions // per_request):
        user_id = rnd.choice(data.user_ids)
        request = []
        for _ in range(per_request):
            desk = rnd.choice(data.desks)
            permission = rnd.choice(permissions)
            request.append(
                Case(
                    user_id,
                    LoanAtDesk(desk.pk, desk.library_id),
                    permission,
                    (f"user:{user_id}", f"desk:{desk.pk}", *split(str(permission))),
                )
            )
        requests.append(request)
    return requests


def fresh_users(user_ids: Sequence[int]) -> Callable[[], dict[int, list[Any]]]:
    """Per round, one new instance per use, as each request loads its user anew (untimed)."""
    from patronage.accounts.models import User

    loaded = User.objects.in_bulk(list(set(user_ids)))

    def make() -> dict[int, list[Any]]:
        pool: dict[int, list[Any]] = {}
        for user_id in user_ids:
            pool.setdefault(user_id, []).append(copy.copy(loaded[user_id]))
        return pool

    return make


def bench_decisions(
    enforcer: Any,
    fast: Any,
    requests: list[list[Case]],
    user_ids: list[int],
    rounds: int,
    casbin_sample: int,
) -> None:
    from django.test import override_settings

    from patronage.access.checks import can, restrict
    from patronage.accounts.models import UserNote

    cases = [case for request in requests for case in request]
    decisions = len(cases)
    first = [request[0] for request in requests]

    # pycasbin's Enforcer matches every p line against every request (about 70 ms a decision
    # here), so it is timed on the first ``casbin_sample`` decisions (its FastEnforcer on the
    # first 1,000): their cost hardly depends on which. Same data, same answers: every
    # decision is checked against pycasbin (FastEnforcer for all, Enforcer for the sample)
    # before anything is timed.
    sample = [case.casbin_request for case in cases[:casbin_sample]]
    check_users = fresh_users([c.user_id for c in cases])()
    allowed = 0
    for n, case in enumerate(cases):
        ours = can(check_users[case.user_id].pop(), case.permission, case.desk)
        theirs = fast.enforce(*case.casbin_request)
        if n < casbin_sample and enforcer.enforce(*case.casbin_request) != theirs:
            sys.exit(f"pycasbin's Enforcer and FastEnforcer differ on {case.casbin_request}")
        if ours != theirs:
            sys.exit(
                f"decisions differ on {case.casbin_request}: patronage {ours}, casbin {theirs}"
            )
        allowed += ours
    log(f"  {decisions:,} decisions agree ({allowed:,} allowed, {decisions - allowed:,} denied)")

    per_request_users = fresh_users([request[0].user_id for request in requests])
    cold_users = fresh_users([case.user_id for case in first])

    # Each request's user instance is taken from a pool made beforehand and dropped after the
    # request, as a server drops it (keeping them all alive would grow the heap each garbage
    # collection walks).
    def per_request_round() -> float:
        pool = per_request_users()

        def run() -> None:
            for request in requests:
                user = pool[request[0].user_id].pop()
                for case in request:
                    can(user, case.permission, case.desk)

        return timed(run) / decisions

    def uncached(measure: Callable[[], float]) -> Callable[[], float]:
        def without_process_cache() -> float:
            with override_settings(AUTHZ_CACHE_SECONDS=0):
                return measure()

        return without_process_cache

    def cold_round() -> float:
        pool = cold_users()

        def run() -> None:
            for case in first:
                can(pool[case.user_id].pop(), case.permission, case.desk)

        return timed(run) / len(first)

    warm_pool = {user_id: users[0] for user_id, users in fresh_users(user_ids)().items()}
    warm_cases = [(warm_pool[c.user_id], c.permission, c.desk) for c in cases]
    for user in warm_pool.values():
        can(user, first[0].permission)  # load every user's grants once

    def warm_round() -> float:
        def run() -> None:
            for user, permission, desk in warm_cases:
                can(user, permission, desk)

        return timed(run) / decisions

    notes = UserNote.objects.all()

    def restrict_round() -> float:
        def run() -> None:
            for user, permission, _ in warm_cases:
                restrict(notes, user, permission)

        return timed(run) / decisions

    def casbin_round(which: Any, requests: list[tuple[str, str, str, str]]) -> Callable[[], float]:
        def measure() -> float:
            def run() -> None:
                for request in requests:
                    which.enforce(*request)

            return timed(run) / len(requests)

        return measure

    measures: dict[str, Callable[[], float]] = {
        "casbin": casbin_round(enforcer, sample),
        "casbin_fast": casbin_round(fast, [case.casbin_request for case in cases[:1000]]),
        "per_request": per_request_round,
        "per_request_uncached": uncached(per_request_round),
        "cold": uncached(cold_round),
        "warm": warm_round,
        "restrict": restrict_round,
    }
    times: dict[str, list[float]] = {name: [] for name in measures}
    for n in range(rounds):
        for name, measure in measures.items():
            times[name].append(measure())
        log(
            f"  round {n + 1}/{rounds}: "
            + ", ".join(f"{k} {v[-1] * 1e6:.1f} us" for k, v in times.items())
        )
    best = {name: min(values) for name, values in times.items()}
    casbin = best["casbin"]
    per_request = len(requests[0])
    log(f"  pycasbin Enforcer: {casbin * 1e6:,.1f} us per decision ({len(sample)} timed)")
    labels = {
        "casbin_fast": "pycasbin FastEnforcer (policies indexed by domain; for reference)",
        "per_request": f"patronage per request ({per_request} decisions, process cache on)",
        "per_request_uncached": f"patronage per request ({per_request} decisions, the first "
        "reading the grants: process cache off)",
        "cold": "patronage cold (each decision reads the user's grants)",
        "warm": "patronage warm (grants already loaded)",
        "restrict": "patronage restrict() of a UserNote queryset, warm",
    }
    for name, label in labels.items():
        log(f"  {label}: {best[name] * 1e6:,.2f} us per decision, x{casbin / best[name]:,.0f}")
    print(f"RESULT speedup_vs_pycasbin: {casbin / best['per_request']:.1f} x")


def bench_user_fetch(data: Data, fetches: int, rounds: int, rnd: random.Random) -> None:
    from django.test import override_settings

    from patronage.access.checks import can, restrict
    from patronage.access.permissions import Permission
    from patronage.accounts import selectors
    from patronage.accounts.models import User
    from patronage.errors import NotFound

    # Actors: bench staff who may view users (at one of their desks).
    probe = fresh_users(data.user_ids)()
    viewers = [pk for pk, (user,) in probe.items() if can(user, Permission.USERS_VIEW)]
    actor_ids = [rnd.choice(viewers) for _ in range(fetches)]
    targets = [rnd.choice(data.user_ids) for _ in range(fetches)]
    actors = fresh_users(actor_ids)
    log(f"  {len(viewers):,} of {len(data.user_ids):,} users may view users")

    def unchecked_get_user(pk: int | str) -> User:
        """``selectors.get_user`` without the authorization step."""
        try:
            return User.objects.all().get(pk=int(pk))
        except (User.DoesNotExist, ValueError, TypeError):
            raise NotFound("No such user.", code="user_not_found") from None

    everyone = User.objects.all()
    perf = time.perf_counter

    def one_round() -> tuple[float, float, float]:
        """Interleaved, fetch by fetch, so the machine's load changes hit all three alike."""
        pool, others = actors(), actors()  # ``others``: for timing the decision alone
        on = off = alone = 0.0
        for n, (actor_id, pk) in enumerate(zip(actor_ids, targets, strict=True)):
            # Taken from the pool and dropped after the fetch, as a request's user is.
            actor, other = pool[actor_id].pop(), others[actor_id].pop()
            if n % 2:
                started = perf()
                selectors.get_user(actor, pk)
                middle = perf()
                unchecked_get_user(pk)
                ended = perf()
                on, off = on + middle - started, off + ended - middle
            else:
                started = perf()
                unchecked_get_user(pk)
                middle = perf()
                selectors.get_user(actor, pk)
                ended = perf()
                on, off = on + ended - middle, off + middle - started
            started = perf()
            restrict(everyone, other, Permission.USERS_VIEW)
            alone += perf() - started
        return on / fetches, off / fetches, alone / fetches

    for actor, pk in zip(actors()[actor_ids[0]][:1], targets[:1], strict=True):
        selectors.get_user(actor, pk)  # warm the connection and caches
    one_round()  # and the process cache, as a running server has it

    def share_of_fetch(label: str) -> float:
        shares: list[float] = []
        direct: list[float] = []
        on: list[float] = []
        off: list[float] = []
        for n in range(rounds):
            t_on, t_off, t_decide = one_round()
            on.append(t_on)
            off.append(t_off)
            shares.append((t_on - t_off) / t_on)
            direct.append(t_decide / t_on)
            log(
                f"  {label} round {n + 1}/{rounds}: get_user {t_on * 1e6:.1f} us, without "
                f"authorization {t_off * 1e6:.1f} us, deciding alone {t_decide * 1e6:.1f} us"
            )
        share = statistics.median(shares) * 100
        log(
            f"  {label}: user fetch {statistics.median(on) * 1e6:.1f} us with authorization, "
            f"{statistics.median(off) * 1e6:.1f} us without; deciding is {share:.1f} % of it "
            f"(deciding timed alone: {statistics.median(direct) * 100:.1f} %)"
        )
        return share

    share = share_of_fetch("process cache on")
    with override_settings(AUTHZ_CACHE_SECONDS=0):
        share_of_fetch("process cache off")
    print(f"RESULT authz_share_of_user_fetch: {share:.1f} %")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--decisions", type=int, default=5_000)
    parser.add_argument(
        "--per-request", type=int, default=5, help="decisions per request by one user"
    )
    parser.add_argument("--fetches", type=int, default=1_000, help="user fetches a round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of decisions")
    parser.add_argument("--fetch-rounds", type=int, default=5, help="rounds of user fetches")
    parser.add_argument(
        "--casbin-decisions", type=int, default=200, help="decisions timed on pycasbin's Enforcer"
    )
    args = parser.parse_args()

    database_url, clean_up = prepare_database(args.database_url or None, args.keep)
    try:
        setup_django(database_url)
        from django.db import connection

        from patronage.accounts.models import User

        log(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
        if User.objects.filter(created_via=BENCH_LABEL).exists():
            sys.exit("the database already holds this benchmark's data: give a new one")
        rnd = random.Random(SEED)
        log(
            f"seeding {args.users:,} users, {ROLES} roles, {DESKS} desks, "
            f"{args.users * GRANTS_PER_USER:,} grants ..."
        )
        data = seed(args.users, rnd)
        analyze()
        log("loading pycasbin ...")
        started = time.perf_counter()
        enforcer = casbin_enforcer(data)
        log(f"  Enforcer loaded in {time.perf_counter() - started:.2f} s")
        fast = casbin_enforcer(data, fast=True)
        requests = draw_requests(data, args.decisions, args.per_request, rnd)
        log(f"{args.decisions:,} decisions ({len(requests):,} requests of {args.per_request}) ...")
        bench_decisions(enforcer, fast, requests, data.user_ids, args.rounds, args.casbin_decisions)
        # The fetches run in a process without pycasbin's policies (as a server would): a
        # large heap of live objects makes every garbage collection slower, for both sides.
        del enforcer, fast
        gc.collect()
        log("user fetch with and without authorization ...")
        bench_user_fetch(data, args.fetches, args.fetch_rounds, rnd)
    finally:
        clean_up()


if __name__ == "__main__":
    main()
