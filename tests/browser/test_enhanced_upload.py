"""With JavaScript on: the browser plans through the JSON API and sends each file itself, with progress."""
from __future__ import annotations

import html
import json
import os
import re
import zipfile

import requests
from playwright.sync_api import expect

from tests.browser.helpers import EXAMPLE, EXAMPLE_ASSETS, REF, broken_example, drop_paths, example_size, \
    hold_final_post, references, wait_until_enhanced, wait_until_listed


ALL_BARS_FULL = """() => {
  const bars = [...document.querySelectorAll('#transfer progress')];
  return bars.length > 0 && bars.every(bar => bar.value === bar.max);
}"""


def put_requests(page) -> list[str]:
    """The URLs of every PUT the page makes, in order (filled in as they happen)."""
    puts: list[str] = []
    page.on("request", lambda request: puts.append(request.url) if request.method == "PUT" else None)
    return puts


def tune(page, **attributes):
    """Set data-* attributes on the upload form (parallel, retry-delay) as the template would."""
    for name, value in attributes.items():
        page.locator("#upload-form").evaluate(f"(form, v) => form.setAttribute('data-{name}', v)", str(value))


def assert_example_result(page):
    page.wait_for_url(re.compile(r"/datapacks/[0-9a-f-]+/result$"))
    assert page.get_by_role("heading", name="Portal example is in repovizz2").is_visible()
    refs = references(page)
    assert len(set(refs)) == 4 and all(REF.match(ref) for ref in refs), refs


def test_folder_upload_shows_progress_and_lands_on_the_result(page, login, user, portal, picture):
    login(page, user)
    wait_until_enhanced(page)
    # The scripts run under the portal's policy: no inline code allowed (violations fail the test).
    csp = page.request.get(portal.url + "/upload").headers.get("content-security-policy", "")
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp, csp
    assert page.locator("#drop-zone").is_visible()
    puts = put_requests(page)
    hold_final_post(page)
    page.set_input_files('input[name="folder"]', str(EXAMPLE))
    wait_until_listed(page)
    page.get_by_role("button", name="Check and upload").click()

    page.wait_for_function(ALL_BARS_FULL)
    page.wait_for_function("() => window.heldForm")
    assert page.locator("#upload-form").is_hidden()
    rows = page.locator("#transfer li.transfer-file")
    assert rows.count() == 4
    for index in range(4):
        row = rows.nth(index)
        assert row.get_attribute("data-state") == "uploaded"
        assert "(100%)" in row.locator(".progress-text").inner_text()
    assert sorted(rows.locator("label").all_inner_texts()) == sorted(f"example/{name}" for name in EXAMPLE_ASSETS)
    overall = page.locator("#overall-text").inner_text()
    assert "(100%)" in overall and f"{example_size()} of {example_size()}" in overall, overall
    assert page.locator("#transfer [role=status]").inner_text() == "All 4 files were uploaded."
    assert page.locator("#overall-progress").get_attribute("aria-describedby") == "overall-text"
    picture(page, "js-progress-complete.png", full_page=True)

    page.evaluate("() => window.releaseForm()")
    assert_example_result(page)
    picture(page, "js-result.png", full_page=True)
    assert len(puts) == 4 and any("/assets/sensors/emg%202.json" in url for url in puts), puts
    # The result page shows the sizes the browser sent.
    assert example_size("sensors/emg 2.json") in page.locator("table.result").inner_text()


def test_a_dropped_folder_uploads_with_a_retried_failure(page, login, user):
    login(page, user)
    wait_until_enhanced(page)
    tune(page, **{"retry-delay": 20})
    drop_paths(page, "#drop-zone", [EXAMPLE])  # the folder itself, walked with webkitGetAsEntry()
    summary = page.locator("#drop-zone .drop-summary")
    expect(summary).to_have_text(f"5 files dropped ({example_size('datapack.json', *EXAMPLE_ASSETS)}).")
    wait_until_listed(page)
    assert page.get_by_role("button", name="Forget the dropped files").is_visible()

    attempts = []

    def flaky(route):
        attempts.append(route.request.url)
        if len(attempts) <= 2:
            route.fulfill(status=503, content_type="application/json", body=json.dumps({"error": "repovizz2 is down"}))
        else:
            route.continue_()

    page.route("**/assets/setup.png*", flaky)
    page.get_by_role("button", name="Check and upload").click()
    page.locator('#transfer li[data-link="sensors/emg 2.json"]').wait_for(state="attached")
    # The paths are the dropped folder's own, as the folder input would give them.
    labels = page.locator("#transfer li label").all_inner_texts()
    assert sorted(labels) == sorted(f"example/{name}" for name in EXAMPLE_ASSETS)
    assert_example_result(page)
    assert len(attempts) == 3


