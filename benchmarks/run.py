"""Benchmarks: the portal's upload paths against posting straight to repovizz2 (the sandbox).

Starts a sandbox and the portal under gunicorn (gthread workers), drives both over loopback and
prints a table. Not part of `make test`: run `make bench` (or `python benchmarks/run.py --help`).
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
import threading
import time
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portal.rules.multipart_body import MultipartFile  # noqa: E402
from sandbox.testing import LiveSandbox  # noqa: E402
from tests.live_portal import GunicornPortal, log_in  # noqa: E402

MIB = 1024 * 1024


def document(links: list[str]) -> dict:
    return {"info": {"name": f"bench {time.time_ns()}", "author": "bench", "description": "", "keywords": []},
            "children": [{"class": "data", "name": link, "text": "", "link": link} for link in links]}


class Setup:
    """A sandbox (with simulated latency) and the portal under gunicorn, a logged-in user on each."""

    def __init__(self, workdir: Path, latency_ms: int, workers: int, threads: int):
        self.sandbox = LiveSandbox(workdir / f"sandbox-{latency_ms}", latency_ms=latency_ms).start()
        self.sandbox.add_user("bench", "bench")
        self.portal_tmp = Path(tempfile.mkdtemp(prefix="portal-tmp-", dir=workdir))
        self.gunicorn = GunicornPortal(self.sandbox, str(workdir / f"sessions-{latency_ms}"), workers, threads,
                                       env={"TMPDIR": str(self.portal_tmp), "PORTAL_MAX_FILES": "5000"})
        self.portal_url = self.gunicorn.url
        self.token = self.sandbox.issue_token("bench")
        self.owner = requests.get(self.sandbox.url + "/api/v1.0/user", headers=self.bearer).json()["id"]
        self.portal = requests.Session()
        log_in(self.portal, self.portal_url, "bench", "bench")
        page = self.portal.get(self.portal_url + "/upload").text
        self.portal.headers["X-CSRFToken"] = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)

    @property
    def bearer(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    def close(self) -> None:
        self.gunicorn.stop()
        self.sandbox.stop()

    # -- straight to the sandbox, as the notebook does -------------------------------------------
    def direct_create(self, links: list[str]) -> str:
        answer = requests.post(self.sandbox.url + "/api/v1.0/datapacks", headers=self.bearer, timeout=60,
                               json={"name": f"direct {time.time_ns()}", "owner": self.owner,
                                     "structure": document(links)})
        answer.raise_for_status()
        return answer.json()["item"]["id"]

    def direct_post(self, http: requests.Session, datapack_id: str, link: str, path: Path) -> None:
        with open(path, "rb") as source:
            body = MultipartFile(source, path.stat().st_size, field=link, filename=link)
            answer = http.post(f"{self.sandbox.url}/api/v1.0/datapacks/{datapack_id}/content/{link}", data=body,
                               headers={**self.bearer, "Content-Type": body.content_type}, timeout=600)
        answer.raise_for_status()

    # -- through the portal ------------------------------------------------------------------------
    def portal_create(self, files: list[Path]) -> list[dict]:
        answer = self.portal.post(self.portal_url + "/api/datapacks", timeout=60,
                                  json={"document": document([f.name for f in files]),
                                        "files": [{"path": f.name, "size": f.stat().st_size} for f in files]})
        answer.raise_for_status()
        return answer.json()["uploads"]

    def portal_put(self, http: requests.Session, url: str, path: Path) -> None:
        answer = http.put(self.portal_url + url, data=FileBody(path), timeout=600,
                          headers={"Content-Type": "application/octet-stream"})
        answer.raise_for_status()


class FileBody:
    """A file sent in 1 MiB reads, with its length, as the direct path sends it (MultipartFile): given the
    file object itself, requests would send it in urllib3's 16 KiB blocks, and that sender's extra CPU,
    on the same two cores, would be counted against the portal."""

    def __init__(self, path: Path):
        self.path = path
        self.size = path.stat().st_size

    def __len__(self) -> int:
        return self.size

    def __iter__(self):
        with open(self.path, "rb") as source:
            while chunk := source.read(MIB):
                yield chunk


class PeakRss:
    """Samples the summed RSS of a process tree every 20 ms; `growth` is the peak over the start."""

    def __init__(self, pid: int):
        self.root = psutil.Process(pid)
        self.start = self.peak = self.sample()
        self.running = True
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def sample(self) -> int:
        total = 0
        for process in [self.root, *self.root.children(recursive=True)]:
            try:
                total += process.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        return total

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.sample())
            time.sleep(0.02)

    def stop(self) -> int:
        self.running = False
        self.thread.join()
        return self.peak - self.start


class WorkerCpu:
    """CPU seconds (user + system) the portal's gunicorn workers spent between `start` and `stop`.

    The workers are the arbiter's children; summing all of them counts the one that served the
    request whichever it was (an idle worker adds next to nothing: its heartbeat)."""

    def __init__(self, arbiter_pid: int):
        self.arbiter = psutil.Process(arbiter_pid)
        self.before = self.sample()

    def sample(self) -> dict[int, float]:
        times = {}
        for worker in self.arbiter.children():
            try:
                cpu = worker.cpu_times()
            except psutil.NoSuchProcess:
                continue
            times[worker.pid] = cpu.user + cpu.system
        return times

    def stop(self) -> float:
        after = self.sample()
        return sum(seconds - self.before.get(pid, 0.0) for pid, seconds in after.items())


def spread(values: list[float], fmt: str) -> str:
    """`median (min–max)` of one figure over the runs."""
    return f"{format(statistics.median(values), fmt)} ({format(min(values), fmt)}–{format(max(values), fmt)})"


def make_file(path: Path, size: int) -> Path:
    block = os.urandom(MIB)
    with open(path, "wb") as out:
        for offset in range(0, size, MIB):
            out.write(block[: min(MIB, size - offset)])
    return path


def big_file(setup: Setup, path: Path, rounds: int) -> dict:
    """Interleave direct and through-the-portal runs, flushing dirty pages before each, and keep the
    medians: whichever path ran second would otherwise pay for the first one's writes to disk."""
    size = path.stat().st_size
    direct, through, growth, cpu_per_gib = [], [], 0, []
    for _ in range(rounds):
        datapack_id = setup.direct_create([path.name])
        os.sync()
        started = time.perf_counter()
        with requests.Session() as http:
            setup.direct_post(http, datapack_id, path.name, path)
        direct.append(time.perf_counter() - started)

        (upload,) = setup.portal_create([path])
        os.sync()
        rss = PeakRss(setup.gunicorn.pid)
        cpu = WorkerCpu(setup.gunicorn.pid)
        started = time.perf_counter()
        setup.portal_put(setup.portal, upload["url"], path)
        through.append(time.perf_counter() - started)
        cpu_per_gib.append(cpu.stop() / (size / 2**30))
        growth = max(growth, rss.stop())
    temp_files = sum(1 for _ in setup.portal_tmp.rglob("*"))
    ratios = [d / t for d, t in zip(direct, through)]
    return {"size": size, "direct_s": statistics.median(direct), "portal_s": statistics.median(through),
            "ratios": ratios, "cpu_per_gib": cpu_per_gib, "rss_growth": growth, "temp_files": temp_files}


