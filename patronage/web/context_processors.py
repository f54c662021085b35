from typing import Any

from django.http import HttpRequest

from patronage.access.checks import permissions_of


def navigation(request: HttpRequest) -> dict[str, Any]:
    """What the menu may show: the permissions the signed-in user holds right now."""
    user = getattr(request, "user", None)
    return {"perms_held": permissions_of(user) if user is not None else set()}  # type: ignore[arg-type]
