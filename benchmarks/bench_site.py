"""What the benchmarks start: a sandbox (with simulated latency) and the portal under gunicorn, with a user
"bench" (password "bench"), a bearer token of theirs for the sandbox's API and their owner id."""
from __future__ import annotations

from pathlib import Path

import requests

from sandbox.testing import LiveSandbox
from tests.live_portal import GunicornPortal


class BenchSite:
    """Everything is stopped by `close`, and already when starting fails half-way."""

    def __init__(self, workdir: Path, workers: int, threads: int, latency_ms: int = 0, env: dict | None = None):
        self.sandbox = LiveSandbox(workdir / f"sandbox-{latency_ms}", latency_ms=latency_ms).start()
        self.sandbox.add_user("bench", "bench")
        self.gunicorn = None
        try:
            self.gunicorn = GunicornPortal(self.sandbox, str(workdir / f"sessions-{latency_ms}"), workers, threads,
                                           env=env)
            self.token = self.sandbox.issue_token("bench")
            self.api = requests.Session()
            self.api.headers["Authorization"] = f"Bearer {self.token}"
            self.owner = self.api.get(self.sandbox.url + "/api/v1.0/user", timeout=60).json()["id"]
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.gunicorn is not None:
            self.gunicorn.stop()
        self.sandbox.stop()