def small_files(setup: Setup, files: list[Path], parallel: int, rounds: int) -> dict:
    """The notebook's sequential loop vs the portal's parallel path, interleaved, medians kept."""
    by_name = {f.name: f for f in files}
    local = threading.local()

    def send(upload):
        if not hasattr(local, "http"):
            local.http = requests.Session()
            local.http.cookies.update(setup.portal.cookies)
            local.http.headers.update(setup.portal.headers)
        setup.portal_put(local.http, upload["url"], by_name[upload["path"]])

    direct, through, cpu_ms = [], [], []
    for _ in range(rounds):
        datapack_id = setup.direct_create([f.name for f in files])
        started = time.perf_counter()
        with requests.Session() as http:
            for path in files:
                setup.direct_post(http, datapack_id, path.name, path)
        direct.append(time.perf_counter() - started)

        cpu = WorkerCpu(setup.gunicorn.pid)
        started = time.perf_counter()
        uploads = setup.portal_create(files)
        with concurrent.futures.ThreadPoolExecutor(parallel) as pool:
            list(pool.map(send, uploads))
        through.append(time.perf_counter() - started)
        cpu_ms.append(cpu.stop() * 1000 / len(files))
    ratios = [d / t for d, t in zip(direct, through)]
    return {"direct_s": statistics.median(direct), "portal_s": statistics.median(through), "ratios": ratios,
            "cpu_ms_per_file": cpu_ms}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--big-mib", type=int, default=1024, help="size of the one large asset (MiB)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each case each way, interleaved (medians kept)")
    parser.add_argument("--small-count", type=int, default=500)
    parser.add_argument("--small-kib", type=int, default=16)
    parser.add_argument("--parallel", type=int, default=4, help="files in flight at once through the portal")
    parser.add_argument("--latency-ms", type=int, nargs="*", default=[0, 50])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="portal-bench-") as tmp:
        workdir = Path(tmp)
        rows, cpu_rows = [], []
        small_dir = workdir / "small"
        small_dir.mkdir()
        small = [make_file(small_dir / f"s{i:04d}.bin", args.small_kib * 1024) for i in range(args.small_count)]
        for latency in args.latency_ms:
            setup = Setup(workdir, latency, args.workers, args.threads)
            try:
                if latency == args.latency_ms[0] and args.big_mib:
                    big = make_file(workdir / "big.bin", args.big_mib * MIB)
                    result = big_file(setup, big, args.rounds)
                    big.unlink()
                    mb = result["size"] / 1e6
                    rows.append((f"1 file of {args.big_mib} MiB, {latency} ms (median of {args.rounds})",
                                 f"{mb / result['direct_s']:.0f} MB/s", f"{mb / result['portal_s']:.0f} MB/s",
                                 f"{result['direct_s'] / result['portal_s']:.2f} x",
                                 f"portal RSS +{result['rss_growth'] / 1e6:.0f} MB, {result['temp_files']} temp files"))
                    cpu_rows.append((f"1 file of {args.big_mib} MiB, {latency} ms",
                                     f"{spread(result['cpu_per_gib'], '.2f')} s/GiB", spread(result["ratios"], ".2f")))
                if not args.small_count:
                    continue
                result = small_files(setup, small, args.parallel, args.rounds)
                rows.append((f"{args.small_count} files of {args.small_kib} KiB, {latency} ms (median of {args.rounds})",
                             f"{result['direct_s']:.2f} s", f"{result['portal_s']:.2f} s",
                             f"{result['direct_s'] / result['portal_s']:.2f} x", f"{args.parallel} in flight"))
                cpu_rows.append((f"{args.small_count} files of {args.small_kib} KiB, {latency} ms",
                                 f"{spread(result['cpu_ms_per_file'], '.2f')} ms/file",
                                 spread(result["ratios"], ".2f")))
            finally:
                setup.close()

    print(f"\nmachine: {platform.machine()}, {psutil.cpu_count()} cores, "
          f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}")
    print(f"portal: gunicorn gthread, {args.workers} workers x {args.threads} threads; sandbox: threaded Werkzeug\n")
    table(("case", "straight to sandbox", "through the portal", "portal speed-up", "notes"), rows)
    print(f"\nThe portal workers' CPU time (user + system), median (min–max) of {args.rounds} runs: per GiB "
          "relayed for the large file (the PUT only), per file for the small ones (the create call and every "
          "PUT, divided by the count); the speed-up of the same runs beside it:\n")
    table(("case", "portal worker CPU", "portal speed-up per run"), cpu_rows)


def table(header: tuple, rows: list[tuple]) -> None:
    widths = [max(len(str(row[i])) for row in rows + [header]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("| " + " | ".join(str(cell).ljust(width) for cell, width in zip(row, widths)) + " |")


if __name__ == "__main__":
    main()
