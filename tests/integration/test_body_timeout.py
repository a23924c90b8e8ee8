"""Under gunicorn alone, a request body that stops arriving frees its thread after PORTAL_BODY_READ_TIMEOUT.

The portal runs with one thread: while a stalled body held it, no other request could be answered.
"""
from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import pytest
import requests

from tests.live_portal import GunicornPortal, log_in
from tests.waiting import wait_until_server_has_read

TIMEOUT = 1.0


@pytest.fixture(scope="module")
def one_thread_portal(sandbox, tmp_path_factory):
    live = GunicornPortal(sandbox, str(tmp_path_factory.mktemp("body-timeout-sessions")), threads=1,
                          env={"PORTAL_BODY_READ_TIMEOUT": str(TIMEOUT)})
    yield live
    live.stop()


@pytest.fixture(scope="module")
def one_thread_portal_without_timeout(sandbox, tmp_path_factory):
    """A body that stops arriving would hold its thread for good: whether one is held needs no clock."""
    live = GunicornPortal(sandbox, str(tmp_path_factory.mktemp("no-body-timeout-sessions")), threads=1,
                          env={"PORTAL_BODY_READ_TIMEOUT": "0"})
    yield live
    live.stop()


def _stall(portal_url: str, head: str, body_start: bytes) -> socket.socket:
    address = urlsplit(portal_url)
    raw = socket.create_connection((address.hostname, address.port), timeout=10)
    raw.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body_start)
    return raw


def _answer_and_close(raw: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (at most 10 s)."""
    received = b""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        chunk = raw.recv(65536)
        if not chunk:
            return received
        received += chunk
    raise AssertionError(f"the connection was not closed; received {received[:80]!r}")


def test_a_stalled_form_body_is_answered_408_and_frees_the_thread(one_thread_portal, sandbox):
    """A logged-in form (an anonymous body is refused before it is read)."""
    sandbox.add_user("form-staller", "pw")
    http = requests.Session()
    log_in(http, one_thread_portal.url, "form-staller", "pw")
    cookie = f"portal_session={http.cookies['portal_session']}"
    started = time.monotonic()
    with _stall(one_thread_portal.url, f"POST /upload HTTP/1.1\nHost: portal\nCookie: {cookie}\n"
                "Content-Type: multipart/form-data; boundary=b\nContent-Length: 100000\n",
                b"--b\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n") as raw:
        wait_until_server_has_read(raw)  # the only thread holds it
        page = requests.get(one_thread_portal.url + "/healthz", timeout=10)  # waits for the only thread
        freed_after = time.monotonic() - started
        answer = _answer_and_close(raw)
    assert page.status_code == 200
    assert TIMEOUT * 0.8 < freed_after < TIMEOUT + 2
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert time.monotonic() - started < TIMEOUT + 3  # closed at once, not after a drain of the rest


def test_a_put_stalled_mid_file_stores_nothing_and_frees_the_thread(one_thread_portal, sandbox):
    sandbox.add_user("staller", "pw")
    http = requests.Session()
    http.headers["Authorization"] = "Bearer " + sandbox.issue_token("staller")
    document = {"info": {"name": "stalled", "author": "staller", "description": "", "keywords": []},
                "children": [{"class": "data", "name": "Big", "text": "", "link": "big.bin"}]}
    whole = bytes(range(256)) * 4096
    created = http.post(one_thread_portal.url + "/api/datapacks", timeout=10,
                        json={"document": document, "files": [{"path": "big.bin", "size": len(whole)}]}).json()
    (upload,) = created["uploads"]

    started = time.monotonic()
    with _stall(one_thread_portal.url, f"PUT {upload['url']} HTTP/1.1\nHost: portal\n"
                f"Authorization: {http.headers['Authorization']}\nContent-Length: {len(whole)}\n",
                whole[:len(whole) // 3]) as raw:
        wait_until_server_has_read(raw)  # the only thread holds it
        page = requests.get(one_thread_portal.url + "/healthz", timeout=10)
        freed_after = time.monotonic() - started
        answer = _answer_and_close(raw)
    assert page.status_code == 200 and freed_after < TIMEOUT + 2
    assert answer.startswith(b"HTTP/1.1 400 ") and b"nothing was stored" in answer

    content_url = f"{sandbox.url}/api/v1.0/datapacks/{created['datapack_id']}/content"
    assert list(http.get(content_url, timeout=10).json()) == ["big.bin"]  # still pending, nothing stored
    sent = http.put(one_thread_portal.url + upload["url"], data=whole, timeout=30)
    assert sent.status_code == 200, sent.text
    assert http.get(f"{content_url}/{sent.json()['ref'].removeprefix('repovizz:')}", timeout=10).content == whole


def test_junk_token_puts_stalled_after_ten_bytes_hold_no_thread(one_thread_portal_without_timeout):
    """Their token is checked with repovizz2 before the body is read: each gets 401 at once, and the
    portal's only thread answers the next request while all of them are still connected (with no body
    timeout, a staller holding that thread would hold it until they hang up)."""
    portal = one_thread_portal_without_timeout
    stallers = [_stall(portal.url, "PUT /datapacks/d-1/assets/a.bin HTTP/1.1\nHost: portal\n"
                       f"Authorization: Bearer junk-{index}\nContent-Length: 100000\n", b"x" * 10)
                for index in range(5)]
    try:
        for raw in stallers:
            assert raw.recv(200).startswith(b"HTTP/1.1 401 ")
        assert requests.get(portal.url + "/healthz", timeout=30).status_code == 200
    finally:
        for raw in stallers:
            raw.close()


def test_a_slow_body_that_keeps_moving_is_not_cut(one_thread_portal, sandbox):
    """The timeout counts between two reads, like nginx's client_body_timeout, not for the whole body
    (a logged-in form: an anonymous body is refused unread)."""
    sandbox.add_user("slow-mover", "pw")
    http = requests.Session()
    log_in(http, one_thread_portal.url, "slow-mover", "pw")
    cookie = f"portal_session={http.cookies['portal_session']}"
    with _stall(one_thread_portal.url, f"POST /upload HTTP/1.1\nHost: portal\nCookie: {cookie}\n"
                "Content-Type: application/x-www-form-urlencoded\nContent-Length: 8\nConnection: close\n", b"a=") as raw:
        for piece in (b"12", b"34", b"56"):
            time.sleep(TIMEOUT * 0.6)
            raw.sendall(piece)
        answer = _answer_and_close(raw)
    # Not cut with a 408: the whole form was read, and only then refused for the CSRF token it lacks.
    assert answer.startswith(b"HTTP/1.1 400 BAD REQUEST\r\n")
    assert b"The form had expired or did not come from this site." in answer


def test_the_timeout_is_a_setting():
    from portal.rules.config import settings_from_env

    assert settings_from_env({})["BODY_READ_TIMEOUT"] == 60.0
    assert settings_from_env({"PORTAL_BODY_READ_TIMEOUT": "2.5"})["BODY_READ_TIMEOUT"] == 2.5
    assert settings_from_env({"PORTAL_BODY_READ_TIMEOUT": "0"})["BODY_READ_TIMEOUT"] == 0  # no timeout
