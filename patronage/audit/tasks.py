"""Background jobs of the audit trail (django-tasks)."""

from __future__ import annotations

import datetime

from django_tasks import task

from patronage.audit.context import Actor, Channel

from . import actions, chain


@task()
def chain_audit_trail() -> int:
    """Link the events committed since the last run (schedule it every minute)."""
    return chain.chain_pending()


@task()
def archive_audit_trail(user_id: int | None, before: str) -> dict[str, object]:
    """Archive the events older than ``before`` (ISO date-time) as that staff user (or the
    system): export, anchor, remove. The actor's permission is checked again here."""
    from patronage.accounts.models import User

    user = User.objects.get(pk=user_id) if user_id is not None else None
    actor = Actor(user=user, channel=Channel.JOB, job="audit archive")
    done = actions.archive_trail(actor=actor, before=datetime.datetime.fromisoformat(before))
    return {
        "file": str(done.path),
        "events": done.anchor.event_count,
        "last_seq": done.anchor.last_seq,
    }
