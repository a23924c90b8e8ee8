"""Fixtures for the portal's unit tests: an app on test config, a client, and an `auth` helper.

repovizz2 is faked with `responses` at REPOVIZZ2 (nothing leaves the process).
"""
from __future__ import annotations

import time

import pytest
import responses

from portal import create_app
from tests.portal.fakes import FakeRepovizz2
from tests.portal.samples import REPOVIZZ2, USER, seed

@pytest.fixture
def app(tmp_path):
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test",
        "REPOVIZZ2_URL": REPOVIZZ2,
        "CLIENT_ID": "portal-id",
        "CLIENT_SECRET": "portal-secret",
        "SESSION_DIR": str(tmp_path / "sessions"),
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": "portal.test",
    })
    yield app


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
def csrf_app(tmp_path):
    """The portal as deployed: CSRF checks on (the conftest's `app` turns them off)."""
    return create_app({"TESTING": True, "SECRET_KEY": "test", "REPOVIZZ2_URL": REPOVIZZ2, "CLIENT_ID": "portal-id",
                       "CLIENT_SECRET": "portal-secret", "SESSION_DIR": str(tmp_path / "sessions"),
                       "SERVER_NAME": "portal.test"})


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
