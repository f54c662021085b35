"""Static files are served with hashed names from the collected folder (WhiteNoise)."""

import re

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_pages_link_hashed_static_files_after_collectstatic(client, settings, tmp_path):
    settings.SECURE_SSL_REDIRECT = False
    settings.STATIC_ROOT = tmp_path / "static"
    call_command("collectstatic", "--noinput", verbosity=0)
    page = client.get("/login/")
    assert page.status_code == 200
    stylesheet = re.search(
        r'href="/static/(web/patronage\.[0-9a-f]{12}\.css)"', page.content.decode()
    )
    assert stylesheet, "the stylesheet is not linked by its hashed name"
    assert (tmp_path / "static" / stylesheet.group(1)).exists()
