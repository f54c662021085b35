"""Template helpers of the staff UI: one way to draw a labelled field with its error."""

from __future__ import annotations

from typing import Any

from django import template

from patronage.accounts import external

register = template.Library()


@register.filter
def get(mapping: Any, key: Any) -> Any:
    """``mapping|get:key`` — a dict lookup with a variable key."""
    if hasattr(mapping, "get"):
        return mapping.get(key, "")
    return ""


@register.inclusion_tag("web/_field.html", takes_context=True)
def field(
    context: template.Context,
    name: str,
    label: str,
    kind: str = "text",
    options: Any = None,
    required: bool = False,
    hint: str = "",
    value: Any = None,
    blank: str = "—",
    attrs: str = "",
) -> dict[str, Any]:
    """A form field: label, input (text, date, select, multi, checkbox, textarea, password).

    The value comes from ``values`` (the submitted or current values) unless given; the
    message from ``errors`` is shown under the input and linked with aria-describedby.
    """
    values = context.get("values") or {}
    errors = context.get("errors") or {}
    current = values.get(name, "") if value is None else value
    if current is None:
        current = ""
    selected = {str(v) for v in current or []} if kind == "multi" else {str(current)}
    prefix = context.get("field_prefix", "")
    if name in (context.get("read_only") or ()):
        # Disabled inputs are not submitted; the view leaves these fields out as well.
        attrs = f"{attrs} disabled".strip()
        hint = external.READ_ONLY_HINT
    return {
        "name": name,
        "id": f"{prefix}f-{name}",
        "label": label,
        "kind": kind,
        "options": options or [],
        "required": required,
        "hint": hint,
        "value": current,
        "selected": selected,
        "checked": str(current).lower() in {"1", "true", "on", "yes"},
        "error": errors.get(name, ""),
        "blank": blank,
        "attrs": attrs,
    }


@register.filter
def contains(collection: Any, item: Any) -> bool:
    """``collection|contains:item`` — membership, for sets and lists."""
    try:
        return item in collection
    except TypeError:
        return False
