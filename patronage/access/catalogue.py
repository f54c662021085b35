"""The role catalogue as data: which permissions each role grants and what scope it needs.

A migration loads it (``sync``); changing a role's permissions means a new migration that
calls ``sync`` again, so every installation's roles match the code that enforces them.
"""

from __future__ import annotations

from typing import Any

from .models import ScopeType
from .permissions import Permission as P

VIEW_USERS = [P.USERS_VIEW]
MANAGE_USERS = [
    P.USERS_VIEW,
    P.USERS_SEARCH_BY_NAME,
    P.USERS_CREATE,
    P.USERS_EDIT,
    P.USERS_MANAGE_BLOCKS,
    P.USERS_MANAGE_ATTACHMENTS,
    P.USERS_VIEW_HISTORY,
]

ROLES: list[dict[str, Any]] = [
    {
        "code": "CIRCULATION_DESK_OPERATOR",
        "name": "Circulation Desk Operator",
        "description": "Finds patrons by exact identifier or barcode and sees a minimal card.",
        "scope_type": ScopeType.CIRCULATION_DESK,
        "permissions": VIEW_USERS,
    },
    {
        "code": "FULFILLMENT_OPERATOR_EXTENDED_PLUS",
        "name": "Fulfillment Operator Extended Plus",
        "description": "Looks patrons up by name (seed 000).",
        "scope_type": ScopeType.CIRCULATION_DESK,
        "permissions": [P.USERS_VIEW, P.USERS_SEARCH_BY_NAME, P.USERS_MANAGE_BLOCKS],
    },
    {
        "code": "USER_MANAGER",
        "name": "User Manager",
        "description": "Adds and edits user records.",
        "scope_type": ScopeType.LIBRARY,
        "permissions": MANAGE_USERS,
    },
    {
        "code": "USER_ADMINISTRATOR",
        "name": "User Administrator",
        "description": "Manages user records, deletes users and configures user management.",
        "scope_type": ScopeType.INSTITUTION,
        "permissions": [
            *MANAGE_USERS,
            P.USERS_DELETE,
            P.ROLES_VIEW,
            P.ROLES_GRANT,
            P.CONFIG_CODE_TABLES,
            P.CONFIG_USER_SETTINGS,
        ],
    },
    {
        "code": "GENERAL_SYSTEM_ADMINISTRATOR",
        "name": "General System Administrator",
        "description": "Every permission of the system.",
        "scope_type": ScopeType.INSTITUTION,
        "permissions": list(P),
    },
]


def sync(role_model: Any) -> None:
    """Create or update the catalogue's roles (takes the model so migrations can pass theirs)."""
    for spec in ROLES:
        role_model.objects.update_or_create(
            code=spec["code"],
            defaults={
                "name": spec["name"],
                "description": spec["description"],
                "scope_type": str(spec["scope_type"]),
                "permissions": [str(p) for p in spec["permissions"]],
            },
        )
