"""Login and logout on a shared computer: repovizz2 asked for its login page again, stale OAuth states
pruned, the tokens revoked at repovizz2 (RFC 7009) on logout, and a page that says what still holds."""
from __future__ import annotations

import base64
import logging
import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from itsdangerous import URLSafeTimedSerializer

from portal import create_app
from portal.services.login_state import LOGIN_COOKIE
from tests.portal.fakes import CLIENT
from tests.portal.samples import REPOVIZZ2, log_in, session_files

REVOKE = f"{REPOVIZZ2}/oauth/revoke"


def state_of(answer) -> str:
    return parse_qs(urlsplit(answer.headers["Location"]).query)["state"][0]


def csrf_token_of(page) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page.get_data(as_text=True)).group(1)


# --- Login ------------------------------------------------------------------------------------------

def test_login_asks_repovizz2_to_show_its_login_again(client):
    query = parse_qs(urlsplit(client.get("/auth/login").headers["Location"]).query)
    assert query["prompt"] == ["login"]


def test_only_the_newest_login_states_are_kept(client, repovizz2):
    redirects = [client.get("/auth/login") for _ in range(10)]
    states = [state_of(answer) for answer in redirects]
    cookie = client.get_cookie(LOGIN_COOKIE, domain="portal.test", path="/auth/")
    kept = URLSafeTimedSerializer("test", salt="portal login state").loads(cookie.value)
    assert sorted(kept) == sorted(states[-3:])
    # the newest one still completes; the first click's state is gone
    assert client.get(repovizz2.authorize(redirects[0].headers["Location"])).status_code == 400
    assert repovizz2.log == []  # its code was never exchanged
    assert client.get(repovizz2.authorize(redirects[-1].headers["Location"])).status_code == 302
    assert [name for name, _, _ in repovizz2.log] == ["token", "user"]


def test_a_login_is_stamped_with_when_it_was_made(client, repovizz2):
    assert client.get(repovizz2.authorize(client.get("/auth/login").headers["Location"])).status_code == 302
    with client.session_transaction() as session:
        assert abs(session["login_at"] - time.time()) < 5


# --- Logout -----------------------------------------------------------------------------------------

