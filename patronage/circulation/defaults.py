"""Default fine/fee types and waiving reasons, loaded by migration and editable afterwards."""

from decimal import Decimal

# code, description, manual creation, library scope, VAT rate (%), credit
FEE_TYPES = [
    ("OVERDUEFINE", "Overdue fine", False, True, Decimal("0"), False),
    ("LOSTITEMREPLACEMENTFEE", "Lost item replacement fee", True, True, Decimal("0"), False),
    ("LOSTITEMPROCESSFEE", "Lost item process fee", True, True, Decimal("0"), False),
    ("DAMAGEDITEMFINE", "Damaged item fine", True, True, Decimal("0"), False),
    ("CARDRENEWAL", "Card renewal", True, False, Decimal("0"), False),
    ("DOCUMENTDELIVERYSERVICE", "Document delivery", True, True, Decimal("20"), False),
    ("CREDIT", "Credit", True, True, Decimal("0"), True),
    ("OTHER", "Other", True, True, Decimal("0"), False),
]

WAIVE_REASONS = [
    ("LIBRARY_ERROR", "Library error"),
    ("ITEM_RETURNED", "Item returned or found"),
    ("DISPUTE_RESOLVED", "Dispute resolved in the patron's favour"),
    ("HARDSHIP", "Financial hardship"),
    ("STAFF_DISCRETION", "Staff discretion"),
    ("USER_DELETION", "User record deleted"),
    ("OTHER", "Other"),
]
