"""Staff-UI tests here speak plain HTTP, as in tests/web."""

from tests.web.conftest import _plain_http  # noqa: F401
