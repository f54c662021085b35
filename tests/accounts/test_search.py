"""Finding users: name words by prefix for those allowed, exact identifiers and emails for all."""

from __future__ import annotations

import pytest

from patronage.accounts import selectors
from patronage.accounts.actions import update_user
from patronage.accounts.models import User
from patronage.accounts.prepared import PreparedQuery
from patronage.accounts.selectors import SearchField, UserSearch, search_users
from patronage.errors import NotFound
from tests.factories import SYSTEM, make_user

pytestmark = pytest.mark.django_db


def found(actor: User, query: str, **options: str) -> list[User]:
    return list(search_users(actor, UserSearch(query=query, **options)))


def names(users: list[User]) -> list[str]:
    return [user.display_name for user in users]


@pytest.fixture
def people():
    return {
        "ann_smith": make_user(first_name="Ann", last_name="Smith"),
        "ann_jones": make_user(first_name="Ann", last_name="Jones"),
        "bob_smithson": make_user(first_name="Bob", last_name="Smithson"),
        "cara_asmith": make_user(first_name="Cara", last_name="Asmith"),
        "mueller": make_user(first_name="José", last_name="Müller"),
        "zoe": make_user(first_name="Zoë", last_name="O'Brien-Walsh"),
    }


def test_every_name_word_that_starts_with_the_query_matches(user_manager, people):
    assert names(found(user_manager, "smi")) == ["Ann Smith", "Bob Smithson"]
    assert found(user_manager, "smith") == [people["ann_smith"], people["bob_smithson"]]
    assert found(user_manager, "mith") == []  # a prefix, not a substring
    assert found(user_manager, "smithsons") == []


def test_several_words_must_all_match_in_any_order(user_manager, people):
    assert found(user_manager, "ann smi") == [people["ann_smith"]]
    assert found(user_manager, "smith ann") == [people["ann_smith"]]
    assert found(user_manager, "a s") == [people["ann_smith"]]
    assert found(user_manager, "ann bob") == []


def test_case_and_accents_do_not_matter(user_manager, people):
    assert found(user_manager, "MULLER") == [people["mueller"]]
    assert found(user_manager, "müll") == [people["mueller"]]
    assert found(user_manager, "jose m") == [people["mueller"]]
    assert found(user_manager, "zoe") == [people["zoe"]]
    # Punctuation separates words: O'Brien-Walsh is found by "brien" and by "walsh".
    assert found(user_manager, "walsh") == found(user_manager, "brien") == [people["zoe"]]


def test_preferred_and_legal_names_both_match_and_the_preferred_one_sorts(user_manager):
    robert = make_user(first_name="Robert", last_name="Zed", pref_last_name="Abbott")
    other = make_user(first_name="Rob", last_name="Middleton")
    assert found(user_manager, "rob") == [robert, other]  # "Abbott" sorts before "Middleton"
    assert found(user_manager, "zed") == [robert]
    assert found(user_manager, "abb") == [robert]
    assert found(user_manager, "rob", sort="-name") == [other, robert]


def test_a_renamed_user_is_found_and_sorted_by_the_new_name(user_manager, monkeypatch):
    first = make_user(first_name="Dana", last_name="Able")
    second = make_user(first_name="Dana", last_name="Baker")
    update_user(actor=SYSTEM, user=first, fields={"last_name": "Young"})
    assert found(user_manager, "able") == []
    assert found(user_manager, "young") == [first]
    # Only the first name match in name order is kept: it must be Baker now, not Young.
    monkeypatch.setattr(selectors, "NAME_MATCH_LIMIT", 1)
    assert found(user_manager, "dana") == [second]


def test_identifiers_and_emails_match_exactly_and_case_insensitively(user_manager):
    user = make_user(
        first_name="Grace",
        last_name="Hopper",
        identifiers=[{"id_type": "BARCODE", "value": "39001234"}],
        emails=[{"address": "Grace.Hopper@Example.edu", "types": ["personal"]}],
    )
    assert found(user_manager, "39001234") == [user]
    assert found(user_manager, "3900123") == []
    assert found(user_manager, "grace.hopper@example.EDU") == [user]
    assert found(user_manager, "grace.hopper@example") == []
    assert found(user_manager, user.primary_id.upper()) == [user]
    assert found(user_manager, "39001234", field=SearchField.EMAIL) == []
    assert found(user_manager, "grace", field=SearchField.IDENTIFIER) == []
    assert found(user_manager, "39001234", field=SearchField.NAME) == []


