"""Alma's two wire formats for one object: XML (the default) and JSON.

Both are produced from, and parsed into, the same Python value: the object as Alma's JSON
writes it. A ``Node`` tree describes each object once, in the element order of
``rest_user.xsd``, and drives both directions, so XML and JSON never disagree:

* a *code field* (``<user_group desc="Staff">STAFF</user_group>``) is
  ``{"value": "STAFF", "desc": "Staff"}`` in JSON;
* XML attributes of an object (``segment_type``, ``preferred``, ``link``) are plain keys in
  JSON;
* a list keeps its XML wrapper (``<user_identifiers><user_identifier/>…``) only in XML; JSON
  names it after the item (``"user_identifier": [...]``), as Alma does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest
from lxml import etree

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
JSON = "application/json"
XML = "application/xml"


class BadBody(ValueError):
    """The request body is not the XML or JSON the operation takes."""


@dataclass(frozen=True)
class Node:
    """One element. ``kind``: ``text`` (a scalar), ``valued`` (a scalar with attributes, such
    as a code field), ``object`` (children and attributes) or ``list`` (``item`` repeated,
    inside the ``wrapper`` element in XML when there is one)."""

    name: str
    kind: str = "text"
    scalar: type = str
    attrs: tuple[tuple[str, type], ...] = ()
    children: tuple[Node, ...] = ()
    item: Node | None = None
    wrapper: str = ""

    @property
    def child_by_name(self) -> dict[str, Node]:
        return {child.name: child for child in self.children}


def text(name: str, kind: type = str) -> Node:
    return Node(name, scalar=kind)


def code(name: str, attr: str = "desc", kind: type = str) -> Node:
    return Node(name, "valued", kind, attrs=((attr, str),))


def obj(name: str, *children: Node, attrs: tuple[tuple[str, type], ...] = ()) -> Node:
    return Node(name, "object", children=children, attrs=attrs)


def listing(item: Node, wrapper: str = "") -> Node:
    return Node(item.name, "list", item=item, wrapper=wrapper)


SEGMENT = (("segment_type", str),)


# --- to the wire ------------------------------------------------------------------------------


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _append(parent: etree._Element, node: Node, value: Any) -> None:
    if value is None:
        return
    if node.kind == "list":
        assert node.item is not None
        holder = etree.SubElement(parent, node.wrapper) if node.wrapper else parent
        for entry in value:
            _append(holder, node.item, entry)
        return
    element = etree.SubElement(parent, node.name)
    _fill(element, node, value)


def _fill(element: etree._Element, node: Node, value: Any) -> None:
    if node.kind == "text":
        element.text = _scalar_text(value)
        return
    for attr, _ in node.attrs:
        if value.get(attr) is not None:
            element.set(attr, _scalar_text(value[attr]))
    if node.kind == "valued":
        element.text = _scalar_text(value.get("value"))
        return
    for child in node.children:
        _append(element, child, value.get(child.name))


def to_xml(node: Node, value: Mapping[str, Any]) -> bytes:
    root = etree.Element(node.name)
    _fill(root, node, value)
    return XML_DECLARATION + etree.tostring(root, encoding="UTF-8")


def ordered(node: Node, value: Any) -> Any:
    """``value`` with keys in the schema's order, unknown keys and ``None`` dropped (JSON)."""
    if node.kind == "list":
        assert node.item is not None
        return [ordered(node.item, entry) for entry in value]
    if node.kind == "text":
        return value
    out: dict[str, Any] = {}
    if node.kind == "valued":
        out["value"] = value.get("value")
    for child in node.children:
        if value.get(child.name) is not None:
            out[child.name] = ordered(child, value[child.name])
    for attr, _ in node.attrs:
        if value.get(attr) is not None:
            out[attr] = value[attr]
    return out


def to_json(node: Node, value: Mapping[str, Any]) -> bytes:
    return json.dumps(ordered(node, value), ensure_ascii=False).encode()


# --- from the wire ----------------------------------------------------------------------------


def _parse_scalar(raw: str | None, kind: type, where: str) -> Any:
    raw = (raw or "").strip()
    if "\x00" in raw:
        raise BadBody(f"{where}: NUL characters are not allowed.")
    if kind is bool:
        if raw.lower() in ("true", "false", ""):
            return raw.lower() == "true"
        raise BadBody(f"{where}: '{raw}' is not true or false.")
    if kind in (int, float) and raw:
        try:
            return kind(raw)
        except ValueError:
            raise BadBody(f"{where}: '{raw}' is not a number.") from None
    return raw if kind is str else None


