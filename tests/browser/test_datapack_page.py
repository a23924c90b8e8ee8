"""The datapack page in Chromium: its sensor files on the timeline (whatever their type says), a
datatype's axes and labels, and a video that can be seeked (ranged requests through the portal)."""
from __future__ import annotations

import json
import math
import re
import subprocess

import pytest

from tests.browser.helpers import BUILDER, EXAMPLE, wait_until_enhanced


def upload(page, portal, document: dict, files: dict[str, bytes]) -> str:
    """Upload through the portal's JSON API, as the enhanced upload page does; the datapack's id."""
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    created = page.request.post(portal.url + "/api/datapacks", headers={"X-CSRFToken": token}, data={
        "document": document, "files": [{"path": path, "size": len(data)} for path, data in files.items()]})
    assert created.status == 201, created.text()
    answer = created.json()
    for item in answer["uploads"]:
        sent = page.request.put(portal.url + item["url"], data=files[item["path"]],
                                headers={"X-CSRFToken": token, "Content-Type": "application/octet-stream"})
        assert sent.status == 200, sent.text()
        assert sent.json()["ref"].startswith("repovizz:")
    return answer["datapack_id"]


def public_example_shaped() -> tuple[dict, dict[str, bytes]]:
    """The shipped example (sensor files as JSON rows, text/plain, typed with the public datatypes), and
    more sensor files the way they come: untyped JSON rows as plain text, a CSV called .dat and typed as
    bytes, and a text file of words that must not be charted."""
    document = json.loads((EXAMPLE / "datapack.json").read_text())
    document["info"]["name"] = "Shaped like the public example"
    gyro = json.dumps([[round(math.sin(i / 7), 4), round(math.cos(i / 9), 4), round(math.sin(i / 5) / 2, 4)]
                       for i in range(3000)])
    knee = "time,left,right\n" + "\n".join(f"{i / 100},{30 + 20 * math.sin(i / 40):.3f},{25 + 15 * math.cos(i / 40):.3f}"
                                            for i in range(1000))
    document["children"].append({"class": "container", "name": "More sensors", "text": "as they come", "children": [
        {"class": "data", "name": "Gyroscope", "text": "untyped rows", "link": "more/gyro.txt",
         "mime": "text/plain; charset=us-ascii"},
        {"class": "data", "name": "Knee", "text": "a table", "link": "more/knee.dat", "mime": "application/octet-stream"},
        {"class": "data", "name": "Notes", "text": "words", "link": "more/notes.txt", "mime": "text/plain"},
    ]})
    files = {path: (EXAMPLE / path).read_bytes()
             for path in ("setup.png", "audio/tone.wav", "sensors/accelerometer.json", "sensors/emg 2.json")}
    files.update({"more/gyro.txt": gyro.encode(), "more/knee.dat": knee.encode(),
                  "more/notes.txt": b"Recorded on a rainy day.\nThe left electrode slipped once.\n"})
    return document, files


def track(page, name: str):
    return page.locator(f'figure.track[data-name="{name}"]')


