"""Property-based: whatever an Alma client with an administrator's key sends to any operation
of /almaws/v1, the answer is never a server error and keeps to the OpenAPI document.

Bounded so it runs in seconds; a deeper run:
PATRONAGE_FUZZ_COVERAGE=1 PATRONAGE_FUZZ_EXAMPLES=200 pytest tests/almaws/test_schemathesis.py
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.test import override_settings
from hypothesis import HealthCheck, settings

from tests.almaws.conftest import key_for
from tests.api.test_schemathesis import CHECKS, _keep_the_test_connection  # noqa: F401

with override_settings(SECURE_SSL_REDIRECT=False):
    APP = WSGIHandler()
schema = schemathesis.openapi.from_wsgi("/almaws/v1/openapi.json", APP)
schema.config.phases.coverage.enabled = os.environ.get("PATRONAGE_FUZZ_COVERAGE") == "1"
MAX_EXAMPLES = int(os.environ.get("PATRONAGE_FUZZ_EXAMPLES", "15"))


@pytest.fixture
def alma_key(admin):
    return key_for(admin)


@pytest.fixture(autouse=True)
def _no_threshold(settings):
    settings.ALMAWS_PER_SECOND_THRESHOLD = 1_000_000


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_alma_api_never_fails_and_keeps_to_its_document(case, alma_key, patron):
    generated = (case.path_parameters or {}).get("user_id")
    if isinstance(generated, str) and len(generated) % 2:  # often the patron: cases go deeper
        case.path_parameters["user_id"] = "pat01"
    case.call_and_validate(
        app=APP,
        headers={"Authorization": f"apikey {alma_key}", "Accept": "application/json"},
        checks=CHECKS,
    )
