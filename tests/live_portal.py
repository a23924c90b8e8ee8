"""A live portal on a loopback port, wired to a live sandbox: for integration and browser tests."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
from werkzeug.serving import make_server

from portal import create_app


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LivePortal:
    """The portal app served by a threaded Werkzeug server in this process."""

    def __init__(self, sandbox, session_dir: str, port: int | None = None, client: dict | None = None, **config):
        port = port or free_port()
        self.url = f"http://127.0.0.1:{port}"
        client = client or sandbox.add_client(f"portal-{port}", [f"{self.url}/auth/callback"])
        self.app = create_app({
            "TESTING": True,
            "SECRET_KEY": "live-test",
            "REPOVIZZ2_URL": sandbox.url,
            "CLIENT_ID": client["client_id"],
            "CLIENT_SECRET": client["client_secret"],
            "SESSION_DIR": session_dir,
            **config,
        })
        self.server = make_server("127.0.0.1", port, self.app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


class GunicornPortal:
    """The portal as production runs it: `gunicorn wsgi:app` with gthread workers, in a subprocess."""

    def __init__(self, sandbox, session_dir: str, workers: int = 1, threads: int = 4, env: dict | None = None,
                 client: dict | None = None):
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        client = client or sandbox.add_client(f"gunicorn-{port}", [f"{self.url}/auth/callback"])
        env = {**os.environ, "PORTAL_REPOVIZZ2_URL": sandbox.url, "PORTAL_CLIENT_ID": client["client_id"],
               "PORTAL_CLIENT_SECRET": client["client_secret"], "PORTAL_SECRET_KEY": "gunicorn-test",
               "PORTAL_SESSION_DIR": session_dir, **(env or {})}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--worker-class", "gthread", "--workers", str(workers),
             "--threads", str(threads), "--timeout", "600", "--bind", f"127.0.0.1:{port}",
             "--log-level", "warning", "wsgi:app"],
            cwd=Path(__file__).resolve().parents[1], env=env)
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

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def log_in(http: requests.Session, portal_url: str, username: str, password: str, next_path: str = "/") -> requests.Response:
    """Drive the whole login over HTTP as a browser would: portal → sandbox login → consent → portal."""
    import re

    page = http.get(f"{portal_url}/auth/login", params={"next": next_path})
    assert page.status_code == 200, (page.status_code, page.url)
    if 'name="password"' in page.text:
        page = http.post(page.url, data={**_hidden_fields(page.text), "username": username, "password": password})
        assert page.status_code == 200, (page.status_code, page.url)
    if 'name="confirm"' in page.text:
        action = re.search(r'<form[^>]*method="post"[^>]*action="([^"]*)"', page.text) or None
        target = requests.compat.urljoin(page.url, action.group(1).replace("&amp;", "&")) if action else page.url
        page = http.post(target, data={**_hidden_fields(page.text), "confirm": "yes"})
    assert page.status_code == 200, (page.status_code, page.url)
    return page


def _hidden_fields(html: str) -> dict:
    import re

    fields = {}
    for tag in re.findall(r"<input[^>]*type=\"hidden\"[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            fields[name.group(1)] = value.group(1) if value else ""
    return fields