def test_a_file_that_keeps_failing_gets_a_retry_button(page, login, user, picture):
    login(page, user)
    wait_until_enhanced(page)
    tune(page, **{"retry-delay": 10})
    attempts = []

    def down(route):
        attempts.append(route.request.url)
        route.fulfill(status=502, content_type="application/json", body=json.dumps({"error": "repovizz2 failed"}))

    page.route("**/assets/audio/tone.wav*", down)
    page.set_input_files('input[name="folder"]', str(EXAMPLE))
    wait_until_listed(page)
    page.get_by_role("button", name="Check and upload").click()
    # The summary is written once no file is queued, sending or waiting: every other file has its answer.
    failed = page.locator(".transfer-failed")
    failed.wait_for()
    assert failed.inner_text().startswith("1 of 4 files failed after 4 tries.")
    assert len(attempts) == 4  # the first try and three retries with backoff
    assert page.locator("li[data-state=failed]").count() == 1
    assert page.locator("li[data-state=uploaded]").count() == 3
    retry = page.get_by_role("button", name="Retry example/audio/tone.wav")
    assert retry.is_visible()
    picture(page, "js-retry-button.png", full_page=True)

    page.unroute("**/assets/audio/tone.wav*")
    retry.focus()
    page.keyboard.press("Enter")
    assert_example_result(page)


def test_dropped_loose_files_count_by_their_names(page, login, user):
    """A drop the page builds itself carries plain files (no entries): they count by their names."""
    login(page, user)
    wait_until_enhanced(page)
    page.evaluate("""() => { const input = document.createElement('input');
        input.type = 'file'; input.multiple = true; input.id = 'drag-source'; input.hidden = true;
        document.body.appendChild(input); }""")
    page.set_input_files("#drag-source", [str(EXAMPLE / "datapack.json")] + [str(EXAMPLE / n) for n in EXAMPLE_ASSETS])
    page.evaluate("""() => {
        const transfer = new DataTransfer();
        for (const file of document.getElementById('drag-source').files) transfer.items.add(file);
        const zone = document.getElementById('drop-zone');
        for (const type of ['dragenter', 'dragover', 'drop'])
          zone.dispatchEvent(new DragEvent(type, {dataTransfer: transfer, bubbles: true, cancelable: true}));
    }""")
    summary = page.locator("#drop-zone .drop-summary")
    expect(summary).to_have_text(f"5 files dropped ({example_size('datapack.json', *EXAMPLE_ASSETS)}).")
    page.get_by_role("button", name="Forget the dropped files").click()
    expect(summary).to_be_hidden()
    assert summary.inner_text() == ""


def test_broken_document_shows_the_servers_problems_and_creates_nothing(page, login, user, portal, tmp_path, picture):
    login(page, user)
    wait_until_enhanced(page)
    broken = broken_example(tmp_path)
    assets = [EXAMPLE / name for name in EXAMPLE_ASSETS[1:]]
    page.set_input_files('input[name="document"]', str(broken))
    page.set_input_files('input[name="files"]', [str(path) for path in assets])
    wait_until_listed(page)
    with page.expect_response("**/api/datapacks") as answer:
        page.get_by_role("button", name="Check and upload").click()
    assert answer.value.status == 422
    problems = page.locator("section.problems")
    problems.wait_for()
    assert page.url.endswith("/upload")
    assert page.locator("#transfer").is_hidden()
    heading = problems.get_by_role("heading").inner_text()
    items = problems.locator("li").all_inner_texts()
    assert heading == f"Nothing was created: {len(items)} problem{'s' if len(items) != 1 else ''} to fix first"
    assert "repovizz2 would refuse this: the datapack's info: 'author' is required (info)" in items
    assert problems.get_attribute("role") == "alert"
    picture(page, "js-problems.png", full_page=True)

    # The plain form (no script) says exactly the same about the same files.
    http = requests.Session()
    for cookie in page.context.cookies(portal.url):
        http.cookies.set(cookie["name"], cookie["value"])
    token = re.search(r'name="csrf-token" content="([^"]+)"', http.get(portal.url + "/upload").text).group(1)
    files = [("document", ("datapack.json", broken.read_bytes()))]
    files += [("files", (path.name, path.read_bytes())) for path in assets]
    plain = http.post(portal.url + "/upload", data={"csrf_token": token}, files=files)
    assert plain.status_code == 422
    plain_items = [html.unescape(re.sub(r"<[^>]+>", "", item))
                   for item in re.findall(r"<li[^>]*>(.*?)</li>", plain.text.split('class="problems"')[1])]
    assert items == plain_items

    # Fixing nothing and sending again replaces the list rather than stacking a second one.
    problems.evaluate("section => section.setAttribute('data-test-seen', '')")
    with page.expect_response("**/api/datapacks"):
        page.get_by_role("button", name="Check and upload").click()
    page.locator("section.problems:not([data-test-seen])").wait_for()
    assert page.locator("section.problems").count() == 1

    # Files without any document: the script says so before asking the server anything.
    page.reload()
    wait_until_enhanced(page)
    page.set_input_files('input[name="files"]', [str(path) for path in assets])
    wait_until_listed(page)
    page.get_by_role("button", name="Check and upload").click()
    page.locator("section.problems").get_by_text(
        "no datapack document found: add the .json file that has 'info' and 'children'").wait_for()
    # The list of what was chosen said it already, before the button was pressed.
    assert "no datapack document found" in page.locator("#chosen .chosen-problems").inner_text()
    assert page.get_by_role("heading", name="Nothing was created: 1 problem to fix first").is_visible()

    page.get_by_role("link", name="My datapacks").click()
    expect(page.get_by_text("You have no datapacks yet.")).to_be_visible()


