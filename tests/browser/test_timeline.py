"""The timeline in Chromium: a recording shaped like the public MYO example (a video and four sensor
streams typed with their datatypes) on one axis, in sync with the video; a datapack as the real server
stores one (``meta.mime`` only, headerless CSV, a datatype id the portal does not know) drawn whole;
keyboard only; axe; a video whose duration is known only after the page started still sets every track's range."""
from __future__ import annotations

import json
import math
import subprocess

import pytest
import requests

from tests.browser.axe import assert_no_serious_violations
from tests.browser.test_datapack_page import upload


ACCELEROMETER = "ae13fb70-fa1e-47d8-9cd6-00cef4fe21cc"
GYROSCOPE = "35524338-dec5-40ca-a099-1fff42fb5460"  # the public example types Orientation with it too
EMG = "0746bb48-9b92-4cd3-8d9e-3e1de13269eb"
AUDIO = "48e3b5d2-c34c-459c-9a2d-0756c20d80de"
DRUMS = "68cd3fb2-6f76-4790-b432-c9c49ebaffee"  # drum note annotations: sparse (onset, offset, label)
UNKNOWN = "0f0e0d0c-0b0a-4908-8706-050403020100"
RATE = 200
SECONDS = 6
SENSORS = ["EMG", "Accelerometer", "Gyroscope", "Orientation"]


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> bytes:
    """A 6-second WebM (VP8, 160×120), made by the ffmpeg the imageio-ffmpeg wheel ships."""
    import imageio_ffmpeg

    path = tmp_path_factory.mktemp("clip") / "clip.webm"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi",
                    "-i", f"testsrc=duration={SECONDS}:size=160x120:rate=25", "-c:v", "libvpx", "-deadline", "realtime",
                    "-cpu-used", "8", "-g", "25", "-y", str(path)], check=True, timeout=120)
    return path.read_bytes()


def rows(channels: int, scale: float = 1.0) -> list[list[float]]:
    return [[round(scale * math.sin(i / (7 + 3 * c)), 4) for c in range(channels)] for i in range(RATE * SECONDS)]


def myo_shaped(user: str) -> tuple[dict, dict[str, bytes]]:
    """The public MYO example's shape: a video, then EMG, accelerometer, gyroscope and orientation as JSON
    rows at 200 Hz, declared as plain text and typed with the public example's datatypes."""
    sensor = {"class": "data", "mime": "text/plain; charset=us-ascii"}
    document = {"info": {"name": "MYO shaped", "author": user, "description": "", "keywords": ["MYO", "video"]},
                "children": [
                    {"class": "data", "name": "Video", "text": "Handheld camera", "link": "video.webm", "mime": "video/webm"},
                    {"class": "container", "name": "MYO", "text": "armband", "children": [
                        {**sensor, "name": "EMG", "text": "8 channels", "link": "emg.json", "type": EMG},
                        {**sensor, "name": "Accelerometer", "text": "", "link": "accelerometer.json", "type": ACCELEROMETER},
                        {**sensor, "name": "Gyroscope", "text": "", "link": "gyroscope.json", "type": GYROSCOPE},
                        {**sensor, "name": "Orientation", "text": "", "link": "orientation.json", "type": GYROSCOPE},
                    ]}]}
    files = {"emg.json": json.dumps(rows(8, 100)).encode(), "accelerometer.json": json.dumps(rows(3)).encode(),
             "gyroscope.json": json.dumps(rows(3, 2)).encode(), "orientation.json": json.dumps(rows(3, 3)).encode()}
    return document, files


def open_timeline(page, portal, datapack_id: str) -> None:
    page.goto(f"{portal.url}/datapacks/{datapack_id}")
    page.get_by_role("link", name="Open the timeline").click()
    page.wait_for_selector("#timeline[data-state=drawn]")


def track(page, name: str):
    return page.locator(f'figure.track[data-name="{name}"]')