def test_every_sensor_file_is_on_the_timeline_and_a_datatype_gives_its_axes(page, login, user, portal, picture):
    login(page, user)
    document, files = public_example_shaped()
    datapack_id = upload(page, portal, document, files)
    page.goto(f"{portal.url}/datapacks/{datapack_id}")
    # The page links each stream to its track on the timeline; no thumbnails of its own.
    assert page.locator('[id="node-children[2].children[0]"] .box-datatype').inner_text() == "3-axis accelerometer"
    page.locator('[id="node-children[2].children[0]"]').get_by_role("link", name="On the timeline").click()
    page.wait_for_selector("#timeline[data-state=drawn]")
    assert page.url.endswith("/timeline#track-children[2].children[0]")

    accelerometer = track(page, "Accelerometer")
    assert accelerometer.get_attribute("data-state") == "drawn"
    assert accelerometer.locator("figcaption").inner_text().startswith("Accelerometer, 3-axis accelerometer, g, time in seconds")
    assert accelerometer.locator(".channel-label").all_inner_texts() == ["X", "Y", "Z"]
    # 400 rows at the datatype's 200 Hz: 2 s on the axis (sample index / rate).
    assert "400 samples × 3 channels, at 200 Hz (2 s)" in accelerometer.locator(".track-status").inner_text()
    assert track(page, "EMG").locator(".channel-label").count() == 8

    # No type to go by, a text/plain type and a repovizz: link: the content decides.
    gyro = track(page, "Gyroscope")
    assert gyro.get_attribute("data-state") == "drawn" and gyro.locator(".channel-label").count() == 3
    assert gyro.get_attribute("data-timing") == "stretched"  # over the tone's second: its rate is unknown
    knee = track(page, "Knee")
    assert knee.get_attribute("data-timing") == "time-column"
    assert knee.locator(".channel-label").all_inner_texts() == ["left", "right"]
    assert "from its time column" in knee.locator(".track-status").inner_text()
    notes = track(page, "Notes")
    assert notes.get_attribute("data-state") == "left-out" and notes.is_hidden()
    assert "Notes: not a stream of numbers: no line of numbers in it" in page.locator(".timeline-left-out").text_content()
    # The sound is a player and its waveform; the picture is not on the timeline.
    assert track(page, "Tone").locator("audio").count() == 1 and track(page, "Set-up").count() == 0
    assert page.locator("figure.track[data-state=drawn]").count() == 5
    picture(page, "timeline-example.png", full_page=True)


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> bytes:
    """A 10-second WebM (VP8, a key frame every second, about 7 MB: noise keeps it from compressing, so the
    browser does not fetch it whole at once), made here by the ffmpeg the imageio-ffmpeg wheel ships."""
    import imageio_ffmpeg

    path = tmp_path_factory.mktemp("video") / "clip.webm"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi",
                    "-i", "testsrc=duration=10:size=320x240:rate=25", "-vf", "noise=alls=80:allf=t",
                    "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "6M", "-minrate", "6M",
                    "-maxrate", "6M", "-g", "25", "-y", str(path)], check=True)  # as long as encoding takes
    return path.read_bytes()


def test_a_video_on_the_datapack_page_can_be_seeked(page, login, user, portal, video):
    login(page, user)
    document = {"info": {"name": "Seek", "author": user, "description": "", "keywords": []},
                "children": [{"class": "data", "name": "Camera", "text": "", "link": "clip.webm", "mime": "video/webm"}]}
    datapack_id = upload(page, portal, document, {"clip.webm": video})
    answers = []
    page.on("response", lambda response: answers.append(
        (response.status, response.request.headers.get("range"), response.headers.get("content-range")))
        if "/content/" in response.url else None)
    page.goto(f"{portal.url}/datapacks/{datapack_id}")
    player = page.locator("video")
    page.wait_for_function("(video) => video.readyState >= 1 && isFinite(video.duration)", arg=player.element_handle())
    duration = player.evaluate("(video) => video.duration")
    assert 9 < duration < 11
    moved = player.evaluate("""(video) => new Promise((resolve) => {
        video.addEventListener('seeked', () => resolve(video.currentTime), { once: true });
        video.currentTime = video.duration / 2;
    })""")
    assert abs(moved - duration / 2) < 1.5, moved
    page.wait_for_function("(video) => video.readyState >= 2", arg=player.element_handle())
    ranged = [answer for answer in answers if answer[1]]
    assert ranged, answers
    assert all(status == 206 and content_range for status, _, content_range in ranged), answers
    # Past the first request, the browser asked for the bytes where the middle of the video is.
    starts = [int(re.match(r"bytes=(\d+)-", requested).group(1)) for _, requested, _ in ranged]
    assert any(0.3 * len(video) < start < 0.7 * len(video) for start in starts), answers
    assert all(content_range.endswith(f"/{len(video)}") for _, _, content_range in ranged)


def test_the_builder_charts_a_local_file_by_its_content_too(page, login, user, tmp_path):
    folder = tmp_path / "Raw"
    folder.mkdir()
    (folder / "imu.txt").write_text(json.dumps([[math.sin(i / 9), math.cos(i / 9), math.sin(i / 4) / 2] for i in range(500)]))
    (folder / "notes.txt").write_text("the left electrode slipped once\n")
    login(page, user, next_path="/build")
    wait_until_enhanced(page, BUILDER)
    page.set_input_files("#build-folder", str(folder))
    page.get_by_role("button", name="Propose a datapack").click()
    page.locator("#build-editor").wait_for()
    imu = page.locator(".box.data", has_text="Imu").locator("figure.chart")
    page.wait_for_function("() => [...document.querySelectorAll('.local-preview figure')]"
                           ".every((f) => ['drawn', 'not-numbers'].includes(f.dataset.chartState))")
    assert imu.get_attribute("data-chart-state") == "drawn" and imu.get_attribute("data-chart-channels") == "3"
    notes = page.locator(".box.data", has_text="Notes").locator("figure.chart")
    assert notes.get_attribute("data-chart-state") == "not-numbers" and notes.is_hidden()
