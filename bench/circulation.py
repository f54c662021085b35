"""Circulation: check-out + return cycles and fee operations through the actions, against the
same rows written with raw SQL, in the same run.

    python bench/circulation.py [--patrons N] [--cycles N] [--fees N] [--database-url URL] [--keep]

Set-up: one library with one circulation desk, ``--patrons`` patrons (default 2,000, written
with ``bulk_create``), as many items, a user-group policy, and a Fulfillment Administrator
scoped to the library who does everything. The database is the benchmark's own, as in
``bench/lookup.py``: a throwaway SQLite file, or ``--database-url postgres://.../bench_circ``
(names must start with ``bench``; the database is created and dropped).

Measured:

* ``checkout_return``: ``actions.check_out`` then ``actions.return_item`` for a patron and an
  item, ``--cycles`` times, each action with a freshly loaded staff user (as a request has):
  permission and desk checks, the patron's effective blocks (manual blocks, expiry, the
  debt-limit balance, overdue loans), the item lock, the due date from the policy capped at
  expiry, the loan row, the overdue-fine check on return, and an audit event per action.
  The baseline: per cycle, in two transactions, the SQL a minimal circulation system needs —
  find the item by barcode, insert the loan; find the open loan, mark it returned.
* ``fee_operations``: per fee, five operations — create, pay part (with a receipt), dispute,
  restore, waive the rest — through the actions; the baseline writes the same rows (fee,
  ledger entries, receipt, status updates) with raw SQL, one transaction per operation.
* ``checkout_p95``: the 95th percentile of one check-out through the action, in ms.

Ratios (``*_ratio_vs_raw_sql``, x) are time per cycle/operation of the actions over the
baseline's.
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lookup import log, prepare_database, setup_django


def seed(patrons: int) -> dict[str, Any]:
    from patronage.access.actions import grant_role, set_login_model
    from patronage.access.models import Role
    from patronage.accounts.actions import create_user
    from patronage.accounts.models import User
    from patronage.audit.context import Actor, Channel
    from patronage.circulation.models import Item, UserGroupPolicy
    from patronage.organization.models import CirculationDesk, Library

    system = Actor.system(Channel.CLI, job="bench-circulation")
    library = Library.objects.create(code="BENCH", name="Bench Library")
    desk = CirculationDesk.objects.create(library=library, code="D1", name="Bench desk")
    staff = create_user(
        actor=system,
        fields={
            "primary_id": "bench-staff",
            "record_type": "STAFF",
            "first_name": "Bench",
            "last_name": "Staff",
            "user_group": "STAFF",
        },
    )
    set_login_model(actor=system, user=staff, login_model="CUSTOM")
    grant_role(
        actor=system,
        user=staff,
        role=Role.objects.get(code="FULFILLMENT_ADMINISTRATOR"),
        scope=library,
    )
    UserGroupPolicy.objects.create(user_group="UNDERGRAD", debt_limit=Decimal("1000000"))
    expiry = datetime.date.today() + datetime.timedelta(days=365)
    User.objects.bulk_create(
        [
            User(
                primary_id=f"bench{n:07d}",
                record_type="PUBLIC",
                first_name="Pat",
                last_name=f"Ron{n}",
                user_group="UNDERGRAD",
                expiry_date=expiry,
                sort_name=f"ron{n} pat",
            )
            for n in range(patrons)
        ],
        batch_size=2000,
    )
    Item.objects.bulk_create(
        [
            Item(barcode=f"I{n:08d}", key=f"i{n:08d}", title=f"Title {n}", library=library)
            for n in range(patrons)
        ],
        batch_size=2000,
    )
    return {
        "staff_id": staff.pk,
        "desk": desk,
        "patrons": list(User.objects.filter(record_type="PUBLIC").order_by("pk")),
        "barcodes": list(Item.objects.order_by("pk").values_list("barcode", flat=True)),
    }


def fresh_actor(staff_id: int) -> Any:
    from patronage.accounts.models import User
    from patronage.audit.context import Actor, Channel

    return Actor(user=User.objects.get(pk=staff_id), channel=Channel.API)


def bench_cycles(data: dict[str, Any], cycles: int) -> tuple[float, list[float]]:
    from patronage.circulation import actions

    desk, patrons, barcodes = data["desk"], data["patrons"], data["barcodes"]
    checkouts: list[float] = []
    start = time.perf_counter()
    for n in range(cycles):
        patron, barcode = patrons[n % len(patrons)], barcodes[n % len(barcodes)]
        begin = time.perf_counter()
        actions.check_out(
            actor=fresh_actor(data["staff_id"]), user=patron, barcode=barcode, desk=desk
        )
        checkouts.append(time.perf_counter() - begin)
        actions.return_item(actor=fresh_actor(data["staff_id"]), barcode=barcode, desk=desk)
    return time.perf_counter() - start, checkouts


def bench_cycles_raw(data: dict[str, Any], cycles: int) -> float:
    from django.db import connection, transaction
    from django.utils import timezone

    desk, patrons, barcodes = data["desk"], data["patrons"], data["barcodes"]
    start = time.perf_counter()
    for n in range(cycles):
        patron, barcode = patrons[n % len(patrons)], barcodes[n % len(barcodes)]
        now = timezone.now()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT id FROM circulation_item WHERE key = %s", [barcode.lower()])
            (item_id,) = cursor.fetchone()
            cursor.execute(
                "INSERT INTO circulation_loan (item_id, user_id, desk_id, library_id, loaned_at,"
                " due_at, due_capped_at_expiry, renewals) VALUES (%s, %s, %s, %s, %s, %s, %s, 0)",
                [
                    item_id,
                    patron.pk,
                    desk.pk,
                    desk.library_id,
                    now,
                    now + datetime.timedelta(days=28),
                    False,
                ],
            )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT id FROM circulation_item WHERE key = %s", [barcode.lower()])
            (item_id,) = cursor.fetchone()
            cursor.execute(
                "UPDATE circulation_loan SET returned_at = %s, return_desk_id = %s"
                " WHERE item_id = %s AND returned_at IS NULL",
                [timezone.now(), desk.pk, item_id],
            )
    return time.perf_counter() - start


def bench_fees(data: dict[str, Any], fees: int) -> float:
    from patronage.circulation import actions

    patrons = data["patrons"]
    start = time.perf_counter()
    for n in range(fees):
        patron = patrons[n % len(patrons)]
        fee = actions.create_fee(
            actor=fresh_actor(data["staff_id"]), user=patron, fee_type="OTHER", amount="10.00"
        )
        actions.pay_fee(actor=fresh_actor(data["staff_id"]), fee=fee, method="CASH", amount="3.00")
        actions.dispute_fee(actor=fresh_actor(data["staff_id"]), fee=fee, comment="Not mine")
        actions.restore_fee(actor=fresh_actor(data["staff_id"]), fee=fee, comment="Checked")
        actions.waive_fees(actor=fresh_actor(data["staff_id"]), fees=[fee], reason="HARDSHIP")
    return time.perf_counter() - start


def bench_fees_raw(data: dict[str, Any], fees: int) -> float:
    from django.db import connection, transaction
    from django.utils import timezone

    from patronage.circulation.models import FeeType

    patrons = data["patrons"]
    fee_type = FeeType.objects.get(code="OTHER").pk
    entry = (
        "INSERT INTO circulation_feeentry (fee_id, kind, amount, method, reason, comment,"
        " receipt_id, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
    )
    status = "UPDATE circulation_fee SET status = %s, status_date = %s WHERE id = %s"
    start = time.perf_counter()
    for n in range(fees):
        patron = patrons[n % len(patrons)]
        now = timezone.now()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO circulation_fee (user_id, fee_type_id, status, status_date,"
                " original_amount, original_vat, currency, accruing, comment,"
                " bursar_transaction_id, created_at) VALUES"
                " (%s, %s, 'ACTIVE', %s, 10.00, 0, 'USD', %s, '', '', %s) RETURNING id",
                [patron.pk, fee_type, now, False, now],
            )
            (fee_id,) = cursor.fetchone()
            cursor.execute(entry, [fee_id, "CREATED", 0, "", "", "", None, now])
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM circulation_fee WHERE id = %s FOR UPDATE"
                if connection.vendor == "postgresql"
                else "SELECT id FROM circulation_fee WHERE id = %s",
                [fee_id],
            )
            cursor.execute(
                "INSERT INTO circulation_receipt (user_id, number, method, total, currency,"
                " external_transaction_id, created_at) VALUES (%s, %s, 'CASH', 3, 'USD', '', %s)"
                " RETURNING id",
                [patron.pk, f"RAW{n}", now],
            )
            (receipt_id,) = cursor.fetchone()
            cursor.execute(entry, [fee_id, "PAYMENT", -3, "CASH", "", "", receipt_id, now])
        for kind, to in (("DISPUTE", "INDISPUTE"), ("RESTORE", "ACTIVE")):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(status, [to, now, fee_id])
                cursor.execute(entry, [fee_id, kind, 0, "", "", "", None, now])
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT SUM(amount) FROM circulation_feeentry WHERE fee_id = %s", [fee_id]
            )
            cursor.execute(entry, [fee_id, "WAIVE", -7, "", "HARDSHIP", "", None, now])
            cursor.execute(status, ["CLOSED", now, fee_id])
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patrons", type=int, default=2000)
    parser.add_argument("--cycles", type=int, default=1000)
    parser.add_argument("--fees", type=int, default=300)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    url, clean_up = prepare_database(args.database_url or None, args.keep)
    try:
        setup_django(url)
        log("seeding ...")
        data = seed(args.patrons)
        from django.db import connection

        log(f"{connection.vendor}: {args.cycles} check-out + return cycles ...")
        bench_cycles(data, min(50, args.cycles))  # warm-up: compiled queries, caches
        actions_time, checkouts = bench_cycles(data, args.cycles)
        raw_time = bench_cycles_raw(data, args.cycles)
        log(f"{args.fees} fees x 5 operations ...")
        fee_time = bench_fees(data, args.fees)
        fee_raw_time = bench_fees_raw(data, args.fees)
        checkouts.sort()
        p95 = checkouts[int(len(checkouts) * 0.95) - 1] * 1000
        log(f"check-out median {statistics.median(checkouts) * 1000:.2f} ms")
        print(f"RESULT checkout_return: {args.cycles / actions_time:.1f} cycles/s")
        print(f"RESULT checkout_return_raw_sql: {args.cycles / raw_time:.1f} cycles/s")
        print(f"RESULT checkout_return_ratio_vs_raw_sql: {actions_time / raw_time:.2f} x")
        print(f"RESULT checkout_p95: {p95:.2f} ms")
        print(f"RESULT fee_operations: {args.fees * 5 / fee_time:.1f} ops/s")
        print(f"RESULT fee_operations_raw_sql: {args.fees * 5 / fee_raw_time:.1f} ops/s")
        print(f"RESULT fee_operations_ratio_vs_raw_sql: {fee_time / fee_raw_time:.2f} x")
    finally:
        from django.db import connections

        connections.close_all()
        clean_up()


if __name__ == "__main__":
    main()
