"""Load: N simulated users at once, each logging in, browsing, and uploading a datapack through the portal.

Loopback only, bounded in count and time. Every stored file is fetched back from the sandbox and
compared byte for byte with what that user sent. Prints successes, failures, page latency
percentiles and total upload throughput. Run: `python benchmarks/load.py --help`.

`--hostile` (`make load-hostile`): the same honest users, but through the deployment as production
runs it — Debian's nginx with docs/nginx-portal.conf (started as tests/live_nginx.py starts it, only
the addresses and the certificate changed) in front of gunicorn — while attackers run at the same
time (see benchmarks/hostile.py): slow clients (silent after part of the header, header dribbled,
logged-in bodies that stall) and anonymous ones (cookieless page views in a tight loop, large
multipart POSTs to /upload, large PUTs). It prints what the attackers got, the session files made by
anonymous traffic and the temporary files seen on disk; it exits 1 when an honest user failed or
anonymous traffic left a session or a temporary file.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.run import Setup, document  # noqa: E402
from tests.live_portal import log_in  # noqa: E402

# Behind nginx each honest user connects from a loopback address of its own (127.0.1.<n>), as real
# users come from their own addresses: nginx limits the request bodies in flight per address.
HONEST_ADDRESS = "127.0.1.{}"

PAGE_TIMEOUT = 30
UPLOAD_TIMEOUT = 300


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.page_seconds: list[float] = []

    def get(self, http: requests.Session, url: str) -> requests.Response:
        started = time.perf_counter()
        answer = http.get(url, timeout=PAGE_TIMEOUT)
        with self.lock:
            self.page_seconds.append(time.perf_counter() - started)
        answer.raise_for_status()
        return answer


class FromAddress(requests.adapters.HTTPAdapter):
    """Connections made from a given loopback address."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def browser(setup, address: str | None = None) -> requests.Session:
    """A client of `setup`: behind nginx it trusts nginx's certificate and connects from `address`."""
    http = requests.Session()
    nginx = getattr(setup, "nginx", None)
    if nginx is not None:
        http.trust_env = False  # REQUESTS_CA_BUNDLE in the environment would win over `verify`
        http.verify = str(nginx.cert)
    if address:
        for scheme in ("http://", "https://"):
            http.mount(scheme, FromAddress(address))
    return http


def one_user(setup: Setup, recorder: Recorder, index: int, files: int, file_mib: int) -> dict:
    """Log in, browse, upload one datapack through the JSON + PUT path, browse it; check every byte."""
    name = f"load{index}"
    setup.sandbox.add_user(name, "pw")
    behind_nginx = getattr(setup, "nginx", None) is not None
    http = browser(setup, HONEST_ADDRESS.format(index + 1) if behind_nginx else None)
    log_in(http, setup.portal_url, name, "pw", next_path=getattr(setup, "prefix", "") + "/")
    if behind_nginx:
        setup.logins.append(name)
    origin = getattr(setup, "origin", setup.portal_url)  # upload URLs carry the sub-path already
    recorder.get(http, setup.portal_url + "/")
    page = recorder.get(http, setup.portal_url + "/upload")
    http.headers["X-CSRFToken"] = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)

    blobs = {f"u{index}-f{i}.bin": os.urandom(file_mib * 1024 * 1024) for i in range(files)}
    answer = http.post(setup.portal_url + "/api/datapacks", timeout=PAGE_TIMEOUT,
                       json={"document": document(list(blobs)),
                             "files": [{"path": link, "size": len(data)} for link, data in blobs.items()]})
    answer.raise_for_status()
    created = answer.json()
    refs = {}
    for upload in created["uploads"]:
        sent = http.put(origin + upload["url"], data=blobs[upload["link"]], timeout=UPLOAD_TIMEOUT,
                        headers={"Content-Type": "application/octet-stream"})
        sent.raise_for_status()
        refs[upload["link"]] = sent.json()["ref"]
    page = recorder.get(http, f"{setup.portal_url}/datapacks/{created['datapack_id']}")
    if "Every file of this datapack is in repovizz2" not in page.text:
        raise AssertionError(f"{name}: the datapack page does not show the datapack complete")
    recorder.get(http, setup.portal_url + "/")

    token = setup.sandbox.issue_token(name)
    for link, ref in refs.items():
        stored = requests.get(f"{setup.sandbox.url}/api/v1.0/datapacks/{created['datapack_id']}/content/"
                              f"{ref.removeprefix('repovizz:')}", headers={"Authorization": f"Bearer {token}"},
                              timeout=PAGE_TIMEOUT)
        stored.raise_for_status()
        if hashlib.sha256(stored.content).digest() != hashlib.sha256(blobs[link]).digest():
            raise AssertionError(f"{name}: {link} came back different")
    return {"bytes": sum(len(b) for b in blobs.values())}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def run_users(setup, recorder: Recorder, args) -> tuple[int, list[str], float]:
    """All users at once; returns the bytes uploaded, the failures and the wall time."""
    failures = []
    total_bytes = 0
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(args.users) as pool:
        futures = [pool.submit(one_user, setup, recorder, i, args.files, args.file_mib) for i in range(args.users)]
        try:
            for future in concurrent.futures.as_completed(futures, timeout=600):
                try:
                    total_bytes += future.result()["bytes"]
                except Exception as exc:  # noqa: BLE001 - every failure is counted and shown
                    failures.append(repr(exc))
        except concurrent.futures.TimeoutError:
            failures.extend("still running after 600 s" for future in futures if not future.done())
    return total_bytes, failures, time.perf_counter() - started


