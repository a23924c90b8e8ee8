"""An upload that stops half-way (cancelled, or the login expired) is finished from the datapack page."""
from __future__ import annotations

import json
import re

from tests.browser.helpers import EXAMPLE, EXAMPLE_ASSETS, PASSWORD, PENDING_FORM, REF, drop_paths, example_size, \
    hold_final_post, wait_until_enhanced, wait_until_listed


DATAPACK_PAGE = re.compile(r"/datapacks/[0-9a-f-]+$")
RESULT_PAGE = re.compile(r"/datapacks/[0-9a-f-]+/result$")
SIZES = {name: example_size(name) for name in EXAMPLE_ASSETS}


def assert_every_row_complete(page):
    """Each row of the result table: its original file, that file's size and a repovizz: reference."""
    rows = page.locator("table.result tbody tr")
    assert rows.count() == 4
    seen = {}
    for index in range(4):
        cells = rows.nth(index).locator("td").all_inner_texts()
        original, size, reference = cells[2].strip(), cells[3].strip(), cells[4].strip()
        assert REF.match(reference), cells
        seen[original] = size
    assert seen == SIZES, seen


def record_puts(page) -> list[str]:
    puts: list[str] = []
    page.on("request", lambda request: puts.append(request.url) if request.method == "PUT" else None)
    return puts


def resume_with_the_folder(page, puts, expected_links, picture, shot, drop=False):
    """On the datapack page: choose (or drop) the folder again, send, and see the page turn complete."""
    wait_until_enhanced(page, PENDING_FORM)
    pending = page.locator("section.pending li").all_inner_texts()
    assert len(pending) == len(expected_links)
    before = len(puts)
    if drop:
        drop_paths(page, "#drop-zone", [EXAMPLE])
        page.get_by_text("5 files dropped").wait_for()
    else:
        page.set_input_files('#pending-form input[name="folder"]', str(EXAMPLE))
    page.get_by_role("button", name="Upload the pending files").click()
    # The result page: every file of the datapack, the ones sent before the resume included.
    page.wait_for_url(RESULT_PAGE)
    assert_every_row_complete(page)
    sent = sorted(url.split("/assets/", 1)[1].split("?", 1)[0] for url in puts[before:])
    assert sent == sorted(expected_links), sent
    page.get_by_role("link", name="Open the datapack page").click()
    page.get_by_text("Every file of this datapack is in repovizz2.").wait_for()
    assert DATAPACK_PAGE.search(page.url)
    assert page.locator(".tree .status.pending").count() == 0
    assert page.locator(".tree code.ref").count() == 4
    picture(page, shot, full_page=True)


def test_cancel_then_resume_from_the_datapack_page(page, login, user, picture):
    login(page, user)
    wait_until_enhanced(page)
    puts = record_puts(page)
    held = []  # the tone never reaches the portal until the test lets it: Cancel catches it in flight
    page.route("**/assets/audio/tone.wav*", lambda route: held.append(route))
    page.set_input_files('input[name="folder"]', str(EXAMPLE))
    wait_until_listed(page)
    page.get_by_role("button", name="Check and upload").click()
    page.wait_for_function("() => document.querySelectorAll('#transfer li[data-state=uploaded]').length === 3")
    assert page.locator('#transfer li[data-link="audio/tone.wav"]').get_attribute("data-state") == "sending"

    hold_final_post(page)
    page.get_by_role("button", name="Cancel").click()
    page.get_by_role("dialog", name="Stop the upload?").get_by_role("button", name="Stop the upload").click()
    page.wait_for_function("() => window.heldForm")
    cancelled = page.locator(".transfer-cancelled")
    assert cancelled.inner_text().startswith("Cancelled: 3 of 4 files were uploaded and stay uploaded.")
    assert page.locator('#transfer li[data-link="audio/tone.wav"]').get_attribute("data-state") == "pending"
    assert page.get_by_role("button", name="Cancel").is_hidden()
    picture(page, "js-cancelled.png", full_page=True)
    page.unroute("**/assets/audio/tone.wav*")

    page.evaluate("() => window.releaseForm()")  # the page that says what is in repovizz2
    page.get_by_role("link", name="Finish now: send the pending files").click()
    page.wait_for_url(DATAPACK_PAGE)
    assert page.get_by_role("heading", name="1 file still to upload").is_visible()
    picture(page, "datapack-pending.png", full_page=True)
    resume_with_the_folder(page, puts, ["audio/tone.wav"], picture, "js-resumed-after-cancel.png", drop=True)


