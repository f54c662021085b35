from __future__ import annotations

import pytest
from django.test import Client


@pytest.fixture(autouse=True)
def _plain_http(settings):
    # The product defaults to HTTPS-only; the test client and live server speak plain HTTP.
    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def as_manager(user_manager) -> Client:
    return login(user_manager)


@pytest.fixture
def as_admin(admin) -> Client:
    return login(admin)


@pytest.fixture
def as_desk(desk_operator) -> Client:
    return login(desk_operator)


@pytest.fixture
def as_nobody(no_roles) -> Client:
    return login(no_roles)


@pytest.fixture(autouse=True)
def _no_static_dir_warning(settings, tmp_path):
    # WhiteNoise warns when STATIC_ROOT does not exist; tests serve from the app folders.
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STATIC_ROOT.mkdir()