def print_users(args, recorder: Recorder, failures: list[str], total_bytes: int, wall: float) -> None:
    pages = recorder.page_seconds or [0.0]
    print("| users | succeeded | failed | pages | page p50 | page p95 | upload throughput | wall time |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    print(f"| {args.users} | {args.users - len(failures)} | {len(failures)} | {len(recorder.page_seconds)} | "
          f"{statistics.median(pages) * 1000:.0f} ms | {percentile(pages, 0.95) * 1000:.0f} ms | "
          f"{total_bytes / wall / 1e6:.0f} MB/s | {wall:.1f} s |")
    for failure in failures:
        print("failure:", failure)


def honest(args) -> int:
    with tempfile.TemporaryDirectory(prefix="portal-load-") as tmp:
        setup = Setup(Path(tmp), 0, args.workers, args.threads)
        recorder = Recorder()
        try:
            total_bytes, failures, wall = run_users(setup, recorder, args)
        finally:
            setup.close()

    print(f"\n{args.users} users at once, each uploading {args.files} x {args.file_mib} MiB through the portal "
          f"(gunicorn gthread, {args.workers} workers x {args.threads} threads)\n")
    print_users(args, recorder, failures, total_bytes, wall)
    return 1 if failures else 0


def measure_hostile(args, workdir: Path, client_timeout: int | None = None) -> dict:
    """The honest users through nginx while the attackers run; what each side got."""
    from benchmarks import hostile as attack

    load_before = os.getloadavg()
    setup = attack.BehindNginx(workdir, args.workers, args.threads, client_timeout)
    recorder = Recorder()
    tally = attack.Tally()
    watch = attack.TempWatch(setup)
    try:
        window = attack.Window(args.attack_seconds, bound=120)
        threads = attack.start_attack(setup, browser, window, tally, args.slow_per_kind, args.anonymous_threads,
                                      args.page_views, args.anonymous_bodies, args.amplifications)
        time.sleep(2)  # the slow clients are connected before the honest users start
        total_bytes, failures, wall = run_users(setup, recorder, args)
        window.honest_done.set()
        for thread in threads:  # each ends by itself: a bounded loop, each connection bounded in time
            thread.join(max(0.0, window.hard_end + attack.SLOW_LIFETIME - time.monotonic()) + 1)
        attack_seconds = time.monotonic() - window.started
        watch.stop()
        sessions, logins = setup.session_files(), len(setup.logins)
        nginx_errors = setup.nginx_errors()
    finally:
        watch.stop()
        setup.close()
    return {"recorder": recorder, "tally": tally, "failures": failures, "total_bytes": total_bytes, "wall": wall,
            "attack_seconds": attack_seconds, "anonymous_sessions": sessions - logins, "sessions": sessions,
            "logins": logins, "temp_files": sorted(watch.portal | watch.nginx), "portal_temp": len(watch.portal),
            "nginx_temp": len(watch.nginx), "nginx_errors": nginx_errors, "load_before": load_before,
            "load_after": os.getloadavg()}


