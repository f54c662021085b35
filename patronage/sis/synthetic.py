"""Synthetic SIS files (Alma user XML) for benchmarks and tests: realistic, reproducible.

Each user has names, a birth date, a user group, campus and language, an expiry date, a
barcode and a university ID, one or two e-mails, a phone, a home address, a statistical
category and a PIN, so an import does the work a real nightly file asks for.
"""

from __future__ import annotations

import random
from pathlib import Path
from xml.sax.saxutils import escape

FIRST = [
    "Ada",
    "Ben",
    "Chloé",
    "Dmitri",
    "Elif",
    "Farah",
    "Goran",
    "Hana",
    "Ivo",
    "Jun",
    "Kemal",
    "Lena",
    "Mateo",
    "Nia",
    "Omar",
    "Priya",
]
LAST = [
    "Okafor",
    "Novak",
    "Müller",
    "Rossi",
    "Tanaka",
    "Silva",
    "Kowalski",
    "Haddad",
    "Nguyen",
    "Larsen",
    "Moreau",
    "Kaur",
]
GROUPS = ["UNDERGRAD", "UNDERGRAD", "UNDERGRAD", "GRAD", "GRAD", "FACULTY", "UNIV_STAFF"]
CITIES = [("Springfield", "12345"), ("Shelbyville", "23456"), ("Ogdenville", "34567")]
DEPARTMENTS = ["HIST", "CHEM", "LAW", "MED", "ENG"]


def user_element(n: int, rng: random.Random, variant: int = 0) -> str:
    """The ``<user>`` of synthetic user ``n``; ``variant`` > 0 changes its user group and
    address, as a later SIS file would."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    group = GROUPS[(n + variant) % len(GROUPS)]
    city, postal = CITIES[(n + variant) % len(CITIES)]
    year = 1950 + n % 55
    emails = [f"{first.lower()}.{n}@uni.example"]
    if n % 3 == 0:
        emails.append(f"{last.lower()}{n}@mail.example")
    mail_xml = "".join(
        f'<email preferred="{"true" if i == 0 else "false"}" segment_type="External">'
        f"<email_address>{escape(address)}</email_address>"
        f"<email_types><email_type>{'school' if i == 0 else 'personal'}</email_type>"
        "</email_types></email>"
        for i, address in enumerate(emails)
    )
    return (
        "<user>"
        f"<record_type>PUBLIC</record_type><primary_id>s{n:07d}</primary_id>"
        f"<first_name>{escape(first)}</first_name><last_name>{escape(last)}</last_name>"
        f"<gender>{'FEMALE' if n % 2 else 'MALE'}</gender>"
        f"<birth_date>{year}-{1 + n % 12:02d}-{1 + n % 28:02d}Z</birth_date>"
        f"<user_group>{group}</user_group><campus_code>{'MAIN' if n % 4 else 'MED'}</campus_code>"
        f"<preferred_language>en</preferred_language>"
        f"<expiry_date>{2027 + n % 4}-06-30Z</expiry_date>"
        f"<status>ACTIVE</status><pin_number>{n * 7919 % 10000:04d}</pin_number>"
        "<contact_info><addresses>"
        '<address preferred="true" segment_type="External">'
        f"<line1>{1 + n % 400} College Road</line1><line2>Apt {n % 90}</line2>"
        f"<city>{city}</city><postal_code>{postal}</postal_code><country>USA</country>"
        "<address_types><address_type>home</address_type></address_types></address>"
        f"</addresses><emails>{mail_xml}</emails><phones>"
        '<phone preferred="true" segment_type="External">'
        f"<phone_number>+1 555 {n % 1000:03d} {n % 10000:04d}</phone_number>"
        "<phone_types><phone_type>mobile</phone_type></phone_types></phone>"
        "</phones></contact_info>"
        "<user_identifiers>"
        f"<user_identifier><id_type>BARCODE</id_type><value>39{n:09d}</value></user_identifier>"
        f"<user_identifier><id_type>UNIV_ID</id_type><value>U{n:08d}</value></user_identifier>"
        "</user_identifiers>"
        "<user_statistics><user_statistic>"
        f"<statistic_category>{DEPARTMENTS[n % len(DEPARTMENTS)]}</statistic_category>"
        "<category_type>DEPARTMENT</category_type></user_statistic></user_statistics>"
        "</user>\n"
    )


def write_users_xml(path: Path, count: int, *, start: int = 0, variant: int = 0) -> Path:
    """Write users ``start`` .. ``start + count - 1`` as one Alma users file, streaming."""
    with open(path, "w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        out.write(f'<users total_record_count="{count}">\n')
        for n in range(start, start + count):
            out.write(user_element(n, random.Random(n), variant))
        out.write("</users>\n")
    return path
