"""Benchmark: the timeline in a real browser (Debian's Chromium through Playwright).

Starts a sandbox and the portal under gunicorn (gthread), writes two datapacks straight into the
sandbox, logs a user in through the sandbox's pages, and prints:

- the MYO-shaped datapack (a 71.6 s video and the public example's four sensor streams: EMG 14,310 × 8,
  accelerometer, gyroscope and orientation 14,310 × 3, JSON rows at 200 Hz): milliseconds from the
  start of the page's navigation until every track is drawn, median of `--runs` page loads, cold (a
  fresh browser context: nothing cached) and warm (the same context, loaded again);
- a stream of 1,000,000 samples × 8 channels (comma-separated text, about 60 MB): the first draw after
  its first bytes arrive, the whole stream drawn after its last byte arrived, the median redraw of
  zooming and panning (every track redrawn for the new range), and the page's memory with it loaded
  (the JS heap, and the resident memory of the browser's renderer processes).

Not part of `make test`: run `make bench-timeline` (or `python benchmarks/timeline.py --help`).
`--screenshot PATH` saves a picture of the MYO-shaped timeline (docs/images/timeline.png).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_site import BenchSite  # noqa: E402
from tests.browser.helpers import log_in  # noqa: E402

CHROMIUM = os.environ.get("PORTAL_TEST_CHROMIUM", "/usr/bin/chromium")
ACCELEROMETER = "ae13fb70-fa1e-47d8-9cd6-00cef4fe21cc"
GYROSCOPE = "35524338-dec5-40ca-a099-1fff42fb5460"
ORIENTATION = "d4445fc6-0af0-42e0-979e-74a62b70b2ed"  # as the real server stores it
EMG = "0746bb48-9b92-4cd3-8d9e-3e1de13269eb"
MYO_ROWS = 14310  # the public example's: 71.6 s at 200 Hz
DRAWN = "() => { const t = document.querySelector('#timeline'); return t && t.dataset.state === 'drawn'; }"


def video(folder: Path, seconds: float) -> bytes:
    import imageio_ffmpeg

    path = folder / "video.webm"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi",
                    "-i", f"testsrc=duration={seconds}:size=320x240:rate=25", "-c:v", "libvpx", "-deadline",
                    "realtime", "-cpu-used", "8", "-b:v", "400k", "-g", "25", "-y", str(path)], check=True, timeout=600)
    return path.read_bytes()


def json_rows(channels: int, scale: float) -> bytes:
    return json.dumps([[round(scale * math.sin(i / (7 + 3 * c)) + 0.1 * math.sin(i / 2.3), 6) for c in range(channels)]
                       for i in range(MYO_ROWS)]).encode()


def big_csv(rows: int, channels: int) -> bytes:
    """Headerless comma-separated decimals, one sample per line, as the real server keeps a stream."""
    lines = []
    for i in range(rows):
        lines.append(",".join(f"{40 * math.sin(i / (5 + c)) * math.sin(i / 9000):.3f}" for c in range(channels)))
    return ("\n".join(lines) + "\n").encode()


class Setup(BenchSite):
    def datapack(self, name: str, children: list[dict], files: dict[str, bytes]) -> str:
        structure = {"info": {"name": name, "author": "bench", "description": "", "keywords": []}, "children": children}
        created = self.api.post(self.sandbox.url + "/api/v1.0/datapacks", timeout=60,
                                json={"name": name, "owner": self.owner, "structure": structure})
        created.raise_for_status()
        datapack_id = created.json()["item"]["id"]
        for link, data in files.items():
            self.api.post(f"{self.sandbox.url}/api/v1.0/datapacks/{datapack_id}/content/{link}", timeout=600,
                          files={"file": (link, data)}).raise_for_status()
        return datapack_id


def myo_datapack(setup: Setup, folder: Path) -> str:
    sensors = [("EMG", "emg", EMG, 8, 60), ("Accelerometer", "accelerometer", ACCELEROMETER, 3, 1),
               ("Gyroscope", "gyroscope", GYROSCOPE, 3, 2), ("Orientation", "orientation", ORIENTATION, 3, 3)]
    children = [{"class": "data", "name": "Video", "text": "", "link": "video.webm",
                 "meta": {"mime": "video/webm; charset=binary"}}]
    files = {"video.webm": video(folder, MYO_ROWS / 200)}
    for name, link, type_id, channels, scale in sensors:
        children.append({"class": "data", "name": name, "text": "", "link": f"{link}.json", "type": type_id,
                         "mime": "text/plain; charset=us-ascii"})
        files[f"{link}.json"] = json_rows(channels, scale)
    return setup.datapack("MYO shaped", children, files)


def renderer_rss() -> int:
    """Bytes of resident memory of Chromium's renderer processes (the pages' own), started by this script."""
    total = 0
    for child in psutil.Process(os.getpid()).children(recursive=True):
        try:
            if "--type=renderer" in " ".join(child.cmdline()):
                total += child.memory_info().rss
        except psutil.Error:
            continue
    return total


def print_profile(profile: dict, top: int = 20) -> None:
    """The functions the page's main thread spent most time in (self time), from a CDP CPU profile."""
    nodes = {node["id"]: node for node in profile["nodes"]}
    spent: dict[str, float] = {}
    for sample, delta in zip(profile["samples"], profile["timeDeltas"]):
        frame = nodes[sample]["callFrame"]
        key = f"{frame['functionName'] or '(anonymous)'} {frame['url'].rsplit('/', 1)[-1]}:{frame['lineNumber'] + 1}"
        spent[key] = spent.get(key, 0) + delta / 1000
    for key, ms in sorted(spent.items(), key=lambda item: -item[1])[:top]:
        print(f"  {ms:8.1f} ms  {key}", file=sys.stderr)


