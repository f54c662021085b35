"""Codes of the user record, spelled as Alma spells them so that API clients see the same values."""

from django.db import models


class RecordType(models.TextChoices):
    STAFF = "STAFF", "Staff"
    PUBLIC = "PUBLIC", "Public"
    CONTACT = "CONTACT", "Contact"


class AccountType(models.TextChoices):
    INTERNAL = "INTERNAL", "Internal"
    EXTERNAL = "EXTERNAL", "External"
    INTERNAL_EXTERNAL_AUTH = "INTERNAL_EXTERNAL_AUTH", "Internal with external authentication"


class UserStatus(models.TextChoices):
    ACTIVE = "ACTIVE", "Active"
    INACTIVE = "INACTIVE", "Inactive"


class Segment(models.TextChoices):
    """Who owns an entry: the student information system (external) or staff (internal)."""

    INTERNAL = "Internal", "Internal"
    EXTERNAL = "External", "External"


class Gender(models.TextChoices):
    NONE = "", "Not given"
    FEMALE = "FEMALE", "Female"
    MALE = "MALE", "Male"
    OTHER = "OTHER", "Other"


class CodeTable(models.TextChoices):
    """The administrator-editable code tables. Entries live in CodeTableEntry."""

    USER_GROUP = "USER_GROUP", "User groups"
    JOB_CATEGORY = "JOB_CATEGORY", "Job categories"
    USER_TITLE = "USER_TITLE", "User titles"
    CAMPUS = "CAMPUS", "Campuses"
    LANGUAGE = "LANGUAGE", "Preferred languages"
    CATALOGER_LEVEL = "CATALOGER_LEVEL", "Cataloger levels"
    PATRON_LETTER = "PATRON_LETTER", "Patron letters (opt-in)"
    IDENTIFIER_TYPE = "IDENTIFIER_TYPE", "Identifier types"
    EMAIL_TYPE = "EMAIL_TYPE", "Email types"
    PHONE_TYPE = "PHONE_TYPE", "Phone types"
    ADDRESS_TYPE = "ADDRESS_TYPE", "Address types"
    NOTE_TYPE = "NOTE_TYPE", "Note types"
    STATISTIC_CATEGORY_TYPE = "STATISTIC_CATEGORY_TYPE", "Statistical category types"
    STATISTIC_CATEGORY = "STATISTIC_CATEGORY", "Statistical categories"
    BLOCK_TYPE = "BLOCK_TYPE", "Block types"
    FEE_TYPE = "FEE_TYPE", "Fine and fee types"


class BlockStatus(models.TextChoices):
    ACTIVE = "ACTIVE", "Active"
    INACTIVE = "INACTIVE", "Inactive"


class ContactKind(models.TextChoices):
    ADDRESS = "address", "Address"
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone"
