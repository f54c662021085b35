from django.db import migrations
from django.utils import timezone

STAFF_TEXT = """As a member of the library staff with access to the library services platform, I
understand and accept these responsibilities:

1. I use my access only for the work my role requires, and only under my own login.
2. Patron records, circulation records and other library records that identify library users
   are confidential. I do not disclose them to anyone without a need to know for library work,
   and I refer any request from an agency or third party to my supervisor.
3. I keep my password and second factor to myself, sign out of shared machines, and report a
   suspected compromise of my account to Library IT at once.
4. I do not copy personal data out of the system except as my work requires, and I store and
   dispose of any such copy securely.
5. I understand that my actions in the system are recorded, and that misuse of access may lead
   to its removal and to disciplinary action."""

STUDENT_TEXT = """As a student library employee with access to the library services platform, I
understand and accept these responsibilities:

1. I use my access only for the tasks my supervisor assigns, and only under my own login or the
   shared login of my circulation desk.
2. Everything I see about library users (names, contact details, what they borrow, fines and
   blocks) is confidential. I do not share it with anyone, including friends and classmates,
   and I pass any request for it to my supervisor.
3. I keep my password to myself and sign out when I leave a workstation.
4. I do not copy, photograph or take away personal data from the system.
5. I understand that my actions in the system are recorded, and that misuse of access ends my
   access and may end my employment."""


def publish(apps, schema_editor):
    form = apps.get_model("approvals", "PrivacyFormText")
    now = timezone.now()
    for variant, title, text in (
        ("STAFF", "Data privacy & security responsibilities (staff)", STAFF_TEXT),
        ("STUDENT", "Data privacy & security responsibilities (student employees)", STUDENT_TEXT),
    ):
        form.objects.get_or_create(
            variant=variant, version=1, defaults={"title": title, "text": text, "published_at": now}
        )


class Migration(migrations.Migration):
    """The first versions of the data privacy & security responsibilities form (seed 003), so
    that requests can be completed on a new installation; later versions are published in
    the UI."""

    dependencies = [("approvals", "0001_initial")]

    operations = [migrations.RunPython(publish, migrations.RunPython.noop)]
