"""Removing a node or a container asks first, naming what goes: a dialog with JavaScript, a page without."""
from __future__ import annotations

import re

from playwright.sync_api import expect


DATAPACK_PAGE = re.compile(r"/datapacks/[0-9a-f-]+$")
AUDIO = 'the container "Audio" and the 1 node inside it (1 uploaded file)'


def open_the_example(page):
    page.get_by_role("button", name="Upload the example").click()
    page.get_by_role("heading", name="Portal example is in repovizz2").wait_for()
    page.get_by_role("link", name="Open the datapack page").click()
    page.wait_for_url(DATAPACK_PAGE)


def remove_button(page, place):
    box = page.locator(f'[id="node-{place}"]')
    box.locator(":scope > details.box-edit > summary").click()
    return box.locator(":scope > details.box-edit form.remove-node button")


def test_remove_asks_in_a_dialog_cancel_keeps_confirm_removes(page, login, user, picture):
    login(page, user)
    open_the_example(page)
    page.locator("dialog#remove-dialog[data-ready]").wait_for(state="attached")  # the page's script is running
    button = remove_button(page, "children[1]")
    button.click()
    dialog = page.locator("dialog#remove-dialog")
    expect(dialog).to_be_visible()
    assert dialog.get_by_role("heading").inner_text() == f"Remove {AUDIO}?"
    assert "This cannot be undone" in dialog.inner_text()
    assert page.evaluate("() => document.activeElement.textContent") == "Cancel: keep it"
    picture(page, "js-remove-dialog.png", full_page=True)

    dialog.get_by_role("button", name="Cancel: keep it").click()
    expect(dialog).to_be_hidden()
    assert DATAPACK_PAGE.search(page.url)
    assert page.locator('[id="node-children[1]"]').is_visible()
    assert page.evaluate("() => document.activeElement.className") == button.get_attribute("class")
    page.keyboard.press("Enter")  # the focused remove button asks again; Escape keeps the node too
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    button.click()
    with page.expect_navigation():
        dialog.get_by_role("button", name="Remove it").click()
    assert page.get_by_text('Removed the container "Audio" with 1 data node (it was at children[1]).').is_visible()
    names = page.locator(".picture .box-head strong").all_inner_texts()
    assert "Audio" not in names and "Tone" not in names and "Sensors" in names


def test_remove_without_javascript_goes_through_a_confirmation_page(nojs_page, login, user, picture):
    page = nojs_page
    login(page, user)
    open_the_example(page)
    datapack_url = page.url
    remove_button(page, "children[0]").click()
    page.wait_for_url(re.compile(r"/nodes/remove\?place=children%5B0%5D&expect="))
    assert page.get_by_role("heading", name='Remove the data node "Set-up" and its file?').is_visible()
    assert page.get_by_text("This cannot be undone").is_visible()
    picture(page, "nojs-remove-confirm.png", full_page=True)

    page.get_by_role("link", name="Cancel: keep it").click()
    page.wait_for_url(datapack_url + "#node-children[0]")
    assert page.locator('[id="node-children[0]"]').is_visible()

    remove_button(page, "children[0]").click()
    page.get_by_role("button", name="Remove it").click()
    page.wait_for_url(DATAPACK_PAGE)
    assert page.get_by_text('Removed the data node "Set-up" (it was at children[0]).').is_visible()
    assert page.locator('[id="node-children[0]"] .box-head strong').first.inner_text() == "Audio"
