"""What the native API reads and writes for user records: Pydantic schemas, nothing more.

Input schemas refuse unknown fields and over-long text (422 ``invalid_request``); everything
that needs configuration (code tables, patterns, mandatory fields) is checked by the actions,
so the API refuses the same input as the UI and the CLI with the same message.
"""

import datetime
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field

from patronage.api_support import MAX_ID, NO_NUL

Text10 = Annotated[str, Field(max_length=10), NO_NUL]
Text20 = Annotated[str, Field(max_length=20), NO_NUL]
Text50 = Annotated[str, Field(max_length=50), NO_NUL]
Text100 = Annotated[str, Field(max_length=100), NO_NUL]
Text200 = Annotated[str, Field(max_length=200), NO_NUL]
Name = Annotated[str, Field(max_length=255), NO_NUL]
Text320 = Annotated[str, Field(max_length=320), NO_NUL]
Text500 = Annotated[str, Field(max_length=500), NO_NUL]
Note = Annotated[str, Field(max_length=1000), NO_NUL]
Secret = Annotated[str, Field(max_length=1024), NO_NUL]
Text4000 = Annotated[str, Field(max_length=4000), NO_NUL]
Text10000 = Annotated[str, Field(max_length=10000), NO_NUL]
Code = Text100

RecordTypeCode = Literal["STAFF", "PUBLIC", "CONTACT"]
AccountTypeCode = Literal["INTERNAL", "EXTERNAL", "INTERNAL_EXTERNAL_AUTH"]
StatusCode = Literal["ACTIVE", "INACTIVE"]
GenderCode = Literal["", "FEMALE", "MALE", "OTHER"]
SegmentCode = Literal["Internal", "External"]
SearchFieldCode = Literal["all", "name", "identifier", "email"]
SortCode = Literal["name", "-name", "primary_id", "expiry_date", "-expiry_date", "user_group"]

Owner = int | None
OWNER_FIELD = Field(
    default=None,
    ge=1,
    le=MAX_ID,
    description="The owning library's id; empty for the institution",
)


class Input(Schema):
    model_config = ConfigDict(extra="forbid")


# --- the user record --------------------------------------------------------------------------


class GeneralFieldsPatch(Input):
    """The general-tab fields; only those given are changed."""

    primary_id: Name | None = None
    record_type: RecordTypeCode | None = None
    account_type: AccountTypeCode | None = None
    external_id: Text100 | None = None
    first_name: Name | None = None
    middle_name: Name | None = None
    last_name: Name | None = None
    pref_first_name: Name | None = None
    pref_middle_name: Name | None = None
    pref_last_name: Name | None = None
    pref_name_suffix: Text50 | None = None
    user_title: Code | None = None
    gender: GenderCode | None = None
    birth_date: datetime.date | None = None
    user_group: Code | None = None
    job_category: Code | None = None
    job_description: Text4000 | None = None
    campus_code: Code | None = None
    preferred_language: Text20 | None = None
    web_site_url: Text500 | None = None
    cataloger_level: Text20 | None = None
    library_notices: list[Code] | None = Field(default=None, max_length=50)
    keep_loan_history: bool | None = Field(
        default=None, description="The patron opted in to keeping their loan history"
    )
    rs_libraries: list[Text50] | None = Field(
        default=None, max_length=50, description="Codes of resource-sharing libraries"
    )
    purchase_request_libraries: list[Text50] | None = Field(
        default=None, max_length=50, description="Codes of purchase-request libraries"
    )
    status: StatusCode | None = None
    expiry_date: datetime.date | None = None
    purge_date: datetime.date | None = None
    force_password_change: bool | None = None
    mfa_enabled: bool | None = None
    restricted_for_editing: bool | None = Field(
        default=None,
        description="Only staff allowed to edit restricted users may then change or e-mail the "
        "user; setting or clearing it needs that permission too (403 restricted_for_editing)",
    )
    disable_login_restrictions: bool | None = Field(
        default=None,
        description="Allow sign-in from outside the institution's IP ranges; setting or "
        "clearing it needs the permission to edit restricted users",
    )


class UserPatchIn(GeneralFieldsPatch):
    reason: Note = Field(default="", description="Why the record changed (kept in the history)")
    keep_on_sync: list[Code] = Field(
        default_factory=list,
        max_length=20,
        description="External user open for update: the changed fields the next SIS sync must "
        "not override (user_title, job_category, user_group, campus_code, preferred_language, "
        "rs_libraries, cataloger_level, library_notices); the others are lost at the next sync",
    )


class IdentifierIn(Input):
    id_type: Code
    value: Name
    note: Note = ""
    segment_type: SegmentCode = "Internal"


class ContactIn(Input):
    types: list[Code] = Field(min_length=1, max_length=20)
    preferred: bool = False
    start_date: datetime.date | None = None
    end_date: datetime.date | None = None
    segment_type: SegmentCode = "Internal"


class EmailIn(ContactIn):
    address: Text320
    description: Name = ""


class PhoneIn(ContactIn):
    number: Text50
    preferred_sms: bool = False


