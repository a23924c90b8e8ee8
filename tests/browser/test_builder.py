"""The builder in Chromium: a folder becomes a datapack, which is then looked at and fetched back."""
from __future__ import annotations

import math
import re
import shutil

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import BUILDER, EXAMPLE, wait_until_enhanced


CSV = "time;left;right\n" + "".join(f"{t / 100};{math.sin(t / 150):.4f};{0.5 * math.cos(t / 90):.4f}\n"
                                     for t in range(2000))


@pytest.fixture
def session_folder(tmp_path):
    folder = tmp_path / "Session 7"
    (folder / "sensors").mkdir(parents=True)
    shutil.copy(EXAMPLE / "audio" / "tone.wav", folder / "tone.wav")
    shutil.copy(EXAMPLE / "setup.png", folder / "set_up.png")
    shutil.copy(EXAMPLE / "sensors" / "accelerometer.json", folder / "sensors" / "accelerometer.json")
    (folder / "sensors" / "knee angles.csv").write_text(CSV)
    (folder / "notes.txt").write_text("dropped before upload")
    return folder


SNAPSHOT_BARS = """() => window.addEventListener('beforeunload', () => {
  const transfer = document.getElementById('transfer');
  const bar = (progress) => ({value: progress.value, max: progress.max});
  sessionStorage.setItem('builder-bars', JSON.stringify({
    title: transfer.querySelector('#transfer-title').textContent,
    overall: {...bar(transfer.querySelector('#overall-progress')),
              text: transfer.querySelector('#overall-text').textContent},
    files: [...transfer.querySelectorAll('.transfer-file')].map(row => ({
      link: row.dataset.link, state: row.dataset.state, ...bar(row.querySelector('progress')),
      text: row.querySelector('.progress-text').textContent})),
  }));
})"""


def test_build_upload_look_and_fetch_back(page, login, user, session_folder, picture):
    login(page, user, next_path="/build")
    wait_until_enhanced(page, BUILDER)
    page.set_input_files("#build-folder", str(session_folder))
    page.fill("#info-description", "Built in the browser")
    page.get_by_role("button", name="Propose a datapack").click()

    editor = page.locator("#build-editor")
    editor.wait_for()
    assert page.locator("#info-name").input_value() == "Session 7"
    assert page.locator("#info-author").input_value() == user
    rows = page.locator(".nodes .b-row input[name^='node-name:']")
    assert rows.evaluate_all("inputs => inputs.map(i => i.value)") == [
        "Notes", "Set up", "Tone", "Sensors", "Accelerometer", "Knee angles"]
    # The files are still only in the browser, yet previewed: sound, picture, two charts.
    assert page.locator(".local-preview audio").count() == 1
    page.wait_for_function("() => document.querySelectorAll('.local-preview img').length === 1"
                           " && document.querySelector('.local-preview img').naturalWidth > 0")
    page.wait_for_function("() => document.querySelectorAll('.local-preview figure[data-chart-state=drawn]').length === 2")
    accelerometer = page.locator(".box.data", has_text="Accelerometer").locator("figure.chart")
    assert accelerometer.get_attribute("data-chart-channels") == "3"  # rows of x, y, z
    legend = page.locator(".box.data", has_text="Knee angles").locator("figcaption").inner_text()
    assert "left" in legend and "right" in legend and "2000 samples over time" in legend, legend

    # Edit: drop the notes, rename the picture, move the tone first.
    page.get_by_role("button", name="Drop Notes").click()
    page.wait_for_function("() => !document.querySelector(\"input[value='Notes']\")")
    page.fill("input[name='node-name:children[0]']", "Set-up photo")
    page.get_by_role("button", name="Move Tone up").click()
    page.wait_for_function("() => document.querySelector(\"input[name='node-name:children[0]']\").value === 'Tone'")
    assert page.locator("input[name='node-name:children[1]']").input_value() == "Set-up photo"
    assert page.locator(".local-preview audio").count() == 1  # previews survive each step
    picture(page, "builder-editor.png", full_page=True)

    # The files go through upload.js's transfer: one progress bar per file. The page moves on to the
    # result page as soon as the last file is in, so what the bars showed then is kept for a look after.
    page.evaluate(SNAPSHOT_BARS)
    page.get_by_role("button", name="Upload to repovizz2").click()
    page.wait_for_url(re.compile(r"/datapacks/[0-9a-f-]+/result$"))
    assert page.get_by_role("heading", name="Session 7 is in repovizz2").is_visible()
    assert page.locator("table.result tbody tr").count() == 4
    bars = page.evaluate("() => JSON.parse(sessionStorage.getItem('builder-bars'))")
    assert bars["title"] == "Uploading Session 7"
    assert sorted(row["link"] for row in bars["files"]) == [
        "sensors/accelerometer.json", "sensors/knee angles.csv", "set_up.png", "tone.wav"]
    for row in bars["files"]:
        assert row["state"] == "uploaded" and row["max"] > 1 and row["value"] == row["max"], row
        assert row["text"].endswith("(100%)"), row
    assert bars["overall"]["value"] == bars["overall"]["max"] == sum(row["max"] for row in bars["files"])
    assert "(100%)" in bars["overall"]["text"], bars["overall"]

    page.get_by_role("link", name="datapack page").click()
    page.wait_for_url(re.compile(r"/datapacks/[0-9a-f-]+$"))
    assert page.get_by_role("link", name=re.compile("^On the timeline")).count() == 2  # the two sensor files
    assert page.locator(".box.kind-audio audio[src*='?inline=1']").count() == 1
    page.wait_for_function("() => { const img = document.querySelector('.box.kind-image img');"
                           " return img && img.complete && img.naturalWidth > 0; }")
    assert page.locator("#node-children\\[1\\] strong").inner_text() == "Set-up photo"
    picture(page, "builder-datapack-page.png", full_page=True)

    tone_box = page.locator(".box.kind-audio")
    with page.expect_download() as downloading:
        tone_box.get_by_role("link", name="Download").click()
    download = downloading.value
    assert download.suggested_filename == "tone.wav"
    assert open(download.path(), "rb").read() == (session_folder / "tone.wav").read_bytes()

    csv_box = page.locator(".box.kind-chart", has_text="Knee angles")
    with page.expect_download() as downloading:
        csv_box.get_by_role("link", name="Download").click()
    assert open(downloading.value.path(), "rb").read() == CSV.encode()

    page.get_by_role("link", name="Open the timeline").click()  # the sensor files drawn, and the tone
    page.wait_for_selector("#timeline[data-state=drawn]")
    assert page.locator("figure.track[data-kind=stream][data-state=drawn]").count() == 2
    assert page.locator("figure.track[data-kind=audio][data-state=drawn] audio").count() == 1


