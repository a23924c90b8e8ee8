"""Callers of the shared sandbox: each test module gets its own two users."""
from __future__ import annotations

import pytest

from .helpers import make_caller


@pytest.fixture(scope="module")
def alice(sandbox):
    return make_caller(sandbox)


@pytest.fixture(scope="module")
def bob(sandbox):
    return make_caller(sandbox)