def views(page) -> set[str]:
    return set(page.locator("figure.track").evaluate_all("(figures) => figures.map((f) => f.dataset.view)"))


def x_of(page, name: str, seconds: float) -> tuple[float, float]:
    """Where on the named track's plot the time `seconds` is, in page coordinates."""
    over = track(page, name).locator(".u-over")
    over.scroll_into_view_if_needed()
    box = over.bounding_box()
    start, end = (float(value) for value in track(page, name).get_attribute("data-view").split())
    return box["x"] + box["width"] * (seconds - start) / (end - start), box["y"] + box["height"] / 2


def video_time(page) -> float:
    return page.locator("video").evaluate("(video) => video.currentTime")


def test_the_video_and_four_sensor_tracks_share_one_axis_and_one_cursor(page, login, user, portal, clip, picture):
    login(page, user)
    document, files = myo_shaped(user)
    files["video.webm"] = clip
    open_timeline(page, portal, upload(page, portal, document, files))

    assert page.locator("figure.track").evaluate_all("(fs) => fs.map((f) => f.dataset.name)") == ["Video"] + SENSORS
    assert page.locator("figure.track[data-state=drawn]").count() == 5
    page.wait_for_function("() => document.querySelector('video').readyState >= 1")
    # One axis: every track shows the same range, the whole recording (drawn within a frame of the last rows).
    page.wait_for_function(f"""() => {{
        const views = [...document.querySelectorAll('figure.track')].map((f) => f.dataset.view);
        return new Set(views).size === 1 && Math.abs(views[0].split(' ')[1] - {SECONDS}) < 0.05;
    }}""")
    emg = track(page, "EMG")
    assert emg.get_attribute("aria-label") == "EMG, a.u., time in seconds"
    assert len(emg.locator(".channel-label").all_inner_texts()) == 8
    assert "1,200 samples × 8 channels, at 200 Hz" in emg.locator(".track-status").inner_text()
    assert track(page, "Accelerometer").locator(".channel-label").all_inner_texts() == ["X", "Y", "Z"]

    # Playing the video for 2 s moves the cursor on every track.
    page.get_by_role("button", name="Play").click()
    page.wait_for_function("() => document.querySelector('video').currentTime >= 2")
    page.get_by_role("button", name="Pause").click()
    page.wait_for_function("() => document.querySelector('video').paused")
    played = video_time(page)
    page.wait_for_function("(t) => [...document.querySelectorAll('figure.track')].every((f) => Math.abs(f.dataset.cursor - t) < 0.05)",
                           arg=played)
    assert played >= 2
    readout = track(page, "Accelerometer").locator(".channel-value").first.inner_text()
    assert readout.endswith(" g") and readout != "–"

    # Clicking a track at a time seeks the video there.
    page.mouse.click(*x_of(page, "Gyroscope", 4.0))
    page.wait_for_function("() => Math.abs(document.querySelector('video').currentTime - 4) < 0.1")
    page.wait_for_function("() => [...document.querySelectorAll('figure.track')].every((f) => Math.abs(f.dataset.cursor - 4) < 0.1)")

    # Dragging across one track zooms every track to that range; the toolbar shows it all again.
    page.mouse.move(*x_of(page, "Accelerometer", 1.0))
    page.mouse.down()
    page.mouse.move(*x_of(page, "Accelerometer", 2.0), steps=4)
    page.mouse.up()
    zoomed = views(page)
    assert len(zoomed) == 1, zoomed
    start, end = (float(value) for value in zoomed.pop().split())
    assert abs(start - 1) < 0.05 and abs(end - 2) < 0.05
    picture(page, "timeline-zoomed.png", full_page=True)
    page.get_by_role("button", name="Show all").click()
    assert len(views(page)) == 1 and abs(float(views(page).pop().split()[1]) - SECONDS) < 0.05
    assert_no_serious_violations(page, "the timeline")