def hostile(args) -> int:
    with tempfile.TemporaryDirectory(prefix="portal-load-hostile-") as tmp:
        got = measure_hostile(args, Path(tmp))
    tally = got["tally"]

    print(f"\n{args.users} honest users at once, each uploading {args.files} x {args.file_mib} MiB, through nginx "
          f"(docs/nginx-portal.conf) in front of gunicorn gthread ({args.workers} workers x {args.threads} threads), "
          + (f"while attackers ran for {got['attack_seconds']:.0f} s ({args.slow_per_kind} slow clients of each kind "
             f"at once, {args.anonymous_threads} thread(s) of each anonymous kind)"
             if args.slow_per_kind or args.anonymous_threads else "without attackers"))
    print(f"machine: {os.cpu_count()} cores; load average (1 min) {got['load_before'][0]:.1f} before, "
          f"{got['load_after'][0]:.1f} after\n")
    print_users(args, got["recorder"], got["failures"], got["total_bytes"], got["wall"])
    print()
    print("\n".join(tally.table()))
    for kind, size in tally.largest_answer.items():
        print(f"largest answer to {kind}: {size / 1000:.1f} kB")
    print(f"\nanonymous page views answered with a session cookie: {tally.session_cookies}")
    print(f"session files: {got['sessions']}, logins: {got['logins']} -> made by anonymous traffic: "
          f"{got['anonymous_sessions']}")
    print(f"temporary files seen: portal {got['portal_temp']}, nginx {got['nginx_temp']}")
    for path in got["temp_files"][:10]:
        print("temporary file:", path)
    for message, count in got["nginx_errors"].most_common(8):
        print(f"nginx error log: {count} x {message}")
    bad = got["failures"] or got["anonymous_sessions"] or tally.session_cookies or got["temp_files"]
    return 1 if bad else 0


def parser() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    options.add_argument("--users", type=int, default=20)
    options.add_argument("--files", type=int, default=4, help="files per datapack")
    options.add_argument("--file-mib", type=int, default=5, help="size of each file (MiB)")
    options.add_argument("--workers", type=int, default=2)
    options.add_argument("--threads", type=int, default=16)
    hostile_options = options.add_argument_group("hostile traffic")
    hostile_options.add_argument("--hostile", action="store_true",
                                 help="through nginx, with slow and anonymous attackers at the same time")
    hostile_options.add_argument("--attack-seconds", type=float, default=10,
                                 help="new attackers keep coming until the honest users are done, and at least this "
                                      "long; a slow client already connected holds on until nginx cuts it off")
    hostile_options.add_argument("--slow-per-kind", type=int, default=10,
                                 help="slow clients of each of the 4 kinds connected at once")
    hostile_options.add_argument("--anonymous-threads", type=int, default=1,
                                 help="threads of each anonymous kind (page views, POSTs, PUTs)")
    hostile_options.add_argument("--page-views", type=int, default=5000, help="anonymous page views at most")
    hostile_options.add_argument("--anonymous-bodies", type=int, default=500,
                                 help="anonymous large POSTs (and as many PUTs, and junk-token PUTs) at most")
    hostile_options.add_argument("--amplifications", type=int, default=10,
                                 help="amplification requests (about 600 kB each) with a junk token, and as many "
                                      "logged in, at most")
    return options


def main() -> None:
    args = parser().parse_args()
    sys.exit(hostile(args) if args.hostile else honest(args))


if __name__ == "__main__":
    main()
