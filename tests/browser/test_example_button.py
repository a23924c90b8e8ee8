"""The example: its button is in sight when the upload page opens, and pressing it again opens the one
already uploaded instead of piling up copies ("make another copy" is there for who wants one)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import wait_until_enhanced


def test_the_example_button_is_above_the_fold(page, login, user, picture):
    page.set_viewport_size({"width": 1280, "height": 800})
    login(page, user)
    button = page.get_by_role("button", name="Upload the example")
    box = button.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 800, box
    assert page.evaluate("() => window.scrollY") == 0
    picture(page, "upload-page-1280x800.png")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_pressing_upload_the_example_twice_leaves_one_example(request, login, user, javascript, picture):
    page = request.getfixturevalue("page" if javascript else "nojs_page")
    login(page, user)
    page.get_by_role("button", name="Upload the example").click()  # a plain form, with the script too
    page.get_by_role("heading", name="Portal example is in repovizz2").wait_for()
    datapack_id = page.locator("#datapack-id").inner_text()

    page.get_by_role("link", name="Upload", exact=True).click()
    page.wait_for_url("**/upload")  # the new page's form, not the one left behind
    if javascript:
        wait_until_enhanced(page)
    page.get_by_role("button", name="Upload the example").click()
    page.wait_for_url(re.compile(rf"/datapacks/{datapack_id}\?example=again$"))
    assert page.get_by_text("You already have the example: here it is, opened rather than copied again.").is_visible()
    assert page.get_by_role("heading", name="Portal example", exact=True).is_visible()
    picture(page, f"example-again-{'js' if javascript else 'nojs'}.png", full_page=True)

    page.get_by_role("link", name="My datapacks").click()
    rows = page.locator("table.datapacks tbody tr")
    expect(rows).to_have_count(1)
    assert "Portal example" in rows.inner_text()

    # Another copy only when asked for.
    page.go_back()
    page.get_by_role("button", name="Make another copy").click()
    page.get_by_role("heading", name="Portal example (2) is in repovizz2").wait_for()
    page.get_by_role("link", name="My datapacks").click()
    expect(page.locator("table.datapacks tbody tr")).to_have_count(2)
