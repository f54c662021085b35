import pytest

from patronage.accounts.selectors import UserSearch, search_users
from tests.factories import make_user


@pytest.mark.django_db
def test_name_search_finds_preferred_and_legal_names(user_manager):
    person = make_user(first_name="Robert", last_name="Smithson", pref_first_name="Bobbie")
    found = list(search_users(user_manager, UserSearch(query="bob smi")))
    assert found == [person]
    found = list(search_users(user_manager, UserSearch(query="robert")))
    assert person in found
