"""Every staff-UI route declares its permission; logging in and out; the menu."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver

from patronage.web import urls as web_urls
from tests.factories import make_staff


def _patterns(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


@pytest.mark.parametrize("route,view", list(_patterns(web_urls.urlpatterns)))
def test_every_route_declares_the_permission_it_needs(route, view):
    assert getattr(view, "required_permission", None), f"{route} declares no permission"


@pytest.mark.django_db
def test_staff_log_in_with_their_primary_id_and_land_on_the_user_search():
    # A role without a second factor (tests/security/test_two_factor.py signs in with one).
    make_staff("FULFILLMENT_OPERATOR", primary_id="Lib.Staff", password="correct horse battery")
    client = Client()
    assert client.get("/login/").status_code == 200
    response = client.post(
        "/login/", {"username": "lib.staff", "password": "correct horse battery"}
    )
    assert response.status_code == 302
    response = client.get(response["Location"], follow=True)
    assert response.request["PATH_INFO"] == "/users/"


@pytest.mark.django_db
def test_a_wrong_password_is_refused_with_a_message():
    make_staff("USER_MANAGER", primary_id="lib.staff", password="correct horse battery")
    response = Client().post("/login/", {"username": "lib.staff", "password": "wrong"})
    assert response.status_code == 200
    assert b"alert-error" in response.content
    assert "_auth_user_id" not in Client().session


@pytest.mark.django_db
def test_pages_send_anonymous_visitors_to_the_login_page():
    response = Client().get("/users/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.django_db
def test_log_out(as_manager):
    response = as_manager.post("/logout/")
    assert response.status_code == 302
    assert as_manager.get("/users/").status_code == 302


@pytest.mark.django_db
def test_staff_without_roles_see_a_welcome_page_not_an_error(as_nobody):
    response = as_nobody.get("/", follow=True)
    assert response.status_code == 200
    assert b"None of your roles" in response.content
    assert b"Find and manage users" not in response.content


@pytest.mark.django_db
def test_the_menu_shows_only_what_the_roles_allow(as_desk, as_manager, as_admin):
    desk = as_desk.get("/users/").content.decode()
    assert "Find and manage users" in desk
    assert "Add user" not in desk and "Code tables" not in desk
    manager = as_manager.get("/users/").content.decode()
    assert "Add user" in manager and "Code tables" not in manager
    admin = as_admin.get("/users/").content.decode()
    assert "Code tables" in admin and "User settings" in admin


@pytest.mark.django_db
def test_no_inline_scripts_in_the_layout(as_manager):
    html = as_manager.get("/users/").content.decode()
    for chunk in html.split("<script")[1:]:
        assert chunk.lstrip().startswith("src="), "inline <script> found"
