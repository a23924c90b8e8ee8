"""What an anonymous visitor costs: no body read before the user is known, no stored session for a page
view, and sessions that expire by time without a login ever being evicted to make room."""
from __future__ import annotations

import os
import struct
import time
from datetime import timedelta

import pytest
from werkzeug.test import create_environ

from portal import create_app
from portal.rules.config import ConfigError, settings_from_env
from portal.web.extensions import LOGIN_IN_PROGRESS_SECONDS, SessionFiles
from portal.services.script_logins import AcceptedTokens
from tests.portal.samples import log_in, session_files

GIB = 1024 ** 3


class CountingBody:
    """A request body of `size` bytes that makes none up front and counts what the server reads."""

    def __init__(self, size: int, head: bytes = b"--x\r\nContent-Disposition: form-data; name=\"files\"; "
                                               b"filename=\"big.bin\"\r\n\r\n"):
        self.size, self.head, self.given, self.position = size, head, 0, 0

    def tell(self) -> int:  # the test client measures the body with tell/seek: no bytes are made for that
        return self.position

    def seek(self, offset: int, whence: int = 0) -> int:
        self.position = self.size if whence == 2 else offset
        return self.position

    def _take(self, n: int) -> bytes:
        left = self.size - self.position
        n = left if n is None or n < 0 else min(n, left)
        start = self.position
        self.position += n
        self.given += n
        head = self.head[start:start + n]
        return head + b"x" * (n - len(head))

    def read(self, n: int = -1) -> bytes:
        return self._take(n)

    def readline(self, n: int = -1) -> bytes:
        return self._take(min(n, 65536) if n and n > 0 else 65536)


# --- (a) No body is read before the user is known ------------------------------------------------------

def test_an_anonymous_gigabyte_upload_is_refused_without_reading_it(csrf_app):
    body = CountingBody(GIB)
    answer = csrf_app.test_client().post("/upload", input_stream=body, content_length=GIB,
                                         content_type="multipart/form-data; boundary=x")
    assert answer.status_code == 401
    page = answer.get_data(as_text=True)
    assert "Log in first" in page and "nothing was changed" in page and "/auth/login?next=/upload" in page
    assert body.given == 0  # not a byte read: nothing parsed, nothing spooled to a temporary file
    assert "Set-Cookie" not in answer.headers and session_files(csrf_app) == []


def test_the_same_body_from_a_login_is_read_by_the_csrf_check(csrf_app):
    """The control: the counter does see reads (here the CSRF check parses the form and refuses it)."""
    client = csrf_app.test_client()
    log_in(client)
    body = CountingBody(4 * 1024 * 1024)
    answer = client.post("/upload", input_stream=body, content_length=body.size,
                         content_type="multipart/form-data; boundary=x")
    assert answer.status_code == 400
    assert body.given > 0


@pytest.mark.parametrize(("method", "path", "content_type"), [
    ("PUT", "/datapacks/d-1/assets/video.mp4", "application/octet-stream"),
    ("POST", "/api/datapacks", "application/json"),
    ("POST", "/api/datapacks/d-1/pending", "application/json"),
])
def test_anonymous_api_bodies_get_json_and_are_not_read(csrf_app, method, path, content_type):
    body = CountingBody(GIB, head=b"")
    answer = csrf_app.test_client().open(path, method=method, input_stream=body, content_length=GIB,
                                         content_type=content_type)
    assert answer.status_code == 401
    assert answer.json["error"] == "Log in with repovizz2 first." and "/auth/login" in answer.json["login"]
    assert body.given == 0


@pytest.mark.parametrize("path", ["/datapacks/d-1", "/datapacks/d-1/nodes/add", "/build", "/build/upload",
                                  "/upload/example", "/datapacks/d-1/result"])
def test_every_form_that_needs_a_login_refuses_an_anonymous_body_unread(csrf_app, path):
    body = CountingBody(64 * 1024 * 1024)
    answer = csrf_app.test_client().post(path, input_stream=body, content_length=body.size,
                                         content_type="multipart/form-data; boundary=x")
    assert answer.status_code == 401 and body.given == 0


