"""The role catalogue of seed 001 as data: role types by levels, the administrator roles, and
the roles behind the login models.

Each level includes the one below ("all functions of operator, plus ..."). A migration
loads the catalogue (``sync``); changing it means a new migration that calls ``sync``
again, so every installation's roles match the code that enforces them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .permissions import Permission as P

INSTITUTION, LIBRARY, DESK, DEPARTMENT, ACQ_UNIT = (
    "INSTITUTION",
    "LIBRARY",
    "CIRCULATION_DESK",
    "DEPARTMENT",
    "ACQUISITIONS_UNIT",
)
LEVELS = ("OPERATOR", "OPERATOR_EXTENDED", "OPERATOR_EXTENDED_PLUS")
LEVEL_NAMES = {
    "OPERATOR": "Operator",
    "OPERATOR_EXTENDED": "Operator Extended",
    "OPERATOR_EXTENDED_PLUS": "Operator Extended Plus",
}


@dataclass
class RoleSpec:
    code: str
    name: str
    description: str
    permissions: Sequence[str]
    scope_types: list[str]
    role_type: str = ""
    level: str = ""
    department_kind: str = ""
    is_admin: bool = False
    requires_mfa: bool = False
    business_need_for_students: bool = False
    login_model: str = ""
    grantable: list[str] = field(default_factory=list)


@dataclass
class RoleType:
    code: str
    name: str
    scope_types: list[str]
    # One (description, added permissions) per level the seed defines, lowest first.
    levels: list[tuple[str, Sequence[str]]]
    department_kind: str = ""


ROLE_TYPES = [
    RoleType(
        "ACQUISITIONS",
        "Acquisitions",
        [ACQ_UNIT],
        [
            (
                "Purchasing, invoicing and activation for physical and electronic materials; "
                "add and edit inventory, bibliographic and holdings records.",
                [P.ACQ_PURCHASING, P.ACQ_INVENTORY, P.CATALOGUE_VIEW],
            ),
            ("All functions of operator, plus cancel and delete orders.", [P.ACQ_CANCEL]),
            (
                "All functions of operator extended, plus read-only acquisitions configuration.",
                [P.ACQ_CONFIG_VIEW],
            ),
        ],
    ),
    RoleType(
        "ANALYTICS",
        "Analytics",
        [INSTITUTION],
        [("Create analytics reports.", [P.ANALYTICS_REPORTS])],
    ),
    RoleType(
        "COURSE_RESERVES",
        "Course Reserves",
        [LIBRARY, INSTITUTION],
        [
            (
                "Citation and hold requests, reserves status, links to online content, "
                "removing materials at the end of the semester.",
                [P.COURSE_RESERVES, P.CATALOGUE_VIEW],
            )
        ],
    ),
    RoleType(
        "DIGITAL",
        "Digital",
        [INSTITUTION],
        [
            (
                "Digital inventory and sub-collections (after consultation with the systems team).",
                [P.DIGITAL_INVENTORY, P.CATALOGUE_VIEW],
            )
        ],
    ),
    RoleType(
        "ERESOURCES",
        "E-Resources",
        [INSTITUTION],
        [("Create and update licenses; CDI management.", [P.ERESOURCES_LICENSES])],
    ),
    RoleType(
        "INVOICE_FINANCE",
        "Invoice/Finance",
        [LIBRARY, INSTITUTION],
        [
            ("Create, approve and assign invoices.", [P.INVOICES_MANAGE]),
            (
                "All functions of operator, plus delete invoices (finance staff only).",
                [P.INVOICES_DELETE],
            ),
            (
                "All functions of operator extended, plus allocate and transfer funds.",
                [P.FUNDS_TRANSFER],
            ),
        ],
    ),
    RoleType(
        "FULFILLMENT",
        "Fulfillment",
        [DESK],
        [
            (
                "Shared circulation desks: charge, discharge, place hold requests, mark items "
                "missing, open work orders; find patrons by exact identifier or barcode.",
                [
                    P.USERS_VIEW,
                    P.FULFILLMENT_LOANS,
                    P.FULFILLMENT_LOAN_VIEW,
                    P.FULFILLMENT_REQUESTS,
                    P.FULFILLMENT_MARK_MISSING,
                    P.FULFILLMENT_WORK_ORDERS,
                    # Seed 002: "activated for users with a Circulation Desk role by default".
                    P.PRIVACY_PERSONAL_DATA_LETTER,
                ],
            ),
            (
                "All functions of operator with override options; request notes, due dates, "
                "lost items, pick lists and requests; accept cash; view fines and fees.",
                [
                    P.FULFILLMENT_OVERRIDE,
                    P.FULFILLMENT_REQUEST_NOTES,
                    P.FULFILLMENT_DUE_DATES,
                    P.FULFILLMENT_MARK_LOST,
                    P.FULFILLMENT_PICK_LISTS,
                    P.FINES_VIEW,
                    P.FINES_PAY,
                    P.FINES_CREATE,
                    P.FINES_DISPUTE,
                ],
            ),
            (
                "All functions of operator extended, plus lookup of patrons by name (with their "
                "loan history, addresses, delinquencies and blocks) and fulfillment "
                "administration.",
                [
                    P.USERS_SEARCH_BY_NAME,
                    P.USERS_VIEW_DETAILS,
                    P.USERS_MANAGE_BLOCKS,
                    P.USERS_MANAGE_PROXIES,
                    P.FULFILLMENT_CONFIG,
                    P.FULFILLMENT_ITEMS,
                    P.FINES_WAIVE,
                    P.FINES_CREDIT,
                    P.FINES_EXPORT,
                ],
            ),
        ],
    ),
    RoleType(
        "RESOURCE_MANAGEMENT",
        "Resource Management",
        [INSTITUTION],
        [
            (
                "Create and update bibliographic, holdings and authority records and items; "
                "work-order statuses; local portfolios.",
                [P.CATALOGUE_VIEW, P.CATALOGUE_EDIT],
            ),
            (
                "All functions of operator, plus delete records and delete or withdraw items.",
                [P.CATALOGUE_DELETE],
            ),
            (
                "All functions of operator extended, plus record loads and batch updates "
                "(after reading the documentation and testing on the sandbox).",
                [P.CATALOGUE_BATCH],
            ),
        ],
    ),
    RoleType(
        "RESOURCE_SHARING",
        "Resource Sharing",
        [LIBRARY],
        [
            ("Process borrowing and lending requests.", [P.RESOURCE_SHARING]),
            (
                "All functions of operator, plus assign requests, delete resource sharing "
                "items and manage fees.",
                [P.RESOURCE_SHARING_ASSIGN, P.RESOURCE_SHARING_DELETE, P.RESOURCE_SHARING_FEES],
            ),
        ],
    ),
    RoleType(
        "TECHNICAL_SERVICES",
        "Technical Services",
        [DEPARTMENT],
        [
            (
                "Receive ordered materials; manage the status of in-process items in the "
                "department.",
                [P.TECH_SERVICES_RECEIVING, P.TECH_SERVICES_STATUS],
            )
        ],
        department_kind="TECHNICAL_SERVICES",
    ),
    RoleType(
        "WORK_ORDERS",
        "Work Orders",
        [DEPARTMENT],
        [("Process the work orders of a special unit's work-order department.", [P.WORK_ORDERS])],
        department_kind="WORK_ORDER",
    ),
    RoleType(
        "VENDOR_MAINTENANCE",
        "Vendor Maintenance",
        [INSTITUTION],
        [("Create and update vendors.", [P.VENDORS])],
    ),
]


def _operational_roles() -> list[RoleSpec]:
    specs = []
    for role_type in ROLE_TYPES:
        held: Sequence[str] = []
        for level, (description, added) in zip(LEVELS, role_type.levels, strict=False):
            held = [*held, *added]
            plus = level == "OPERATOR_EXTENDED_PLUS"
            specs.append(
                RoleSpec(
                    code=f"{role_type.code}_{level}",
                    name=f"{role_type.name} {LEVEL_NAMES[level]}",
                    description=description,
                    permissions=held,
                    scope_types=role_type.scope_types,
                    role_type=role_type.code,
                    level=level,
                    department_kind=role_type.department_kind,
                    requires_mfa=plus,
                    business_need_for_students=plus and role_type.code == "FULFILLMENT",
                )
            )
    return specs


OPERATIONAL = _operational_roles()
OPERATIONAL_CODES = [spec.code for spec in OPERATIONAL]
EXTENDED_PLUS_FULFILLMENT = next(
    s for s in OPERATIONAL if s.code == "FULFILLMENT_OPERATOR_EXTENDED_PLUS"
)
FULFILLMENT_CODES = [code for code in OPERATIONAL_CODES if code.startswith("FULFILLMENT_")]

# Every staff login may file role requests (for themself, their staff, their unit) and decide
# those the directory makes them the lead or administrator of (``approvals``).
VIEW_PERMISSIONS = [P.CATALOGUE_VIEW, P.REQUESTS_FILE, P.REQUESTS_APPROVE]
USER_MANAGEMENT = [
    P.USERS_VIEW,
    P.USERS_VIEW_DETAILS,
    P.USERS_SEARCH_BY_NAME,
    P.USERS_CREATE,
    P.USERS_EDIT,
    P.USERS_EMAIL,
    P.USERS_CHANGE_ACCOUNT_TYPE,
    P.USERS_DELETE,
    P.USERS_MANAGE_BLOCKS,
    P.USERS_MANAGE_ATTACHMENTS,
    P.USERS_MANAGE_PROXIES,
    P.USERS_VIEW_HISTORY,
    # Deleting a user (seed 002) may mean waiving its fees first.
    P.FINES_VIEW,
    P.FINES_WAIVE,
    P.FULFILLMENT_LOAN_VIEW,
    P.PRIVACY_PERSONAL_DATA_EXPORT,
    P.PRIVACY_PERSONAL_DATA_LETTER,
]

# Legal process is between the Privacy Officer and counsel (seed 000): not IT's business.
LEGAL_REGISTER = {P.PRIVACY_LEGAL_REQUEST, P.PRIVACY_LEGAL_COUNSEL}
SYSTEM_PERMISSIONS = [p for p in P if p not in LEGAL_REGISTER]

ADMINISTRATION = [
    RoleSpec(
        code="USER_MANAGER",
        name="User Manager",
        description="Adds, edits and deletes user records (seed 002).",
        permissions=[*USER_MANAGEMENT, P.USERS_BULK_UPDATE],
        scope_types=[LIBRARY, INSTITUTION],
        is_admin=True,
        requires_mfa=True,
    ),
    RoleSpec(
        code="USER_ADMINISTRATOR",
        name="User Administrator",
        description="Manages user records including restricted ones, roles, API keys and "
        "user-management configuration.",
        permissions=[
            *USER_MANAGEMENT,
            P.USERS_EDIT_RESTRICTED,
            P.ROLES_VIEW,
            P.ROLES_GRANT,
            P.APIKEYS_MANAGE,
            P.REPORTS_ACCESS,
            P.CONFIG_CODE_TABLES,
            P.CONFIG_USER_SETTINGS,
            P.USERS_BULK_UPDATE,
            P.USERS_EXPORT,
            P.SIS_IMPORT_RUN,
            P.SIS_PROFILE_MANAGE,
            P.REQUESTS_PROCESS,
            P.DIRECTORY_MANAGE,
            P.SEPARATIONS_PROCESS,
            P.ACKNOWLEDGEMENTS_REPORT,
        ],
        scope_types=[LIBRARY, INSTITUTION],
        is_admin=True,
        requires_mfa=True,
        # Only roles whose functions it holds itself: nobody grants more than they hold.
        grantable=["USER_MANAGER", "USER_ADMINISTRATOR"],
    ),
    RoleSpec(
        code="FULFILLMENT_ADMINISTRATOR",
        name="Fulfillment Administrator",
        description="Configures fulfillment and grants the fulfillment roles of its scope.",
        permissions=[
            *EXTENDED_PLUS_FULFILLMENT.permissions,
            P.ROLES_VIEW,
            P.ROLES_GRANT,
        ],
        scope_types=[LIBRARY, INSTITUTION],
        is_admin=True,
        requires_mfa=True,
        grantable=FULFILLMENT_CODES,
    ),
    RoleSpec(
        code="PRIVACY_OFFICER",
        name="Privacy Officer",
        description="Answers who saw which patron records and whether they were allowed to; "
        "keeps the legal-process register; sets retention and carries out requests to be "
        "forgotten.",
        permissions=[
            P.USERS_VIEW,
            P.USERS_VIEW_DETAILS,
            P.USERS_SEARCH_BY_NAME,
            P.USERS_VIEW_HISTORY,
            P.ROLES_VIEW,
            P.REPORTS_ACCESS,
            P.PRIVACY_ACCESS_LOG,
            P.PRIVACY_LEGAL_REQUEST,
            P.PRIVACY_PERSONAL_DATA_EXPORT,
            P.AUDIT_VERIFY,
            P.ACKNOWLEDGEMENTS_REPORT,
            P.PRIVACY_RETENTION,
            P.PRIVACY_FORGET,
        ],
        scope_types=[INSTITUTION],
        is_admin=True,
        requires_mfa=True,
    ),
    RoleSpec(
        code="GENERAL_COUNSEL",
        name="General Counsel",
        description="The Office of General Counsel (seed 000): sees the legal-process register, "
        "validates or resists orders, and approves what is released.",
        permissions=[P.PRIVACY_LEGAL_REQUEST, P.PRIVACY_LEGAL_COUNSEL],
        scope_types=[INSTITUTION],
        is_admin=True,
        requires_mfa=True,
    ),
    RoleSpec(
        code="GENERAL_SYSTEM_ADMINISTRATOR",
        name="General System Administrator",
        description="Every permission of the system except the legal-process register, which "
        "only the Privacy Officer and General Counsel see (seed 000).",
        permissions=SYSTEM_PERMISSIONS,
        scope_types=[INSTITUTION],
        is_admin=True,
        requires_mfa=True,
        grantable=["*"],
    ),
]

# The roles a login model brings (seed 001 "Login Type"); set with the login model only.
LOGIN_MODEL_ROLES = [
    RoleSpec(
        code="LOGIN_VIEW",
        name="View login",
        description="View functions only.",
        permissions=VIEW_PERMISSIONS,
        scope_types=[INSTITUTION],
        login_model="VIEW",
    ),
    RoleSpec(
        code="LOGIN_VIEW_ANALYTICS",
        name="View with Analytics login",
        description="View functions and analytics reports.",
        permissions=[*VIEW_PERMISSIONS, P.ANALYTICS_REPORTS],
        scope_types=[INSTITUTION],
        login_model="VIEW_ANALYTICS",
    ),
    RoleSpec(
        code="LOGIN_SYSTEMS",
        name="Systems login",
        description="The systems team's login (IT use only): every permission except the "
        "legal-process register.",
        permissions=SYSTEM_PERMISSIONS,
        scope_types=[INSTITUTION],
        login_model="SYSTEMS",
        is_admin=True,
        requires_mfa=True,
    ),
    RoleSpec(
        code="LOGIN_CUSTOM",
        name="Custom login (view)",
        description="The view functions every custom login has; add roles for the job.",
        permissions=VIEW_PERMISSIONS,
        scope_types=[INSTITUTION],
        login_model="CUSTOM",
    ),
]

ROLES = [*OPERATIONAL, *ADMINISTRATION, *LOGIN_MODEL_ROLES]


def sync(role_model: type) -> None:
    """Create or update the catalogue's roles (takes the model so migrations can pass theirs)."""
    for spec in ROLES:
        role_model.objects.update_or_create(  # type: ignore[attr-defined]
            code=spec.code,
            defaults={
                "name": spec.name,
                "description": spec.description,
                "permissions": sorted({str(p) for p in spec.permissions}),
                "scope_types": spec.scope_types,
                "role_type": spec.role_type,
                "level": spec.level,
                "department_kind": spec.department_kind,
                "is_admin": spec.is_admin,
                "requires_mfa": spec.requires_mfa,
                "business_need_for_students": spec.business_need_for_students,
                "login_model": spec.login_model,
                "grantable": spec.grantable,
            },
        )
    # Roles of earlier catalogues that no longer exist are retired, never deleted: grants
    # may still refer to them, and reports must still name them.
    role_model.objects.exclude(code__in=[s.code for s in ROLES]).update(retired=True)  # type: ignore[attr-defined]
