"""``patronage demo``: a realistic, deterministic institution to explore and test against.

Two libraries with their desks, departments and acquisitions units; 50 staff (some holding
roles at the right scopes), 500 patrons and two vendor contacts, and the access-governance
directory with a pending role request (``approvals.demo``), all written through the
actions, so the demo records have the same audit trail and indexes as real ones. Running it
again adds nothing: a user whose primary ID exists is skipped. Only the demo administrator
changes on every run: it gets a fresh random password (or the one given with
``--password``), printed at the end.
"""

from __future__ import annotations

import datetime
import random
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from patronage.access.actions import grant_role, set_login_model
from patronage.access.commands import TRUSTED, PatronageCommand
from patronage.access.models import Role, RoleGrant
from patronage.accounts import actions
from patronage.accounts.demo_data import CITIES, FIRST_NAMES, LAST_NAMES, STREETS, ascii_slug
from patronage.accounts.models import User, UserIdentifier, identifier_key
from patronage.approvals import demo as governance_demo
from patronage.audit.context import Actor
from patronage.errors import DomainError
from patronage.organization.models import (
    AcquisitionsUnit,
    CirculationDesk,
    Department,
    DepartmentKind,
    Library,
)

SEED = 20_240_901
STAFF_COUNT = 50
PATRON_COUNT = 500
ADMIN_ID = "admin"
LOGIN_URL = "http://127.0.0.1:8000/"

LIBRARIES = [
    # code, name, desks (code, name), departments (code, name, kind), acquisitions unit
    (
        "MAIN",
        "Main Library",
        [("CIRC", "Main circulation desk"), ("RESERVES", "Course reserves desk")],
        [
            ("TS", "Main technical services", DepartmentKind.TECHNICAL_SERVICES),
            ("BINDERY", "Bindery and preservation", DepartmentKind.WORK_ORDER),
        ],
        ("ACQ_MAIN", "Main Library acquisitions"),
    ),
    (
        "HSL",
        "Health Sciences Library",
        [("CIRC", "Health sciences circulation desk"), ("ILL", "Resource sharing desk")],
        [
            ("TS", "Health sciences technical services", DepartmentKind.TECHNICAL_SERVICES),
            ("DIGI", "Digitization lab", DepartmentKind.WORK_ORDER),
        ],
        ("ACQ_HSL", "Health Sciences acquisitions"),
    ),
]

# Staff: job category → (how many, the role they hold and at which kind of scope).
STAFF_PLAN: list[tuple[str, int, str | None]] = [
    ("SYSTEMS", 2, "USER_ADMINISTRATOR"),  # only the first systems librarian holds it
    ("USER_MANAGER", 4, "USER_MANAGER"),
    ("CIRC_MANAGER", 4, "FULFILLMENT_OPERATOR_EXTENDED_PLUS"),
    ("CIRC_OPERATOR", 14, "FULFILLMENT_OPERATOR"),
    ("STUDENT_WORKER", 8, "FULFILLMENT_OPERATOR"),
    ("CATALOGER", 8, None),
    ("ACQ_OPERATOR", 6, None),
    ("MANAGER", 4, None),
]

# Patrons: user group → weight.
PATRON_GROUPS = [
    ("UNDERGRAD", 55),
    ("GRAD", 20),
    ("FACULTY", 8),
    ("UNIV_STAFF", 5),
    ("ALUMNI", 5),
    ("VISITOR", 3),
    ("COMMUNITY", 4),
]
STUDENT_GROUPS = {"UNDERGRAD", "GRAD"}
DEPARTMENTS = ["HIST", "CHEM", "LAW", "MED", "ENG"]
NOTES = [
    ("CIRCULATION", "Prefers to be contacted by email about holds.", False, False),
    ("LIBRARY", "Registered for the graduate carrel programme.", True, False),
    ("POPUP", "Library card reported lost; check photo ID before lending.", False, True),
    ("OTHER", "Has an accessibility accommodation on file: extended loan periods.", False, False),
    ("ADDRESS", "Mail returned undeliverable; confirm the home address.", False, True),
]
BLOCKS = [
    ("OVERDUE", "Three items more than 30 days overdue."),
    ("FINES", "Unpaid fines above the limit."),
    ("LIBRARY_CARD", "New library card not yet collected."),
    ("CONDUCT", "Suspended from the reading rooms pending review."),
    ("LOST_ITEMS", "Two items declared lost."),
]


