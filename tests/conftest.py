"""Fixtures shared by every test package: a live repovizz2 sandbox for the whole session."""
from __future__ import annotations

import pytest

from sandbox.testing import LiveSandbox


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    """A running `python -m sandbox serve` on a free loopback port (see sandbox/testing.py)."""
    with LiveSandbox(tmp_path_factory.mktemp("sandbox")) as live:
        yield live
