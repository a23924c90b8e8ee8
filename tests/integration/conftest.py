"""The portal, served for real, against the live sandbox of tests/conftest.py."""
from __future__ import annotations

import itertools

import pytest
import requests

from tests.live_portal import GunicornPortal, LivePortal, log_in

_names = itertools.count()


@pytest.fixture(scope="module")
def portal(sandbox, tmp_path_factory):
    live = LivePortal(sandbox, str(tmp_path_factory.mktemp("sessions")), WTF_CSRF_ENABLED=True)
    yield live
    live.stop()


@pytest.fixture
def user(sandbox):
    name = f"user{next(_names)}"
    sandbox.add_user(name, "secret pw")
    return name


@pytest.fixture
def browser_session(portal, user):
    """A requests session logged in to the portal through the sandbox's real login and consent pages."""
    http = requests.Session()
    log_in(http, portal.url, user, "secret pw")
    yield http
    http.close()


@pytest.fixture(scope="module")
def gunicorn_portal(sandbox, tmp_path_factory):
    live = GunicornPortal(sandbox, str(tmp_path_factory.mktemp("gunicorn-sessions")))
    yield live
    live.stop()
