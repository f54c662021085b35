import pytest

from tests.almaws.conftest import error_code

pytestmark = pytest.mark.django_db


def test_get_user_json(admin_alma, patron):
    response = admin_alma.get("/users/pat01")
    assert response.status_code == 200, response.content
    print(response.json_body)
    assert response.json_body["primary_id"] == "pat01"
    assert response["X-Exl-Api-Remaining"]


def test_get_user_xml(admin_alma, patron):
    admin_alma.as_json = False
    response = admin_alma.get("/users/B0001")
    assert response.status_code == 200, response.content
    print(response.content.decode())
    assert response.xml.findtext("primary_id") == "pat01"


def test_not_found(admin_alma):
    response = admin_alma.get("/users/nobody")
    assert response.status_code == 400
    assert error_code(response) == "401861"


def _schema(name):
    """rest_user(s).xsd without the researcher part (its rest_researcher.xsd is not in the
    reference, and Patronage has no researcher profiles)."""
    from pathlib import Path

    from lxml import etree

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


def test_xsd(admin_alma, patron):
    admin_alma.as_json = False
    response = admin_alma.get("/users/B0001")
    _schema("rest_user.xsd").assertValid(response.xml)
    response = admin_alma.get("/users", q="primary_id~pat01")
    print(response.content)
    _schema("rest_users.xsd").assertValid(response.xml)
