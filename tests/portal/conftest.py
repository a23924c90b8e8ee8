"""Fixtures for the portal's unit tests: an app on test config, a client, and an `auth` helper.

repovizz2 is faked with `responses` at REPOVIZZ2 (nothing leaves the process).
"""
from __future__ import annotations

import os
import time

import pytest
import responses

from portal import create_app
from portal.services.script_logins import AcceptedTokens
from tests.portal.fakes import FakeRepovizz2
from tests.portal.samples import REPOVIZZ2, USER, seed

TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test",
    "REPOVIZZ2_URL": REPOVIZZ2,
    "CLIENT_ID": "portal-id",
    "CLIENT_SECRET": "portal-secret",
    "SERVER_NAME": "portal.test",
}


def _reused(app):
    """`app` for one test: what the test changes in its config, the sessions it stored and the script
    tokens it had accepted (the app's only other memory between requests) are gone after it."""
    config = dict(app.config)
    yield app
    app.config.clear()
    app.config.update(config)
    app.extensions["accepted_tokens"] = AcceptedTokens()
    folder = app.config["SESSION_DIR"]
    for name in os.listdir(folder) if os.path.isdir(folder) else ():
        os.remove(os.path.join(folder, name))


@pytest.fixture(scope="session")
def _built_app(tmp_path_factory):
    """The portal built once per test process (building it costs tens of milliseconds, ~900 tests use it)."""
    return create_app({**TEST_CONFIG, "SESSION_DIR": str(tmp_path_factory.mktemp("sessions")),
                       "WTF_CSRF_ENABLED": False})


@pytest.fixture(scope="session")
def _built_csrf_app(tmp_path_factory):
    return create_app({**TEST_CONFIG, "SESSION_DIR": str(tmp_path_factory.mktemp("csrf-sessions"))})


@pytest.fixture
def app(_built_app):
    """The portal on test config, CSRF checks off; a test may change its config (undone after it)."""
    yield from _reused(_built_app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def api():
    """The faked repovizz2; any call a test did not expect fails the test."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def repovizz2(api):
    """The in-memory repovizz2 (tests/portal/fakes.py) on top of `api`."""
    return FakeRepovizz2(api)


@pytest.fixture
def csrf_app(_built_csrf_app):
    """The portal as deployed: CSRF checks on (the conftest's `app` turns them off)."""
    yield from _reused(_built_csrf_app)


@pytest.fixture
def datapack_id(repovizz2):
    """An uploaded datapack in the in-memory repovizz2 (samples.STORED_DOCUMENT)."""
    return seed(repovizz2)


class AuthActions:
    def __init__(self, client):
        self.client = client

    def login(self, expires_in=3600, refresh_token="refresh-1", user=None):
        user = user or USER
        with self.client.session_transaction() as session:
            session["token"] = {"access_token": "access-1", "token_type": "Bearer", "refresh_token": refresh_token,
                                "expires_at": int(time.time()) + expires_in}
            session["user"] = {"id": user["id"], "username": user["username"]}

    def logout(self):
        return self.client.post("/auth/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)
