"""Writing privacy data: the settings (and, later, the legal-process register)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from patronage.access.checks import require
from patronage.access.permissions import Permission
from patronage.audit.actions import diff, record
from patronage.audit.context import Actor
from patronage.errors import ValidationFailed

from .models import PrivacySettings

SETTING_FIELDS = ("access_reason", "unusual_volume_factor", "unusual_volume_minimum")


@transaction.atomic
def update_settings(*, actor: Actor, changes: dict[str, Any]) -> PrivacySettings:
    """Change the privacy settings; an out-of-range value is refused and nothing is saved."""
    require(actor, Permission.CONFIG_USER_SETTINGS)
    config = PrivacySettings.objects.select_for_update().get(pk=PrivacySettings.current().pk)
    before = {name: getattr(config, name) for name in SETTING_FIELDS}
    unknown = set(changes) - set(SETTING_FIELDS)
    if unknown:
        raise ValidationFailed({name: "No such setting." for name in sorted(unknown)})
    for name, value in changes.items():
        setattr(config, name, value)
    try:
        config.full_clean()
    except ValidationError as exc:
        raise ValidationFailed(
            {name: " ".join(messages) for name, messages in exc.message_dict.items()}
        ) from None
    config.save()
    after = {name: getattr(config, name) for name in SETTING_FIELDS}
    changed = diff(before, after)
    if changed:
        record(actor=actor, verb="privacy.settings_changed", obj=config, changes=changed)
    return config