def test_logout_revokes_both_tokens_at_repovizz2_and_says_so(app, client, auth, repovizz2, caplog):
    auth.login()
    caplog.set_level(logging.INFO)
    page = client.post("/auth/logout")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "You are logged out of the portal" in text
    assert "was revoked at repovizz2" in text
    assert "repovizz2 itself may still have you logged in" in text
    assert f'href="{REPOVIZZ2}/logout"' in text
    assert page.headers["Cache-Control"] == "no-store"
    assert [name for name, _, _ in repovizz2.log] == ["revoke", "revoke"]
    sent = [parse_qs(request.body) for request in repovizz2.calls_to("revoke")]
    assert sent == [{"token": ["refresh-1"], "token_type_hint": ["refresh_token"]},
                    {"token": ["access-1"], "token_type_hint": ["access_token"]}]
    credentials = base64.b64encode(b"portal-id:portal-secret").decode()
    assert repovizz2.tokens_sent_to("revoke") == [f"Basic {credentials}"] * 2
    assert repovizz2.grants == []  # repovizz2 takes neither token any more
    with client.session_transaction() as session:
        assert "token" not in session and "user" not in session
    assert session_files(app) == []
    assert "access-1" not in text and "refresh-1" not in text
    assert not any("access-1" in r.getMessage() or "refresh-1" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(("fault", "says"), [
    ({"status": 404, "error": "not found"}, "repovizz2 offers no way to revoke a token"),
    ({"status": 405, "body": ""}, "repovizz2 offers no way to revoke a token"),
    ({"status": 400, "error": "unsupported_token_type"}, "repovizz2 does not revoke this kind of token"),
    ({"status": 503, "body": ""}, "repovizz2 was unavailable"),
    ({"status": 401, "error": "invalid_client"}, "repovizz2 answered HTTP 401 (invalid_client)"),
    ({"status": 500, "body": "<html>oops"}, "repovizz2 answered HTTP 500"),
    ({"status": "unreachable"}, "repovizz2 did not answer"),
    ({"status": "timeout"}, "repovizz2 did not answer"),
])
def test_logout_without_revocation_still_logs_out_and_says_the_token_lives_on(app, client, auth, repovizz2, fault,
                                                                               says):
    repovizz2.fail("revoke", **fault)
    auth.login(expires_in=1800)
    page = client.post("/auth/logout")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "You are logged out of the portal" in text
    assert "could not revoke" in text and says in text
    assert "accepts it until it expires" in text and " UTC on " in text
    assert len(repovizz2.log) == 1  # one refusal is enough to know
    with client.session_transaction() as session:
        assert "token" not in session
    assert session_files(app) == []
    assert client.get("/upload").status_code == 302


def test_revocation_and_repovizz2_logout_urls_are_settings(tmp_path):
    base = {"TESTING": True, "SECRET_KEY": "k", "CLIENT_ID": "i", "CLIENT_SECRET": "s", "SESSION_DIR": str(tmp_path)}
    app = create_app({**base, "REPOVIZZ2_URL": "https://repovizz2.example/"})
    assert app.config["REVOKE_URL"] == "https://repovizz2.example/oauth/revoke"
    assert app.config["REPOVIZZ2_LOGOUT_URL"] == "https://repovizz2.example/logout"
    from portal.rules.config import settings_from_env

    settings = settings_from_env({"PORTAL_REVOKE_URL": "https://id.example/revoke",
                                  "PORTAL_REPOVIZZ2_LOGOUT_URL": "https://id.example/logout?next=/"})
    app = create_app({**base, "REPOVIZZ2_URL": "https://repovizz2.example",
                      "REVOKE_URL": settings["REVOKE_URL"], "REPOVIZZ2_LOGOUT_URL": settings["REPOVIZZ2_LOGOUT_URL"]})
    assert app.config["REVOKE_URL"] == "https://id.example/revoke"
    assert app.config["REPOVIZZ2_LOGOUT_URL"] == "https://id.example/logout?next=/"


def test_the_revocation_url_setting_is_used(tmp_path, repovizz2):
    client_id, client_secret = CLIENT
    app = create_app({"TESTING": True, "SECRET_KEY": "k", "CLIENT_ID": client_id, "CLIENT_SECRET": client_secret,
                      "SESSION_DIR": str(tmp_path), "REPOVIZZ2_URL": REPOVIZZ2, "WTF_CSRF_ENABLED": False,
                      "REVOKE_URL": "https://id.example/revoke", "REPOVIZZ2_LOGOUT_URL": "https://id.example/bye"})
    repovizz2.serve_revocation_at("https://id.example/revoke")
    client = app.test_client()
    log_in(client)
    text = client.post("/auth/logout").get_data(as_text=True)
    assert [request.url for request in repovizz2.calls_to("revoke")] == ["https://id.example/revoke"] * 2
    assert "was revoked at repovizz2" in text and 'href="https://id.example/bye"' in text
    assert repovizz2.grants == []


def test_logout_of_a_login_needs_the_csrf_token(csrf_app, repovizz2):
    client = csrf_app.test_client()
    log_in(client)
    assert client.post("/auth/logout").status_code == 400  # another site cannot log the user out
    assert repovizz2.log == []
    with client.session_transaction() as session:
        assert session["token"]["access_token"] == "access-1"
    token = csrf_token_of(client.get("/"))
    assert client.post("/auth/logout", data={"csrf_token": token}).status_code == 200
    assert [name for name, _, _ in repovizz2.log] == ["user", "revoke", "revoke"]
    assert [request.url for request in repovizz2.calls_to("revoke")] == [REVOKE, REVOKE]
    assert session_files(csrf_app) == []


def test_a_stale_logout_form_gets_a_page_not_form_expired(csrf_app, repovizz2):
    """The login ended (or the user logged out in another tab): the form's token is worthless, and
    there is nothing to revoke; the page says so, and stores nothing."""
    answer = csrf_app.test_client().post("/auth/logout", data={"csrf_token": "from-a-page-of-a-login-that-ended"})
    assert answer.status_code == 200
    text = answer.get_data(as_text=True)
    assert "You are not logged in to the portal" in text and "could not revoke" not in text
    assert repovizz2.log == []
    assert "Set-Cookie" not in answer.headers and session_files(csrf_app) == []


def test_only_a_login_is_stored_and_logout_removes_it(csrf_app, repovizz2):
    client = csrf_app.test_client()
    client.get("/auth/login")  # the OAuth state and PKCE verifier live in a signed cookie
    assert session_files(csrf_app) == []
    log_in(client)
    token = csrf_token_of(client.get("/"))
    assert client.post("/auth/logout", data={"csrf_token": token}).status_code == 200
    assert session_files(csrf_app) == []