def test_an_ended_login_counts_as_none(csrf_app):
    client = csrf_app.test_client()
    log_in(client)
    with client.session_transaction() as session:
        session["login_at"] = int(time.time()) - 13 * 3600
    body = CountingBody(GIB)
    answer = client.post("/upload", input_stream=body, content_length=GIB,
                         content_type="multipart/form-data; boundary=x")
    assert answer.status_code == 401 and body.given == 0


def test_a_script_with_a_bearer_token_repovizz2_accepts_reaches_the_api(csrf_app, repovizz2):
    repovizz2.issue("a-login")
    answer = csrf_app.test_client().post("/api/datapacks", json={"document": {}, "files": []},
                                         headers={"Authorization": "Bearer a-login"})
    assert answer.status_code == 422  # the document is looked at: the token is good
    assert repovizz2.tokens_sent_to("user") == ["Bearer a-login"] and repovizz2.creates == 0


AMPLIFYING_DOCUMENT = ('{"document": {"info": {"name": "x", "author": "a", "description": "", "keywords": []}, '
                       '"children": [' + ",".join(f'{{"class": "data", "name": "n", "text": "", "link": "x{index}/a.bin"}}'
                                                  for index in range(3000)) + ']}, "files": ['
                       + ",".join(f'{{"path": "{index}/a.bin", "size": 1}}' for index in range(1000)) + "]}").encode()


@pytest.mark.parametrize("method, path, content_type", [
    ("POST", "/api/datapacks", "application/json"),
    ("POST", "/api/datapacks/d-1/pending", "application/json"),
    ("PUT", "/datapacks/d-1/assets/a.bin", "application/octet-stream"),
])
def test_a_junk_bearer_token_gets_401_before_its_body_is_read(csrf_app, repovizz2, method, path, content_type):
    """The token is checked with repovizz2 first: its document is never looked at, its body never read
    (the amplification request of a hostile review, answered in a few hundred bytes)."""
    body = CountingBody(len(AMPLIFYING_DOCUMENT), head=AMPLIFYING_DOCUMENT)
    answer = csrf_app.test_client().open(path, method=method, input_stream=body,
                                         content_length=len(AMPLIFYING_DOCUMENT), content_type=content_type,
                                         headers={"Authorization": "Bearer junk"})
    assert answer.status_code == 401 and body.given == 0
    assert len(answer.get_data()) < 1024
    assert [name for name, _, _ in repovizz2.log] == ["user"]  # repovizz2 does not know the token


def test_a_good_token_is_asked_about_once_and_remembered_by_its_hash(csrf_app, repovizz2):
    repovizz2.issue("secret-1")
    client = csrf_app.test_client()
    for _ in range(3):
        client.post("/api/datapacks", json={"document": {}, "files": []}, headers={"Authorization": "Bearer secret-1"})
    assert repovizz2.tokens_sent_to("user") == ["Bearer secret-1"] and len(repovizz2.log) == 1
    accepted = csrf_app.extensions["accepted_tokens"]
    assert len(accepted) == 1 and "secret-1" not in repr(accepted._users)


def test_the_accepted_tokens_are_bounded_and_forgotten_after_a_while():
    now = [0.0]
    accepted = AcceptedTokens(seconds=60, kept=3, clock=lambda: now[0])
    for index in range(10):
        accepted.add(f"token-{index}", {"id": index})
    assert len(accepted) == 3 and accepted.get("token-0") is None and accepted.get("token-9") == {"id": 9}
    now[0] = 61
    assert accepted.get("token-9") is None


