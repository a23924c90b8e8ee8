"""With JavaScript on: what was chosen is listed before anything is sent, the files left out are named
on the result page, and a .zip goes through the progress path, where Cancel asks first."""
from __future__ import annotations

import re

from tests.browser.axe import assert_no_serious_violations
from tests.browser.helpers import hold_final_post, wait_until_enhanced
from tests.browser.test_extra_files import EXTRA, lab_folder, zipped  # noqa: F401 (a fixture)


RESULT_PAGE = re.compile(r"/datapacks/[0-9a-f-]+/result$")
UPLOAD_PAGE = re.compile(r"/upload$")
EXTRA_PATH = f"recording/{EXTRA}"


def record_sends(page) -> list[str]:
    """Every create and every file sent (the check does not count: it creates nothing)."""
    sent: list[str] = []
    page.on("request", lambda request: sent.append(f"{request.method} {request.url}")
            if request.method == "PUT" or request.url.endswith("/api/datapacks") else None)
    return sent


def test_a_chosen_folder_is_listed_before_anything_is_sent_and_the_left_out_file_named_after(
        page, login, user, lab_folder, picture):  # noqa: F811
    login(page, user)
    wait_until_enhanced(page)
    sent = record_sends(page)
    page.set_input_files('input[name="folder"]', str(lab_folder))
    chosen = page.locator("#chosen")
    summary = chosen.locator(".chosen-summary")
    summary.wait_for()
    assert summary.inner_text().startswith("4 files to upload (")
    assert summary.inner_text().endswith(", 1 left out.")
    document = chosen.locator(".chosen-document").inner_text()
    assert "recording/datapack.json" in document and '"info" and "children"' in document
    rows = chosen.locator("table.chosen-files tbody tr")
    assert sorted(rows.evaluate_all("rows => rows.map(row => row.dataset.path)")) == [
        "recording/audio/tone.wav", "recording/sensors/accelerometer.json", "recording/sensors/emg 2.json",
        "recording/setup.png"]
    assert chosen.locator("table.chosen-files td[data-label='Data node']").first.inner_text() != ""
    left_out = chosen.locator(".chosen-left-out")
    assert "Left out: 1 file no data node refers to" in left_out.inner_text()
    assert left_out.locator("li code").all_inner_texts() == [EXTRA_PATH]
    assert_no_serious_violations(page, "the upload page with its list of chosen files")
    picture(page, "js-chosen-files.png", full_page=True)
    assert sent == []  # nothing created, nothing sent

    # Taken off the list: the node's file is now missing, which the list says; put back, all is well.
    chosen.get_by_role("button", name="Remove recording/setup.png from the upload").click()
    page.wait_for_function("() => document.querySelector('#chosen .chosen-summary')?.textContent"
                           ".startsWith('3 files to upload')")
    assert "no file was sent for link 'setup.png'" in chosen.locator(".chosen-problems").inner_text()
    chosen.get_by_role("button", name="Put back the 1 removed file").click()
    page.wait_for_function("() => document.querySelector('#chosen .chosen-summary')?.textContent"
                           ".startsWith('4 files to upload')")
    assert sent == []

    page.get_by_role("button", name="Check and upload").click()
    page.wait_for_url(RESULT_PAGE)
    assert page.get_by_role("heading", name="Portal example is in repovizz2").is_visible()
    left_out = page.locator("section.left-out")
    assert left_out.get_by_role("heading", name="Not uploaded: 1 file no data node refers to").is_visible()
    assert left_out.locator("li").all_inner_texts() == [EXTRA_PATH]


def test_a_zip_is_sent_with_progress_and_a_cancel_that_asks_first(page, login, user, lab_folder, tmp_path,  # noqa: F811
                                                                   picture):
    login(page, user)
    wait_until_enhanced(page)
    held = []  # the tone never reaches the portal until the test lets it: Cancel catches it in flight
    page.route("**/assets/audio/tone.wav*", lambda route: held.append(route))
    page.set_input_files('input[name="archive"]', str(zipped(lab_folder, tmp_path)))
    chosen = page.locator("#chosen")
    chosen.locator(".chosen-summary").wait_for()
    assert "recording.zip" in chosen.inner_text()
    assert chosen.locator(".chosen-left-out li code").all_inner_texts() == [EXTRA_PATH]

    page.get_by_role("button", name="Check and upload").click()
    page.wait_for_function("() => document.querySelectorAll('#transfer li[data-state=uploaded]').length === 3")
    assert page.locator("#overall-progress").is_visible()
    assert page.locator('#transfer li[data-link="audio/tone.wav"]').get_attribute("data-state") == "sending"
    assert "recording/notes" in page.locator("#transfer .left-out").inner_text()

    page.get_by_role("button", name="Cancel").click()
    dialog = page.get_by_role("dialog", name="Stop the upload?")
    assert "3 of 4 files uploaded so far; they stay" in dialog.inner_text()
    assert page.evaluate("() => document.activeElement.textContent") == "Keep uploading"
    assert_no_serious_violations(page, "the question before a cancel")
    picture(page, "js-cancel-question.png")
    dialog.get_by_role("button", name="Keep uploading").click()
    assert dialog.count() == 0
    assert page.locator('#transfer li[data-link="audio/tone.wav"]').get_attribute("data-state") == "sending"

    page.get_by_role("button", name="Cancel").click()
    page.get_by_role("dialog", name="Stop the upload?").get_by_role("button", name="Stop the upload").click()
    page.wait_for_url(RESULT_PAGE)
    assert page.get_by_role("heading", name="Upload stopped: 3 of 4 files of Portal example are in repovizz2").is_visible()
    assert page.locator("table.result tr.pending").count() == 1
    assert page.locator("section.left-out li").all_inner_texts() == [EXTRA_PATH]
    picture(page, "js-cancelled-result.png", full_page=True)
    page.get_by_role("link", name="Finish now: send the pending files").click()
    page.get_by_role("heading", name="1 file still to upload").wait_for()


def test_a_taken_name_on_the_zip_path_is_changed_without_choosing_the_zip_again(page, login, user, lab_folder, tmp_path):  # noqa: F811
    login(page, user)
    archive = zipped(lab_folder, tmp_path)
    for attempt in range(2):
        wait_until_enhanced(page)
        page.set_input_files('input[name="archive"]', str(archive))
        page.locator("#chosen .chosen-summary").wait_for()
        page.get_by_role("button", name="Check and upload").click()
        if attempt == 0:
            page.wait_for_url(RESULT_PAGE)
            page.get_by_role("link", name="Upload", exact=True).click()
            page.wait_for_url(UPLOAD_PAGE)  # the new page's form, not the one left behind
    taken = page.locator("section.name-taken")
    taken.wait_for()
    # One name field: the offer in the message; the form's own is put away meanwhile.
    assert taken.get_by_label("Upload under another name").input_value() == "Portal example (2)"
    assert page.locator("#upload-form input[name=name]").is_hidden()
    hold_final_post(page)
    taken.get_by_role("button", name="Upload under this name").click()
    page.wait_for_function("() => window.heldForm")
    assert page.locator("#transfer li[data-state=uploaded]").count() == 4
    page.evaluate("() => window.releaseForm()")
    page.wait_for_url(RESULT_PAGE)
    assert page.get_by_role("heading", name="Portal example (2) is in repovizz2").is_visible()
