"""Anonymous cost and logout against the live sandbox: an anonymous gigabyte POST answered by gunicorn
before its body is sent, page views that store nothing, and a logout that ends the login."""
from __future__ import annotations

import os
import re
import socket
import time
from pathlib import Path

import pytest
import requests

from tests.live_nginx import answer_in_time, junk_token_staller
from tests.live_portal import GunicornPortal, log_in

GIB = 1024 ** 3


def csrf(http, url):
    return re.search(r'name="csrf-token" content="([^"]+)"', http.get(url).text).group(1)


def stored_sessions(folder) -> list[str]:
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


@pytest.fixture(scope="module")
def served(sandbox, tmp_path_factory):
    """gunicorn as production runs it, with a session folder of its own to count files in."""
    sessions = tmp_path_factory.mktemp("hardening-sessions")
    live = GunicornPortal(sandbox, str(sessions), workers=1, threads=4)
    live.sessions = sessions
    yield live
    live.stop()


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        found += [int(child) for child in children]
    return found


def _deleted_files(pids) -> int:
    """Unnamed temporary files held open (Werkzeug spools big form parts into O_TMPFILE files)."""
    count = 0
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                count += "(deleted)" in os.readlink(fd)
            except OSError:
                pass
    return count


def test_an_anonymous_gigabyte_post_is_answered_before_its_body_is_sent(served):
    workers = _children(served.pid)
    before = _deleted_files(workers)
    host, port = served.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(f"POST /upload HTTP/1.1\r\nHost: {host}\r\nContent-Type: multipart/form-data; boundary=x\r\n"
                     f"Content-Length: {GIB}\r\n\r\n".encode() + b"--x\r\n" + b"x" * (1024 * 1024))
        started = time.monotonic()
        answer = conn.recv(65536).decode("latin-1")
        assert answer.startswith("HTTP/1.1 401"), answer[:200]
        assert time.monotonic() - started < 5
        assert _deleted_files(workers) == before  # nothing spooled
        # The rest of the gigabyte is never read: the connection is closed once the answer is out.
        sent, chunk = 0, b"x" * (1024 * 1024)
        with pytest.raises(OSError):
            while sent < 256 * 1024 * 1024:
                conn.sendall(chunk)
                sent += len(chunk)
    print(f"sent after the answer before the reset: {sent} bytes")
    assert sent < 64 * 1024 * 1024  # what the kernel's buffers took before the reset, not a read of the body
    assert stored_sessions(served.sessions) == []


def test_a_junk_token_put_that_stalls_after_ten_bytes_is_answered_at_once(served):
    """The token is checked with repovizz2 before the body is read: no thread waits for the other 99990 bytes."""
    host, port = served.url.removeprefix("http://").split(":")
    staller = answer_in_time(junk_token_staller(f"{host}:{port}", ""), int(port), None)
    assert staller.status == 401, staller.answer[:200]
    assert staller.answered - staller.opened < 2


def test_anonymous_page_views_store_no_session(served):
    for _ in range(50):
        for path in ("/", "/healthz", "/static/portal.css", "/no-such-page", "/upload"):
            answer = requests.get(served.url + path, allow_redirects=False, timeout=10)
            assert "Set-Cookie" not in answer.headers
    assert stored_sessions(served.sessions) == []


def test_logout_ends_the_login_and_says_what_became_of_the_token(served, sandbox):
    sandbox.add_user("leaver", "secret pw")
    http = requests.Session()
    log_in(http, served.url, "leaver", "secret pw")
    assert len(stored_sessions(served.sessions)) == 1
    assert "Logged in as <strong>leaver</strong>" in http.get(served.url + "/").text
    page = http.post(served.url + "/auth/logout", data={"csrf_token": csrf(http, served.url + "/")})
    assert page.status_code == 200
    assert "You are logged out of the portal" in page.text
    assert f'href="{sandbox.url}/logout"' in page.text
    assert stored_sessions(served.sessions) == []
    assert http.get(served.url + "/upload", allow_redirects=False).status_code == 302
    assert "was revoked at repovizz2" in page.text


def test_after_logout_the_old_access_token_is_refused_by_repovizz2(sandbox, tmp_path):
    """The sandbox revokes tokens as RFC 7009 says; the portal asks it to on logout."""
    from tests.live_portal import LivePortal

    portal = LivePortal(sandbox, str(tmp_path / "sessions"), WTF_CSRF_ENABLED=True)
    try:
        sandbox.add_user("revoked", "secret pw")
        http = requests.Session()
        log_in(http, portal.url, "revoked", "secret pw")
        sid = http.cookies.get("portal_session")
        access_token = portal.app.session_interface.cache.get("session:" + sid)["token"]["access_token"]
        assert requests.get(f"{sandbox.url}/api/v1.0/user", headers={"Authorization": f"Bearer {access_token}"},
                            timeout=10).status_code == 200
        page = http.post(portal.url + "/auth/logout", data={"csrf_token": csrf(http, portal.url + "/")})
        assert "was revoked at repovizz2" in page.text
        assert requests.get(f"{sandbox.url}/api/v1.0/user", headers={"Authorization": f"Bearer {access_token}"},
                            timeout=10).status_code == 401
    finally:
        portal.stop()
