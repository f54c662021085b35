"""Playwright (sync API) driving Debian's chromium against pytest-django's live server.

Never ``playwright install``: the browser is the system's /usr/bin/chromium.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from tests.conftest import PLAIN_HTTP

# Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run
# beside one unless told that this is intended (it is: the test drives, the server serves).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.fixture(autouse=True)
def _plain_http(settings):
    for name, value in PLAIN_HTTP.items():
        setattr(settings, name, value)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, http_live_server) -> Iterator[object]:
    context = browser.new_context(
        base_url=http_live_server.url, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    # The content security policy allows no inline script or style: anything it blocks
    # would be a broken screen, so it fails the test.
    blocked: list[str] = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield page
    context.close()
    assert not blocked, "blocked by the content security policy:\n" + "\n".join(blocked)


@pytest.fixture
def signed_in(browser, http_live_server) -> Iterator[Callable[[Any], Any]]:
    """``signed_in(user)``: a browser context carrying a session of ``user``, closed after
    the test. The session cookie is made with ``Client.force_login`` (which fires
    ``user_logged_in`` like a real sign-in), so tests do not depend on how sign-in asks for
    passwords or second factors."""
    opened: list[Any] = []

    def open_for(user: Any) -> Any:
        client = Client()
        client.force_login(user)
        context = browser.new_context(
            base_url=http_live_server.url, viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(10_000)
        context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "url": http_live_server.url,
                }
            ]
        )
        opened.append(context)
        return context

    yield open_for
    for context in opened:
        context.close()


@pytest.fixture
def shoot():
    """Save a full-page screenshot under artifacts/screenshots/ (git-ignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture(autouse=True)
def _reference_data(reference_data):
    """The live server needs a transactional database (see ``reference_data``)."""
