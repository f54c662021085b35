"""Configuration comes from the environment, and the defaults are production-safe."""

import os
import secrets
import subprocess
import sys

import pytest


def run_patronage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # As an operator's shell would have it: not the test session's own switches (the browser
    # tests allow Django's async-unsafe calls in this process).
    dropped = {"DEBUG", "PATRONAGE_HTTPS", "DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_URL"}
    base = {k: v for k, v in os.environ.items() if k not in dropped}
    return subprocess.run(
        [sys.executable, "-m", "patronage", *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("debug", ["", "0"])
def test_check_deploy_passes_with_production_settings(tmp_path, debug):
    result = run_patronage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="patronage.example.edu",
        DEBUG=debug,
        PATRONAGE_VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_when_debug_is_on(tmp_path):
    result = run_patronage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=secrets.token_urlsafe(60),
        DEBUG="true",
        PATRONAGE_VAR_DIR=str(tmp_path),
    )
    assert result.returncode != 0
    assert "DEBUG" in result.stderr + result.stdout


def test_an_embedded_installation_keeps_its_generated_secret_key(tmp_path):
    env = {"PATRONAGE_VAR_DIR": str(tmp_path), "SECRET_KEY": ""}
    show = ("shell", "-c", "from django.conf import settings; print(settings.SECRET_KEY)")
    first = run_patronage(*show, **env).stdout.strip()
    second = run_patronage(*show, **env).stdout.strip()
    assert len(first) >= 50 and first == second
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    "base_url",
    [
        "patronage.example.edu",
        "ftp://patronage.example.edu",
        "https://",
        "https://x.edu/?a=1",
        "https://x.edu:port/",
    ],
)
def test_a_malformed_public_base_url_stops_the_start(tmp_path, base_url):
    result = run_patronage("check", PATRONAGE_VAR_DIR=str(tmp_path), PATRONAGE_BASE_URL=base_url)
    assert result.returncode != 0
    assert "PATRONAGE_BASE_URL" in result.stderr


def test_the_public_base_url_is_kept_without_its_trailing_slash(tmp_path):
    show = ("shell", "-c", "from django.conf import settings; print(settings.PATRONAGE_BASE_URL)")
    result = run_patronage(
        *show, PATRONAGE_VAR_DIR=str(tmp_path), PATRONAGE_BASE_URL="https://lib.example.edu/p/"
    )
    assert result.stdout.strip().splitlines()[-1] == "https://lib.example.edu/p"
