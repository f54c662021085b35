from __future__ import annotations

import pytest

from tests.factories import make_library, make_staff


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # argon2 is the product's hasher (tests/test_auth.py asserts it); most tests only need
    # a password to exist, and a cheap hasher keeps the suite fast.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
    ]


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def admin(db):
    return make_staff(
        "GENERAL_SYSTEM_ADMINISTRATOR", primary_id="admin", first_name="Ada", last_name="Admin"
    )


@pytest.fixture
def user_manager(db):
    # Scoped to the main library, so library independence shows in the tests that use it.
    return make_staff("USER_MANAGER", scope=make_library(), first_name="Uma", last_name="Manager")


@pytest.fixture
def desk_operator(db):
    return make_staff("FULFILLMENT_OPERATOR", first_name="Desmond", last_name="Desk")


@pytest.fixture
def no_roles(db):
    return make_staff(first_name="Nora", last_name="Noroles")
