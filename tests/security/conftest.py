from __future__ import annotations

import time

import pyotp
import pytest
from django.test import Client

from patronage.accounts.models import User

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _plain_http(settings, tmp_path):
    # The product defaults to HTTPS-only; the test client speaks plain HTTP.
    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STATIC_ROOT.mkdir()


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def code_for(secret: str, offset: int = 0) -> str:
    """The code an authenticator app shows ``offset`` 30-second steps from now."""
    return pyotp.TOTP(secret).at(time.time(), counter_offset=offset)


def sign_in(client: Client, primary_id: str, password: str = PASSWORD, **extra):
    return client.post("/login/", {"username": primary_id, "password": password}, **extra)


def signed_in_user_id(client: Client) -> str | None:
    return client.session.get("_auth_user_id")