@dataclass
class Person:
    """Everything needed to create one demo user: the actions' arguments plus extras."""

    fields: dict[str, Any]
    identifiers: list[dict[str, Any]] = field(default_factory=list)
    emails: list[dict[str, Any]] = field(default_factory=list)
    phones: list[dict[str, Any]] = field(default_factory=list)
    addresses: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    statistics: list[dict[str, Any]] = field(default_factory=list)
    blocks: list[dict[str, Any]] = field(default_factory=list)
    # (role code, scope unit key) — the unit is looked up when granting.
    roles: list[tuple[str, tuple[str, ...] | None]] = field(default_factory=list)

    @property
    def login_model(self) -> str:
        """Staff with roles have custom logins; managers view with analytics; others view."""
        if self.roles:
            return "CUSTOM"
        return "VIEW_ANALYTICS" if self.fields.get("job_category") == "MANAGER" else "VIEW"

    @property
    def primary_id(self) -> str:
        return str(self.fields["primary_id"])


@dataclass
class Units:
    libraries: dict[str, Library]
    desks: dict[tuple[str, str], CirculationDesk]

    def resolve(self, key: tuple[str, ...] | None) -> Library | CirculationDesk | None:
        if key is None:
            return None
        if key[0] == "library":
            return self.libraries[key[1]]
        return self.desks[(key[1], key[2])]


