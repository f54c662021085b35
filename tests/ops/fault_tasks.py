"""A task for the worker fault test: slow on its first attempt (so the test can kill its
worker mid-task), then it does its one write, in a transaction."""

from __future__ import annotations

import time
from pathlib import Path

from django_tasks import task


@task()
def slow_then_write(marker_dir: str, primary_id: str) -> str:
    from tests.factories import make_user

    started = Path(marker_dir) / "started"
    first_attempt = not started.exists()
    started.write_text("x")
    if first_attempt:
        time.sleep(60)  # killed here
    return make_user(primary_id=primary_id).primary_id
