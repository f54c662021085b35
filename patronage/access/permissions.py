"""The one vocabulary of what a person may do: ``area:resource:action``.

Code, UI, API and reports all speak of these values. Roles (data, in ``Role``) are sets
of them; nothing grants a permission that is not listed here.

The catalogue is complete for the roles of seed 001, so that every grant is reportable:
permissions of functions this system does not perform (ordering, invoicing, cataloguing...)
are listed too and marked in ``ENFORCED_ELSEWHERE`` — granting them is recorded and
reported here, and the systems that perform those functions read the grants.
"""

from django.db import models


class Permission(models.TextChoices):
    # User records (seed 002) and patron confidentiality (seed 000)
    USERS_VIEW = "users:user:view", "Find users by exact identifier and see their card"
    USERS_VIEW_DETAILS = (
        "users:patron:view_details",
        "See patrons' addresses, blocks, notes, loan history and fees (seed 000)",
    )
    USERS_SEARCH_BY_NAME = "users:patron:view_by_name", "Look up users by name (seed 000)"
    USERS_CREATE = "users:user:create", "Add users"
    USERS_EDIT = "users:user:edit", "Edit user records and their tabs"
    USERS_EDIT_RESTRICTED = "users:restricted:edit", "Edit and e-mail users restricted for editing"
    USERS_EMAIL = "users:user:email", "Send e-mail to users"
    USERS_CHANGE_ACCOUNT_TYPE = "users:account_type:change", "Toggle internal/external accounts"
    USERS_DELETE = "users:user:delete", "Delete users"
    USERS_MANAGE_BLOCKS = "users:block:manage", "Add and remove blocks"
    USERS_MANAGE_ATTACHMENTS = "users:attachment:manage", "Add and remove attachments"
    USERS_VIEW_HISTORY = "users:history:view", "View the change history of user records"
    # Patron confidentiality: read-access log, legal process, the audit trail (seed 000)
    PRIVACY_ACCESS_LOG = "privacy:access_log:view", "See who looked at which patron records"
    PRIVACY_LEGAL_REQUEST = (
        "privacy:legal_request:manage",
        "Record and follow agencies' requests for patron records (legal-process register)",
    )
    PRIVACY_LEGAL_COUNSEL = (
        "privacy:legal_request:counsel",
        "Decide, as counsel, on legal process: validate an order, resist, refuse, release",
    )
    AUDIT_VERIFY = "audit:trail:verify", "Verify the audit trail's hash chain"
    AUDIT_ARCHIVE = "audit:trail:archive", "Archive (export, then remove) old audit events"
    PRIVACY_PERSONAL_DATA_EXPORT = (
        "privacy:personal_data:export",
        "Export everything held about a user (personal data: JSON, XML, letter, PDF)",
    )
    PRIVACY_PERSONAL_DATA_LETTER = (
        "privacy:personal_data:send_letter",
        "Send the Personal Information Letter (the user's data, e-mailed to them)",
    )
    PRIVACY_RETENTION = (
        "privacy:retention:manage",
        "Set the retention of patron data and run retention (anonymise loans, purge users)",
    )
    PRIVACY_FORGET = (
        "privacy:forgetting:manage",
        "Record requests to be forgotten and carry them out (anonymise a person)",
    )
    # Roles, logins and API keys (seed 001, 003)
    ROLES_VIEW = "access:grant:view", "See who holds which roles"
    ROLES_GRANT = "access:grant:manage", "Grant and revoke roles, change login models"
    APIKEYS_MANAGE = "access:apikey:manage", "Create and revoke API keys"
    REPORTS_ACCESS = "reports:access:view", "Reports on roles and on who can see whom"
    # Access governance (seeds 000, 001, 003): role requests, approvals, removal
    REQUESTS_FILE = (
        "access:request:file",
        "File role requests (for oneself, one's staff, as liaison)",
    )
    REQUESTS_APPROVE = (
        "access:request:approve",
        "Decide role requests the directory makes one the lead or administrator of",
    )
    REQUESTS_PROCESS = (
        "access:request:process",
        "See every role request; grant approved roles in the sandbox and in production",
    )
    DIRECTORY_MANAGE = (
        "access:directory:manage",
        "Manage the directory (units, liaisons, leads, supervisors), form and policy texts",
    )
    SEPARATIONS_PROCESS = (
        "access:separation:process",
        "Process HR separations and transfers, expire grants that end",
    )
    ACKNOWLEDGEMENTS_REPORT = (
        "access:acknowledgement:report",
        "Report who has not acknowledged the confidentiality policy",
    )
    # Configuration
    CONFIG_CODE_TABLES = "config:code_table:edit", "Edit code tables"
    CONFIG_USER_SETTINGS = "config:user_settings:edit", "Edit user-management settings"
    CONFIG_SYSTEM = "config:system:manage", "Configure the system (IT)"
    # SIS synchronisation, bulk jobs and exports (seed 002)
    SIS_IMPORT_RUN = "sis:import:run", "Run SIS imports and read their reports"
    SIS_PROFILE_MANAGE = "sis:profile:manage", "Configure SIS import profiles"
    USERS_BULK_UPDATE = "users:bulk:update", "Edit and message users in bulk"
    USERS_EXPORT = "users:export:run", "Export all user records"
    # Fulfillment (seed 001, Fulfillment role type)
    FULFILLMENT_LOANS = "fulfillment:loan:checkout", "Check items out and in"
    FULFILLMENT_REQUESTS = "fulfillment:request:place", "Place hold requests"
    FULFILLMENT_MARK_MISSING = "fulfillment:item:mark_missing", "Mark items as missing"
    FULFILLMENT_WORK_ORDERS = "fulfillment:work_order:open", "Open work orders"
    FULFILLMENT_OVERRIDE = "fulfillment:policy:override", "Override circulation policies"
    FULFILLMENT_REQUEST_NOTES = "fulfillment:request_note:manage", "Add, edit, delete request notes"
    FULFILLMENT_DUE_DATES = "fulfillment:due_date:change", "Change due dates"
    FULFILLMENT_MARK_LOST = "fulfillment:item:mark_lost", "Mark items as lost"
    FULFILLMENT_PICK_LISTS = "fulfillment:pick_list:manage", "Manage pick lists and requests"
    FULFILLMENT_CONFIG = "fulfillment:config:manage", "Configure fulfillment"
    FINES_VIEW = "fines:fee:view", "View fines and fees"
    FINES_PAY = "fines:fee:pay", "Accept payment of fines and fees"
    # Patron services (issue 7): the fines and fees ledger, loans, proxies
    FINES_CREATE = "fines:fee:create", "Add fines and fees by hand and link them to items"
    FINES_WAIVE = "fines:fee:waive", "Waive fines and fees (up to the role's waive limit)"
    FINES_CREDIT = "fines:fee:credit", "Register credits on a patron's account"
    FINES_DISPUTE = "fines:fee:dispute", "Put fines and fees in dispute and restore them"
    FINES_EXPORT = "fines:fee:export", "Export fines and fees to the bursar"
    FULFILLMENT_LOAN_VIEW = "fulfillment:loan:view", "See users' loans and loan history"
    FULFILLMENT_ITEMS = (
        "fulfillment:item:manage",
        "Add and correct items (barcode, title, location)",
    )
    USERS_MANAGE_PROXIES = "users:proxy:manage", "Add and remove proxy-for relations"
    # Acquisitions, invoices, funds
    ACQ_PURCHASING = "acquisitions:po_line:manage", "Purchase, receive and activate materials"
    ACQ_INVENTORY = "acquisitions:inventory:edit", "Add and edit inventory from orders"
    ACQ_CANCEL = "acquisitions:order:cancel", "Cancel and delete orders"
    ACQ_CONFIG_VIEW = "acquisitions:config:view", "Read acquisitions configuration"
    INVOICES_MANAGE = "invoices:invoice:manage", "Create, approve and assign invoices"
    INVOICES_DELETE = "invoices:invoice:delete", "Delete invoices"
    FUNDS_TRANSFER = "finance:fund:transfer", "Allocate and transfer funds"
    # Other functional areas of seed 001
    ANALYTICS_REPORTS = "analytics:report:create", "Create analytics reports"
    COURSE_RESERVES = "course_reserves:citation:manage", "Manage course reserves"
    DIGITAL_INVENTORY = "digital:inventory:manage", "Manage digital inventory and collections"
    ERESOURCES_LICENSES = "eresources:license:manage", "Manage licenses and CDI"
    CATALOGUE_VIEW = "resource_management:record:view", "View bibliographic and inventory records"
    CATALOGUE_EDIT = "resource_management:record:edit", "Create and update records and items"
    CATALOGUE_DELETE = "resource_management:record:delete", "Delete records, withdraw items"
    CATALOGUE_BATCH = "resource_management:batch:run", "Run record loads and batch updates"
    RESOURCE_SHARING = "resource_sharing:request:process", "Process borrowing and lending requests"
    RESOURCE_SHARING_ASSIGN = "resource_sharing:request:assign", "Assign resource sharing requests"
    RESOURCE_SHARING_DELETE = "resource_sharing:item:delete", "Delete resource sharing items"
    RESOURCE_SHARING_FEES = "resource_sharing:fee:manage", "Manage resource sharing fees"
    TECH_SERVICES_RECEIVING = "technical_services:receiving:receive", "Receive ordered materials"
    TECH_SERVICES_STATUS = "technical_services:item_status:manage", "Manage in-process items"
    WORK_ORDERS = "work_orders:work_order:process", "Process work orders of a department"
    VENDORS = "vendors:vendor:edit", "Create and update vendors"


