"""The calls to repovizz2 follow the proxies and CA bundle the environment sets, read once when the
portal starts rather than on every call."""
from __future__ import annotations

import pytest
import requests

from portal.services import tokens
from tests.portal.conftest import REPOVIZZ2


def make_app(app_factory, monkeypatch, **environment):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy",
                 "no_proxy", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return app_factory()


@pytest.fixture
def app_factory(tmp_path):
    from portal import create_app

    return lambda: create_app({"TESTING": True, "SECRET_KEY": "test", "REPOVIZZ2_URL": REPOVIZZ2,
                               "CLIENT_ID": "portal-id", "CLIENT_SECRET": "portal-secret",
                               "SESSION_DIR": str(tmp_path / "sessions")})


def client_session(app) -> requests.Session:
    with app.test_request_context("/"):
        from flask import g

        g.script_token = "script-token"
        return tokens.repovizz2().http


def test_the_environments_proxy_is_used(app_factory, monkeypatch):
    http = client_session(make_app(app_factory, monkeypatch, HTTP_PROXY="http://proxy.test:3128"))
    assert http.proxies.get("http") == "http://proxy.test:3128"
    assert http.trust_env is False  # not looked up again on each call
    assert http.verify is True


def test_no_proxy_for_repovizz2_is_honoured(app_factory, monkeypatch):
    http = client_session(make_app(app_factory, monkeypatch, HTTP_PROXY="http://proxy.test:3128",
                                   NO_PROXY="repovizz2.test"))
    assert "http" not in http.proxies


def test_the_environments_ca_bundle_is_used(app_factory, monkeypatch, tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    http = client_session(make_app(app_factory, monkeypatch, REQUESTS_CA_BUNDLE=str(bundle)))
    assert http.verify == str(bundle)


def test_a_call_goes_through_the_proxy(app_factory, monkeypatch):
    """What requests itself does with those settings: the request is sent to the proxy."""
    app = make_app(app_factory, monkeypatch, HTTP_PROXY="http://proxy.test:3128")
    http = client_session(app)
    seen = []

    def send(self, request, **kwargs):
        seen.append(kwargs.get("proxies"))
        raise requests.ConnectionError("stop here")

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)
    with pytest.raises(requests.ConnectionError):
        http.get(REPOVIZZ2 + "/api/v1.0/user", timeout=1)
    assert seen[0].get("http") == "http://proxy.test:3128"
