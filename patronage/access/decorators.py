"""Every staff-UI view declares the permission it needs; this decorator enforces it.

The declared permission is kept on the view (``required_permission``) so that a test can
walk all routes and fail on any that declares none.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .checks import can
from .permissions import Permission

PUBLIC = "public"  # declared on the few views anyone may open (log-in page, health)
# Declared on the views of one's own account (``/my/``): any signed-in person, about
# themself only -- no permission, since what they show is the viewer's own data.
SIGNED_IN = "signed_in"


def requires(
    permission: Permission,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not can(request.user, permission):  # type: ignore[arg-type]
                return render(
                    request,
                    "web/forbidden.html",
                    {"permission": permission, "permission_label": Permission(permission).label},
                    status=403,
                )
            return view(request, *args, **kwargs)

        wrapper.required_permission = permission  # type: ignore[attr-defined]
        return wrapper

    return decorate


def public(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    view.required_permission = PUBLIC  # type: ignore[attr-defined]
    return view


def requires_any(
    *permissions: Permission,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Like ``requires``, for a view that any one of several permissions opens (a report that
    role viewers and report readers alike may see). Declares the tuple of permissions."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not any(can(request.user, p) for p in permissions):  # type: ignore[arg-type]
                labels = " or ".join(str(Permission(p).label) for p in permissions)
                return render(
                    request,
                    "web/forbidden.html",
                    {"permission": permissions[0], "permission_label": labels},
                    status=403,
                )
            return view(request, *args, **kwargs)

        wrapper.required_permission = permissions  # type: ignore[attr-defined]
        return wrapper

    return decorate


def signed_in(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A view of the signed-in person's own account: sign-in required, no permission."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    wrapper.required_permission = SIGNED_IN  # type: ignore[attr-defined]
    return wrapper
