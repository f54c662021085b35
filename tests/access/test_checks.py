"""Deny by default; grants scoped to units; removal takes effect on the next request."""

import datetime

import pytest
from django.utils import timezone

from patronage.access import checks
from patronage.access.actions import grant_role, grants_changed, revoke_grant
from patronage.access.checks import IN_LIBRARY, can, restrict
from patronage.access.models import Role, RoleGrant, ScopeType
from patronage.access.permissions import Permission
from patronage.accounts import actions
from patronage.accounts.models import User
from tests.factories import actor_for, make_desk, make_library, make_staff

pytestmark = pytest.mark.django_db


class AtDesk:
    """An object placed at a circulation desk, as a loan will be."""

    def __init__(self, desk):
        self.desk = desk

    def scope_keys(self):
        return frozenset(
            {(ScopeType.CIRCULATION_DESK, self.desk.pk), (ScopeType.LIBRARY, self.desk.library_id)}
        )


def test_nobody_may_do_anything_without_a_grant(no_roles):
    assert not any(can(no_roles, permission) for permission in Permission)
    assert not restrict(User.objects.all(), no_roles, Permission.USERS_VIEW).exists()
    assert not can(None, Permission.USERS_VIEW)


def test_an_operator_at_desk_a_does_not_cover_desk_bs_objects():
    library = make_library()
    desk_a, desk_b = make_desk(library, "A"), make_desk(library, "B")
    operator = make_staff("FULFILLMENT_OPERATOR", scope=desk_a)
    assert can(operator, Permission.USERS_VIEW, AtDesk(desk_a))
    assert not can(operator, Permission.USERS_VIEW, AtDesk(desk_b))
    library_manager = make_staff("USER_MANAGER", scope=library)
    assert can(library_manager, Permission.USERS_VIEW, AtDesk(desk_b))


def test_a_desk_role_counts_as_scoped_to_the_desks_library_for_owned_entries():
    law, med = make_library("LAW", "Law"), make_library("MED", "Med")
    operator = make_staff("FULFILLMENT_OPERATOR", scope=make_desk(law, "LAWDESK"))

    class OwnedBy:
        def __init__(self, library):
            self.library = library

        def scope_keys(self):
            return frozenset({(IN_LIBRARY, self.library.pk)})

    assert can(operator, Permission.USERS_VIEW, OwnedBy(law))
    assert not can(operator, Permission.USERS_VIEW, OwnedBy(med))


def test_removing_a_role_takes_effect_on_the_next_request(admin):
    manager = make_staff("USER_MANAGER")
    assert can(User.objects.get(pk=manager.pk), Permission.USERS_CREATE)
    grant = RoleGrant.objects.get(user=manager, role__code="USER_MANAGER")
    revoke_grant(actor=actor_for(admin), grant=grant)
    # Each request loads the user afresh: the revoked grant no longer counts.
    assert not can(User.objects.get(pk=manager.pk), Permission.USERS_CREATE)


def test_an_expired_grant_and_an_inactive_user_hold_nothing(admin):
    manager = make_staff("USER_MANAGER")
    RoleGrant.objects.filter(user=manager).update(
        valid_until=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert not can(User.objects.get(pk=manager.pk), Permission.USERS_VIEW)
    other = make_staff("USER_MANAGER")
    actions.update_user(actor=actor_for(admin), user=other, fields={"status": "INACTIVE"})
    assert not can(User.objects.get(pk=other.pk), Permission.USERS_VIEW)


# --- Decisions cached per process, never across a change of grants ------------------------------


def request_user(user):
    """The user as the next request sees it: loaded afresh from the database."""
    return User.objects.get(pk=user.pk)


@pytest.fixture
def clock(monkeypatch):
    """Move the time the grant query and the process cache both read."""

    class Clock:
        offset = datetime.timedelta(0)

        def advance(self, **delta):
            self.offset += datetime.timedelta(**delta)

    moved = Clock()
    real_now, real_time = timezone.now, checks.time.time
    monkeypatch.setattr(timezone, "now", lambda: real_now() + moved.offset)
    monkeypatch.setattr(checks.time, "time", lambda: real_time() + moved.offset.total_seconds())
    return moved


def test_later_requests_decide_without_reading_the_grants_again(django_assert_num_queries):
    manager = make_staff("USER_MANAGER")
    assert can(request_user(manager), Permission.USERS_VIEW)
    again = request_user(manager)
    with django_assert_num_queries(0):
        assert can(again, Permission.USERS_VIEW)


def test_a_change_of_grants_by_any_writer_counts_at_the_next_request():
    manager = make_staff("USER_MANAGER")
    assert can(request_user(manager), Permission.USERS_VIEW)
    # Another process revokes: it renews the account's grants token as every writer must.
    RoleGrant.objects.filter(user=manager).update(revoked_at=timezone.now())
    grants_changed(User.objects.get(pk=manager.pk))
    assert not can(request_user(manager), Permission.USERS_VIEW)


def test_a_cached_grant_still_ends_at_its_end_date(admin, clock, settings):
    settings.AUTHZ_CACHE_SECONDS = 24 * 3600  # the end date, not the lifetime, ends it
    manager = make_staff("USER_MANAGER")
    RoleGrant.objects.filter(user=manager).update(
        valid_until=timezone.now() + datetime.timedelta(hours=1)
    )
    grants_changed(manager)
    assert can(request_user(manager), Permission.USERS_VIEW)
    clock.advance(minutes=59)
    assert can(request_user(manager), Permission.USERS_VIEW)
    clock.advance(minutes=2)
    assert not can(request_user(manager), Permission.USERS_VIEW)


def test_a_grant_dated_to_start_later_takes_effect_within_the_cache_lifetime(
    admin, clock, settings
):
    settings.AUTHZ_CACHE_SECONDS = 60
    clerk = make_staff("FULFILLMENT_OPERATOR")
    library = make_library()
    grant_role(
        actor=actor_for(admin),
        user=User.objects.get(pk=clerk.pk),
        role=Role.objects.get(code="USER_MANAGER"),
        scope=library,
        valid_from=timezone.now() + datetime.timedelta(seconds=30),
    )
    assert not can(request_user(clerk), Permission.USERS_CREATE)
    clock.advance(seconds=31)
    # Still the table cached before the start: gaining power may wait for the lifetime...
    assert not can(request_user(clerk), Permission.USERS_CREATE)
    clock.advance(seconds=30)
    # ...and no longer.
    assert can(request_user(clerk), Permission.USERS_CREATE)


def test_the_process_cache_can_be_switched_off(settings, django_assert_num_queries):
    settings.AUTHZ_CACHE_SECONDS = 0
    manager = make_staff("USER_MANAGER")
    assert can(request_user(manager), Permission.USERS_VIEW)
    again = request_user(manager)
    with django_assert_num_queries(1):
        assert can(again, Permission.USERS_VIEW)
