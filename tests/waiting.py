"""Waiting for a state another process reaches on its own, never for a span of time."""
from __future__ import annotations

import time
from typing import Callable

POLL_SECONDS = 0.02


def wait_until(reached: Callable[[], bool], what: str, within: float = 30.0) -> None:
    """Return as soon as `reached()` is true; fail naming `what` if it is still false after `within` seconds."""
    deadline = time.monotonic() + within
    while not reached():
        if time.monotonic() > deadline:
            raise AssertionError(f"not {what} after {within:g} s")
        time.sleep(POLL_SECONDS)
