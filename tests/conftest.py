"""Fixtures shared by every test package: a live repovizz2 sandbox for the whole session, and a proxy
in front of it that can misbehave on cue."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from sandbox.testing import LiveSandbox
from tests.faulty_proxy import FaultyProxy


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
