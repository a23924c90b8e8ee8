"""The portal, served for real, against the live sandbox of tests/conftest.py."""
from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.live_portal import LivePortal, free_port, log_in

_names = itertools.count()


@pytest.fixture(scope="module")
def portal(sandbox, tmp_path_factory):
    live = LivePortal(sandbox, str(tmp_path_factory.mktemp("sessions")), WTF_CSRF_ENABLED=True)
    yield live
    live.stop()


@pytest.fixture
def user(sandbox):
    name = f"user{next(_names)}"
    sandbox.add_user(name, "secret pw")
    return name


@pytest.fixture
def browser_session(portal, user):
    """A requests session logged in to the portal through the sandbox's real login and consent pages."""
    http = requests.Session()
    log_in(http, portal.url, user, "secret pw")
    yield http
    http.close()


class GunicornPortal:
    """The portal as production runs it: `gunicorn wsgi:app` with gthread workers, in a subprocess."""

    def __init__(self, sandbox, session_dir: str):
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        client = sandbox.add_client(f"gunicorn-{port}", [f"{self.url}/auth/callback"])
        env = {**os.environ, "PORTAL_REPOVIZZ2_URL": sandbox.url, "PORTAL_CLIENT_ID": client["client_id"],
               "PORTAL_CLIENT_SECRET": client["client_secret"], "PORTAL_SECRET_KEY": "gunicorn-test",
               "PORTAL_SESSION_DIR": session_dir}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--worker-class", "gthread", "--workers", "1", "--threads", "4",
             "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
            cwd=Path(__file__).resolve().parents[2], env=env)
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(self.url + "/healthz", timeout=2)
                return
            except requests.RequestException:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError("gunicorn did not start the portal")
                time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


@pytest.fixture(scope="module")
def gunicorn_portal(sandbox, tmp_path_factory):
    live = GunicornPortal(sandbox, str(tmp_path_factory.mktemp("gunicorn-sessions")))
    yield live
    live.stop()