def test_a_cookie_that_names_no_live_session_gets_401_before_its_body_is_read(csrf_app, repovizz2):
    client = csrf_app.test_client()
    client.set_cookie("portal_session", "no-such-session", domain="portal.test")
    for method, path, content_type in (("POST", "/api/datapacks", "application/json"),
                                       ("PUT", "/datapacks/d-1/assets/a.bin", "application/octet-stream"),
                                       ("POST", "/upload", "multipart/form-data; boundary=x")):
        body = CountingBody(GIB)
        answer = client.open(path, method=method, input_stream=body, content_length=GIB, content_type=content_type)
        assert answer.status_code == 401 and body.given == 0
    assert repovizz2.log == []


def test_a_large_anonymous_logout_form_is_refused_unread(csrf_app):
    """A logout form is the one body a visitor may send (a page left open after the login ended): a
    CSRF token, nothing more."""
    body = CountingBody(GIB, head=b"")
    answer = csrf_app.test_client().post("/auth/logout", input_stream=body, content_length=GIB,
                                         content_type="application/x-www-form-urlencoded")
    assert answer.status_code == 413 and body.given == 0
    assert session_files(csrf_app) == []


# --- (b) A page view that stores nothing creates no session -------------------------------------------

def test_a_thousand_cookieless_page_views_store_no_session(csrf_app, repovizz2):
    client = csrf_app.test_client(use_cookies=False)
    pages = {"/": 200, "/healthz": 200, "/static/portal.css": 200, "/no-such-page": 404, "/example.zip": 200,
             "/datapacks/d-1": 302, "/auth/callback?error=access_denied&state=x": 403, "/upload": 302}
    paths = list(pages)
    for number in range(1000):
        path = paths[number % len(paths)]
        answer = client.get(path)
        assert answer.status_code == pages[path], (path, answer.status_code)
        if answer.status_code == 302:
            assert answer.headers["Location"] == f"/auth/login?next={path}"
        assert "Set-Cookie" not in answer.headers
    assert session_files(csrf_app) == []


# --- (c) Sessions expire; a login is never evicted to make room --------------------------------------

def test_sessions_last_the_stated_hours():
    assert settings_from_env({})["SESSION_HOURS"] == 12
    assert settings_from_env({"PORTAL_SESSION_HOURS": "0.5"})["SESSION_HOURS"] == 0.5
    for bad in ("0", "-1", "a day"):
        with pytest.raises(ConfigError, match="PORTAL_SESSION_HOURS"):
            settings_from_env({"PORTAL_SESSION_HOURS": bad})


def test_the_store_keeps_a_session_for_the_stated_hours(tmp_path):
    app = create_app({"SECRET_KEY": "k", "CLIENT_ID": "i", "CLIENT_SECRET": "s", "SESSION_HOURS": 2,
                      "SESSION_DIR": str(tmp_path)})
    assert app.permanent_session_lifetime == timedelta(hours=2)
    assert app.config["SESSION_REFRESH_EACH_REQUEST"] is False


def test_a_login_ends_after_the_stated_hours(app, client, auth, repovizz2):
    auth.login()
    with client.session_transaction() as session:
        session["login_at"] = int(time.time()) - 11 * 3600
    assert client.get("/upload").status_code == 200
    with client.session_transaction() as session:
        session["login_at"] = int(time.time()) - 12 * 3600 - 5
    answer = client.get("/upload")
    assert answer.status_code == 302 and "/auth/login" in answer.headers["Location"]
    assert session_files(app) == []  # the ended login's session is deleted, not just ignored


def expiry_of(store: SessionFiles, key: str) -> int:
    with open(store._get_filename(key), "rb") as stored:
        return struct.unpack("I", stored.read(4))[0]


def test_a_login_in_progress_is_kept_an_hour_a_login_the_whole_lifetime(tmp_path):
    store = SessionFiles(str(tmp_path))
    store.set("visitor", {"_state_repovizz2_abc": {"data": {}, "exp": 0}}, timeout=12 * 3600)
    store.set("login", {"token": {"access_token": "a"}, "user": {"id": "u"}}, timeout=12 * 3600)
    now = time.time()
    assert abs(expiry_of(store, "visitor") - (now + LOGIN_IN_PROGRESS_SECONDS)) < 5
    assert abs(expiry_of(store, "login") - (now + 12 * 3600)) < 5


