"""The URLs of the server bench/api.py starts: Patronage's, and the baseline view.

The baseline does the least a user GET must do: one indexed SELECT of the user row (by its
primary identifier's key, as the selectors find it) and one INSERT of a read-audit row,
returning the row as JSON — through the same Django stack (middleware, connection handling).
"""

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import path

from patronage.accounts.models import identifier_key
from patronage.audit.models import AuditEvent
from patronage.urls import urlpatterns as patronage_urls

COLUMNS = ("id", "primary_id", "first_name", "last_name", "user_group", "status", "expiry_date")
SELECT = (
    f"SELECT {', '.join('u.' + c for c in COLUMNS)} FROM accounts_user u "
    "JOIN accounts_useridentifier i ON i.user_id = u.id WHERE i.key = %s AND i.is_primary"
)


def baseline(request: HttpRequest, primary_id: str) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute(SELECT, [identifier_key(primary_id)])
        row = cursor.fetchone()
    user = dict(zip(COLUMNS, row, strict=True))
    AuditEvent.objects.create(
        actor_label="bench",
        channel="api",
        verb="user.read",
        object_type="user",
        object_id=str(user["id"]),
        subject_id=user["id"],
    )
    return JsonResponse(user, json_dumps_params={"default": str})


urlpatterns = [path("bench/baseline/<str:primary_id>", baseline), *patronage_urls]