class AddressIn(ContactIn):
    line1: Name
    line2: Name = ""
    line3: Name = ""
    line4: Name = ""
    line5: Name = ""
    city: Name = ""
    state_province: Name = ""
    postal_code: Text50 = ""
    country: Text100 = ""
    address_note: Note = ""


class ContactPatch(Input):
    types: list[Code] | None = Field(default=None, min_length=1, max_length=20)
    preferred: bool | None = None
    start_date: datetime.date | None = None
    end_date: datetime.date | None = None


class EmailPatch(ContactPatch):
    address: Text320 | None = None
    description: Name | None = None


class PhonePatch(ContactPatch):
    number: Text50 | None = None
    preferred_sms: bool | None = None


class AddressPatch(ContactPatch):
    line1: Name | None = None
    line2: Name | None = None
    line3: Name | None = None
    line4: Name | None = None
    line5: Name | None = None
    city: Name | None = None
    state_province: Name | None = None
    postal_code: Text50 | None = None
    country: Text100 | None = None
    address_note: Note | None = None


class UserCreateIn(GeneralFieldsPatch):
    """A new user: the general fields, its first identifiers and contact entries."""

    primary_id: Name  # type: ignore[assignment]
    record_type: RecordTypeCode  # type: ignore[assignment]
    first_name: Name  # type: ignore[assignment]
    last_name: Name  # type: ignore[assignment]
    identifiers: list[IdentifierIn] = Field(default_factory=list, max_length=20)
    emails: list[EmailIn] = Field(default_factory=list, max_length=20)
    phones: list[PhoneIn] = Field(default_factory=list, max_length=20)
    addresses: list[AddressIn] = Field(default_factory=list, max_length=20)
    password: Secret = Field(default="", description="Set only for internal users")
    pin: Text10 = Field(default="", description="A four-digit SIP2 PIN")
    confirm_duplicate: bool = Field(
        default=False,
        description="Add the user even if one with the same name and birth date exists "
        "(otherwise 409 possible_duplicate)",
    )


class NoteIn(Input):
    note_type: Code
    text: Text10000
    user_viewable: bool = False
    popup: bool = False
    owner: Owner = OWNER_FIELD
    segment_type: SegmentCode = "Internal"


class StatisticIn(Input):
    category: Code
    category_type: Code = ""
    note: Note = ""
    owner: Owner = OWNER_FIELD
    segment_type: SegmentCode = "Internal"


class BlockIn(Input):
    block_type: Code
    note: Note = ""
    expiry_date: datetime.date | None = None
    owner: Owner = OWNER_FIELD
    segment_type: SegmentCode = "Internal"


class PasswordIn(Input):
    password: Secret
    force_change: bool = Field(
        default=False, description="Ask the user to change it at the next sign-in"
    )


class PinIn(Input):
    pin: Text10 | None = Field(default=None, description="Four digits; or use generate")
    generate: bool = Field(default=False, description="Generate a random PIN and return it")
    keep_on_sync: bool = Field(
        default=False,
        description="External user open for update: the next SIS sync keeps this PIN "
        "(else the SIS's PIN comes back)",
    )


class PinOut(Schema):
    generated_pin: str | None = Field(
        description="The generated PIN, shown this once so it can be given to the user"
    )


# --- search -----------------------------------------------------------------------------------


class UserSearchQuery(Schema):
    q: Text200 = Field(default="", description="Identifier, email or (if allowed) name words")
    field: SearchFieldCode = "all"
    record_type: RecordTypeCode | None = None
    account_type: AccountTypeCode | None = None
    user_group: Code = ""
    job_category: Code = ""
    status: Literal["active", "inactive"] | None = Field(
        default=None, description="active: active and not expired; inactive: the others"
    )
    role: Code = Field(default="", description="Only holders of this role (role code)")
    sort: SortCode = "name"
    page: int = Field(default=1, ge=1, le=1_000_000)
    page_size: int = Field(default=25, ge=1, le=100)


class PageQuery(Schema):
    page: int = Field(default=1, ge=1, le=1_000_000)
    page_size: int = Field(default=25, ge=1, le=100)


def detail(description: str = "") -> Any:
    """A field only staff allowed to see patrons' details receive (seed 000): absent, never
    null, from the answers of callers who see only users' cards (``card_only``)."""
    note = "Absent when card_only."
    return Field(default=None, description=f"{description} {note}".strip())


class UserListItem(Schema):
    id: int
    primary_id: str
    display_name: str
    record_type: str
    account_type: str = detail()
    job_category: str = detail()
    user_group: str
    status: str
    expiry_date: datetime.date | None
    has_blocks: bool = Field(description="A manual block within the caller's scope is in force")
    has_notes: bool = detail("The user has a note within the caller's scope.")


class Paging(Schema):
    count: int
    page: int
    page_size: int
    pages: int


