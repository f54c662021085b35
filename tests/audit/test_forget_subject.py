"""Crypto-shredding: a person's values in the audit trail are sealed with their own key;
forgetting them destroys it, the History tab shows "(erased)" and the chain still verifies."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.urls import reverse

from patronage.accounts import actions
from patronage.audit import chain
from patronage.audit.actions import forget_subject, record
from patronage.audit.models import AuditEvent, SubjectKey
from tests.api.client import ApiClient
from tests.factories import SYSTEM, actor_for, changes_of, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def renamed(admin):
    patron = make_user(primary_id="pat01", first_name="Jane", last_name="Doe")
    actions.update_user(actor=actor_for(admin), user=patron, fields={"last_name": "Roe"})
    return patron


def test_personal_values_are_stored_sealed_but_read_back(renamed):
    event = AuditEvent.objects.get(verb="user.updated", subject=renamed)
    assert "Doe" not in str(event.changes) and "Roe" not in str(event.changes)
    assert event.changes[0]["field"] == "last_name"  # what changed stays readable
    assert changes_of(event) == [{"field": "last_name", "old": "Doe", "new": "Roe"}]


def test_forgetting_erases_the_history_and_keeps_the_chain(renamed, admin, client):
    chain.chain_pending()
    assert forget_subject(actor=actor_for(admin), user_id=renamed.pk, reason="Deleted") is True
    event = AuditEvent.objects.get(verb="user.updated", subject=renamed)
    assert changes_of(event) == [{"field": "last_name", "old": "(erased)", "new": "(erased)"}]
    chain.chain_pending()
    assert chain.verify().ok
    forgotten = AuditEvent.objects.get(verb="audit.subject_forgotten")
    assert forgotten.object_id == str(renamed.pk) and forgotten.actor == admin
    assert SubjectKey.objects.get(subject_id=renamed.pk).key is None
    # The History tab (UI and API) says so.
    client.force_login(admin)
    page = client.get(reverse("web:user_detail", args=[renamed.pk]) + "?tab=history")
    assert "(erased)" in page.content.decode() and "Doe" not in page.content.decode()
    body = ApiClient(admin).get(f"/users/{renamed.pk}/history").json()
    change = next(e for e in body["items"] if e["verb"] == "user.updated")["changes"][0]
    assert change == {"field": "last_name", "old": "(erased)", "new": "(erased)", "erased": True}


def test_values_recorded_after_forgetting_are_stored_erased(renamed, admin):
    forget_subject(actor=actor_for(admin), user_id=renamed.pk)
    assert forget_subject(actor=actor_for(admin), user_id=renamed.pk) is False
    event = record(
        actor=SYSTEM,
        verb="user.deleted",
        obj=renamed,
        subject=renamed,
        changes=[{"field": "last_name", "old": "Roe", "new": ""}],
        sealed_details={"name": "Jane Roe"},
    )
    assert "Roe" not in str(event.changes) + str(event.details)
    assert changes_of(event)[0]["old"] == "(erased)"


def test_another_persons_history_is_untouched(renamed, admin):
    other = make_user(primary_id="pat02", first_name="John", last_name="Smith")
    actions.update_user(actor=actor_for(admin), user=other, fields={"last_name": "Smithe"})
    forget_subject(actor=actor_for(admin), user_id=renamed.pk)
    event = AuditEvent.objects.get(verb="user.updated", subject=other)
    assert changes_of(event) == [{"field": "last_name", "old": "Smith", "new": "Smithe"}]


def test_an_events_values_are_sealed_once_and_older_per_change_tokens_still_read(renamed, admin):
    event = AuditEvent.objects.get(verb="user.updated", subject=renamed)
    assert event.changes == [{"field": "last_name"}] and "sealed_changes" in event.details
    # Events recorded before the values were sealed together carry one token per change.
    fernet = Fernet(bytes(SubjectKey.objects.get(subject_id=renamed.pk).key))
    older = AuditEvent.objects.create(
        actor_label="system",
        channel="cli",
        verb="user.updated",
        object_type="user",
        subject=renamed,
        changes=[{"field": "first_name", "sealed": fernet.encrypt(b'["Jane", "Janet"]').decode()}],
    )
    assert changes_of(older) == [{"field": "first_name", "old": "Jane", "new": "Janet"}]
    forget_subject(actor=actor_for(admin), user_id=renamed.pk)
    assert changes_of(older)[0]["old"] == changes_of(event)[0]["old"] == "(erased)"
