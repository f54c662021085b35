"""What staff may change on an external user's General tab (seed 002, "Editing Users").

An external user's General-tab values come from the student information system
(``patronage.sis``), which remembers what it last sent per field (``User.sis_values``):

* the fields in ``STAFF_EDITABLE`` may be changed at any time; the change sticks (the field
  joins ``User.sis_kept_fields``, and later syncs leave it alone);
* the other SIS-owned fields are read-only, unless the user is **Open for Update**; then a
  change is lost at the next sync, except for the fields in ``ASK_ON_OPEN_FOR_UPDATE``,
  where staff choose (``keep_on_sync``) whether the next sync overrides them;
* setting a field to the value the SIS sent ("original value") hands it back to the SIS.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NoReturn

from patronage.errors import ValidationFailed

from .models import User
from .validation import FIELD_LABELS

# The General-tab fields a SIS sends. Account type and owner are set by the import itself;
# sign-in flags and purchase-request libraries are the library's own business.
SIS_OWNED = (
    "primary_id",
    "record_type",
    "first_name",
    "middle_name",
    "last_name",
    "pref_first_name",
    "pref_middle_name",
    "pref_last_name",
    "pref_name_suffix",
    "user_title",
    "gender",
    "birth_date",
    "user_group",
    "job_category",
    "job_description",
    "campus_code",
    "preferred_language",
    "web_site_url",
    "cataloger_level",
    "library_notices",
    "rs_libraries",
    "status",
    "expiry_date",
    "purge_date",
)
STAFF_EDITABLE = frozenset(
    {
        "pref_first_name",
        "pref_middle_name",
        "pref_last_name",
        "pref_name_suffix",
        "rs_libraries",
        "library_notices",
    }
)
ASK_ON_OPEN_FOR_UPDATE = (
    "user_title",
    "job_category",
    "user_group",
    "campus_code",
    "preferred_language",
    "rs_libraries",
    "cataloger_level",
    "library_notices",
)
READ_ONLY_HINT = (
    "From the student information system: read-only here unless the user is Open for Update."
)
READ_ONLY = (
    "{label} comes from the student information system and is changed there; set the user "
    "Open for Update to change it here until the next sync."
)


def is_read_only(user: User, field: str) -> bool:
    """Whether the UI shows ``field`` of ``user`` read-only."""
    return (
        user.account_type == "EXTERNAL"
        and field in SIS_OWNED
        and field not in STAFF_EDITABLE
        and not user.open_for_update
    )


def check_keep_on_sync(user: User, keep_on_sync: Iterable[str]) -> None:
    """Refuse a ``keep_on_sync`` that names a field staff are not asked about, or that comes
    with an edit of a user who is not external and open for update (nothing to keep)."""
    keep = sorted(set(keep_on_sync))
    if not keep:
        return
    if unknown := [name for name in keep if name not in ASK_ON_OPEN_FOR_UPDATE]:
        allowed = ", ".join(FIELD_LABELS[name] for name in ASK_ON_OPEN_FOR_UPDATE)
        raise ValidationFailed(
            {
                "keep_on_sync": f"{', '.join(unknown)}: only these fields can be kept from the "
                f"next sync: {allowed}."
            },
            code="keep_on_sync",
        )
    if user.account_type != "EXTERNAL" or not user.open_for_update:
        _refuse_keep()


def _refuse_keep() -> NoReturn:
    raise ValidationFailed(
        {
            "keep_on_sync": "Only changes to an external user open for update can be kept "
            "from the next sync."
        },
        code="keep_on_sync",
    )


def pin_after_set(user: User, keep_on_sync: bool) -> None:
    """Staff set the PIN of an external user (seed 002 asks about the PIN on Open for Update
    too): kept from the next sync, or (the default while open for update) handed back to
    the SIS, whose next sync sets its PIN again. Outside Open for Update nothing is asked:
    the PIN stays until the SIS sends another one."""
    open_external = user.account_type == "EXTERNAL" and user.open_for_update
    if keep_on_sync and not open_external:
        _refuse_keep()
    if not open_external:
        return
    kept = set(user.sis_kept_fields)
    if keep_on_sync:
        kept.add("pin_number")
    else:
        kept.discard("pin_number")
        # No digest of any PIN equals this, so the next sync writes the SIS's PIN (or none).
        user.sis_values = {**user.sis_values, "pin_number": "set by staff"}
    user.sis_kept_fields = sorted(kept)


def kept_after_edit(
    user: User, new_values: Mapping[str, Any], keep_on_sync: Iterable[str] = ()
) -> list[str]:
    """The fields staff keep from the SIS once ``new_values`` (JSON forms) are saved; refuses
    a change of a read-only field."""
    kept = set(user.sis_kept_fields)
    keep = set(keep_on_sync)
    locked = []
    for field, value in new_values.items():
        if field not in SIS_OWNED:
            continue
        if field in user.sis_values and value == user.sis_values[field]:
            kept.discard(field)  # the original value: the SIS owns the field again
        elif field in STAFF_EDITABLE:
            kept.add(field)
        elif user.open_for_update:
            if field in ASK_ON_OPEN_FOR_UPDATE and field in keep:
                kept.add(field)
            else:
                kept.discard(field)  # staff accepted that the next sync overrides it
        else:
            locked.append(field)
    if locked:
        raise ValidationFailed(
            {field: READ_ONLY.format(label=FIELD_LABELS[field]) for field in locked},
            code="external_field",
        )
    return sorted(kept)