def median_ms(values) -> str:
    return f"{statistics.median(values):.0f} ms (min {min(values):.0f}, max {max(values):.0f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="page loads per case")
    parser.add_argument("--rows", type=int, default=1_000_000, help="samples of the big stream")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--verbose", action="store_true", help="print each track's load timings")
    parser.add_argument("--profile", action="store_true",
                        help="profile the page's main thread during the first cold load and print where the time went")
    parser.add_argument("--screenshot", type=Path, default=None, help="save a picture of the MYO-shaped timeline here")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="portal-bench-timeline-") as tmp:
        setup = Setup(Path(tmp), args.workers, args.threads)
        try:
            print("writing the datapacks…", file=sys.stderr, flush=True)
            myo = myo_datapack(setup, Path(tmp))
            big_bytes = big_csv(args.rows, 8)
            big = setup.datapack("Big stream", [{"class": "data", "name": "EMG", "text": "", "link": "emg", "type": EMG}],
                                 {"emg": big_bytes})
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                     args=["--no-sandbox", "--disable-gpu"])
                try:
                    results = measure(browser, setup.gunicorn.url, myo, big, args)
                finally:
                    browser.close()
        finally:
            setup.close()

    print(f"\nmachine: {platform.machine()}, {psutil.cpu_count()} cores, "
          f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}; "
          f"load average {os.getloadavg()[0]:.1f}; Chromium headless (software rendering)")
    print(f"portal: gunicorn gthread, {args.workers} workers x {args.threads} threads; sandbox on the same machine\n")
    print(f"MYO-shaped datapack, every track drawn, from navigation start (median of {args.runs}):")
    print(f"  cold (fresh context, nothing cached): {median_ms(results['cold'])}")
    print(f"  warm (same context, loaded again):    {median_ms(results['warm'])}")
    print(f"\nstream of {args.rows:,} samples x 8 channels ({len(big_bytes) / 1e6:.0f} MB of CSV):")
    for key, label in (("first_draw", "first draw after its first bytes arrive"),
                       ("whole_after_bytes", "whole stream drawn after its last byte arrived"),
                       ("load", "from navigation start to the whole stream drawn")):
        print(f"  {label}: {median_ms(results[key])}")
    print(f"  zoom or pan redraw (median of {len(results['redraw'])}): {statistics.median(results['redraw']):.1f} ms "
          f"(90th percentile {sorted(results['redraw'])[int(0.9 * len(results['redraw']))]:.1f} ms)")
    print(f"  page memory with it loaded: the stream's samples and pyramid {results['bytes'] / 1e6:.0f} MB, "
          f"JS heap {results['heap'] / 1e6:.0f} MB, renderer processes {results['rss'] / 1e6:.0f} MB resident")