def test_a_user_matching_several_ways_is_listed_once(user_manager):
    user = make_user(
        first_name="Lee",
        last_name="Lee",
        primary_id="lee",
        identifiers=[{"id_type": "BARCODE", "value": "LEE2"}],
        emails=[{"address": "lee@example.edu", "types": ["personal"]}],
    )
    assert found(user_manager, "lee") == [user]
    assert search_users(user_manager, UserSearch(query="lee")).count() == 1


def test_name_search_is_refused_without_the_permission(desk_operator, user_manager, people):
    barcode_holder = make_user(
        first_name="Ann",
        last_name="Smithers",
        identifiers=[{"id_type": "BARCODE", "value": "B-555"}],
    )
    search = UserSearch(query="smith")
    assert list(search_users(desk_operator, search)) == []
    assert search.name_search_refused
    assert found(desk_operator, "b-555") == [barcode_holder]
    allowed = UserSearch(query="smith")
    assert len(list(search_users(user_manager, allowed))) == 3
    assert not allowed.name_search_refused


def test_nobody_without_a_role_finds_anyone(no_roles, people):
    assert found(no_roles, "smith") == []
    assert found(no_roles, people["ann_smith"].primary_id) == []
    with pytest.raises(NotFound):
        selectors.get_user_by_primary_id(no_roles, people["ann_smith"].primary_id)
    assert selectors.find_by_identifier(no_roles, people["ann_smith"].primary_id) is None
    assert selectors.find_by_email(no_roles, "nobody@example.edu") == []


def test_common_names_list_the_first_matches_in_name_order(user_manager, monkeypatch):
    monkeypatch.setattr(selectors, "NAME_MATCH_LIMIT", 3)
    smiths = [make_user(first_name=f"Pat{n}", last_name="Smith") for n in range(5)]
    exact = make_user(first_name="Zed", last_name="Zulu", primary_id="smith")
    assert found(user_manager, "smith") == [*smiths[:3], exact]
    assert found(user_manager, "smith", sort="-name") == [exact, *smiths[:1:-1]]
    # With a filter (or another sort) every match is listed.
    assert found(user_manager, "smith", record_type="PUBLIC") == [*smiths, exact]
    assert len(found(user_manager, "smith", sort="primary_id")) == 6


def test_filters_and_sorts_apply_to_name_matches(user_manager, people):
    staff = make_user(first_name="Sam", last_name="Smithers", record_type="STAFF")
    assert found(user_manager, "smi", record_type="STAFF") == [staff]
    assert found(user_manager, "smi", sort="-name") == [
        people["bob_smithson"],
        staff,
        people["ann_smith"],
    ]


def test_exact_lookups_through_the_selectors(user_manager):
    user = make_user(
        first_name="Ida",
        last_name="Index",
        primary_id="Ida01",
        identifiers=[{"id_type": "BARCODE", "value": "B-777"}],
        emails=[{"address": "ida@example.edu", "types": ["personal"]}],
    )
    namesake = make_user(
        first_name="Ada",
        last_name="Index",
        emails=[{"address": "IDA@example.edu", "types": ["personal"]}],
    )
    assert selectors.get_user_by_primary_id(user_manager, "IDA01") == user
    assert selectors.get_user_by_primary_id(user_manager, "ida01").primary_id == "Ida01"
    with pytest.raises(NotFound):
        selectors.get_user_by_primary_id(user_manager, "b-777")  # not the primary ID
    assert selectors.find_by_identifier(user_manager, "b-777") == user
    assert selectors.find_by_identifier(user_manager, "b-777", "BARCODE") == user
    assert selectors.find_by_identifier(user_manager, "b-777", "UNIV_ID") is None
    assert selectors.find_by_email(user_manager, "ida@EXAMPLE.edu") == [namesake, user]
    loaded = selectors.find_by_identifier(user_manager, "ida01")
    assert loaded is not None
    assert loaded.created_at == user.created_at and loaded.library_notices == []


def test_a_prepared_query_refuses_a_value_the_lookup_would_transform():
    prepared = PreparedQuery(User, lambda key: User.objects.filter(primary_id__contains=key), 1)
    with pytest.raises(TypeError):
        prepared.fetch("x")