P = Permission

# Functions another system performs: the grants are kept, reported and exported here.
ENFORCED_ELSEWHERE = frozenset(
    {
        P.FULFILLMENT_REQUESTS,
        P.FULFILLMENT_MARK_MISSING,
        P.FULFILLMENT_WORK_ORDERS,
        P.FULFILLMENT_OVERRIDE,
        P.FULFILLMENT_REQUEST_NOTES,
        P.FULFILLMENT_MARK_LOST,
        P.FULFILLMENT_PICK_LISTS,
        P.ACQ_PURCHASING,
        P.ACQ_INVENTORY,
        P.ACQ_CANCEL,
        P.ACQ_CONFIG_VIEW,
        P.INVOICES_MANAGE,
        P.INVOICES_DELETE,
        P.FUNDS_TRANSFER,
        P.ANALYTICS_REPORTS,
        P.COURSE_RESERVES,
        P.DIGITAL_INVENTORY,
        P.ERESOURCES_LICENSES,
        P.CATALOGUE_VIEW,
        P.CATALOGUE_EDIT,
        P.CATALOGUE_DELETE,
        P.CATALOGUE_BATCH,
        P.RESOURCE_SHARING,
        P.RESOURCE_SHARING_ASSIGN,
        P.RESOURCE_SHARING_DELETE,
        P.RESOURCE_SHARING_FEES,
        P.TECH_SERVICES_RECEIVING,
        P.TECH_SERVICES_STATUS,
        P.WORK_ORDERS,
        P.VENDORS,
    }
)

