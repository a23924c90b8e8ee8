"""Fixtures shared by every test package: a live repovizz2 sandbox for the whole session, and a proxy
in front of it that can misbehave on cue."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from sandbox.testing import LiveSandbox
from tests.faulty_proxy import FaultyProxy


# Modules that drive live servers, nginx or a browser: few tests, most of the time. Run first, so that on
# several workers the many quick unit tests fill in around them instead of leaving one worker alone at the end.
SLOW_FIRST = ("tests/browser/", "tests/deploy/", "tests/integration/")


def pytest_addoption(parser):
    parser.addoption("--pictures", action="store_true",
                     help="keep pictures of the states the browser tests reach in test-artifacts/")


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: not item.nodeid.startswith(SLOW_FIRST))


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    """A running `python -m sandbox serve` on a free loopback port (see sandbox/testing.py)."""
    with LiveSandbox(tmp_path_factory.mktemp("sandbox")) as live:
        yield live


@pytest.fixture(scope="module")
def proxy(sandbox):
    """A FaultyProxy (tests/faulty_proxy.py) in front of the sandbox, one per test module."""
    live = FaultyProxy(urlsplit(sandbox.url).port)
    yield live
    live.stop()