def measure(browser, portal_url: str, myo: str, big: str, args) -> dict:
    login_context = browser.new_context()
    page = login_context.new_page()
    log_in(page, portal_url, "bench", "bench", "/")
    state = login_context.storage_state()
    login_context.close()
    results = {"cold": [], "warm": [], "first_draw": [], "whole_after_bytes": [], "load": [], "redraw": []}

    for run in range(args.runs):
        context = browser.new_context(storage_state=state, viewport={"width": 1280, "height": 900})
        page = context.new_page()
        for key in ("cold", "warm"):
            profiler = None
            if args.profile and run == 0 and key == "cold":
                profiler = context.new_cdp_session(page)
                profiler.send("Profiler.enable")
                profiler.send("Profiler.start")
            page.goto(f"{portal_url}/datapacks/{myo}/timeline")
            page.wait_for_function(DRAWN, timeout=120_000)
            if profiler is not None:
                print_profile(profiler.send("Profiler.stop")["profile"])
                profiler.detach()
            states = page.locator("figure.track").evaluate_all(
                "(figures) => figures.map((f) => f.dataset.name + ': ' + f.dataset.state + ' ' + "
                "f.querySelector('.track-status').textContent)")
            if page.locator("figure.track[data-state=drawn]").count() != 5:
                raise RuntimeError("not every track was drawn: " + "; ".join(states))
            results[key].append(float(page.locator("#timeline").get_attribute("data-drawn-at")))
            if args.verbose:
                print(key, page.evaluate("""() => [...document.querySelectorAll('figure.track')].map((f) =>
                    f.dataset.name + ' ' + (f.dataset.stats || '')).join('\\n')"""), file=sys.stderr)
        if run == 0 and args.screenshot:
            page.wait_for_function("() => document.querySelector('video').readyState >= 2")
            page.get_by_role("button", name="Zoom in").click()
            page.locator("figure.track[data-name=EMG] .track-plot").focus()
            page.keyboard.press("End")
            page.keyboard.press("Home")
            for _ in range(4):  # a tenth of the view each: the cursor about 14 s in
                page.keyboard.press("Shift+ArrowRight")
            args.screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.screenshot), full_page=True)
        context.close()
        print(f"MYO run {run + 1}: cold {results['cold'][-1]:.0f} ms, warm {results['warm'][-1]:.0f} ms",
              file=sys.stderr, flush=True)

    for run in range(args.runs):
        context = browser.new_context(storage_state=state, viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(f"{portal_url}/datapacks/{big}/timeline")
        page.wait_for_function(DRAWN, timeout=600_000)
        figure = page.locator("figure.track[data-name=EMG]")
        assert figure.get_attribute("data-rows") == str(args.rows), figure.get_attribute("data-rows")
        stats = json.loads(figure.get_attribute("data-stats"))
        results["first_draw"].append(stats["firstDraw"] - stats["firstBytes"])
        results["whole_after_bytes"].append(stats["done"] - stats["allBytes"])
        results["load"].append(stats["done"])
        results["bytes"] = int(figure.get_attribute("data-bytes"))
        if run == 0:
            results["redraw"] = page.evaluate("""() => {
                const times = [];
                const click = (action) => {
                    const started = performance.now();
                    document.querySelector(`[data-action="${action}"]`).click();
                    times.push(performance.now() - started);
                };
                for (let round = 0; round < 5; round++) {
                    for (let i = 0; i < 6; i++) click("zoom-in");
                    for (let i = 0; i < 4; i++) click("later");
                    for (let i = 0; i < 4; i++) click("earlier");
                    for (let i = 0; i < 6; i++) click("zoom-out");
                }
                return times;
            }""")
            cdp = context.new_cdp_session(page)
            cdp.send("HeapProfiler.collectGarbage")
            cdp.send("Performance.enable")
            metrics = {metric["name"]: metric["value"] for metric in cdp.send("Performance.getMetrics")["metrics"]}
            results["heap"] = metrics.get("JSHeapUsedSize", 0)
            results["rss"] = renderer_rss()
            cdp.detach()
        context.close()
        print(f"big run {run + 1}: first draw {results['first_draw'][-1]:.0f} ms, whole after last byte "
              f"{results['whole_after_bytes'][-1]:.0f} ms", file=sys.stderr, flush=True)
    return results


if __name__ == "__main__":
    main()
