"""Find and Manage Users (seed 002) with the name-lookup rule of seed 000."""

from __future__ import annotations

import pytest

from patronage.accounts import actions
from tests.factories import SYSTEM, make_user

pytestmark = pytest.mark.django_db


def test_a_user_manager_finds_people_by_part_of_their_name(as_manager):
    person = make_user(first_name="Robert", last_name="Smithson", pref_first_name="Bobbie")
    response = as_manager.get("/users/", {"q": "smith"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Bobbie Smithson" in html  # the preferred name is the one shown
    assert f"/users/{person.pk}/" in html


def test_without_the_name_permission_a_name_finds_nothing_and_says_why(as_desk):
    make_user(first_name="Robert", last_name="Smithson", primary_id="rs-1")
    response = as_desk.get("/users/", {"q": "Smithson"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Look up users by name" in html
    assert "user-list" not in html  # no list of users at all
    found = as_desk.get("/users/", {"q": "RS-1"}).content.decode()
    assert "Robert Smithson" in found


def test_without_the_name_permission_the_whole_list_is_not_offered(as_desk):
    make_user(first_name="Robert", last_name="Smithson")
    html = as_desk.get("/users/").content.decode()
    assert "Smithson" not in html
    assert "Enter a primary ID" in html


def test_email_search_needs_the_whole_address(as_desk):
    make_user(emails=[{"address": "Ann.Lee@example.org", "types": ["personal"]}], last_name="Lee")
    assert (
        "Lee"
        in as_desk.get("/users/", {"q": "ann.lee@example.org", "field": "email"}).content.decode()
    )
    html = as_desk.get("/users/", {"q": "ann.lee", "field": "email"}).content.decode()
    assert "No users match" in html


def test_htmx_gets_only_the_results(as_manager):
    make_user(first_name="Robert", last_name="Smithson")
    response = as_manager.get(
        "/users/", {"q": "rob"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results"
    )
    html = response.content.decode()
    assert "<html" not in html and "Smithson" in html
    assert "HX-Request" in response["Vary"]


def test_filters_sorting_and_the_blocks_and_notes_columns(as_manager):
    a = make_user(first_name="Anna", last_name="Alpha", user_group="GRAD")
    b = make_user(first_name="Bert", last_name="Beta", user_group="UNDERGRAD")
    actions.update_user(actor=SYSTEM, user=b, fields={"status": "INACTIVE"})
    actions.add_note(actor=SYSTEM, user=a, note_type="OTHER", text="Called")
    actions.add_block(actor=SYSTEM, user=a, block_type="GENERAL")
    html = as_manager.get("/users/", {"status": "inactive"}).content.decode()
    assert "Bert Beta" in html and "Anna Alpha" not in html
    html = as_manager.get("/users/", {"user_group": "GRAD"}).content.decode()
    assert "Anna Alpha" in html and "Bert Beta" not in html
    assert "✓ Blocked" in html and 'title="Has notes"' in html
    html = as_manager.get("/users/", {"sort": "-name", "record_type": "PUBLIC"}).content.decode()
    assert html.index("Bert Beta") < html.index("Anna Alpha")
    assert 'aria-sort="descending"' in html


def test_pages_of_results_and_nonsense_parameters_never_fail(as_manager):
    for n in range(30):
        make_user(first_name="Page", last_name=f"Person{n:02d}", record_type="PUBLIC")
    html = as_manager.get("/users/", {"q": "page"}).content.decode()
    assert "Page 1 of 2" in html
    for params in ({"page": "abc"}, {"page": "999"}, {"sort": "bogus"}, {"status": "nope"}):
        assert as_manager.get("/users/", {"q": "page", **params}).status_code == 200


def test_staff_without_roles_are_refused(as_nobody):
    response = as_nobody.get("/users/")
    assert response.status_code == 403
    assert b"Find users by exact identifier and see their card" in response.content


def test_a_very_common_name_says_that_only_the_first_matches_are_listed(as_manager, monkeypatch):
    from patronage.accounts import selectors

    monkeypatch.setattr(selectors, "NAME_MATCH_LIMIT", 2)
    for n in range(3):
        make_user(first_name="Common", last_name=f"Name{n}")
    page = as_manager.get("/users/", {"q": "common"}).content.decode()
    assert 'id="name-match-limit"' in page
    assert "Only the first 2 names" in page
    narrowed = as_manager.get("/users/", {"q": "common name0"}).content.decode()
    assert 'id="name-match-limit"' not in narrowed