# The order that left the video's strip on its first range: the page's script starts before the video
# has its duration, which is known before the first sensor row is read (each step waits for the one before).
VIDEO_TIMED_AFTER_START_BEFORE_ROWS = """
let held = null;
new MutationObserver((changes) => changes.forEach((change) => change.addedNodes.forEach((node) => {
  if (node.tagName === 'VIDEO' && node.getAttribute('src')) {
    held = [node, node.getAttribute('src')];
    node.removeAttribute('src');
  }
}))).observe(document, {childList: true, subtree: true});
document.addEventListener('DOMContentLoaded', () => setTimeout(() => {
  if (held) { held[0].src = held[1]; held[0].load(); }
}));
const send = Worker.prototype.postMessage;
Worker.prototype.postMessage = function (...message) {
  const video = document.querySelector('video');
  if (!video || video.readyState >= 1) return send.apply(this, message);
  video.addEventListener('loadedmetadata', () => setTimeout(() => send.apply(this, message)), {once: true});
};
"""


def test_the_video_strip_follows_a_duration_known_after_the_page_started(page, login, user, portal, clip):
    login(page, user)
    document, files = myo_shaped(user)
    files["video.webm"] = clip
    datapack_id = upload(page, portal, document, files)
    page.add_init_script(VIDEO_TIMED_AFTER_START_BEFORE_ROWS)
    open_timeline(page, portal, datapack_id)
    page.wait_for_function("() => document.querySelector('video').readyState >= 1")
    assert page.locator("figure.track[data-state=drawn]").count() == 5
    page.wait_for_function(f"""() => {{
        const views = [...document.querySelectorAll('figure.track')].map((f) => f.dataset.view);
        return new Set(views).size === 1 && Math.abs(views[0].split(' ')[1] - {SECONDS}) < 0.05;
    }}""")


def stored_shape(sandbox, user) -> str:
    """A datapack written straight into the sandbox as the real server stores one: mime only in meta,
    sensor nodes with neither, headerless CSV with CRLF and bare CR line ends, a type id the portal
    does not know, drum notes of a sparse datatype; its id."""
    api = requests.Session()
    api.headers["Authorization"] = "Bearer " + sandbox.issue_token(user)
    owner = api.get(f"{sandbox.url}/api/v1.0/user").json()["id"]
    wave = subprocess.run(["python3", "-c", "import io,wave,struct,math,sys;b=io.BytesIO();w=wave.open(b,'wb');"
                           "w.setnchannels(1);w.setsampwidth(2);w.setframerate(8000);"
                           "w.writeframes(b''.join(struct.pack('<h',int(9000*math.sin(i/9))) for i in range(16000)));"
                           "w.close();sys.stdout.buffer.write(b.getvalue())"], capture_output=True, check=True).stdout
    structure = {"info": {"name": "Stored shape", "author": user, "description": "", "keywords": []}, "children": [
        {"class": "data", "name": "Audio", "text": "", "link": "audio.wav", "type": AUDIO,
         "meta": {"mime": "audio/x-wav; charset=binary"}},
        {"class": "data", "name": "EMG", "text": "", "link": "emg", "type": EMG},
        {"class": "data", "name": "Pressure", "text": "", "link": "pressure", "type": UNKNOWN},
        {"class": "data", "name": "Drums", "text": "", "link": "drums", "type": DRUMS},
    ]}
    created = api.post(f"{sandbox.url}/api/v1.0/datapacks", json={"name": "Stored shape", "owner": owner,
                                                                   "structure": structure})
    assert created.status_code == 200, created.text
    datapack_id = created.json()["item"]["id"]
    emg = "\r\n".join(",".join(str(int(20 * math.sin(i / (3 + c)))) for c in range(8)) for i in range(400)) + "\r\n"
    pressure = "\r".join(f"{i % 17}" for i in range(300))
    drums = b"0.20,0.35,kick\n0.90,1.10,snare\n1.50,1.60,hihat\n"
    for link, data in (("audio.wav", wave), ("emg", emg.encode()), ("pressure", pressure.encode()), ("drums", drums)):
        sent = api.post(f"{sandbox.url}/api/v1.0/datapacks/{datapack_id}/content/{link}", files={"file": (link, data)})
        assert sent.status_code == 200, sent.text
    return datapack_id


