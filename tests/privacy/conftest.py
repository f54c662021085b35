"""Staff-UI tests here speak plain HTTP, as in tests/web."""

import pytest

from tests.factories import make_desk, make_library, make_staff
from tests.web.conftest import _plain_http  # noqa: F401


@pytest.fixture
def desk(db):
    return make_desk(make_library())


@pytest.fixture
def operator(desk):
    """Lends and takes back items at the front desk (the loans retention works on)."""
    return make_staff("FULFILLMENT_OPERATOR_EXTENDED", scope=desk)


@pytest.fixture
def officer(db):
    return make_staff("PRIVACY_OFFICER", primary_id="officer")
