"""Notes, statistics, blocks and attachments (seed 002), and library independence: an entry
owned by a library is seen only by staff whose roles are scoped to that library."""

from pathlib import Path

import pytest
from django.core.files.base import ContentFile

from patronage.access.checks import restrict
from patronage.access.permissions import Permission
from patronage.accounts import actions
from patronage.accounts.models import UserAttachment, UserBlock, UserNote
from patronage.accounts.selectors import effective_blocks, with_list_columns
from patronage.errors import ValidationFailed
from tests.factories import actor_for, make_desk, make_library, make_staff, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def libraries():
    return make_library("LAW", "Law Library"), make_library("MED", "Medical Library")


def test_a_note_owned_by_a_library_is_seen_only_within_that_library(admin, libraries):
    law, med = libraries
    patron = make_user()
    law_manager = make_staff("USER_MANAGER", scope=law)
    med_operator = make_staff("FULFILLMENT_OPERATOR", scope=make_desk(med, "MEDDESK"))
    actions.add_note(
        actor=actor_for(admin), user=patron, note_type="LIBRARY", text="Law only", owner=law
    )
    actions.add_note(actor=actor_for(admin), user=patron, note_type="OTHER", text="Everyone")

    def visible(staff):
        return sorted(
            restrict(patron.notes.all(), staff, Permission.USERS_VIEW).values_list(
                "text", flat=True
            )
        )

    assert visible(admin) == ["Everyone", "Law only"]
    assert visible(law_manager) == ["Everyone", "Law only"]
    assert visible(med_operator) == ["Everyone"]


def test_staff_cannot_give_an_entry_to_a_library_outside_their_scope(libraries):
    law, med = libraries
    law_manager = make_staff("USER_MANAGER", scope=law)
    patron = make_user()
    with pytest.raises(ValidationFailed) as refused:
        actions.add_note(
            actor=actor_for(law_manager), user=patron, note_type="OTHER", text="x", owner=med
        )
    assert refused.value.code == "owner_out_of_scope"
    assert not UserNote.objects.exists()


def test_a_note_needs_text_and_a_known_type(user_manager):
    patron = make_user()
    with pytest.raises(ValidationFailed) as refused:
        actions.add_note(actor=actor_for(user_manager), user=patron, note_type="GOSSIP", text=" ")
    assert set(refused.value.errors) == {"text", "note_type"}


def test_contact_users_cannot_be_blocked(user_manager):
    vendor = make_user(record_type="CONTACT", user_group="")
    with pytest.raises(ValidationFailed) as refused:
        actions.add_block(actor=actor_for(user_manager), user=vendor, block_type="GENERAL")
    assert refused.value.code == "blocks_not_for_contacts"
    assert not UserBlock.objects.exists()


def test_a_block_shows_in_the_list_and_lifts_at_its_expiry(user_manager):
    patron = make_user()
    actions.add_block(
        actor=actor_for(user_manager), user=patron, block_type="GENERAL", expiry_date="2000-01-01"
    )
    listed = with_list_columns(user_manager, type(patron).objects.filter(pk=patron.pk)).get()
    assert listed.has_blocks is False  # expired blocks no longer count
    block = actions.add_block(
        actor=actor_for(user_manager), user=patron, block_type="CONDUCT", note="Noise"
    )
    listed = with_list_columns(user_manager, type(patron).objects.filter(pk=patron.pk)).get()
    assert listed.has_blocks is True
    assert [b["type"] for b in effective_blocks(user_manager, patron)] == ["CONDUCT"]
    actions.remove_block(actor=actor_for(user_manager), block=block)
    assert effective_blocks(user_manager, patron) == []


def test_statistics_use_the_configured_categories(user_manager):
    patron = make_user()
    with pytest.raises(ValidationFailed):
        actions.add_statistic(actor=actor_for(user_manager), user=patron, category="ASTROLOGY")
    stat = actions.add_statistic(
        actor=actor_for(user_manager),
        user=patron,
        category="HIST",
        category_type="DEPARTMENT",
        note="Minor",
    )
    assert stat.category == "HIST"


def test_attachments_are_stored_and_limited_by_size_and_type(
    settings, user_manager, django_capture_on_commit_callbacks
):
    patron = make_user()
    settings.ATTACHMENT_MAX_BYTES = 100
    with pytest.raises(ValidationFailed) as refused:
        actions.add_attachment(
            actor=actor_for(user_manager), user=patron, upload=ContentFile(b"x" * 101, name="a.pdf")
        )
    assert "larger than the limit" in refused.value.errors["file"]
    with pytest.raises(ValidationFailed) as refused:
        actions.add_attachment(
            actor=actor_for(user_manager), user=patron, upload=ContentFile(b"MZ", name="run.exe")
        )
    assert "cannot be attached" in refused.value.errors["file"]
    assert not UserAttachment.objects.exists()
    stored = actions.add_attachment(
        actor=actor_for(user_manager),
        user=patron,
        upload=ContentFile(b"%PDF-1.4 letter", name="letter.pdf"),
    )
    assert stored.content_type == "application/pdf" and stored.size == 15
    with stored.file.open("rb") as stored_file:
        assert stored_file.read() == b"%PDF-1.4 letter"
    path = Path(stored.file.path)
    # The file goes only once the row's removal is committed.
    with django_capture_on_commit_callbacks(execute=True):
        actions.remove_attachment(actor=actor_for(user_manager), attachment=stored)
    assert not UserAttachment.objects.exists()
    assert not path.exists()
