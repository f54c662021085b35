"""Settings of the server bench/api.py starts: Patronage's, plus the baseline view's URL."""

from patronage.settings import *  # noqa: F403

ROOT_URLCONF = "api_urls"