def test_a_datapack_stored_with_meta_mime_headerless_csv_and_an_unknown_type_is_drawn(page, login, user, portal, sandbox):
    datapack_id = stored_shape(sandbox, user)
    login(page, user, next_path=f"/datapacks/{datapack_id}/timeline")
    page.wait_for_selector("#timeline[data-state=drawn]")
    assert page.locator("figure.track[data-state=drawn]").count() == 4
    assert track(page, "Audio").locator("audio").count() == 1
    assert "waveform: 2 s, mono, decoded by the browser" in track(page, "Audio").locator(".track-status").inner_text()
    emg = track(page, "EMG")
    assert emg.get_attribute("data-rows") == "400" and emg.locator(".channel-label").count() == 8
    assert "comma-separated text" in emg.locator(".track-status").inner_text()
    pressure = track(page, "Pressure")
    assert pressure.get_attribute("data-rows") == "300"
    # Its rate is unknown: stretched over the audio's duration, and the picker to fix it is right there.
    page.wait_for_function("() => document.querySelector('figure.track[data-name=Pressure]').dataset.timing === 'stretched'")
    assert "its datatype is unknown to the portal" in pressure.locator(".track-status").inner_text()
    assert pressure.get_by_label("Its datatype").input_value() == UNKNOWN
    # The drum notes: marked spans on the same axis, the one under the cursor read out.
    drums = track(page, "Drums")
    assert drums.get_attribute("data-events") == "3"
    page.mouse.click(*x_of(page, "Drums", 1.0))
    assert drums.locator(".track-events-readout").inner_text() == "snare (0.9 s – 1.1 s)"
    page.wait_for_function("() => new Set([...document.querySelectorAll('figure.track')].map((f) => f.dataset.view)).size === 1")


def test_keyboard_only_plays_seeks_and_zooms(page, login, user, portal, clip):
    login(page, user)
    document, files = myo_shaped(user)
    files["video.webm"] = clip
    datapack_id = upload(page, portal, document, files)
    page.goto(f"{portal.url}/datapacks/{datapack_id}/timeline")
    page.wait_for_selector("#timeline[data-state=drawn]")
    page.wait_for_function("() => document.querySelector('video').readyState >= 1")
    emg_plot = track(page, "EMG").locator(".track-plot")
    for _ in range(40):  # Tab from the top of the page to the EMG track
        page.keyboard.press("Tab")
        if emg_plot.evaluate("(plot) => plot === document.activeElement"):
            break
    assert emg_plot.evaluate("(plot) => plot === document.activeElement")
    assert emg_plot.evaluate("(plot) => getComputedStyle(plot).outlineStyle") != "none"  # focus is visible
    assert emg_plot.get_attribute("role") == "slider"

    page.keyboard.press(" ")
    page.wait_for_function("() => document.querySelector('video').currentTime >= 0.5")
    page.keyboard.press(" ")
    page.wait_for_function("() => document.querySelector('video').paused")
    paused_at = video_time(page)
    page.keyboard.press("Shift+ArrowRight")  # a tenth of the visible range: 0.6 s
    page.wait_for_function("(t) => Math.abs(document.querySelector('video').currentTime - t) < 0.05", arg=paused_at + 0.6)
    assert abs(float(emg_plot.get_attribute("aria-valuenow")) - (paused_at + 0.6)) < 0.05

    page.keyboard.press("+")
    start, end = (float(value) for value in views(page).pop().split())
    assert len(views(page)) == 1 and abs((end - start) - SECONDS / 2) < 0.01
    page.keyboard.press("-")
    start, end = (float(value) for value in views(page).pop().split())
    assert abs((end - start) - SECONDS) < 0.01