# Permissions that change metadata, user records or the system. A shared circulation-desk
# login never holds one (seed 001: such work is done under an individual login, for audit).
RECORD_EDITING = frozenset(
    {
        P.USERS_CREATE,
        P.USERS_EDIT,
        P.USERS_EDIT_RESTRICTED,
        P.USERS_CHANGE_ACCOUNT_TYPE,
        P.USERS_DELETE,
        P.USERS_MANAGE_BLOCKS,
        P.USERS_MANAGE_ATTACHMENTS,
        P.USERS_MANAGE_PROXIES,
        P.FULFILLMENT_ITEMS,
        P.ROLES_GRANT,
        P.APIKEYS_MANAGE,
        P.REQUESTS_PROCESS,
        P.DIRECTORY_MANAGE,
        P.SEPARATIONS_PROCESS,
        P.CONFIG_CODE_TABLES,
        P.CONFIG_USER_SETTINGS,
        P.CONFIG_SYSTEM,
        P.SIS_IMPORT_RUN,
        P.SIS_PROFILE_MANAGE,
        P.USERS_BULK_UPDATE,
        P.FULFILLMENT_CONFIG,
        P.ACQ_INVENTORY,
        P.DIGITAL_INVENTORY,
        P.ERESOURCES_LICENSES,
        P.CATALOGUE_EDIT,
        P.CATALOGUE_DELETE,
        P.CATALOGUE_BATCH,
        P.RESOURCE_SHARING_DELETE,
        P.VENDORS,
    }
)
