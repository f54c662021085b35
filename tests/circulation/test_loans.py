"""Loans (issue 7): due dates from the user group's loan period capped at the user's expiry
date, blocks that stop borrowing, desks, renewals, returns, overdue fines, proxies."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from patronage.accounts.actions import add_block, update_user
from patronage.circulation import actions
from patronage.circulation.choices import FeeStatus
from patronage.circulation.models import CirculationSettings, Fee, Loan
from patronage.circulation.selectors import balances, effective_blocks
from patronage.errors import Conflict, Forbidden, ValidationFailed
from tests.circulation.conftest import make_item
from tests.factories import SYSTEM, actor_for, make_desk, make_staff, make_user

pytestmark = pytest.mark.django_db


def today():
    return timezone.localdate()


def test_the_due_date_comes_from_the_user_groups_loan_period(operator, desk, patron, policy):
    item = make_item(desk.library)
    loan = actions.check_out(
        actor=actor_for(operator), user=patron, barcode=item.barcode, desk=desk
    )
    assert timezone.localtime(loan.due_at).date() == today() + datetime.timedelta(days=14)
    assert not loan.due_capped_at_expiry


def test_the_due_date_is_capped_at_the_users_expiry_date(operator, desk, policy):
    expiry = today() + datetime.timedelta(days=3)
    patron = make_user(expiry_date=expiry)
    item = make_item(desk.library)
    loan = actions.check_out(
        actor=actor_for(operator), user=patron, barcode=item.barcode, desk=desk
    )
    assert timezone.localtime(loan.due_at).date() == expiry
    assert loan.due_capped_at_expiry


def test_the_institution_may_let_due_dates_run_past_expiry(operator, desk, policy):
    CirculationSettings.objects.update_or_create(
        pk=1, defaults={"extend_due_date_beyond_user_expiry": True}
    )
    patron = make_user(expiry_date=today() + datetime.timedelta(days=3))
    item = make_item(desk.library)
    loan = actions.check_out(
        actor=actor_for(operator), user=patron, barcode=item.barcode, desk=desk
    )
    assert timezone.localtime(loan.due_at).date() == today() + datetime.timedelta(days=14)


def test_an_expired_user_cannot_borrow(manager, desk):
    patron = make_user(expiry_date=today() - datetime.timedelta(days=1))
    item = make_item(desk.library)
    with pytest.raises(Conflict) as refused:
        actions.check_out(actor=actor_for(manager), user=patron, barcode=item.barcode, desk=desk)
    assert refused.value.code == "user_blocked"
    assert "expired" in refused.value.message
    assert not Loan.objects.exists()


def test_a_manually_blocked_user_cannot_borrow_and_is_told_why(manager, desk, patron):
    add_block(actor=SYSTEM, user=patron, block_type="CONDUCT", note="Shouted")
    item = make_item(desk.library)
    with pytest.raises(Conflict) as refused:
        actions.check_out(actor=actor_for(manager), user=patron, barcode=item.barcode, desk=desk)
    assert "Conduct" in refused.value.message
    assert not Loan.objects.exists()


def test_an_expired_manual_block_no_longer_stops_a_loan(operator, desk, patron):
    block = add_block(actor=SYSTEM, user=patron, block_type="CONDUCT")
    type(block).objects.filter(pk=block.pk).update(expiry_date=today() - datetime.timedelta(1))
    item = make_item(desk.library)
    actions.check_out(actor=actor_for(operator), user=patron, barcode=item.barcode, desk=desk)


def test_an_inactive_user_is_blocked(patron):
    patron = update_user(actor=SYSTEM, user=patron, fields={"status": "INACTIVE"})
    assert [b.code for b in effective_blocks(patron)] == ["INACTIVE"]


def test_contact_users_are_never_blocked_and_never_borrow(operator, desk):
    contact = make_user(
        record_type="CONTACT", user_group="", expiry_date=today() - datetime.timedelta(1)
    )
    assert effective_blocks(contact) == []
    with pytest.raises(ValidationFailed) as refused:
        actions.check_out(
            actor=actor_for(operator),
            user=contact,
            barcode=make_item(desk.library).barcode,
            desk=desk,
        )
    assert refused.value.code == "contact_user"


def test_too_many_overdue_items_block_loans_but_not_renewals(operator, desk, patron, policy):
    loans = [
        actions.check_out(
            actor=actor_for(operator),
            user=patron,
            barcode=make_item(desk.library).barcode,
            desk=desk,
        )
        for _ in range(2)
    ]
    Loan.objects.filter(pk__in=[loan.pk for loan in loans]).update(
        loaned_at=timezone.now() - datetime.timedelta(days=20),
        due_at=timezone.now() - datetime.timedelta(days=1),
    )
    blocks = effective_blocks(patron)
    assert [b.code for b in blocks] == ["OVERDUE_LIMIT"]
    assert "renew" not in blocks[0].stops
    with pytest.raises(Conflict):
        actions.check_out(
            actor=actor_for(operator),
            user=patron,
            barcode=make_item(desk.library).barcode,
            desk=desk,
        )
    renewed = actions.renew(actor=actor_for(operator), loan=loans[0])
    assert renewed.renewals == 1


def test_an_item_on_loan_cannot_be_lent_again(operator, desk, patron):
    item = make_item(desk.library)
    actions.check_out(actor=actor_for(operator), user=patron, barcode=item.barcode, desk=desk)
    with pytest.raises(Conflict) as refused:
        actions.check_out(
            actor=actor_for(operator), user=make_user(), barcode=item.barcode, desk=desk
        )
    assert refused.value.code == "item_on_loan"


def test_an_unknown_barcode_is_refused(operator, desk, patron):
    with pytest.raises(ValidationFailed) as refused:
        actions.check_out(actor=actor_for(operator), user=patron, barcode="NOPE", desk=desk)
    assert refused.value.code == "item_not_found"


def test_a_shared_desk_login_checks_out_only_at_its_own_desk(desk, patron):
    from patronage.access.actions import make_shared_desk_login

    other = make_desk(desk.library, "DESK2", "Back desk")
    login = make_staff()
    make_shared_desk_login(actor=SYSTEM, user=login, desk=desk, terminal="T1")
    actor = actor_for(type(login).objects.get(pk=login.pk))
    with pytest.raises(ValidationFailed) as refused:
        actions.check_out(
            actor=actor, user=patron, barcode=make_item(desk.library).barcode, desk=other
        )
    assert refused.value.code == "shared_desk_only"
    loan = actions.check_out(
        actor=actor, user=patron, barcode=make_item(desk.library).barcode, desk=desk
    )
    assert loan.desk == desk


def test_an_operator_of_one_desk_cannot_lend_at_another(operator, desk, patron):
    other = make_desk(desk.library, "DESK2", "Back desk")
    with pytest.raises(ValidationFailed) as refused:
        actions.check_out(
            actor=actor_for(operator),
            user=patron,
            barcode=make_item(desk.library).barcode,
            desk=other,
        )
    assert refused.value.code == "desk_out_of_scope"


def test_staff_without_the_loan_permission_cannot_lend(no_roles, desk, patron):
    with pytest.raises(Forbidden):
        actions.check_out(
            actor=actor_for(no_roles),
            user=patron,
            barcode=make_item(desk.library).barcode,
            desk=desk,
        )


def test_renewal_extends_the_due_date_up_to_the_renewal_limit(operator, desk, patron, policy):
    policy.max_renewals = 1
    policy.save()
    loan = actions.check_out(
        actor=actor_for(operator), user=patron, barcode=make_item(desk.library).barcode, desk=desk
    )
    Loan.objects.filter(pk=loan.pk).update(due_at=timezone.now() + datetime.timedelta(days=1))
    renewed = actions.renew(actor=actor_for(operator), loan=loan)
    assert timezone.localtime(renewed.due_at).date() == today() + datetime.timedelta(days=14)
    with pytest.raises(Conflict) as refused:
        actions.renew(actor=actor_for(operator), loan=loan)
    assert refused.value.code == "renewal_limit"


def test_renewal_cannot_pass_the_expiry_date(operator, desk, policy):
    patron = make_user(expiry_date=today() + datetime.timedelta(days=2))
    loan = actions.check_out(
        actor=actor_for(operator), user=patron, barcode=make_item(desk.library).barcode, desk=desk
    )
    with pytest.raises(Conflict) as refused:
        actions.renew(actor=actor_for(operator), loan=loan)
    assert refused.value.code == "due_date_unchanged"
    assert "expiry" in refused.value.message


def test_a_due_date_cannot_be_set_past_the_users_expiry(manager, desk, policy):
    patron = make_user(expiry_date=today() + datetime.timedelta(days=5))
    loan = actions.check_out(
        actor=actor_for(manager), user=patron, barcode=make_item(desk.library).barcode, desk=desk
    )
    with pytest.raises(ValidationFailed) as refused:
        actions.change_due_date(
            actor=actor_for(manager), loan=loan, due_date=today() + datetime.timedelta(days=9)
        )
    assert refused.value.code == "after_user_expiry"
    changed = actions.change_due_date(
        actor=actor_for(manager), loan=loan, due_date=today() + datetime.timedelta(days=1)
    )
    assert timezone.localtime(changed.due_at).date() == today() + datetime.timedelta(days=1)


def test_return_ends_the_loan_and_charges_the_overdue_fine(operator, desk, patron, policy):
    item = make_item(desk.library)
    loan = actions.check_out(
        actor=actor_for(operator), user=patron, barcode=item.barcode, desk=desk
    )
    Loan.objects.filter(pk=loan.pk).update(
        loaned_at=timezone.now() - datetime.timedelta(days=20),
        due_at=timezone.now() - datetime.timedelta(days=3),
    )
    returned = actions.return_item(
        actor=actor_for(operator), barcode=item.barcode.lower(), desk=desk
    )
    assert returned.returned_at is not None and returned.return_desk == desk
    fee = Fee.objects.get(loan=loan)
    assert fee.original_amount == policy.overdue_fine_per_day * 3
    assert fee.status == FeeStatus.ACTIVE and not fee.accruing
    assert fee.owner == desk.library and fee.item == item
    with pytest.raises(Conflict) as refused:
        actions.return_item(actor=actor_for(operator), barcode=item.barcode, desk=desk)
    assert refused.value.code == "item_not_on_loan"


def test_the_overdue_fine_job_accrues_fines_outside_the_debt_limit(operator, desk, patron, policy):
    item = make_item(desk.library)
    loan = actions.check_out(
        actor=actor_for(operator), user=patron, barcode=item.barcode, desk=desk
    )
    Loan.objects.filter(pk=loan.pk).update(
        loaned_at=timezone.now() - datetime.timedelta(days=30),
        due_at=timezone.now() - datetime.timedelta(days=2),
    )
    call_command("accrue_fines")
    fee = Fee.objects.get(loan=loan)
    assert fee.accruing
    assert balances(patron).accrued == policy.overdue_fine_per_day * 2
    assert balances(patron).active == 0
    # A later run grows the same fine (a ledger entry), never a second fee.
    Loan.objects.filter(pk=loan.pk).update(due_at=timezone.now() - datetime.timedelta(days=5))
    assert actions.accrue_overdue_fines(actor=SYSTEM) == 1
    assert Fee.objects.filter(loan=loan).count() == 1
    assert balances(patron).accrued == policy.overdue_fine_per_day * 5
    actions.return_item(actor=actor_for(operator), barcode=item.barcode, desk=desk)
    assert balances(patron).accrued == 0
    assert balances(patron).active == policy.overdue_fine_per_day * 5


def test_the_overdue_fine_is_capped_by_the_groups_maximum(operator, desk, patron, policy):
    item = make_item(desk.library)
    loan = actions.check_out(
        actor=actor_for(operator), user=patron, barcode=item.barcode, desk=desk
    )
    Loan.objects.filter(pk=loan.pk).update(
        loaned_at=timezone.now() - datetime.timedelta(days=400),
        due_at=timezone.now() - datetime.timedelta(days=300),
    )
    actions.return_item(actor=actor_for(operator), barcode=item.barcode, desk=desk)
    assert Fee.objects.get(loan=loan).original_amount == policy.max_overdue_fine


# --- proxies ----------------------------------------------------------------------------------


def test_a_proxy_borrows_for_the_sponsor_and_both_records_show_it(operator, desk, patron, policy):
    from patronage.circulation.selectors import proxies_of

    proxy = make_user(first_name="Pro", last_name="Xy")
    actions.add_proxy(actor=SYSTEM, proxy=proxy, sponsor=patron)
    loan = actions.check_out(
        actor=actor_for(operator),
        user=proxy,
        on_behalf_of=patron,
        barcode=make_item(desk.library).barcode,
        desk=desk,
    )
    assert loan.user == patron and loan.proxy == proxy
    assert [v.relation.sponsor for v in proxies_of(proxy).proxy_for] == [patron]
    assert [v.relation.proxy for v in proxies_of(patron).proxies] == [proxy]


def test_the_sponsors_blocks_apply_to_a_proxy_loan(operator, desk, patron):
    proxy = make_user()
    actions.add_proxy(actor=SYSTEM, proxy=proxy, sponsor=patron)
    add_block(actor=SYSTEM, user=patron, block_type="GENERAL")
    with pytest.raises(Conflict) as refused:
        actions.check_out(
            actor=actor_for(operator),
            user=proxy,
            on_behalf_of=patron,
            barcode=make_item(desk.library).barcode,
            desk=desk,
        )
    assert refused.value.code == "user_blocked"


def test_a_proxy_relation_outside_its_validity_does_not_let_anyone_borrow(operator, desk, patron):
    proxy = make_user()
    actions.add_proxy(
        actor=SYSTEM,
        proxy=proxy,
        sponsor=patron,
        valid_until=today() - datetime.timedelta(days=1),
        valid_from=today() - datetime.timedelta(days=30),
    )
    with pytest.raises(ValidationFailed) as refused:
        actions.check_out(
            actor=actor_for(operator),
            user=proxy,
            on_behalf_of=patron,
            barcode=make_item(desk.library).barcode,
            desk=desk,
        )
    assert refused.value.code == "not_a_proxy"


def test_proxy_relations_refuse_bad_input(patron):
    with pytest.raises(ValidationFailed):
        actions.add_proxy(actor=SYSTEM, proxy=patron, sponsor=patron)
    proxy = make_user()
    with pytest.raises(ValidationFailed) as refused:
        actions.add_proxy(
            actor=SYSTEM,
            proxy=proxy,
            sponsor=patron,
            valid_from="2026-05-01",
            valid_until="2026-04-01",
        )
    assert "valid_until" in refused.value.errors


def test_a_fulfillment_proxy_cannot_be_unlinked(patron):
    relation = actions.add_proxy(
        actor=SYSTEM, proxy=make_user(), sponsor=patron, kind="FULFILLMENT"
    )
    with pytest.raises(Conflict):
        actions.remove_proxy(actor=SYSTEM, relation=relation)
    regular = actions.add_proxy(actor=SYSTEM, proxy=make_user(), sponsor=patron)
    actions.remove_proxy(actor=SYSTEM, relation=regular)


def test_managing_proxies_needs_the_permission(operator, patron):
    with pytest.raises(Forbidden):
        actions.add_proxy(actor=actor_for(operator), proxy=make_user(), sponsor=patron)
    assert make_staff("USER_MANAGER")  # holds users:proxy:manage