class DemoPlan:
    """Draws every demo person from one seeded generator, in a fixed order.

    All draws happen up front, whether or not the user already exists, so a second run sees
    exactly the same people as the first and skips them all.
    """

    def __init__(self, today: datetime.date, seed: int = SEED) -> None:
        self.random = random.Random(seed)
        self.today = today
        self.used_ids: set[str] = {ADMIN_ID}
        self.serial = 0
        self.desk_keys = [
            (code, desk_code) for code, _, desks, _, _ in LIBRARIES for desk_code, _ in desks
        ]
        self.library_codes = [code for code, *_ in LIBRARIES]

    # --- small helpers -------------------------------------------------------------------

    def _name(self) -> tuple[str, str]:
        return self.random.choice(FIRST_NAMES), self.random.choice(LAST_NAMES)

    def _username(self, first: str, last: str) -> str:
        base = (ascii_slug(first)[:1] + ascii_slug(last))[:16] or "user"
        candidate, n = base, 1
        while candidate in self.used_ids:
            n += 1
            candidate = f"{base}{n}"
        self.used_ids.add(candidate)
        return candidate

    def _next_serial(self) -> int:
        self.serial += 1
        return self.serial

    def _barcode(self, serial: int) -> str:
        return f"2{serial * 7919 % 10**8:08d}{serial % 97:02d}001"

    def _university_id(self, serial: int) -> str:
        return f"U{1_000_000 + serial * 104_729 % 8_999_999:07d}"

    def _phone(self) -> str:
        return f"+1 555 {self.random.randint(100, 999)} {self.random.randint(1000, 9999)}"

    def _address(self, types: list[str], preferred: bool = False) -> dict[str, Any]:
        city, state, postal = self.random.choice(CITIES)
        return {
            "line1": f"{self.random.randint(1, 2400)} {self.random.choice(STREETS)}",
            "line2": f"Apt {self.random.randint(1, 40)}" if self.random.random() < 0.3 else "",
            "city": city,
            "state_province": state,
            "postal_code": f"{postal}{self.random.randint(10, 99)}",
            "country": "USA",
            "types": types,
            "preferred": preferred,
        }

    def _end_of_academic_year(self, years_ahead: int) -> datetime.date:
        end = datetime.date(self.today.year, 8, 31)
        if end <= self.today:
            end = end.replace(year=end.year + 1)
        return end.replace(year=end.year + years_ahead)

    def _birth_date(self, youngest: int, oldest: int) -> datetime.date:
        age_days = self.random.randint(youngest * 365, oldest * 365)
        return self.today - datetime.timedelta(days=age_days)

    # --- the people ----------------------------------------------------------------------

    def staff(self) -> Iterator[Person]:
        for job, count, role in STAFF_PLAN:
            for index in range(count):
                yield self._staff_member(job, index, role)

    def _staff_member(self, job: str, index: int, role: str | None) -> Person:
        first, last = self._name()
        username = self._username(first, last)
        serial = self._next_serial()
        library = self.library_codes[index % len(self.library_codes)]
        person = Person(
            fields={
                "primary_id": username,
                "record_type": "STAFF",
                "user_group": "STAFF",
                "job_category": job,
                "first_name": first,
                "last_name": last,
                "campus_code": "MED" if library == "HSL" else "MAIN",
                "preferred_language": "en",
                "job_description": f"{library} library",
                "cataloger_level": "20" if job == "CATALOGER" else "",
            },
            identifiers=[{"id_type": "BARCODE", "value": self._barcode(serial)}],
            emails=[
                {"address": f"{username}@library.example.edu", "types": ["work"], "preferred": True}
            ],
            phones=[{"number": self._phone(), "types": ["office"], "preferred": True}],
        )
        if role == "USER_ADMINISTRATOR" and index == 0:
            person.roles.append((role, None))
        elif role == "USER_MANAGER":
            person.roles.append((role, ("library", library)))
        elif role == "FULFILLMENT_OPERATOR_EXTENDED_PLUS":
            # A desk manager covers both desks of their library.
            for desk_library, desk_code in self.desk_keys:
                if desk_library == library:
                    person.roles.append((role, ("desk", desk_library, desk_code)))
        elif role == "FULFILLMENT_OPERATOR":
            desk = self.desk_keys[(index + len(person.primary_id)) % len(self.desk_keys)]
            person.roles.append((role, ("desk", *desk)))
        return person

    def patrons(self, count: int) -> Iterator[Person]:
        groups = [group for group, _ in PATRON_GROUPS]
        weights = [weight for _, weight in PATRON_GROUPS]
        for _ in range(count):
            group = self.random.choices(groups, weights)[0]
            yield self._patron(group)

    def _patron(self, group: str) -> Person:
        rnd = self.random
        first, last = self._name()
        username = self._username(first, last)
        serial = self._next_serial()
        student = group in STUDENT_GROUPS
        fields: dict[str, Any] = {
            "primary_id": username,
            "record_type": "PUBLIC",
            "user_group": group,
            "first_name": first,
            "last_name": last,
            "gender": rnd.choice(["FEMALE", "MALE", "OTHER", ""]),
            "campus_code": "MED" if rnd.random() < 0.25 else "MAIN",
            "preferred_language": rnd.choices(["en", "es", "fr", "de", "zh"], [80, 8, 4, 4, 4])[0],
            "library_notices": sorted(
                rnd.sample(["COURTESY", "OVERDUE", "HOLD_SHELF", "FINES_FEES", "GENERAL"], 2)
            ),
        }
        if rnd.random() < 0.15:
            fields["middle_name"] = rnd.choice(FIRST_NAMES)
        if rnd.random() < 0.04:
            # A preferred name replaces the legal one wherever a name is shown (seed 002).
            fields["pref_first_name"] = rnd.choice(FIRST_NAMES)
            if rnd.random() < 0.3:
                fields["pref_last_name"] = rnd.choice(LAST_NAMES)
        if group == "FACULTY":
            fields["user_title"] = rnd.choice(["Dr", "Prof"])
        if rnd.random() < 0.7:
            youngest, oldest = (18, 30) if student else (25, 80)
            fields["birth_date"] = self._birth_date(youngest, oldest)

        # Students expire at the end of the academic year; some did already, and a few
        # accounts were closed.
        if group in ("ALUMNI", "COMMUNITY", "VISITOR") or student:
            expiry = self._end_of_academic_year(rnd.randint(0, 3))
            if rnd.random() < 0.08:
                expiry = self.today - datetime.timedelta(days=rnd.randint(10, 400))
            fields["expiry_date"] = expiry
            fields["purge_date"] = expiry + datetime.timedelta(days=365)
        if rnd.random() < 0.04:
            fields["status"] = "INACTIVE"

        person = Person(fields=fields)
        person.identifiers.append({"id_type": "BARCODE", "value": self._barcode(serial)})
        if group not in ("COMMUNITY", "VISITOR"):
            person.identifiers.append({"id_type": "UNIV_ID", "value": self._university_id(serial)})
        domain = "students.example.edu" if student else "example.edu"
        if group in ("COMMUNITY", "VISITOR", "ALUMNI"):
            person.emails.append(
                {
                    "address": f"{username}@mail.example.org",
                    "types": ["personal"],
                    "preferred": True,
                }
            )
        else:
            person.emails.append(
                {
                    "address": f"{username}@{domain}",
                    "types": ["school" if student else "work"],
                    "preferred": True,
                }
            )
            if rnd.random() < 0.3:
                person.emails.append(
                    {"address": f"{username}.{serial}@mail.example.org", "types": ["personal"]}
                )
        if rnd.random() < 0.8:
            person.phones.append({"number": self._phone(), "types": ["mobile"], "preferred": True})
        if rnd.random() < 0.85:
            person.addresses.append(self._address(["home"], preferred=True))
        if student and rnd.random() < 0.3:
            person.addresses.append(self._address(["school"]))

        if rnd.random() < 0.12:
            note_type, text, viewable, popup = rnd.choice(NOTES)
            owner = rnd.choice([None, *self.library_codes])
            person.notes.append(
                {
                    "note_type": note_type,
                    "text": text,
                    "user_viewable": viewable,
                    "popup": popup,
                    "owner": owner,
                }
            )
        if group in ("UNDERGRAD", "GRAD", "FACULTY") and rnd.random() < 0.6:
            person.statistics.append(
                {"category": rnd.choice(DEPARTMENTS), "category_type": "DEPARTMENT"}
            )
        if student and rnd.random() < 0.25:
            person.statistics.append({"category": "ON_CAMPUS", "category_type": "RESIDENCE"})
        if group == "GRAD" and rnd.random() < 0.1:
            person.statistics.append({"category": "DISTANCE", "category_type": "PROGRAM"})
        if rnd.random() < 0.03:
            block_type, note = rnd.choice(BLOCKS)
            person.blocks.append(
                {
                    "block_type": block_type,
                    "note": note,
                    "owner": rnd.choice([None, *self.library_codes]),
                }
            )
        return person

    def contacts(self) -> Iterator[Person]:
        vendors = [
            ("Harbour Academic Books", "Helen", "Carter", "harbourbooks"),
            ("Northfield Periodicals", "Tomás", "Reyes", "northfield"),
        ]
        for company, first, last, domain in vendors:
            self.used_ids.add(domain)
            address = self._address(["order", "claim", "payment", "returns"], preferred=True)
            address["line2"] = company
            yield Person(
                fields={
                    "primary_id": f"vendor-{domain}",
                    "record_type": "CONTACT",
                    "job_category": "VENDOR_REP",
                    "first_name": first,
                    "last_name": last,
                    "job_description": f"Account representative, {company}",
                    "web_site_url": f"https://www.{domain}.example.com/",
                },
                emails=[
                    {
                        "address": f"orders@{domain}.example.com",
                        "types": ["orderMail", "claimMail"],
                        "preferred": True,
                    },
                    {"address": f"billing@{domain}.example.com", "types": ["paymentMail"]},
                ],
                phones=[
                    {"number": self._phone(), "types": ["claimPhone"], "preferred": True},
                    {"number": self._phone(), "types": ["orderFax"]},
                ],
                addresses=[address],
            )


