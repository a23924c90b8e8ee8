"""Benchmark: the home page (`GET /`, its first page) for a user with many datapacks.

For each latency (the sandbox's `--latency-ms`), starts a sandbox and the portal under gunicorn
(gthread workers), logs a user in through the sandbox's pages, then gives that user 10, 200 and
1,000 datapacks (created straight through the sandbox's API with an issued token, several at once)
and times the home page a few times at each count: median and spread (min – max) are printed.
Not part of `make test`: run `make bench-home` (or `python benchmarks/home_page.py --help`).
"""
from __future__ import annotations

import argparse
import concurrent.futures
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sandbox.testing import LiveSandbox  # noqa: E402
from tests.live_portal import GunicornPortal, log_in  # noqa: E402

ROW = re.compile(r'<td data-label="Name"')


def structure(index: int) -> dict:
    """A small datapack document: a container with two data nodes, one file of each still pending."""
    return {"info": {"name": f"home bench {index}", "author": "bench", "description": "", "keywords": []},
            "children": [{"class": "container", "name": "Take", "text": "", "children": [
                {"class": "data", "name": "Video", "text": "", "link": "take/video.mp4", "mime": "video/mp4"},
                {"class": "data", "name": "Notes", "text": "", "link": "notes.csv", "mime": "text/csv"}]}]}


class Setup:
    """A sandbox with simulated latency, the portal under gunicorn, one user logged in on both."""

    def __init__(self, workdir: Path, latency_ms: int, workers: int, threads: int, env: dict):
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
            self.created = 0
            self.portal = requests.Session()
            log_in(self.portal, self.gunicorn.url, "bench", "bench")
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.gunicorn is not None:
            self.gunicorn.stop()
        self.sandbox.stop()

    def grow_to(self, count: int, parallel: int = 16) -> None:
        """Create datapacks straight at the sandbox until the user has `count` of them."""
        def create(index: int) -> None:
            answer = requests.post(self.sandbox.url + "/api/v1.0/datapacks", timeout=60,
                                   headers={"Authorization": f"Bearer {self.token}"},
                                   json={"name": f"home bench {index:05d}", "owner": self.owner,
                                         "structure": structure(index)})
            answer.raise_for_status()

        with concurrent.futures.ThreadPoolExecutor(parallel) as pool:
            list(pool.map(create, range(self.created, count)))
        self.created = max(self.created, count)
        listed = len(self.api.get(self.sandbox.url + "/api/v1.0/user", timeout=60).json()["datapacks"])
        assert listed == count, f"the sandbox lists {listed} datapacks, expected {count}"

    def home(self) -> tuple[float, int]:
        """Seconds for one `GET /` and the number of datapacks the page lists."""
        started = time.perf_counter()
        page = self.portal.get(self.gunicorn.url + "/", timeout=600)
        elapsed = time.perf_counter() - started
        page.raise_for_status()
        if "Hello, bench" not in page.text:
            raise RuntimeError("the home page did not show the logged-in user's datapacks")
        return elapsed, len(ROW.findall(page.text))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", type=int, nargs="+", default=[10, 200, 1000], help="datapacks of the user")
    parser.add_argument("--latency-ms", type=int, nargs="+", default=[0, 50])
    parser.add_argument("--runs", type=int, default=5, help="timed page loads per case (after one untimed)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--fetches", type=int, default=None,
                        help="PORTAL_HOME_FETCHES for the portal (default: the portal's own default)")
    parser.add_argument("--page-size", type=int, default=None,
                        help="PORTAL_HOME_PAGE_SIZE for the portal (default: the portal's own default)")
    args = parser.parse_args()

    env = {}
    if args.fetches is not None:
        env["PORTAL_HOME_FETCHES"] = str(args.fetches)
    if args.page_size is not None:
        env["PORTAL_HOME_PAGE_SIZE"] = str(args.page_size)
    rows = []
    with tempfile.TemporaryDirectory(prefix="portal-bench-home-") as tmp:
        for latency in args.latency_ms:
            setup = Setup(Path(tmp), latency, args.workers, args.threads, env)
            try:
                for count in sorted(args.counts):
                    setup.grow_to(count)
                    setup.home()  # untimed: opens the worker's connections, as a user's earlier pages would
                    times, listed = [], 0
                    for _ in range(args.runs):
                        seconds, listed = setup.home()
                        times.append(seconds)
                    rows.append((str(count), f"{latency} ms", f"{statistics.median(times):.3f} s",
                                 f"{min(times):.3f} – {max(times):.3f} s", str(listed)))
                    print(f"{count} datapacks, {latency} ms: median {statistics.median(times):.3f} s "
                          f"over {args.runs} runs", file=sys.stderr, flush=True)
            finally:
                setup.close()

    print(f"\nmachine: {platform.machine()}, {psutil.cpu_count()} cores, "
          f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}; "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"portal: gunicorn gthread, {args.workers} workers x {args.threads} threads; "
          f"{' '.join(f'{k}={v}' for k, v in env.items()) or 'default settings'}; sandbox: threaded Werkzeug\n")
    header = ("datapacks", "latency", f"first page (median of {args.runs})", "spread (min – max)", "listed")
    widths = [max(len(row[i]) for row in rows + [header]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths)) + " |")


if __name__ == "__main__":
    main()
