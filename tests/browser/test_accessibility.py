"""axe-core over the main journeys (welcome, home, upload with JavaScript on and off, result,
datapack page with its previews and edit forms, build), on a desktop window and on a 390 × 844
phone; tap targets of at least 24 × 24 px; the drop zone only where there is a fine pointer; the
builder's node editor in one aligned column on a phone.

Every page keeps its own Content-Security-Policy while axe runs (see tests/browser/axe.py), and
the `page` fixture still fails a test on any CSP violation.
"""
from __future__ import annotations

import re

from tests.browser.axe import assert_no_serious_violations, assert_tap_targets
from tests.browser.helpers import BUILDER, EXAMPLE, broken_example, hold_final_post, log_in, wait_until_enhanced, \
    wait_until_listed


DESKTOP = {"width": 1100, "height": 900}
PHONE = {"width": 390, "height": 844}


def check(page, label: str) -> None:
    """axe on the desktop window and on the phone, and the phone's tap targets."""
    page.set_viewport_size(DESKTOP)
    assert_no_serious_violations(page, label)
    page.set_viewport_size(PHONE)
    assert_no_serious_violations(page, f"{label}, phone")
    assert_tap_targets(page, f"{label} at 390 px")
    page.set_viewport_size(DESKTOP)


def open_every_edit_form(page) -> None:
    page.locator("details.box-edit").evaluate_all("all => all.forEach(details => details.open = true)")


def test_welcome_upload_result_datapack_and_home_with_javascript(page, login, user, portal):
    page.goto(portal.url + "/")
    check(page, "the welcome page")
    login(page, user)
    wait_until_enhanced(page)
    check(page, "the upload page")

    hold_final_post(page)
    page.set_input_files('input[name="folder"]', str(EXAMPLE))
    wait_until_listed(page)
    page.get_by_role("button", name="Check and upload").click()
    page.wait_for_function("() => window.heldForm")
    check(page, "the upload page's progress bars")
    page.evaluate("() => window.releaseForm()")
    page.wait_for_url(re.compile(r"/datapacks/[0-9a-f-]+/result$"))
    check(page, "the result page")

    page.get_by_role("link", name="Open the datapack page").click()
    page.get_by_role("link", name="Open the timeline").wait_for()
    assert page.locator(".box audio").count() == 1 and page.locator(".box img").count() == 1
    # Each download link names its file (they used to be four links all called "Download").
    downloads = page.locator("a.download")
    names = [link.evaluate("a => a.textContent.replace(/\\s+/g, ' ').trim()") for link in downloads.all()]
    assert len(names) == 4 and len(set(names)) == 4, names
    assert "Download Tone" in names, names
    check(page, "the datapack page")
    open_every_edit_form(page)
    check(page, "the datapack page with its edit forms open")

    page.goto(portal.url + "/")
    check(page, "the home page with a datapack")
    page.get_by_label("Search your datapacks by name").fill("example")
    page.get_by_role("button", name="Search", exact=True).click()
    page.get_by_text("whose name contains").wait_for()
    check(page, "the home page's search")


def test_pages_without_javascript(scriptless_page, login, user, portal, tmp_path):
    page = scriptless_page
    login(page, user)
    check(page, "the upload page without JavaScript")
    assert page.locator("#drop-zone").is_hidden()

    page.set_input_files('input[name="document"]', str(broken_example(tmp_path)))
    page.set_input_files('input[name="files"]', [str(EXAMPLE / "setup.png")])
    page.get_by_role("button", name="Check and upload").click()
    page.locator(".problems").first.wait_for()
    check(page, "the upload page's problems without JavaScript")

    page.get_by_role("button", name="Upload the example").click()
    page.wait_for_url(re.compile(r"/upload/example$"))
    check(page, "the result page without JavaScript")

    page.get_by_role("link", name="Open the datapack page").click()
    open_every_edit_form(page)
    check(page, "the datapack page without JavaScript")

    page.goto(portal.url + "/build")
    check(page, "the build page without JavaScript")
    page.set_input_files("#build-folder", str(EXAMPLE))
    page.get_by_role("button", name="Propose a datapack").click()
    page.locator("#build-editor").wait_for()
    check(page, "the builder's editor without JavaScript")


def test_builder_is_checked_and_aligned_on_a_phone(page, login, user, picture):
    login(page, user, next_path="/build")
    wait_until_enhanced(page, BUILDER)
    check(page, "the build page")
    page.set_input_files("#build-folder", str(EXAMPLE))
    page.get_by_role("button", name="Propose a datapack").click()
    page.locator("#build-editor").wait_for()
    page.wait_for_function("() => document.querySelectorAll('.local-preview img').length === 1")
    check(page, "the builder's editor with previews")

    page.set_viewport_size(PHONE)
    nodes = page.locator("fieldset.nodes")
    picture(nodes, "builder-nodes-390.png")
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= PHONE["width"]
    fieldset = nodes.bounding_box()
    rows = page.locator(".nodes .b-row")
    assert rows.count() >= 5
    for row in rows.all():
        name, text = (row.locator(f"input[name^='node-{field}:']").bounding_box() for field in ("name", "text"))
        # One column: Name and Text start at the same place and are as wide, inside the fieldset.
        assert abs(name["x"] - text["x"]) < 1 and abs(name["width"] - text["width"]) < 1, (name, text)
        assert name["x"] + name["width"] <= fieldset["x"] + fieldset["width"]
        assert name["width"] >= 200, name
        buttons = row.locator(".b-actions button").all()
        assert buttons and all(button.bounding_box()["x"] + button.bounding_box()["width"]
                                <= fieldset["x"] + fieldset["width"] for button in buttons)


def test_a_phone_gets_no_folder_picker_nor_drop_zone_and_targets_a_finger_can_hit(browser, portal, user):
    """On a touch screen nobody drags files and phones pick no folders: the drop zone and the folder
    picker stay hidden, the file inputs remain, and every target is at least 44 px."""
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    try:
        phone = context.new_page()
        log_in(phone, portal.url, user)
        wait_until_enhanced(phone)
        assert phone.evaluate("() => matchMedia('(any-pointer: fine)').matches") is False
        # The script ran (it unhides the zone where dropping works), yet the zone is not shown.
        assert phone.locator("#drop-zone").get_attribute("hidden") is None
        assert phone.locator("#drop-zone").is_hidden()
        assert phone.evaluate("() => matchMedia('(pointer: coarse)').matches") is True
        assert phone.locator('input[name="folder"]').is_hidden()
        for name in ("document", "files", "archive"):
            assert phone.locator(f'input[name="{name}"]').is_visible()
        assert_no_serious_violations(phone, "the upload page on a touch screen")
        assert_tap_targets(phone, "the upload page on a touch screen", minimum=44)
        # The list of what was chosen, with its Remove buttons, is for fingers too.
        phone.set_input_files('input[name="files"]', [str(path) for path in EXAMPLE.rglob("*") if path.is_file()])
        phone.locator("#chosen .chosen-summary").wait_for()
        assert_tap_targets(phone, "the list of chosen files on a touch screen", minimum=44)
    finally:
        context.close()
