"""Benchmark: the home page (`GET /`, its first page) for a user with many datapacks.

For each latency (the sandbox's `--latency-ms`), starts a sandbox and the portal under gunicorn
(gthread workers), logs a user in through the sandbox's pages, then gives that user 10, 200 and
1,000 datapacks (created straight through the sandbox's API with an issued token, several at once)
and times the home page a few times at each count: median and spread (min – max) are printed, for
the first page and, when there are several, for the last one (its "Next" link followed to the end), and
a search by name that matches nothing (it looks through at most ten pages' worth per request).
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

from benchmarks.bench_site import BenchSite  # noqa: E402
from tests.live_portal import log_in  # noqa: E402

ROW = re.compile(r'<td data-label="Name"')
LAST_PAGE = re.compile(r"page \d+ of (\d+)")


def structure(index: int) -> dict:
    """A small datapack document: a container with two data nodes, one file of each still pending."""
    return {"info": {"name": f"home bench {index}", "author": "bench", "description": "", "keywords": []},
            "children": [{"class": "container", "name": "Take", "text": "", "children": [
                {"class": "data", "name": "Video", "text": "", "link": "take/video.mp4", "mime": "video/mp4"},
                {"class": "data", "name": "Notes", "text": "", "link": "notes.csv", "mime": "text/csv"}]}]}


class Setup(BenchSite):
    """A sandbox with simulated latency, the portal under gunicorn, one user logged in on both."""

    def __init__(self, workdir: Path, latency_ms: int, workers: int, threads: int, env: dict):
        super().__init__(workdir, workers, threads, latency_ms, env)
        self.created = 0
        self.portal = requests.Session()
        try:
            log_in(self.portal, self.gunicorn.url, "bench", "bench")
        except BaseException:
            self.close()
            raise

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

    def home(self, page: int = 1, query: str = "") -> tuple[float, int, int]:
        """Seconds for one `GET /?page=…` (or a search, `/?q=…`), the number of datapacks it lists and
        the number of pages."""
        started = time.perf_counter()
        params = {"q": query} if query else {"page": page} if page > 1 else None
        answer = self.portal.get(self.gunicorn.url + "/", params=params, timeout=600, allow_redirects=False)
        elapsed = time.perf_counter() - started
        answer.raise_for_status()
        if answer.status_code != 200 or "Hello, bench" not in answer.text:
            raise RuntimeError(f"page {page} of the home page did not list the logged-in user's datapacks")
        pages = LAST_PAGE.search(answer.text)
        return elapsed, len(ROW.findall(answer.text)), int(pages.group(1)) if pages else 1


def timed(load, runs: int) -> tuple[str, str, int]:
    """Median and spread of `runs` timed calls of `load` (after one untimed), and what it listed."""
    load()  # untimed: opens the worker's connections, as a user's earlier pages would
    times, listed = [], 0
    for _ in range(runs):
        seconds, listed, _pages = load()
        times.append(seconds)
    return f"{statistics.median(times):.3f} s", f"{min(times):.3f} – {max(times):.3f} s", listed


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
                    median, spread, listed = timed(setup.home, args.runs)
                    pages = setup.home()[2]
                    if pages > 1:
                        last_median, last_spread, last_listed = timed(lambda: setup.home(pages), args.runs)
                        last = (last_median, last_spread, f"{last_listed} (page {pages})")
                    else:
                        last = ("–", "–", "–")
                    # A search no name matches looks through the most one request may (10 pages' worth).
                    search_median, _, _ = timed(lambda: setup.home(query="no such name"), args.runs)
                    rows.append((str(count), f"{latency} ms", median, spread, str(listed), *last, search_median))
                    print(f"{count} datapacks, {latency} ms: first page median {median} over {args.runs} runs",
                          file=sys.stderr, flush=True)
            finally:
                setup.close()

    print(f"\nmachine: {platform.machine()}, {psutil.cpu_count()} cores, "
          f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}; "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"portal: gunicorn gthread, {args.workers} workers x {args.threads} threads; "
          f"{' '.join(f'{k}={v}' for k, v in env.items()) or 'default settings'}; sandbox: threaded Werkzeug\n")
    header = ("datapacks", "latency", f"first page (median of {args.runs})", "spread (min – max)", "listed",
              "last page (median)", "spread (min – max)", "listed", "search, no match (median)")
    widths = [max(len(row[i]) for row in rows + [header]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths)) + " |")


if __name__ == "__main__":
    main()
