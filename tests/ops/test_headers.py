"""Security headers: a content security policy without inline script, and no answer with
patron data kept in a cache."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.api.client import ApiClient

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "patronage").glob("**/templates/**/*.html"))

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False
    settings.STORAGES = {  # no collectstatic in tests: plain names
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def test_pages_and_api_answers_are_not_stored_and_carry_the_policy(client, admin):
    client.force_login(admin)
    page = client.get(f"/users/{admin.pk}/")
    answer = ApiClient(admin).get(f"/users/{admin.pk}")
    for response in (page, answer):
        assert response.status_code == 200
        assert response["Cache-Control"] == "no-store"
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy


def test_the_api_docs_load_nothing_from_elsewhere(client, admin):
    client.force_login(admin)
    html = client.get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn." not in html


INLINE = {
    "an inline script": re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I),
    "an event-handler attribute": re.compile(r"\son[a-z]+\s*=", re.I),
    "an hx-on attribute (evaluated code)": re.compile(r"\shx-on", re.I),
    "a style attribute": re.compile(r"\sstyle\s*=", re.I),
    "a style element": re.compile(r"<style[\s>]", re.I),
    "a javascript: URL": re.compile(r"javascript:", re.I),
}


def test_no_template_needs_inline_script_or_style():
    assert TEMPLATES, "no templates found"
    found = [
        f"{template.relative_to(ROOT)}: {what}"
        for template in TEMPLATES
        for what, pattern in INLINE.items()
        if pattern.search(template.read_text())
    ]
    assert not found, "the content security policy would block:\n" + "\n".join(found)
