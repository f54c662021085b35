from __future__ import annotations

import re

import pytest

from tests.factories import make_staff

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_look(page, shoot):
    make_staff(
        "USER_MANAGER",
        primary_id="uma",
        password="correct horse battery",
        first_name="Uma",
        last_name="Manager",
    )
    page.goto("/login/")
    shoot(page, "login")
    page.fill("#id_username", "uma")
    page.fill("#id_password", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/users/"))
    shoot(page, "search")
    page.goto("/users/new/")
    page.click("button[value=search]")
    shoot(page, "add_error")
