"""docs/permissions.md names every permission and matches the catalogue in the code."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from patronage.access.catalogue import ROLES
from patronage.access.permissions import ENFORCED_ELSEWHERE, Permission

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "permissions.md"


def generator():
    spec = importlib.util.spec_from_file_location(
        "permissions_doc", ROOT / "scripts" / "permissions_doc.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("permission", list(Permission), ids=lambda p: p.value)
def test_every_permission_is_in_the_document(permission):
    text = DOC.read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith(f"| `{permission.value}` |")]
    assert rows, f"{permission.value} is missing from docs/permissions.md"
    where = "elsewhere" if permission in ENFORCED_ELSEWHERE else "here"
    assert f"| {where} |" in rows[0]


def test_every_role_is_in_the_document():
    text = DOC.read_text(encoding="utf-8")
    missing = [spec.code for spec in ROLES if f"| `{spec.code}` |" not in text]
    assert missing == []


def test_the_generated_tables_are_up_to_date():
    text = DOC.read_text(encoding="utf-8")
    assert generator().generated(text) == text, (
        "docs/permissions.md is stale: run python scripts/permissions_doc.py --write"
    )