def ensure_units() -> Units:
    """Libraries, desks, departments and acquisitions units (no actions exist for them yet)."""
    libraries: dict[str, Library] = {}
    desks: dict[tuple[str, str], CirculationDesk] = {}
    for code, name, desk_specs, department_specs, (acq_code, acq_name) in LIBRARIES:
        library, _ = Library.objects.get_or_create(code=code, defaults={"name": name})
        libraries[code] = library
        for desk_code, desk_name in desk_specs:
            desks[(code, desk_code)], _ = CirculationDesk.objects.get_or_create(
                library=library, code=desk_code, defaults={"name": desk_name}
            )
        for dept_code, dept_name, kind in department_specs:
            Department.objects.get_or_create(
                library=library, code=dept_code, defaults={"name": dept_name, "kind": kind}
            )
        AcquisitionsUnit.objects.get_or_create(
            code=acq_code, defaults={"name": acq_name, "library": library}
        )
    return Units(libraries=libraries, desks=desks)


def existing_primary_ids() -> set[str]:
    return set(UserIdentifier.objects.filter(is_primary=True).values_list("key", flat=True))


def create_person(actor: Actor, person: Person, units: Units, roles: dict[str, Role]) -> User:
    """One user with all their entries, in one transaction: all of it or nothing."""
    with transaction.atomic():
        user = actions.create_user(
            actor=actor,
            fields=person.fields,
            emails=person.emails,
            phones=person.phones,
            addresses=person.addresses,
            confirm_duplicate=True,  # namesakes born the same day are rare but real
        )
        for identifier in person.identifiers:
            actions.add_identifier(actor=actor, user=user, **identifier)
        for note in person.notes:
            owner = units.libraries[note["owner"]] if note["owner"] else None
            actions.add_note(actor=actor, user=user, **{**note, "owner": owner})
        for statistic in person.statistics:
            actions.add_statistic(actor=actor, user=user, **statistic)
        for block in person.blocks:
            owner = units.libraries[block["owner"]] if block["owner"] else None
            actions.add_block(actor=actor, user=user, **{**block, "owner": owner})
        if person.fields["record_type"] == "STAFF":
            set_login_model(actor=actor, user=user, login_model=person.login_model)
        for role_code, scope in person.roles:
            grant_role(
                actor=actor,
                user=user,
                role=roles[role_code],
                scope=units.resolve(scope),
                reason="Demo data",
            )
    return user


