"""Load: N simulated users at once, each logging in, browsing, and uploading a datapack through the portal.

Loopback only, bounded in count and time. Every stored file is fetched back from the sandbox and
compared byte for byte with what that user sent. Prints successes, failures, page latency
percentiles and total upload throughput. Run: `python benchmarks/load.py --help`.
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


def one_user(setup: Setup, recorder: Recorder, index: int, files: int, file_mib: int) -> dict:
    """Log in, browse, upload one datapack through the JSON + PUT path, browse it; check every byte."""
    name = f"load{index}"
    setup.sandbox.add_user(name, "pw")
    http = requests.Session()
    log_in(http, setup.portal_url, name, "pw")
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
        sent = http.put(setup.portal_url + upload["url"], data=blobs[upload["link"]], timeout=UPLOAD_TIMEOUT,
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--files", type=int, default=4, help="files per datapack")
    parser.add_argument("--file-mib", type=int, default=5, help="size of each file (MiB)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="portal-load-") as tmp:
        setup = Setup(Path(tmp), 0, args.workers, args.threads)
        recorder = Recorder()
        failures = []
        total_bytes = 0
        started = time.perf_counter()
        try:
            with concurrent.futures.ThreadPoolExecutor(args.users) as pool:
                futures = [pool.submit(one_user, setup, recorder, i, args.files, args.file_mib)
                           for i in range(args.users)]
                for future in concurrent.futures.as_completed(futures, timeout=600):
                    try:
                        total_bytes += future.result()["bytes"]
                    except Exception as exc:  # noqa: BLE001 - every failure is counted and shown
                        failures.append(repr(exc))
        finally:
            wall = time.perf_counter() - started
            setup.close()

    pages = recorder.page_seconds
    print(f"\n{args.users} users at once, each uploading {args.files} x {args.file_mib} MiB through the portal "
          f"(gunicorn gthread, {args.workers} workers x {args.threads} threads)\n")
    print("| users | succeeded | failed | pages | page p50 | page p95 | upload throughput | wall time |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    print(f"| {args.users} | {args.users - len(failures)} | {len(failures)} | {len(pages)} | "
          f"{statistics.median(pages) * 1000:.0f} ms | {percentile(pages, 0.95) * 1000:.0f} ms | "
          f"{total_bytes / wall / 1e6:.0f} MB/s | {wall:.1f} s |")
    for failure in failures:
        print("failure:", failure)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