def test_a_zip_goes_through_the_progress_path_and_a_taken_name_points_to_the_existing_datapack(
        page, login, user, tmp_path, picture):
    login(page, user)
    wait_until_enhanced(page)
    archive = tmp_path / "example.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for path in sorted(EXAMPLE.rglob("*")):
            if path.is_file():
                bundle.write(path, "example/" + path.relative_to(EXAMPLE).as_posix())
    api_calls = []
    page.on("request", lambda request: api_calls.append(request.url) if "/api/" in request.url else None)
    page.set_input_files('input[name="archive"]', str(archive))
    wait_until_listed(page)
    page.get_by_role("button", name="Check and upload").click()
    page.wait_for_url(re.compile(r"/datapacks/[0-9a-f-]+/result$"))
    # The page read the zip: the create and each file went through the API, as a folder's do.
    assert sum(url.endswith("/api/datapacks") for url in api_calls) == 1
    assert page.get_by_role("heading", name="Portal example is in repovizz2").is_visible()
    # The result page: focus is on its heading, not left on <body>.
    page.wait_for_function("() => document.activeElement && document.activeElement.tagName === 'H1'")
    assert page.evaluate("() => document.activeElement.textContent") == "Portal example is in repovizz2"
    datapack_id = page.locator("#datapack-id").inner_text()

    page.get_by_role("link", name="Upload", exact=True).click()
    page.wait_for_url("**/upload")  # the new page's form, not the one left behind
    wait_until_enhanced(page)
    page.set_input_files('input[name="folder"]', str(EXAMPLE))
    wait_until_listed(page)
    page.get_by_role("button", name="Check and upload").click()
    taken = page.locator("section.problems")
    taken.wait_for()
    assert "You already have a datapack with that name" in taken.inner_text()
    picture(page, "js-name-taken.png", full_page=True)
    assert page.evaluate("() => document.activeElement.id") == "new-name"  # where the way forward is
    # The existing one is complete: its button does not speak of pending files.
    taken.get_by_role("link", name="Open the existing datapack", exact=True).click()
    page.wait_for_url(f"**/datapacks/{datapack_id}")
    assert page.get_by_text("Every file of this datapack is in repovizz2.").is_visible()


def test_a_slow_upload_shows_speed_and_time_left(page, login, user, tmp_path, picture):
    folder = tmp_path / "slow"
    folder.mkdir()
    (folder / "big.bin").write_bytes(os.urandom(1_500_000))
    (folder / "notes.txt").write_text("recorded in studio B\n")
    (folder / "datapack.json").write_text(json.dumps({
        "info": {"name": "Slow one", "author": user, "description": "a large file", "keywords": []},
        "children": [{"class": "data", "name": "Big", "text": "random bytes", "link": "big.bin"},
                     {"class": "data", "name": "Notes", "text": "notes", "link": "notes.txt"}]}))
    login(page, user)
    wait_until_enhanced(page)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions",
             {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 1_000_000})
    page.set_input_files('input[name="folder"]', str(folder))
    wait_until_listed(page)
    page.get_by_role("button", name="Check and upload").click()
    overall = page.locator("#overall-text")
    page.wait_for_function("() => / left$/.test((document.getElementById('overall-text') || {}).textContent)")
    assert re.search(r"\(\d+%\) · [\d.]+ (KB|MB)/s · (about .+|less than 1 s) left$", overall.inner_text())
    big = page.locator('#transfer li[data-link="big.bin"]')
    assert big.get_attribute("data-state") == "sending"
    picture(page, "js-progress-in-flight.png", full_page=True)
    cdp.send("Network.emulateNetworkConditions",
             {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    page.wait_for_url(re.compile(r"/datapacks/[0-9a-f-]+/result$"))
    assert page.get_by_role("heading", name="Slow one is in repovizz2").is_visible()
    assert len(references(page)) == 2
