"""The reference XSDs of Alma's Users API, loadable by lxml."""

from __future__ import annotations

from pathlib import Path

from lxml import etree


def schema(name: str) -> etree.XMLSchema:
    """rest_user(s).xsd without the researcher part (its rest_researcher.xsd is not in the
    reference, and Patronage has no researcher profiles)."""
    xs = "{http://www.w3.org/2001/XMLSchema}"
    here = Path(__file__).parent / "reference"
    user = etree.parse(str(here / "rest_user.xsd")).getroot()
    for node in user.findall(f"{xs}include"):
        user.remove(node)
    for node in user.iter(f"{xs}element"):
        if node.get("name") == "researcher":
            node.getparent().remove(node)
            break
    if name == "rest_user.xsd":
        return etree.XMLSchema(user)
    users = etree.parse(str(here / "rest_users.xsd")).getroot()
    for node in users.findall(f"{xs}include"):
        users.remove(node)
    for child in user:
        if child.tag != f"{xs}element" or child.get("name") != "user":
            users.append(child)
    return etree.XMLSchema(users)
