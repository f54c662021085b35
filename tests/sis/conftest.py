"""SIS test helpers: Alma user XML written the way a SIS exports it, and a ready profile."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest

from patronage.sis.actions import execute_run, save_profile, start_import
from patronage.sis.models import ImportRun
from tests.factories import SYSTEM


def user_xml(primary_id: str, **fields: Any) -> str:
    """One ``<user>``: General fields as keyword arguments; ``identifiers``, ``emails``,
    ``addresses``, ``statistics``, ``notes`` as lists; ``extra`` raw XML appended."""
    values = {
        "record_type": "PUBLIC",
        "first_name": "Pat",
        "last_name": f"Ron {primary_id}",
        "user_group": "UNDERGRAD",
        "expiry_date": "2027-06-30Z",
        **fields,
    }
    identifiers = values.pop("identifiers", [("BARCODE", f"B-{primary_id}")])
    emails = values.pop("emails", [f"{primary_id}@uni.example"])
    addresses = values.pop("addresses", [("1 College Road", "Springfield")])
    statistics = values.pop("statistics", [])
    notes = values.pop("notes", [])
    extra = values.pop("extra", "")
    general = "".join(f"<{k}>{v}</{k}>" for k, v in values.items())
    ids = "".join(
        f"<user_identifier><id_type>{t}</id_type><value>{v}</value></user_identifier>"
        for t, v in identifiers
    )
    mails = "".join(
        f'<email preferred="{str(i == 0).lower()}"><email_address>{e}</email_address>'
        "<email_types><email_type>personal</email_type></email_types></email>"
        for i, e in enumerate(emails)
    )
    places = "".join(
        f'<address preferred="true"><line1>{line}</line1><city>{city}</city>'
        "<address_types><address_type>home</address_type></address_types></address>"
        for line, city in addresses
    )
    stats = "".join(
        f"<user_statistic><statistic_category>{c}</statistic_category>"
        f"<category_type>{t}</category_type></user_statistic>"
        for t, c in statistics
    )
    note_xml = "".join(
        f"<user_note><note_type>{t}</note_type><note_text>{text}</note_text></user_note>"
        for t, text in notes
    )
    return (
        f"<user><primary_id>{primary_id}</primary_id>{general}"
        f"<contact_info><addresses>{places}</addresses><emails>{mails}</emails></contact_info>"
        f"<user_identifiers>{ids}</user_identifiers>"
        f"<user_statistics>{stats}</user_statistics><user_notes>{note_xml}</user_notes>"
        f"{extra}</user>"
    )


def users_file(path: Path, *users: str) -> str:
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<users>\n' + "\n".join(users) + "\n</users>\n"
    )
    return str(path)


def zipped(path: Path, members: dict[str, str]) -> str:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return str(path)


@pytest.fixture
def profile(db):
    return save_profile(
        actor=SYSTEM,
        code="registrar",
        create=True,
        values={
            "name": "Registrar nightly",
            "file_format": "xml",
            "match_by": "primary_id",
            "default_record_type": "PUBLIC",
            "override_fields": [],
            "full_sync": False,
            "missing_action": "nothing",
            "missing_expiry_days": 0,
        },
    )


def run_import(paths: list[str], code: str = "registrar", dry_run: bool = False) -> ImportRun:
    run = start_import(actor=SYSTEM, profile_code=code, paths=paths, dry_run=dry_run)
    return execute_run(run_id=run.pk)
