"""What every staff-UI view shares: rendering full pages or htmx partials, and mapping
domain errors (``patronage.errors``) to responses once for the whole UI.

Convention: a response that shows validation errors has status 422, whether it is a full
page or an htmx partial (htmx is configured in the base layout to swap 422 responses).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

from patronage.accounts.models import User
from patronage.audit.context import Actor
from patronage.errors import Forbidden, NotFound

INVALID = 422


def actor(request: HttpRequest) -> Actor:
    return Actor.from_request(request)


def staff(request: HttpRequest) -> User:
    """The signed-in staff user (the ``requires`` decorator has checked there is one)."""
    return request.user  # type: ignore[return-value]


def is_partial(request: HttpRequest, target: str) -> bool:
    """An htmx request aimed at ``target``, except history restores, which need a full page."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request and htmx.target == target  # type: ignore[union-attr]


def render_page(
    request: HttpRequest,
    full_template: str,
    partial_template: str,
    target: str,
    context: Mapping[str, Any],
    status: int = 200,
) -> HttpResponse:
    template = partial_template if is_partial(request, target) else full_template
    response = render(request, template, dict(context), status=status)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


def forbidden(request: HttpRequest, message: str = "", code: str = "") -> HttpResponse:
    return render(request, "web/forbidden.html", {"message": message, "code": code}, status=403)


def domain_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Forbidden → 403 page; NotFound → 404. Validation errors are each view's own business."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except Forbidden as exc:
            return forbidden(request, exc.message, exc.code)
        except NotFound as exc:
            raise Http404(exc.message) from exc

    return wrapper


def post_values(request: HttpRequest, multi: tuple[str, ...] = ()) -> dict[str, Any]:
    """The submitted form as a plain dict (lists for multi-value fields) to re-show it."""
    values: dict[str, Any] = {}
    for name in request.POST:
        if name == "csrfmiddlewaretoken":
            continue
        values[name] = request.POST.getlist(name) if name in multi else request.POST.get(name)
    return values