def ensure_admin(actor: Actor, password: str) -> User:
    """The demo administrator: created once, General System Administrator, new password."""
    user = User.objects.filter(
        identifiers__key=identifier_key(ADMIN_ID), identifiers__is_primary=True
    ).first()
    if user is None:
        user = actions.create_user(
            actor=actor,
            fields={
                "primary_id": ADMIN_ID,
                "record_type": "STAFF",
                "user_group": "STAFF",
                "job_category": "SYSTEMS",
                "first_name": "Ada",
                "last_name": "Administrator",
                "job_description": "Demo administrator",
            },
            emails=[{"address": "admin@library.example.edu", "types": ["work"], "preferred": True}],
        )
    role = Role.objects.get(code="GENERAL_SYSTEM_ADMINISTRATOR")
    if not RoleGrant.objects.active().filter(user=user, role=role).exists():
        set_login_model(actor=actor, user=user, login_model="CUSTOM", reason="Demo administrator")
        grant_role(actor=actor, user=user, role=role, reason="Demo administrator")
    if user.status != "ACTIVE":
        actions.update_user(
            actor=actor, user=user, fields={"status": "ACTIVE"}, reason="Demo administrator"
        )
    actions.set_password(actor=actor, user=user, password=password)
    return user


class Command(PatronageCommand):
    # A fresh install has no users yet, so no role could grant this: any shell operator may
    # run it. With --as, the actions check that user's permissions as they write.
    required_permission = TRUSTED
    cli_job = "demo"
    help = (
        "Load a demo institution (2 libraries, 50 staff, 500 patrons, 2 vendor contacts) "
        "and set a new password for the demo administrator 'admin'. Safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password",
            default="",
            help="Password for 'admin' (default: a new random one, printed at the end)",
        )
        parser.add_argument(
            "--patrons",
            type=int,
            default=PATRON_COUNT,
            help=f"How many patrons to create (default {PATRON_COUNT})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        password = options["password"] or secrets.token_urlsafe(12)
        actor = self.actor
        plan = DemoPlan(today=timezone.localdate())
        people = [
            *plan.staff(),
            *plan.patrons(max(0, options["patrons"])),
            *plan.contacts(),
        ]
        console = Console(stderr=True)
        try:
            with transaction.atomic():
                units = ensure_units()
            roles = {role.code: role for role in Role.objects.all()}
            existing = existing_primary_ids()
            todo = [p for p in people if identifier_key(p.primary_id) not in existing]
            self._create(console, actor, todo, units, roles)
            with transaction.atomic():
                admin = ensure_admin(actor, password)
            governance = governance_demo.load(actor=actor, admin=admin)
        except DomainError as exc:
            raise CommandError(f"Demo data could not be loaded: {exc}") from exc

        skipped = len(people) - len(todo)
        self.stdout.write(
            f"Demo institution ready: {len(todo)} users added, {skipped} already there."
        )
        if governance:
            self.stdout.write(
                "Access governance: units with liaisons and approvers, supervisors, area "
                "leads, holidays, and a role request waiting in admin's inbox."
            )
        self.stdout.write(
            self.style.SUCCESS(f"Log in at {LOGIN_URL} as {admin.primary_id} / {password}")
        )

    def _create(
        self,
        console: Console,
        actor: Actor,
        todo: list[Person],
        units: Units,
        roles: dict[str, Role],
    ) -> None:
        columns: list[Any] = [
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        ]
        with Progress(*columns, console=console, transient=False) as progress:
            task = progress.add_task("Creating demo users", total=len(todo))
            for person in todo:
                try:
                    create_person(actor, person, units, roles)
                except DomainError as exc:
                    raise CommandError(
                        f"Demo user {person.primary_id} could not be created: {exc}"
                    ) from exc
                progress.advance(task)
