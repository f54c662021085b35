"""The acknowledgement page, the refusal that links to it, and the report of who lapsed."""

from __future__ import annotations

import pytest

from patronage.approvals.acknowledgement_actions import publish_policy
from patronage.approvals.models import Acknowledgement, ConfidentialityPolicy
from tests.approvals.conftest import login
from tests.factories import SYSTEM, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy(db):
    return publish_policy(actor=SYSTEM, title="Confidentiality of Library Records", text="Keep it.")


def test_the_refusal_links_to_the_page_where_the_policy_is_acknowledged(admin, policy):
    patron = make_user(last_name="Lovelace")
    client = login(admin)
    page = client.get("/users/", {"q": "Lovelace"}).content.decode()
    assert 'id="acknowledgement-hint"' in page and "/governance/acknowledgement/" in page
    details = client.get(f"/users/{patron.pk}/").content.decode()
    assert 'id="acknowledgement-hint"' in details  # the card only, and the way to the rest

    page = client.get("/governance/acknowledgement/").content.decode()
    assert "Keep it." in page and "have not acknowledged" in page
    response = client.post("/governance/acknowledgement/", {"version": policy.version})
    assert response.status_code == 302
    assert Acknowledgement.objects.filter(user=admin, policy=policy).exists()
    page = client.get("/users/", {"q": "Lovelace"}).content.decode()
    assert "Lovelace" in page and 'id="acknowledgement-hint"' not in page
    assert 'id="acknowledgement-hint"' not in client.get(f"/users/{patron.pk}/").content.decode()


def test_an_outdated_version_is_refused_on_the_page(admin, policy):
    publish_policy(actor=SYSTEM, title="v2", text="Newer")
    response = login(admin).post("/governance/acknowledgement/", {"version": policy.version})
    assert response.status_code == 422
    assert "no longer current" in response.content.decode()
    assert not Acknowledgement.objects.exists()


def test_the_page_needs_patron_lookup(no_roles, policy):
    assert login(no_roles).get("/governance/acknowledgement/").status_code == 403


def test_the_report_lists_who_lapsed(admin, user_manager, policy):
    page = login(admin).get("/governance/acknowledgements/").content.decode()
    assert user_manager.primary_id in page and "Lapsed" in page
    assert login(user_manager).get("/governance/acknowledgements/").status_code == 403


def test_publishing_a_version_needs_a_title_and_text(admin):
    client = login(admin)
    assert client.post("/governance/policy/publish/", {"title": "", "text": ""}).status_code == 422
    response = client.post("/governance/policy/publish/", {"title": "Policy", "text": "Text"})
    assert response.status_code == 302
    assert ConfidentialityPolicy.objects.get().version == 1