def test_expired_login_stops_the_upload_and_the_rest_is_sent_after_logging_in(page, login, user, picture):
    login(page, user)
    wait_until_enhanced(page)
    page.locator("#upload-form").evaluate("form => form.setAttribute('data-parallel', '1')")  # one at a time, in order
    puts = record_puts(page)
    page.route("**/assets/sensors/accelerometer.json*", lambda route: route.fulfill(
        status=401, content_type="application/json",
        body=json.dumps({"error": "Your repovizz2 login has expired: log in again.", "login": "/auth/login"})))
    page.set_input_files('input[name="folder"]', str(EXAMPLE))
    wait_until_listed(page)
    page.get_by_role("button", name="Check and upload").click()

    notice = page.locator("#transfer .js-login")
    notice.wait_for()
    assert "2 of 4 files were uploaded before it expired." in notice.inner_text()
    states = page.locator("#transfer li").evaluate_all("rows => rows.map(row => row.dataset.state)")
    assert states == ["uploaded", "uploaded", "pending", "pending"]
    again = notice.get_by_role("link", name="Log in again")
    assert re.search(r"/auth/login\?next=%2Fdatapacks%2F[0-9a-f-]+$", again.get_attribute("href"))
    picture(page, "js-login-expired.png", full_page=True)
    page.unroute("**/assets/sensors/accelerometer.json*")

    again.click()  # the sandbox holds no login of this browser's (the `login` fixture logs in over HTTP)
    page.fill('input[name="username"]', user)
    page.fill('input[name="password"]', PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(DATAPACK_PAGE)
    assert page.get_by_role("heading", name="2 files still to upload").is_visible()
    resume_with_the_folder(page, puts, EXAMPLE_ASSETS[2:3] + ["sensors/emg%202.json"], picture,
                           "js-resumed-after-login.png")


def test_resume_with_files_that_match_nothing_pending_shows_the_problem(page, login, user):
    login(page, user)
    page.get_by_role("button", name="Upload the example").click()  # complete: nothing pending
    page.wait_for_url(re.compile(r"/upload/example$"))
    # A datapack with pending files: created from the page through the API, no file sent.
    created = page.evaluate("""async () => {
        const document_ = {info: {name: "Half", author: "a", description: "d", keywords: []},
                           children: [{class: "data", name: "Tone", text: "t", link: "tone.wav"},
                                      {class: "data", name: "Png", text: "p", link: "setup.png"}]};
        const token = document.querySelector('meta[name="csrf-token"]').content;
        const answer = await fetch("/api/datapacks", {method: "POST",
            headers: {"Content-Type": "application/json", "X-CSRFToken": token},
            body: JSON.stringify({document: document_, files: [{path: "tone.wav", size: 16044},
                                                               {path: "setup.png", size: 12777}]})});
        return [answer.status, await answer.json()];
    }""")
    assert created[0] == 201, created
    page.goto(page.url.rsplit("/upload", 1)[0] + f"/datapacks/{created[1]['datapack_id']}")
    assert page.get_by_role("heading", name="2 files still to upload").is_visible()
    wait_until_enhanced(page, PENDING_FORM)
    page.set_input_files('#pending-form input[name="files"]', str(EXAMPLE / "sensors" / "accelerometer.json"))
    page.get_by_role("button", name="Upload the pending files").click()
    problems = page.locator("section.problems")
    problems.wait_for()
    assert "none of the chosen files matches a link that is still pending" in problems.inner_text()
    assert page.locator("#pending-form").is_visible()
    # Choosing the right one then sends just it.
    page.set_input_files('#pending-form input[name="files"]', str(EXAMPLE / "setup.png"))
    page.get_by_role("button", name="Upload the pending files").click()
    page.wait_for_url(RESULT_PAGE)
    assert page.get_by_role("heading", name="Half: 1 file still pending").is_visible()
    assert page.locator("section.problems").count() == 0
    page.get_by_role("link", name="Open the datapack to send them").click()
    page.get_by_role("heading", name="1 file still to upload").wait_for()
    assert page.locator("section.problems").count() == 0


def test_a_plain_resume_shows_every_file_on_the_result_page(nojs_page, login, user, portal, picture):
    """Half a datapack sent (through the API, from this login), the rest from the plain form: the result
    page lists all four files with their original names, sizes and references."""
    page = nojs_page
    login(page, user)
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    document = json.loads((EXAMPLE / "datapack.json").read_text())
    files = [{"path": f"example/{name}", "size": (EXAMPLE / name).stat().st_size} for name in EXAMPLE_ASSETS]
    created = page.request.post(portal.url + "/api/datapacks", headers={"X-CSRFToken": token},
                                data={"document": document, "files": files})
    assert created.status == 201, created.text()
    answer = created.json()
    for upload in answer["uploads"][:2]:
        sent = page.request.put(portal.url + upload["url"], headers={"X-CSRFToken": token,
                                                                     "Content-Type": "application/octet-stream"},
                                data=(EXAMPLE / upload["path"].removeprefix("example/")).read_bytes())
        assert sent.status == 200, sent.text()

    page.goto(f"{portal.url}/datapacks/{answer['datapack_id']}")
    assert page.get_by_role("heading", name="2 files still to upload").is_visible()
    page.set_input_files('#pending-form input[name="folder"]', str(EXAMPLE))
    page.get_by_role("button", name="Upload the pending files").click()
    page.get_by_role("heading", name="Portal example is in repovizz2").wait_for()
    assert_every_row_complete(page)
    picture(page, "nojs-resumed-result.png", full_page=True)
