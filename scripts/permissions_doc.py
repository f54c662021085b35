"""Generate the tables of docs/permissions.md from the code: the permission vocabulary
(``Permission`` and ``ENFORCED_ELSEWHERE``) and the role catalogue (``catalogue.ROLES``).

    python scripts/permissions_doc.py          # print the generated blocks
    python scripts/permissions_doc.py --write  # rewrite them in docs/permissions.md

tests/roles/test_permissions_doc.py fails when the document is out of step with the code.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from patronage.access.catalogue import LEVEL_NAMES, ROLE_TYPES, ROLES  # noqa: E402
from patronage.access.permissions import ENFORCED_ELSEWHERE, RECORD_EDITING, Permission  # noqa: E402

DOC = ROOT / "docs" / "permissions.md"
SCOPE_NAMES = {
    "INSTITUTION": "institution",
    "LIBRARY": "library",
    "CIRCULATION_DESK": "circulation desk",
    "DEPARTMENT": "department",
    "ACQUISITIONS_UNIT": "acquisitions unit",
}


def permissions_table() -> str:
    givers: dict[str, list[str]] = {}
    every = set(Permission.values)
    for spec in ROLES:
        if {str(p) for p in spec.permissions} == every:
            continue  # the General System Administrator and Systems login hold all
        for permission in spec.permissions:
            givers.setdefault(str(permission), []).append(spec.code)
    lines = [
        "| Permission | What it allows | Enforced | Edits records | Roles that give it |",
        "|---|---|---|---|---|",
    ]
    for permission in Permission:
        where = "elsewhere" if permission in ENFORCED_ELSEWHERE else "here"
        edits = "yes" if permission in RECORD_EDITING else ""
        roles = ", ".join(f"`{code}`" for code in givers.get(permission.value, []))
        lines.append(f"| `{permission.value}` | {permission.label} | {where} | {edits} | {roles} |")
    return "\n".join(lines)


def roles_table() -> str:
    lines = [
        "| Role | Code | Type | Level | Scope kinds | 2FA | Business need (students) | May grant |",
        "|---|---|---|---|---|---|---|---|",
    ]
    type_names = {role_type.code: role_type.name for role_type in ROLE_TYPES}
    for spec in ROLES:
        scopes = ", ".join(SCOPE_NAMES[s] for s in spec.scope_types)
        kind = (
            f" ({spec.department_kind.replace('_', ' ').lower()})" if spec.department_kind else ""
        )
        role_type = type_names.get(spec.role_type, "")
        if not role_type:
            role_type = "login model" if spec.login_model else "administration"
        grants = ", ".join(f"`{code}`" for code in spec.grantable)
        lines.append(
            f"| {spec.name} | `{spec.code}` | {role_type} | {LEVEL_NAMES.get(spec.level, '')} "
            f"| {scopes}{kind} | {'yes' if spec.requires_mfa else ''} "
            f"| {'yes' if spec.business_need_for_students else ''} | {grants} |"
        )
    return "\n".join(lines)


BLOCKS = {"permissions": permissions_table, "roles": roles_table}


def block_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(<!-- {name}:begin -->\n)(.*?)(<!-- {name}:end -->)", re.S)


def generated(text: str) -> str:
    """``text`` with each generated block replaced by what the code says now."""
    for name, build in BLOCKS.items():
        text = block_pattern(name).sub(
            lambda m, b=build: m.group(1) + b() + "\n" + m.group(3), text
        )
    return text


def main() -> None:
    if "--write" in sys.argv:
        DOC.write_text(generated(DOC.read_text(encoding="utf-8")), encoding="utf-8")
        print(f"updated {DOC.relative_to(ROOT)}")
        return
    for name, build in BLOCKS.items():
        print(f"<!-- {name} -->\n{build()}\n")


if __name__ == "__main__":
    main()
