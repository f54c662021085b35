"""People and places for the roles, rules and reports tests.

The main library has two desks; the law library one. A Fulfillment Administrator of the main
library may grant fulfillment roles at its desks only; the General System Administrator
(``admin``) may grant anything anywhere.
"""

from __future__ import annotations

import pytest
from django.test import Client

from patronage.access.actions import set_login_model
from patronage.accounts.models import User
from tests.factories import SYSTEM, make_desk, make_library, make_staff
from tests.web.conftest import _no_static_dir_warning, _plain_http  # noqa: F401  (fixtures)


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def main_library(db):
    return make_library("MAIN", "Main Library")


@pytest.fixture
def law_library(db):
    return make_library("LAW", "Law Library")


@pytest.fixture
def front_desk(main_library):
    return make_desk(main_library, "FRONT", "Front desk")


@pytest.fixture
def reserves_desk(main_library):
    return make_desk(main_library, "RESV", "Reserves desk")


@pytest.fixture
def law_desk(law_library):
    return make_desk(law_library, "LAWD", "Law desk")


@pytest.fixture
def fulfillment_admin(main_library, front_desk, reserves_desk, law_desk):
    return make_staff(
        "FULFILLMENT_ADMINISTRATOR",
        scope=main_library,
        primary_id="fadmin",
        first_name="Fran",
        last_name="Fulfil",
    )


@pytest.fixture
def privacy_officer(db):
    return make_staff("PRIVACY_OFFICER", primary_id="privacy", first_name="Pia", last_name="Vacy")


@pytest.fixture
def clerk(db):
    """A staff user with a custom login and no roles yet: the one roles are granted to."""
    user = make_staff(primary_id="clerk", first_name="Cleo", last_name="Clerk")
    set_login_model(actor=SYSTEM, user=user, login_model="CUSTOM")
    return User.objects.get(pk=user.pk)


@pytest.fixture
def as_admin(admin) -> Client:
    return login(admin)


@pytest.fixture
def as_fadmin(fulfillment_admin) -> Client:
    return login(fulfillment_admin)


@pytest.fixture
def as_privacy(privacy_officer) -> Client:
    return login(privacy_officer)


@pytest.fixture
def as_manager(user_manager) -> Client:
    return login(user_manager)
