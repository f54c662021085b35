"""Seed 000: holders of patron lookup acknowledge the confidentiality policy every year."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from patronage.access.checks import forget
from patronage.accounts import selectors
from patronage.approvals import acknowledgements
from patronage.approvals.acknowledgement_actions import acknowledge, publish_policy, remind_lapsing
from patronage.approvals.models import Acknowledgement
from patronage.errors import Forbidden, ValidationFailed
from tests.factories import SYSTEM, actor_for, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy(db):
    return publish_policy(actor=SYSTEM, title="Confidentiality of Library Records", text="...")


def fresh(user):
    user.refresh_from_db()
    forget(user)
    acknowledgements.forget(user)
    return user


def name_search(user, query="Lovelace"):
    search = selectors.UserSearch(query=query, field=selectors.SearchField.NAME)
    return list(selectors.search_users(user, search))


def test_nothing_is_required_before_a_policy_is_published(admin):
    make_user(last_name="Lovelace")
    assert len(name_search(admin)) == 1


def test_without_an_acknowledgement_lookup_and_details_are_refused(admin, policy):
    make_user(last_name="Lovelace")
    with pytest.raises(Forbidden) as refused:
        name_search(admin)
    assert refused.value.code == "acknowledgement_required"
    assert acknowledgements.ACKNOWLEDGEMENT_PATH in refused.value.message
    with pytest.raises(Forbidden) as refused:
        selectors.require_details(admin)
    assert refused.value.code == "acknowledgement_required"
    search = selectors.UserSearch(query="Lovelace")
    assert list(selectors.search_users(admin, search)) == []  # names are not searched
    assert search.acknowledgement_required and search.name_search_refused

    acknowledge(actor=actor_for(admin), version=policy.version)
    admin = fresh(admin)
    assert len(name_search(admin)) == 1
    selectors.require_details(admin)


def test_an_acknowledgement_lapses_after_the_period(admin, policy, settings):
    make_user(last_name="Lovelace")
    ack = acknowledge(actor=actor_for(admin), version=policy.version)
    Acknowledgement.objects.filter(pk=ack.pk).update(
        acknowledged_at=timezone.now() - datetime.timedelta(days=366)
    )
    with pytest.raises(Forbidden):
        name_search(fresh(admin))
    settings.CONFIDENTIALITY_ACK_PERIOD_DAYS = 400
    assert len(name_search(fresh(admin))) == 1


def test_a_new_policy_version_needs_a_new_acknowledgement(admin, policy):
    acknowledge(actor=actor_for(admin), version=policy.version)
    newer = publish_policy(actor=SYSTEM, title="Confidentiality (2027)", text="...")
    assert acknowledgements.acknowledgement_required(fresh(admin))
    with pytest.raises(ValidationFailed) as refused:
        acknowledge(actor=actor_for(admin), version=policy.version)
    assert refused.value.code == "outdated_policy"
    acknowledge(actor=actor_for(admin), version=newer.version)
    assert not acknowledgements.acknowledgement_required(fresh(admin))


def test_reminders_30_days_before_and_the_lapsed_report(
    admin, policy, settings, django_capture_on_commit_callbacks
):
    from tests.factories import make_staff

    make_staff("FULFILLMENT_OPERATOR_EXTENDED_PLUS", first_name="Lapsed", last_name="Holder")
    make_user(record_type="STAFF", emails=[{"address": "a@example.edu", "types": ["personal"]}])
    ack = acknowledge(actor=actor_for(admin), version=policy.version)
    Acknowledgement.objects.filter(pk=ack.pk).update(
        acknowledged_at=timezone.now() - datetime.timedelta(days=340)
    )
    from patronage.accounts.actions import add_contact

    settings.PATRONAGE_BASE_URL = "https://lib.example.edu/patronage"
    add_contact(
        actor=SYSTEM,
        user=admin,
        kind="email",
        data={"address": "ada@example.edu", "types": ["personal"]},
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert remind_lapsing(actor=SYSTEM) == 1
    assert mail.outbox[-1].to == ["ada@example.edu"]
    # The link works from a mail reader: absolute, under the site's public address and prefix.
    assert "https://lib.example.edu/patronage/governance/acknowledgement/" in mail.outbox[-1].body
    assert remind_lapsing(actor=SYSTEM) == 0  # once
    rows = acknowledgements.holders_status()
    lapsed = [r.user.last_name for r in rows if r.lapsed]
    assert lapsed == ["Holder"]
    assert not next(r for r in rows if r.user == admin).lapsed
