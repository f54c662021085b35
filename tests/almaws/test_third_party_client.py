"""A real Alma client from the package index, unchanged but for its base URL and key, against
a live Patronage server: almapiwrapper (https://pypi.org/project/almapiwrapper/), which
reads its keys from the JSON file named by ``alma_api_keys`` and speaks JSON to Alma.

create → get → update → search → fees (create, pay) → delete.
"""

from __future__ import annotations

import importlib
import json

import pytest

from patronage.accounts.models import User
from patronage.circulation.models import Fee
from tests.almaws.conftest import key_for
from tests.conftest import PLAIN_HTTP

almapiwrapper = pytest.importorskip("almapiwrapper")
users = importlib.import_module("almapiwrapper.users")
record = importlib.import_module("almapiwrapper.record")


@pytest.fixture(autouse=True)
def _reference_data(reference_data, settings):
    """The live server needs a transactional database (see ``reference_data``)."""
    for name, value in PLAIN_HTTP.items():
        setattr(settings, name, value)


@pytest.fixture
def alma(http_live_server, admin, tmp_path, monkeypatch):
    """almapiwrapper pointed at the live server with an administrator's Patronage key."""
    keys = tmp_path / "alma_api_keys.json"
    key = key_for(admin)
    keys.write_text(
        json.dumps(
            {
                "TEST": [
                    {
                        "API_Key": key,
                        "Supported_APIs": [
                            {"Area": "Users", "Permissions": "RW", "Env": "P"},
                            {"Area": "Users", "Permissions": "R", "Env": "P"},
                        ],
                    }
                ]
            }
        )
    )
    monkeypatch.setenv("alma_api_keys", str(keys))
    base = f"{http_live_server.url}/almaws/v1/users"
    monkeypatch.setattr(users.User, "api_base_url", base)
    monkeypatch.setattr(users.Fee, "api_base_url_users", base)
    monkeypatch.setattr(users.Loan, "api_base_url_users", base)
    monkeypatch.setattr(record.Record, "k", record.ApiKeys())
    return users


NEW_USER = {
    "record_type": {"value": "PUBLIC"},
    "primary_id": "client.patron",
    "first_name": "Clara",
    "last_name": "Client",
    "user_group": {"value": "UNDERGRAD"},
    "expiry_date": "2031-12-31Z",
    "password": "",
    "contact_info": {
        "email": [
            {
                "email_address": "clara@example.org",
                "email_type": [{"value": "personal"}],
                "preferred": True,
            }
        ]
    },
    "user_identifier": [{"id_type": {"value": "BARCODE"}, "value": "CLIENT-0001"}],
}


def test_an_alma_client_runs_its_user_workflow_unchanged(alma):
    # create
    created = alma.NewUser("TEST", "P", dict(NEW_USER)).create(password="Clara-passphrase-2031")
    assert not created.error, created.error_msg
    assert User.objects.filter(primary_id="client.patron").exists()

    # get
    user = alma.User("client.patron", "TEST", "P")
    assert user.data["first_name"] == "Clara"
    assert user.data["user_identifier"][0]["value"] == "CLIENT-0001"

    # update (the client PUTs back the whole object it read)
    user.data["first_name"] = "Clarissa"
    user.update()
    assert not user.error, user.error_msg
    assert User.objects.get(primary_id="client.patron").first_name == "Clarissa"

    # search
    found = alma.fetch_users("last_name~Client", "TEST")
    assert [u.primary_id for u in found] == ["client.patron"]

    # fees: create, list, pay
    fee = alma.Fee(
        user=user,
        data=record.JsonData({"type": {"value": "OTHER"}, "original_amount": 4.5}),
        create_fee=True,
    )
    assert not fee.error, fee.error_msg
    assert [f.data["balance"] for f in alma.User("client.patron", "TEST", "P").fees] == [4.5]
    fee.operate("pay", method="CASH")
    assert not fee.error, fee.error_msg
    assert fee.data["status"]["value"] == "CLOSED"
    assert Fee.objects.get().status == "CLOSED"

    # delete (allowed now that nothing is owed)
    alma.User("client.patron", "TEST", "P").delete()
    assert not User.objects.filter(primary_id="client.patron").exists()
