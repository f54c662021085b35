"""patronage serve: the production server answers, with our headers, and refuses to start
in a state that would serve errors."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def patronage(*args: str, env: dict[str, str], **kwargs):
    return subprocess.Popen(
        [sys.executable, "-m", "patronage", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **kwargs,
    )


@pytest.fixture
def server_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        PATRONAGE_VAR_DIR=str(tmp_path),
        PATRONAGE_HTTPS="false",
        PATRONAGE_METRICS_TOKEN="t0ken-abc",
        DJANGO_SETTINGS_MODULE="patronage.settings",
    )
    env.pop("DEBUG", None)
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_answers_with_two_workers_and_stops_on_sigterm(server_env):
    collect = patronage("collectstatic", "--noinput", "-v0", env=server_env)
    assert collect.wait(timeout=120) == 0, collect.stdout.read()
    port = free_port()
    server = patronage("serve", "--port", str(port), "--workers", "2", env=server_env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz") as answer:
                    assert answer.status == 200
                    assert answer.headers["X-Request-ID"]
                    assert "no-store" in answer.headers["Cache-Control"]
                    break
            except OSError:
                assert server.poll() is None, server.stdout.read()
                assert time.monotonic() < deadline, "the server did not answer within 60 s"
                time.sleep(0.5)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/") as page:
            html = page.read().decode()
        assert "Log in" in html
        # Static files under hashed names, cached for good by browsers and proxies.
        stylesheet = re.search(r'href="(/static/web/patronage\.[0-9a-f]{12}\.css)"', html)
        assert stylesheet, "the stylesheet is not served under a hashed name"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{stylesheet[1]}") as css:
            assert css.status == 200
            assert "immutable" in css.headers["Cache-Control"]
        # Both worker processes' samples reach /metrics, whichever process answers it.
        scrape = urllib.request.Request(
            f"http://127.0.0.1:{port}/metrics", headers={"Authorization": "Bearer t0ken-abc"}
        )
        with urllib.request.urlopen(scrape) as answer:
            assert 'route="/healthz"' in answer.read().decode()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    assert "2 worker(s)" in server.stdout.read()


def test_serve_refuses_debug_and_missing_static_files(server_env):
    refused = patronage("serve", env={**server_env, "DEBUG": "true"})
    assert refused.wait(timeout=60) == 1
    assert "DEBUG is on" in refused.stdout.read()
    refused = patronage("serve", env=server_env)
    assert refused.wait(timeout=60) == 1
    assert "run 'patronage collectstatic' first" in refused.stdout.read()
