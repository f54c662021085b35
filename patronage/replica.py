"""Reading reports and exports from a streaming replica, when one is configured.

``DATABASE_REPLICA_URL`` adds the ``replica`` alias. Reports and exports, which read much and
can bear a replica's lag of a second or two, ask ``reporting_database()`` where to read;
every write goes to the primary whatever an object was loaded from, and migrations run only
on the primary (the replica replays them). Without a replica everything uses the primary.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS

REPLICA = "replica"


def reporting_database() -> str:
    return REPLICA if REPLICA in settings.DATABASES else DEFAULT_DB_ALIAS


class PrimaryWritesRouter:
    def db_for_write(self, model: type, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        # Both aliases hold the same rows: a row read on the replica may refer to the primary's.
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db != REPLICA
