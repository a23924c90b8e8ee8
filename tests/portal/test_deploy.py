"""Running as a lab would: behind a proxy at a sub-path, over https, with a log line per upload."""
from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import pytest

from portal import create_app
from tests.portal.samples import GOOD_FILES, doc_file, files

PROXY_HEADERS = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "lab.example.org", "X-Forwarded-Prefix": "/portal",
                 "X-Forwarded-For": "10.0.0.7"}


@pytest.fixture
def proxied(app):
    app.config["BEHIND_PROXY"] = True
    proxied_app = create_app({**app.config, "SERVER_NAME": None})
    return proxied_app.test_client()


def test_links_and_redirects_carry_the_prefix(proxied):
    page = proxied.get("/", headers=PROXY_HEADERS).get_data(as_text=True)
    assert 'href="/portal/auth/login"' in page
    assert 'href="/portal/static/portal.css"' in page
    answer = proxied.get("/upload", headers=PROXY_HEADERS)
    assert answer.headers["Location"] == "/portal/auth/login?next=/portal/upload"


def test_oauth_callback_is_the_public_https_url(proxied):
    answer = proxied.get("/auth/login", headers=PROXY_HEADERS)
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["redirect_uri"] == ["https://lab.example.org/portal/auth/callback"]


def test_session_cookie_is_secure_over_https(proxied):
    answer = proxied.get("/auth/login", headers=PROXY_HEADERS)
    cookie = answer.headers["Set-Cookie"]
    assert "; Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Path=/portal" in cookie or "Path=/" in cookie


def test_cookie_not_secure_over_plain_http(client):
    assert "; Secure" not in client.get("/auth/login").headers["Set-Cookie"]


def test_without_proxy_mode_forwarded_headers_are_ignored(client):
    answer = client.get("/auth/login", headers=PROXY_HEADERS)
    assert "evil" not in answer.headers["Location"]
    assert parse_qs(urlsplit(answer.headers["Location"]).query)["redirect_uri"] == ["http://portal.test/auth/callback"]


def test_one_log_line_per_upload_and_never_a_token(client, auth, repovizz2, caplog):
    auth.login()
    with caplog.at_level(logging.DEBUG):
        client.post("/upload", data={"document": doc_file(), "files": files(*GOOD_FILES)},
                    content_type="multipart/form-data")
    lines = [r.getMessage() for r in caplog.records if r.name == "portal.services.upload_pipeline"]
    assert len(lines) == 2
    assert any("user=ana" in line and "file=emg%202.json" in line and "size=9" in line and "outcome=ok" in line
               for line in lines)
    everything = "\n".join(r.getMessage() for r in caplog.records)
    assert "access-1" not in everything and "refresh-1" not in everything


@pytest.mark.parametrize(("name", "value", "message"), [
    ("MAX_FILES", "many", "PORTAL_MAX_FILES must be a whole number, not 'many'"),
    ("MAX_FILES", "2.5", "PORTAL_MAX_FILES must be a whole number, not '2.5'"),
    ("READ_TIMEOUT", "slow", "PORTAL_READ_TIMEOUT must be a number, not 'slow'"),
])
def test_a_setting_that_is_not_a_number_is_named(name, value, message):
    from portal.rules.config import ConfigError, settings_from_env

    with pytest.raises(ConfigError, match=message):
        settings_from_env({"PORTAL_" + name: value})


def test_numeric_settings_are_read():
    from portal.rules.config import settings_from_env

    settings = settings_from_env({"PORTAL_MAX_FILES": "7", "PORTAL_READ_TIMEOUT": "2.5"})
    assert settings["MAX_FILES"] == 7 and settings["READ_TIMEOUT"] == 2.5


def test_healthz_says_repovizz2_answers_whatever_the_status(client, repovizz2):
    answer = client.get("/healthz")  # repovizz2 answers a call without a token with its 401
    assert answer.status_code == 200
    assert answer.json == {"portal": "ok", "repovizz2": "ok"}
    assert [name for name, _, _ in repovizz2.log] == ["user"]
    assert "Authorization" not in repovizz2.calls_to("user")[0].headers


def test_healthz_says_when_repovizz2_cannot_be_reached(client, repovizz2):
    repovizz2.fail("user", "unreachable")
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json == {"portal": "ok", "repovizz2": "unreachable"}
