"""The privacy officer's reports: who looked at patron X, what staff member Y looked at,
unusual volume -- pages and CSV; and the privacy settings with their ranges."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from patronage.audit.context import Actor, Channel
from patronage.audit.models import AuditEvent
from patronage.privacy.models import PrivacySettings
from patronage.privacy.reads import VIEWED, record_read
from tests.factories import make_staff, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(db):
    return make_staff("PRIVACY_OFFICER", primary_id="officer")


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def view(staff, patron, reason: str = "") -> None:
    record_read(
        Actor(user=staff, channel=Channel.UI), VIEWED, patron.pk, reason, {"tab": "general"}
    )


@pytest.fixture
def looked_at(db):
    """Three desk staff: two viewed 2 patrons each, one viewed 30."""
    patrons = [make_user(primary_id=f"p{n:02d}", last_name=f"Patron{n}") for n in range(30)]
    calm = [make_staff("FULFILLMENT_OPERATOR", primary_id=f"calm{n}") for n in range(2)]
    busy = make_staff("FULFILLMENT_OPERATOR", primary_id="busy")
    for staff in calm:
        for patron in patrons[:2]:
            view(staff, patron, reason="Checkout")
    for patron in patrons:
        view(busy, patron)
    return patrons, calm, busy


def test_who_looked_at_a_patron(officer, looked_at):
    patrons, _, _ = looked_at
    client = browser(officer)
    lookup = client.get("/privacy/access-log/lookup/", {"q": "p00", "kind": "patron"})
    assert lookup.status_code == 302
    page = client.get(lookup["Location"]).content.decode()
    assert "3 events" in page and "calm0" in page and "busy" in page and "Checkout" in page
    csv = client.get(f"/privacy/access-log/patrons/{patrons[0].pk}/", {"format": "csv"})
    lines = csv.content.decode("utf-8-sig").strip().splitlines()
    assert lines[0].startswith("Time,Staff member,Channel") and len(lines) == 4


def test_what_a_staff_member_looked_at(officer, looked_at):
    _, calm, busy = looked_at
    client = browser(officer)
    response = client.get(f"/privacy/access-log/staff/{calm[0].pk}/")
    assert "2 events" in response.content.decode()
    csv = client.get(f"/privacy/access-log/staff/{busy.pk}/", {"format": "csv"})
    assert len(csv.content.decode("utf-8-sig").strip().splitlines()) == 31


def test_unusual_volume_flags_who_views_far_more_than_the_median(officer, looked_at):
    _, _, busy = looked_at
    PrivacySettings.objects.update_or_create(pk=1, defaults={"unusual_volume_minimum": 10})
    client = browser(officer)
    page = client.get("/privacy/unusual-volume/").content.decode()
    assert f'id="unusual-{busy.pk}"' in page and "calm0" not in page
    csv = client.get("/privacy/unusual-volume/", {"format": "csv"}).content.decode("utf-8-sig")
    assert csv.splitlines()[1] == "busy,30,30,15.0"  # 30 patrons, median 2
    # Raise the bar: nobody stands out.
    PrivacySettings.objects.filter(pk=1).update(unusual_volume_factor=Decimal("20"))
    assert "Nobody stands out" in client.get("/privacy/unusual-volume/").content.decode()


def test_bad_periods_and_unknown_people_are_clear_errors(officer, looked_at):
    client = browser(officer)
    bad = client.get("/privacy/unusual-volume/", {"start": "2026-13-01"})
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.content.decode()
    backwards = client.get(
        "/privacy/access-log/lookup/", {"q": "p00", "start": "2026-05-02", "end": "2026-05-01"}
    )
    assert backwards.status_code == 422 and "starts after it ends" in backwards.content.decode()
    nobody = client.get("/privacy/access-log/lookup/", {"q": "nobody-here"})
    assert nobody.status_code == 422 and "No user has exactly" in nobody.content.decode()
    assert client.get("/privacy/access-log/patrons/999999999/").status_code == 404


def test_only_access_log_readers_see_the_reports(user_manager, looked_at):
    patrons, _, _ = looked_at
    client = browser(user_manager)
    for path in (
        "/privacy/access-log/",
        f"/privacy/access-log/patrons/{patrons[0].pk}/",
        "/privacy/unusual-volume/",
    ):
        assert client.get(path).status_code == 403


def test_settings_out_of_range_are_refused_and_nothing_is_saved(admin, officer):
    client = browser(admin)
    refused = client.post(
        "/config/privacy/",
        {
            "access_reason": "required",
            "unusual_volume_factor": "0.5",
            "unusual_volume_minimum": "5",
        },
    )
    assert refused.status_code == 422
    assert "greater than or equal to 1.5" in refused.content.decode()
    assert PrivacySettings.current().access_reason == "off"
    not_a_number = client.post(
        "/config/privacy/",
        {"access_reason": "off", "unusual_volume_factor": "lots", "unusual_volume_minimum": "5"},
    )
    assert not_a_number.status_code == 422 and "Give a number" in not_a_number.content.decode()
    unknown = client.post(
        "/config/privacy/",
        {"access_reason": "always", "unusual_volume_factor": "3", "unusual_volume_minimum": "5"},
    )
    assert unknown.status_code == 422
    saved = client.post(
        "/config/privacy/",
        {"access_reason": "required", "unusual_volume_factor": "4", "unusual_volume_minimum": "5"},
    )
    assert saved.status_code == 200 and "were saved" in saved.content.decode()
    config = PrivacySettings.current()
    assert (config.access_reason, config.unusual_volume_factor) == ("required", Decimal("4"))
    event = AuditEvent.objects.get(verb="privacy.settings_changed")
    assert {c["field"] for c in event.changes} == {
        "access_reason",
        "unusual_volume_factor",
        "unusual_volume_minimum",
    }
    # The privacy officer reads the reports but does not configure the system.
    assert browser(officer).get("/config/privacy/").status_code == 403


def test_the_api_reports_and_settings(officer, admin, looked_at):
    from tests.api.client import ApiClient

    patrons, calm, busy = looked_at
    api = ApiClient(officer)
    of = api.get(f"/privacy/access-log/patrons/{patrons[0].pk}").json()
    assert of["count"] == 3 and {e["actor"] for e in of["items"]} == {"calm0", "calm1", "busy"}
    by = api.get(f"/privacy/access-log/staff/{calm[0].pk}", page_size=1).json()
    assert by["count"] == 2 and len(by["items"]) == 1
    PrivacySettings.objects.update_or_create(pk=1, defaults={"unusual_volume_minimum": 10})
    volume = api.get("/privacy/unusual-volume").json()
    assert [row["actor_id"] for row in volume["unusual"]] == [busy.pk]
    assert api.get("/privacy/unusual-volume", start="2026-02-30").status_code == 422
    # Settings: the administrator configures; a bad value is 422 and nothing changes.
    assert api.get("/privacy/settings").status_code == 403
    refused = ApiClient(admin).patch("/privacy/settings", {"unusual_volume_minimum": 0})
    assert refused.status_code == 422 and "unusual_volume_minimum" in refused.json()["errors"]
    assert PrivacySettings.current().unusual_volume_minimum == 10
    changed = ApiClient(admin).patch("/privacy/settings", {"access_reason": "optional"})
    assert changed.json()["access_reason"] == "optional"