def test_a_login_survives_anonymous_visitors_and_logins_left_half_way(csrf_app, repovizz2):
    """Cookieless page views store nothing (one stored would show: the login must stay the only session
    file); then 300 logins left half-way (each one a stored OAuth state: the most a visitor can make the
    portal store) evict nothing either: the store has no count threshold (cachelib's old
    `threshold=10000` evicted the oldest sessions past that count, a login among them). The login stays."""
    user = csrf_app.test_client()
    log_in(user)
    assert user.get("/").status_code == 200
    page_view = create_environ("/", "http://portal.test/")  # straight to the WSGI app
    statuses = set()

    def start_response(status, headers, exc_info=None):
        statuses.add(status)
        assert not any(name.lower() == "set-cookie" for name, _ in headers)

    for _ in range(1_000):
        b"".join(csrf_app(dict(page_view), start_response))
    assert statuses == {"200 OK"}
    assert session_files(csrf_app) == session_files(csrf_app)[:1]  # still the login's alone
    store = csrf_app.session_interface.cache
    for number in range(300):
        store.set(f"session:visitor-{number}", {"_state_repovizz2_x": {"exp": 0}, "after_login": "/"},
                  timeout=12 * 3600)
    assert len(session_files(csrf_app)) == 1 + 300 and store._threshold == 0
    answer = user.get("/")
    assert answer.status_code == 200 and "Hello, ana" in answer.get_data(as_text=True)


def test_only_expired_sessions_are_swept(tmp_path, monkeypatch):
    store = SessionFiles(str(tmp_path))
    store.set("old visitor", {"after_login": "/"}, timeout=60)
    store.set("login", {"token": {"access_token": "a"}}, timeout=12 * 3600)
    later = time.time() + 2 * 3600
    monkeypatch.setattr("portal.web.extensions.time.time", lambda: later)
    monkeypatch.setattr("cachelib.file.time", lambda: later)
    store.set("new visitor", {"after_login": "/"}, timeout=60)  # a write starts the sweep
    assert store.get("login") == {"token": {"access_token": "a"}}
    assert not os.path.exists(store._get_filename("old visitor"))
    assert os.path.exists(store._get_filename("new visitor"))


# --- (c) A login not yet finished is kept in a signed cookie, not on the server -------------------------

def test_a_thousand_anonymous_login_clicks_leave_no_session_file(csrf_app):
    client = csrf_app.test_client(use_cookies=False)
    for _ in range(1000):
        answer = client.get("/auth/login?next=/upload")
        assert answer.status_code == 302 and "state=" in answer.headers["Location"]
        assert not any(cookie.startswith("portal_session=") for cookie in answer.headers.getlist("Set-Cookie"))
    assert session_files(csrf_app) == []


def test_a_login_finishes_from_its_cookie_and_goes_back_where_it_started(csrf_app, repovizz2):
    client = csrf_app.test_client()
    location = client.get("/auth/login?next=/build").headers["Location"]
    cookie = client.get_cookie("portal_login", domain="portal.test", path="/auth/")
    assert cookie is not None and cookie.http_only
    answer = client.get(repovizz2.authorize(location))
    assert answer.status_code == 302 and answer.headers["Location"] == "/build"
    assert client.get_cookie("portal_login", domain="portal.test", path="/auth/") is None  # spent
    assert len(session_files(csrf_app)) == 1  # the login itself


@pytest.mark.parametrize("cookie", ["", "not signed", "eyJ4IjoxfQ.forged.signature"])
def test_a_login_state_cookie_that_is_not_ours_finishes_no_login(csrf_app, repovizz2, cookie):
    client = csrf_app.test_client()
    callback = repovizz2.authorize(client.get("/auth/login").headers["Location"])  # a real code and state
    client.set_cookie("portal_login", cookie, domain="portal.test", path="/auth/")
    answer = client.get(callback)
    assert answer.status_code == 400 and repovizz2.log == []
    assert session_files(csrf_app) == []
