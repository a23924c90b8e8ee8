"""Login with repovizz2: the redirect, the callback, logout, and what may be a 'back to' target."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from portal import create_app
from portal.web.access import safe_next
from portal.rules.config import ConfigError
from tests.portal.samples import REPOVIZZ2


def test_login_redirects_with_state_and_pkce(client):
    page = client.get("/auth/login?next=/upload")
    assert page.status_code == 302
    target = urlsplit(page.headers["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{REPOVIZZ2}/oauth/authorize"
    query = parse_qs(target.query)
    assert query["response_type"] == ["code"]
    assert query["client_id"] == ["portal-id"]
    assert query["scope"] == ["basic"]
    assert query["redirect_uri"] == ["http://portal.test/auth/callback"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) >= 43
    assert query["state"][0]


def test_callback_exchanges_the_code_and_returns_to_the_page(client, repovizz2):
    callback = repovizz2.authorize(client.get("/auth/login?next=/upload").headers["Location"])
    page = client.get(callback)
    assert page.status_code == 302
    assert page.headers["Location"] == "/upload"
    assert [name for name, _, _ in repovizz2.log] == ["token", "user"]  # the code (its PKCE verifier checked)
    assert "code_verifier=" in repovizz2.calls_to("token")[0].body and repovizz2.codes == {}
    assert repovizz2.tokens_sent_to("user") == ["Bearer access-2"]
    with client.session_transaction() as session:
        assert session["user"]["username"] == "ana"
        assert session["token"]["access_token"] == "access-2" and session["token"]["refresh_token"] == "refresh-2"
    set_cookie = " ".join(page.headers.getlist("Set-Cookie"))
    assert "access_token" not in set_cookie and "HttpOnly" in set_cookie


def test_denied_consent_shows_a_clear_page(client):
    state = parse_qs(urlsplit(client.get("/auth/login").headers["Location"]).query)["state"][0]
    page = client.get(f"/auth/callback?error=access_denied&state={state}")
    assert page.status_code == 403
    assert "You did not allow the portal to use your repovizz2 account" in page.get_data(as_text=True)


def test_forged_state_is_refused(client, repovizz2):
    callback = repovizz2.authorize(client.get("/auth/login").headers["Location"])
    page = client.get(callback.replace("state=", "state=forged"))
    assert page.status_code == 400
    assert "Login with repovizz2 did not complete" in page.get_data(as_text=True)
    assert repovizz2.log == []


def test_a_code_repovizz2_refuses_is_a_page_not_a_login(client, repovizz2):
    callback = repovizz2.authorize(client.get("/auth/login").headers["Location"])
    repovizz2.codes.clear()  # the code was used already, or its time ran out
    page = client.get(callback)
    assert page.status_code == 400
    assert "Login with repovizz2 did not complete" in page.get_data(as_text=True)
    assert [name for name, _, _ in repovizz2.log] == ["token"]
    with client.session_transaction() as session:
        assert "token" not in session and "user" not in session


def test_a_code_exchange_answer_past_the_bound_is_left_unread_and_no_login(client, repovizz2):
    from portal.services.repovizz2_client import MAX_ANSWER_BYTES
    from tests.portal.fakes import MadeFile

    callback = repovizz2.authorize(client.get("/auth/login").headers["Location"])
    huge = MadeFile(MAX_ANSWER_BYTES + 10 * 1024 * 1024, byte=b"{")
    repovizz2.fail("token", 200, body=huge)
    page = client.get(callback)
    assert page.status_code == 502
    assert "repovizz2 answered the login with more than 32 MB" in page.get_data(as_text=True)
    (reader,) = huge.readers
    assert MAX_ANSWER_BYTES < reader.given <= MAX_ANSWER_BYTES + 1024 * 1024
    assert [name for name, _, _ in repovizz2.log] == ["token"]
    with client.session_transaction() as session:
        assert "token" not in session and "user" not in session


@pytest.mark.parametrize(("fault", "status", "says"), [
    ("timeout", 504, "repovizz2 did not answer the login in time; log in again"),
    ("unreachable", 503, f"could not connect to repovizz2 at {REPOVIZZ2}/oauth/token"),
    ("cut", 502, "the login&#39;s exchange with repovizz2 failed"),
])
def test_a_code_exchange_that_fails_on_the_way_is_a_page_and_no_login(client, repovizz2, fault, status, says):
    callback = repovizz2.authorize(client.get("/auth/login").headers["Location"])
    repovizz2.fail("token", fault)
    page = client.get(callback)
    assert page.status_code == status
    assert says in page.get_data(as_text=True)
    with client.session_transaction() as session:
        assert "token" not in session and "user" not in session


def test_logout_forgets_the_token(client, auth, repovizz2):
    auth.login()
    page = auth.logout()
    assert page.status_code == 200  # a page that says what happened, not a bare redirect
    assert "You are logged out of the portal" in page.get_data(as_text=True)
    with client.session_transaction() as session:
        assert "token" not in session
    assert client.get("/upload").status_code == 302


@pytest.mark.parametrize("unsafe_next", [
    "//evil.example", "https://evil.example/", "http:/evil.example", "javascript:alert(1)", "\\\\evil.example",
    "/\\evil.example", "evil.example", "", None, "/ok\r\nLocation: https://evil.example", " //evil.example",
])
def test_back_to_accepts_only_local_paths(unsafe_next):
    assert safe_next(unsafe_next) == "/"


@pytest.mark.parametrize("local", ["/", "/upload", "/datapacks/d-1?x=1"])
def test_back_to_keeps_local_paths(local):
    assert safe_next(local) == local


def test_login_ignores_a_hostile_next(client, repovizz2):
    page = client.get(repovizz2.authorize(client.get("/auth/login?next=//evil.example").headers["Location"]))
    assert page.status_code == 302 and page.headers["Location"] == "/"


@pytest.mark.parametrize(("env", "missing"), [
    ({"PORTAL_CLIENT_ID": "i", "PORTAL_CLIENT_SECRET": "s"}, "PORTAL_SECRET_KEY is not set"),
    ({"PORTAL_SECRET_KEY": "k", "PORTAL_CLIENT_ID": "i"}, "PORTAL_CLIENT_SECRET is not set"),
    ({}, "PORTAL_SECRET_KEY, PORTAL_CLIENT_ID, PORTAL_CLIENT_SECRET are not set"),
])
def test_refuses_to_start_without_secrets(monkeypatch, tmp_path, env, missing):
    monkeypatch.chdir(tmp_path)
    for name in ("PORTAL_SECRET_KEY", "PORTAL_CLIENT_ID", "PORTAL_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=missing):
        create_app()


def test_reads_settings_from_dotenv(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for name in ("PORTAL_SECRET_KEY", "PORTAL_CLIENT_ID", "PORTAL_CLIENT_SECRET", "PORTAL_REPOVIZZ2_URL"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / ".env").write_text("PORTAL_SECRET_KEY=k\nPORTAL_CLIENT_ID=i\nPORTAL_CLIENT_SECRET=s\n"
                                   "PORTAL_REPOVIZZ2_URL=http://repovizz2.example/\n")
    app = create_app()
    assert app.config["REPOVIZZ2_URL"] == "http://repovizz2.example"
    assert app.config["CLIENT_SECRET"] == "s"


def test_login_gives_a_new_session_id(client, repovizz2):
    """Session fixation: an id known (or planted) before login must not carry the login."""
    client.set_cookie("portal_session", "planted-before-login", domain="portal.test")
    callback = repovizz2.authorize(client.get("/auth/login?next=/upload").headers["Location"])
    before = client.get_cookie("portal_session", domain="portal.test").value
    assert client.get(callback).status_code == 302
    assert client.get_cookie("portal_session", domain="portal.test").value != before
    client.set_cookie("portal_session", before, domain="portal.test")
    assert client.get("/upload").status_code == 302  # the old id is not logged in


def test_a_forged_error_callback_does_not_log_the_user_out(client, auth):
    """Logging out takes a POST with a CSRF token; a link to the callback must not be a way around it."""
    auth.login()
    assert client.get("/auth/callback?error=access_denied&state=forged").status_code == 403
    with client.session_transaction() as session:
        assert session["token"]["access_token"] == "access-1"
