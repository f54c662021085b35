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
        "patronage.sis.pins.SisPinHasher",
    ]


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    """Each test has a database of its own: nothing kept from another test's (code-table
    descriptions, the current confidentiality policy; process_cache.py)."""
    from patronage.process_cache import forget_all

    forget_all()
    yield
    forget_all()


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


@pytest.fixture
def reference_data(transactional_db):
    """A transactional database is flushed after each test, taking the migrations' data
    (roles, code tables, fee types, waiving reasons) with it: tests that need one load that
    data again."""
    import importlib

    from django.apps import apps

    from patronage.access.catalogue import sync
    from patronage.access.models import Role

    sync(Role)
    accounts = importlib.import_module("patronage.accounts.migrations.0002_defaults_and_name_index")
    accounts.load_default_codes(apps, None)
    circulation = importlib.import_module("patronage.circulation.migrations.0002_defaults")
    circulation.load_defaults(apps, None)


PLAIN_HTTP = {
    "SECURE_SSL_REDIRECT": False,
    "SESSION_COOKIE_SECURE": False,
    "CSRF_COOKIE_SECURE": False,
    "SECURE_HSTS_SECONDS": 0,
}


@pytest.fixture(scope="session")
def http_live_server(request):
    """The live server, started with plain-HTTP settings (the product defaults to HTTPS-only,
    and the middleware reads those settings once, when the server's handler is built)."""
    from django.conf import settings
    from django.test.utils import override_settings

    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(**PLAIN_HTTP, STORAGES=storages):
        yield request.getfixturevalue("live_server")
