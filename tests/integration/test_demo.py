"""`make demo`'s script: starts both servers, prints the URL, the login and the public notebook's client, and
they work; the sandbox's login page names the demo login; `kill` stops both.
The demo shows the calls made to repovizz2 on the result page, and lets the public notebook (Jupyter's
default address) frame the sandbox's login when the sandbox has that option; the portal is never framed."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import requests

from tests.live_portal import free_port, log_in

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from demo import sandbox_serve_accepts  # noqa: E402


def test_demo_starts_both_servers_and_stops_them(tmp_path):
    portal_port, sandbox_port = free_port(), free_port()
    env = {**os.environ, "PORTAL_PORT": str(portal_port), "SANDBOX_PORT": str(sandbox_port),
           "SANDBOX_DATA_DIR": str(tmp_path / "sandbox"), "PORTAL_SESSION_DIR": str(tmp_path / "sessions")}
    demo = subprocess.Popen([sys.executable, "scripts/demo.py"], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        printed = ""
        deadline = time.monotonic() + 60
        while "Ctrl-C stops both" not in printed and time.monotonic() < deadline:
            printed += demo.stdout.readline()
        assert f"Portal:   http://127.0.0.1:{portal_port}/" in printed
        assert "Log in as demo / demo" in printed
        servers = psutil.Process(demo.pid).children(recursive=True)

        http = requests.Session()
        page = log_in(http, f"http://127.0.0.1:{portal_port}", "demo", "demo")
        assert "Hello, demo" in page.text
        token = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
        result = http.post(f"http://127.0.0.1:{portal_port}/upload/example", data={"csrf_token": token})
        assert result.status_code == 200
        assert len(set(re.findall(r"repovizz:[0-9a-f]{40}", result.text))) == 4
        assert "What happened in repovizz2" in result.text and "Bearer YOUR_ACCESS_TOKEN" in result.text
        assert "frame-ancestors 'none'" in result.headers["Content-Security-Policy"]
        login_page = requests.get(f"http://127.0.0.1:{sandbox_port}/login")
        assert "demo / demo" in login_page.text  # the sandbox's login page names the demo login
        notebook = json.loads((tmp_path / "sandbox" / "notebook-client.json").read_text())
        assert notebook["redirect_uri"] == "http://localhost:50009"
        assert f'client_id="{notebook["client_id"]}"' in printed
        assert f'client_secret="{notebook["client_secret"]}"' in printed
        assert f'repovizz_url="http://127.0.0.1:{sandbox_port}"' in printed
        if sandbox_serve_accepts("--allow-framing-from"):
            assert "the sandbox's login may be framed by http://127.0.0.1:8888" in printed
            assert "http://localhost:8888" in login_page.headers["Content-Security-Policy"]
        else:
            assert "frame-ancestors 'none'" in login_page.headers["Content-Security-Policy"]
    finally:
        demo.send_signal(signal.SIGTERM)
        demo.wait(30)
    gone, alive = psutil.wait_procs(servers, timeout=15)
    assert not alive