class UserPage(Paging):
    items: list[UserListItem]
    card_only: bool = Field(
        description="The caller sees only users' cards: the items carry only the card columns"
    )
    name_search_refused: bool = Field(
        description="The query was not matched against names: the caller may not look "
        "users up by name, so only identifiers and emails were searched"
    )
    name_match_limit: int | None = Field(
        default=None,
        description="Set when only the first this-many name matches in name order were "
        "taken (a name query sorted by name without other filters); narrow the query to "
        "see others",
    )


# --- the full record --------------------------------------------------------------------------


class IdentifierOut(Schema):
    id: int
    id_type: str
    value: str
    note: str
    is_primary: bool
    segment_type: str


class ContactOut(Schema):
    id: int
    types: list[str]
    preferred: bool
    start_date: datetime.date | None
    end_date: datetime.date | None
    segment_type: str


class EmailOut(ContactOut):
    address: str
    description: str


class PhoneOut(ContactOut):
    number: str
    preferred_sms: bool


class AddressOut(ContactOut):
    line1: str
    line2: str
    line3: str
    line4: str
    line5: str
    city: str
    state_province: str
    postal_code: str
    country: str
    address_note: str


class LibraryOwnedOut(Schema):
    id: int
    owner_id: int | None = Field(description="The owning library; empty for the institution")
    segment_type: str
    created_at: datetime.datetime


class NoteOut(LibraryOwnedOut):
    note_type: str
    text: str
    user_viewable: bool
    popup: bool


class StatisticOut(LibraryOwnedOut):
    category_type: str
    category: str
    note: str


class BlockOut(LibraryOwnedOut):
    block_type: str
    status: str
    note: str
    expiry_date: datetime.date | None


class BlockInForce(Schema):
    type: str
    description: str
    derived: bool = Field(description="Derived from the record (inactive, expired), not stored")


class UserOut(Schema):
    """A user record as the caller may see it.

    Staff allowed to see patrons' details (``users:patron:view_details``) get the whole record:
    entries owned by libraries outside their scope are left out, and secrets appear only as
    has_password / has_pin. Everyone else who may find users gets the *card* (seed 000):
    ``card_only`` is true and only the card's fields are present (id, primary_id,
    display_name, record_type, user_group, status, expiry_date, expired, picture_url,
    blocked); every other field is absent.
    """

    card_only: bool = Field(description="Only the card's fields are present")
    id: int
    primary_id: str
    display_name: str
    record_type: str
    user_group: str
    status: str
    expiry_date: datetime.date | None
    expired: bool = Field(description="The expiry date has passed")
    picture_url: str = Field(description="The user's picture on the picture server, or empty")
    blocked: bool = Field(
        description="A block is in force (inactive, expired, or a manual block within the "
        "caller's scope); which and why only staff allowed to see details learn"
    )
    account_type: str = detail()
    external_id: str = detail()
    first_name: str = detail()
    middle_name: str = detail()
    last_name: str = detail()
    pref_first_name: str = detail()
    pref_middle_name: str = detail()
    pref_last_name: str = detail()
    pref_name_suffix: str = detail()
    user_title: str = detail()
    gender: str = detail()
    birth_date: datetime.date | None = detail()
    job_category: str = detail()
    job_description: str = detail()
    campus_code: str = detail()
    preferred_language: str = detail()
    web_site_url: str = detail()
    cataloger_level: str = detail()
    library_notices: list[str] = detail()
    keep_loan_history: bool = detail(
        "Opted in to a loan history; otherwise returned loans are anonymised."
    )
    rs_libraries: list[str] = detail("Library codes.")
    purchase_request_libraries: list[str] = detail("Library codes.")
    status_date: datetime.date | None = detail()
    purge_date: datetime.date | None = detail()
    last_patron_activity_date: datetime.date | None = detail()
    force_password_change: bool = detail()
    mfa_enabled: bool = detail()
    restricted_for_editing: bool = detail(
        "Only staff allowed to edit restricted users may change or e-mail the user."
    )
    disable_login_restrictions: bool = detail()
    has_password: bool = detail()
    has_pin: bool = detail()
    created_at: datetime.datetime = detail()
    created_by: str = detail("Who or what added the record.")
    updated_at: datetime.datetime = detail()
    updated_by: str = detail("Who or what last changed the record.")
    last_updated_by_job: str = detail()
    identifiers: list[IdentifierOut] = detail()
    emails: list[EmailOut] = detail()
    phones: list[PhoneOut] = detail()
    addresses: list[AddressOut] = detail()
    notes: list[NoteOut] = detail()
    statistics: list[StatisticOut] = detail()
    blocks: list[BlockOut] = detail()
    blocks_in_force: list[BlockInForce] = detail()


# --- history ----------------------------------------------------------------------------------


class ChangeOut(Schema):
    field: str
    old: Any = None
    new: Any = None
    # The person was forgotten: their key is destroyed, old and new read "(erased)".
    erased: bool = False


class HistoryEventOut(Schema):
    id: int
    occurred_at: datetime.datetime
    actor: str = Field(description="Who acted (primary ID) or which process")
    channel: str
    verb: str
    object_type: str
    object_id: str
    reason: str
    changes: list[ChangeOut]


class HistoryPage(Paging):
    items: list[HistoryEventOut]
