"""The objects of Alma's Users API, element by element in the order of ``rest_user.xsd``
(and of the fee, loan and attachment objects Alma documents beside it)."""

from __future__ import annotations

from .formats import SEGMENT, Node, code, listing, obj, text

CODE_LIST_ATTRS = (("preferred", bool), ("segment_type", str))

ADDRESS = obj(
    "address",
    text("line1"),
    text("line2"),
    text("line3"),
    text("line4"),
    text("line5"),
    text("city"),
    text("state_province"),
    text("postal_code"),
    code("country"),
    text("address_note"),
    text("start_date"),
    text("end_date"),
    listing(code("address_type"), "address_types"),
    attrs=CODE_LIST_ATTRS,
)
EMAIL = obj(
    "email",
    text("email_address"),
    text("description"),
    listing(code("email_type"), "email_types"),
    attrs=CODE_LIST_ATTRS,
)
PHONE = obj(
    "phone",
    text("phone_number"),
    listing(code("phone_type"), "phone_types"),
    attrs=(("preferred", bool), ("preferred_sms", bool), ("segment_type", str)),
)
CONTACT_INFO = obj(
    "contact_info",
    listing(ADDRESS, "addresses"),
    listing(EMAIL, "emails"),
    listing(PHONE, "phones"),
)
IDENTIFIER = obj(
    "user_identifier",
    code("id_type"),
    text("value"),
    text("note"),
    text("status"),
    attrs=SEGMENT,
)
PARAMETER = obj("parameter", code("type"), code("scope"), code("value"))
ROLE = obj(
    "user_role",
    code("status"),
    code("scope"),
    code("role_type"),
    text("expiry_date"),
    listing(PARAMETER, "parameters"),
)
BLOCK = obj(
    "user_block",
    code("block_type"),
    code("block_description"),
    text("block_status"),
    text("block_note"),
    text("created_by"),
    text("created_date"),
    text("expiry_date"),
    text("item_loan_id"),
    attrs=SEGMENT,
)
NOTE = obj(
    "user_note",
    code("note_type"),
    text("note_text"),
    text("user_viewable", bool),
    text("popup_note", bool),
    text("created_by"),
    text("created_date"),
    attrs=SEGMENT,
)
STATISTIC = obj(
    "user_statistic",
    code("statistic_category"),
    code("category_type"),
    text("statistic_note"),
    attrs=SEGMENT,
)
PROXY_FOR = obj("proxy_for_user", text("primary_id"), text("full_name"), attrs=(("link", str),))
RS_LIBRARY = obj("rs_library", code("code"))
LIBRARY_NOTICE = obj("library_notice", code("code"), text("value", bool))

USER = obj(
    "user",
    code("record_type"),
    text("primary_id"),
    text("first_name"),
    text("middle_name"),
    text("last_name"),
    text("full_name"),
    text("pin_number"),
    code("user_title"),
    code("job_category"),
    text("job_description"),
    code("gender"),
    code("user_group"),
    code("campus_code"),
    text("web_site_url"),
    code("cataloger_level"),
    code("preferred_language"),
    text("birth_date"),
    text("expiry_date"),
    text("purge_date"),
    code("account_type"),
    text("external_id"),
    text("password"),
    text("force_password_change"),
    code("status"),
    text("status_date"),
    text("last_patron_activity_date"),
    code("requests", "link", int),
    code("loans", "link", int),
    code("fees", "link", float),
    CONTACT_INFO,
    listing(IDENTIFIER, "user_identifiers"),
    listing(ROLE, "user_roles"),
    listing(BLOCK, "user_blocks"),
    listing(NOTE, "user_notes"),
    listing(STATISTIC, "user_statistics"),
    listing(PROXY_FOR, "proxy_for_users"),
    listing(RS_LIBRARY, "rs_libraries"),
    listing(LIBRARY_NOTICE, "library_notices"),
    text("source_link_id"),
    text("source_institution_code"),
    text("linking_id"),
    text("pref_first_name"),
    text("pref_middle_name"),
    text("pref_last_name"),
    text("pref_name_suffix"),
    text("is_researcher", bool),
    attrs=(("link", str),),
)
USERS = Node("users", "object", children=(listing(USER),), attrs=(("total_record_count", int),))

# --- beside the user: fees, loans, attachments, login events, empty lists --------------------
# Their XSDs (rest_fee.xsd, rest_item_loan.xsd, rest_attachment.xsd, rest_login_events.xsd)
# are not in the reference; element names follow Alma's published objects.

TRANSACTION = obj(
    "transaction",
    code("type"),
    text("amount", float),
    text("vat_amount", float),
    code("reason"),
    text("comment"),
    text("external_transaction_id"),
    text("created_by"),
    text("transaction_time"),
    code("received_by"),
    code("payment_method"),
)
FEE = obj(
    "fee",
    text("id"),
    code("type"),
    code("status"),
    code("user_primary_id", "link"),
    text("balance", float),
    text("remaining_vat_amount", float),
    text("original_amount", float),
    text("original_vat_amount", float),
    text("creation_time"),
    text("status_time"),
    text("comment"),
    code("owner"),
    text("title"),
    code("barcode", "link"),
    listing(TRANSACTION, "transactions"),
    attrs=(("link", str),),
)
FEES = Node(
    "fees",
    "object",
    children=(listing(FEE),),
    attrs=(("total_record_count", int), ("total_sum", float), ("currency", str)),
)
LOAN = obj(
    "item_loan",
    text("loan_id"),
    code("circ_desk"),
    code("return_circ_desk"),
    code("library"),
    text("user_id"),
    text("item_barcode"),
    text("due_date"),
    text("loan_status"),
    text("loan_date"),
    text("return_date"),
    text("process_status"),
    text("item_id"),
    text("title"),
    code("location_code", "name"),
    text("loan_fine", float),
    text("renewable", bool),
    text("last_renew_date"),
    attrs=(("link", str),),
)
LOANS = Node(
    "item_loans", "object", children=(listing(LOAN),), attrs=(("total_record_count", int),)
)
ATTACHMENT = obj(
    "attachment",
    text("id"),
    text("url"),
    text("file_name"),
    text("type"),
    text("notes"),
    text("content"),
    text("created_by"),
    text("creation_date"),
    attrs=(("link", str),),
)
ATTACHMENTS = Node(
    "attachments", "object", children=(listing(ATTACHMENT),), attrs=(("total_record_count", int),)
)
LOGIN_EVENT = obj(
    "login_event",
    text("user_primary_id"),
    text("full_name"),
    text("login_time"),
    text("ip_address"),
    text("successful", bool),
    text("failure_reason"),
)
LOGIN_EVENTS = Node(
    "login_events", "object", children=(listing(LOGIN_EVENT),), attrs=(("total_record_count", int),)
)
# The answer of the key test (GET/POST /users/operation/test): the reference gives no schema.
KEY_TEST = obj("test", text("result"))


def empty_list(name: str) -> Node:
    """A list Patronage has nothing for yet (requests, deposits, purchase requests)."""
    return Node(name, "object", attrs=(("total_record_count", int),))
