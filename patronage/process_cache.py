"""Configuration kept per server process for a few seconds.

Some rows are read on nearly every request and change a few times a year, each through one
action: the code tables' descriptions (``accounts.actions.save_code_entry``), the current
confidentiality policy (``approvals.acknowledgement_actions.publish_policy``), whether record
views need an access reason (``privacy.actions.update_settings``). Reading them
from the database each time is most of what some answers cost (bench/api.py), so each
process keeps them for ``CONFIG_CACHE_SECONDS`` (0 switches this off).

The action that changes a value forgets it in its own process at once, and again when its
transaction commits (so what a transaction read before committing is not kept); every other
process takes the change up within ``CONFIG_CACHE_SECONDS``. A value loaded while it was
being forgotten is not kept (the generation counter), so a slow reader never stores what a
writer has just replaced.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from django.conf import settings
from django.db import transaction

T = TypeVar("T")
K = TypeVar("K")

_ALL: list[ProcessCached[object] | ProcessCachedMap[object, object]] = []


class ProcessCached(Generic[T]):
    """One value, loaded by ``load`` and kept for ``CONFIG_CACHE_SECONDS``."""

    def __init__(self, load: Callable[[], T]) -> None:
        self._load = load
        self._entry: tuple[float, T] | None = None
        self._generation = 0
        self._lock = threading.Lock()
        _ALL.append(self)  # type: ignore[arg-type]

    def get(self) -> T:
        entry = self._entry
        now = time.monotonic()
        if entry is not None and entry[0] > now:
            return entry[1]
        generation = self._generation
        value = self._load()
        lifetime = settings.CONFIG_CACHE_SECONDS
        if lifetime > 0:
            with self._lock:
                if generation == self._generation:
                    self._entry = (now + lifetime, value)
        return value

    def _clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._entry = None

    def forget(self) -> None:
        """After a change: at once here, and again when the change is committed."""
        self._clear()
        transaction.on_commit(self._clear)


class ProcessCachedMap(Generic[K, T]):
    """Values by key (a user's, say), each kept until it ends or for
    ``CONFIG_CACHE_SECONDS``, whichever comes first; at most ``size`` of them (the oldest
    goes first). The caller decides what may be kept: only what no one else's change can
    make wrong before it ends, or what may be that late."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._entries: dict[K, tuple[float, T]] = {}
        self._lock = threading.Lock()
        _ALL.append(self)  # type: ignore[arg-type]

    def get(self, key: K) -> T | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] <= time.time():
            return None
        return entry[1]

    def put(self, key: K, value: T, ends: float) -> None:
        """Keep ``value`` until ``ends`` (a Unix time) at the latest."""
        lifetime = settings.CONFIG_CACHE_SECONDS
        if lifetime <= 0:
            return
        with self._lock:
            if key not in self._entries and len(self._entries) >= self.size:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = (min(ends, time.time() + lifetime), value)

    def forget(self, key: K) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def _clear(self) -> None:
        with self._lock:
            self._entries.clear()


def forget_all() -> None:
    """Every process-cached value (tests: each test starts from its own database)."""
    for cached in _ALL:
        cached._clear()