def _from_element(node: Node, element: etree._Element) -> Any:
    if node.kind == "text":
        return _parse_scalar(element.text, node.scalar, node.name)
    value: dict[str, Any] = {
        attr: _parse_scalar(element.get(attr), kind, f"{node.name}@{attr}")
        for attr, kind in node.attrs
        if element.get(attr) is not None
    }
    if node.kind == "valued":
        value["value"] = _parse_scalar(element.text, node.scalar, node.name)
        return value
    known = node.child_by_name
    wrappers = {child.wrapper: child for child in node.children if child.wrapper}
    for child_element in element:
        if not isinstance(child_element.tag, str):
            continue  # comments, processing instructions
        tag = etree.QName(child_element).localname
        if tag in wrappers:
            child = wrappers[tag]
            assert child.item is not None
            value[child.name] = [_from_element(child.item, e) for e in _elements(child_element)]
        elif (plain := known.get(tag)) is not None:
            if plain.kind == "list":  # a list without a wrapper: its items sit here
                assert plain.item is not None
                value.setdefault(plain.name, []).append(_from_element(plain.item, child_element))
            else:
                value[tag] = _from_element(plain, child_element)
    return value


def _elements(parent: etree._Element) -> list[etree._Element]:
    return [e for e in parent if isinstance(e.tag, str)]


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def from_xml(node: Node, body: bytes) -> dict[str, Any]:
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise BadBody(str(exc)) from None
    if etree.QName(root).localname != node.name:
        raise BadBody(f"Expected a <{node.name}> element.")
    return _from_element(node, root)  # type: ignore[no-any-return]


def _check_json(node: Node, value: Any, where: str) -> Any:
    """JSON as Alma's clients send it, checked against the schema (a single object where a
    list is expected is taken as a list of one, as Alma does)."""
    if node.kind == "list":
        assert node.item is not None
        entries = value if isinstance(value, list) else [value]
        return [_check_json(node.item, entry, where) for entry in entries if entry is not None]
    if node.kind == "text":
        if isinstance(value, dict | list):
            raise BadBody(f"{where}: expected a value, not an object or a list.")
        return _parse_scalar(_scalar_text(value), node.scalar, where)
    if not isinstance(value, dict):
        if node.kind == "valued":  # "user_group": "STAFF" is taken as the code
            return {"value": _parse_scalar(_scalar_text(value), node.scalar, where)}
        raise BadBody(f"{where}: expected an object.")
    out: dict[str, Any] = {}
    for attr, kind in node.attrs:
        if value.get(attr) is not None:
            out[attr] = _parse_scalar(_scalar_text(value[attr]), kind, f"{where}.{attr}")
    if node.kind == "valued":
        out["value"] = _parse_scalar(_scalar_text(value.get("value")), node.scalar, where)
        return out
    for child in node.children:
        if value.get(child.name) is not None:
            out[child.name] = _check_json(child, value[child.name], f"{where}.{child.name}")
    return out


def from_json(node: Node, body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadBody(str(exc)) from None
    if not isinstance(value, dict):
        raise BadBody("Expected a JSON object.")
    return _check_json(node, value, node.name)  # type: ignore[no-any-return]


# --- negotiation ------------------------------------------------------------------------------


def wants_json(request: HttpRequest) -> bool:
    """``format=json|xml`` first, then the Accept header; XML by default (as Alma)."""
    requested = request.GET.get("format", "").lower()
    if requested in ("json", "xml"):
        return requested == "json"
    accept = request.headers.get("Accept", "").lower()
    return JSON in accept and XML not in accept.split(JSON)[0]


def body_is_json(request: HttpRequest) -> bool:
    content_type = request.headers.get("Content-Type", "").lower()
    if JSON in content_type:
        return True
    if "xml" in content_type:
        return False
    return request.body.lstrip()[:1] in (b"{", b"[")


def parse_body(request: HttpRequest, node: Node) -> dict[str, Any]:
    if not request.body.strip():
        raise BadBody("The request has no body.")
    if body_is_json(request):
        return from_json(node, request.body)
    return from_xml(node, request.body)


@dataclass
class Rendered:
    content: bytes
    content_type: str = field(default=XML)


def render(request: HttpRequest, node: Node, value: Mapping[str, Any]) -> Rendered:
    if wants_json(request):
        return Rendered(to_json(node, value), JSON)
    return Rendered(to_xml(node, value), XML)