def test_without_javascript_the_files_are_chosen_again(nojs_page, login, user, session_folder):
    page = nojs_page
    login(page, user, next_path="/build")
    page.set_input_files("#build-folder", str(session_folder))
    page.get_by_role("button", name="Propose a datapack").click()
    page.locator("#build-editor").wait_for()
    page.fill("#info-name", "Plain session")
    page.get_by_role("button", name="Drop Notes").click()
    expect(page.locator("#build-editor input[value='Notes']")).to_have_count(0)
    page.get_by_role("button", name="Upload to repovizz2…").click()
    page.locator("#build-upload").wait_for()
    page.set_input_files("#upload-folder", str(session_folder))
    page.get_by_role("button", name="Upload to repovizz2").click()
    expect(page.get_by_role("heading", name="Plain session is in repovizz2")).to_be_visible()
    expect(page.locator("table.result tbody tr")).to_have_count(4)


PARSE_CASES = """async () => {
  const PortalCharts = await import("/static/chart-data.js");  // what charts.js draws from
  const shape = (text, hint) => {
    const data = PortalCharts.parse(text, hint);
    return data && {channels: data.channels.length, samples: data.channels.map(c => c.length),
                    labels: data.labels, x: data.x ? data.xLabel : null};
  };
  return {
    numbers: shape('[1, 2, 3.5, -4]'),
    rows: shape('[[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]]'),
    perChannel: shape('[[1, 2, 3, 4, 5, 6], [6, 5, 4, 3, 2, 1]]'),
    objects: shape('[{"t": 0, "emg": 1.5, "note": "a"}, {"t": 1, "emg": 2, "note": "b"}]'),
    keyed: shape('{"x": [1, 2], "y": [3, 4], "name": "imu"}'),
    wrapped: shape('{"data": [1, 2, 3]}'),
    csv: shape('time,left,right\\n0,1,2\\n1,2,3\\n2,1,4\\n'),
    tsv: shape('1\\t2\\n3\\t4\\n'),
    nothing: shape('{"hello": "world"}'),
    words: shape('just some words', 'csv'),
    down: PortalCharts.downsample(Array.from({length: 10000}, (_, i) => Math.sin(i)), 500).length,
  };
}"""


def test_what_the_charts_make_of_sensor_files(page, portal):
    page.goto(portal.url + "/healthz")
    page.add_script_tag(url="/static/charts.js", type="module")  # the drawing module loads on a page
    shapes = page.evaluate(PARSE_CASES)
    assert shapes["numbers"] == {"channels": 1, "samples": [4], "labels": [""], "x": None}
    assert shapes["rows"] == {"channels": 2, "samples": [4, 4], "labels": ["", ""], "x": "column 1"}
    assert shapes["perChannel"]["channels"] == 2 and shapes["perChannel"]["samples"] == [6, 6]
    assert shapes["objects"] == {"channels": 2, "samples": [2, 2], "labels": ["t", "emg"], "x": None}
    assert shapes["keyed"] == {"channels": 2, "samples": [2, 2], "labels": ["x", "y"], "x": None}
    assert shapes["wrapped"]["samples"] == [3]
    assert shapes["csv"] == {"channels": 2, "samples": [3, 3], "labels": ["left", "right"], "x": "time"}
    assert shapes["tsv"]["channels"] == 2
    assert shapes["nothing"] is None and shapes["words"] is None
    assert shapes["down"] <= 500
