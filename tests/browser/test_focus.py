"""After a submission, focus goes where the answer is: the problem list or the result heading, never <body>."""
from __future__ import annotations

import re

from tests.browser.helpers import EXAMPLE, EXAMPLE_ASSETS, broken_example, wait_until_enhanced, wait_until_listed


ACTIVE = "() => { const e = document.activeElement; return [e.tagName, e.id, e.className, e.textContent.trim()]; }"


def test_problems_found_by_the_script_take_focus(page, login, user, tmp_path):
    login(page, user)
    wait_until_enhanced(page)
    page.set_input_files('input[name="document"]', str(broken_example(tmp_path)))
    page.set_input_files('input[name="files"]', [str(EXAMPLE / name) for name in EXAMPLE_ASSETS[1:]])
    wait_until_listed(page)
    page.get_by_role("button", name="Check and upload").click()
    page.locator("section.problems").wait_for()
    tag, element_id, _, text = page.evaluate(ACTIVE)
    assert (tag, element_id) == ("H2", "problems-title") and text.startswith("Nothing was created:")


def test_a_page_the_server_drew_after_a_plain_form_puts_focus_on_its_problems(page, login, user):
    login(page, user)
    wait_until_enhanced(page)
    with page.expect_navigation():  # nothing chosen: the plain form posts, the server explains
        page.get_by_role("button", name="Check and upload").click()
    page.wait_for_function("() => document.activeElement !== document.body")
    tag, _, classes, text = page.evaluate(ACTIVE)
    assert tag == "SECTION" and "problems" in classes.split() and "Nothing was created" in text
    assert "choose a datapack document" in text
    # Without the script, the skip link leads there.
    assert page.get_by_role("link", name="Skip to the problems").get_attribute("href") == "#problems-title"


def test_the_result_heading_takes_focus_after_the_scripted_upload(page, login, user):
    login(page, user)
    wait_until_enhanced(page)
    page.set_input_files('input[name="folder"]', str(EXAMPLE))
    wait_until_listed(page)
    page.get_by_role("button", name="Check and upload").click()
    page.wait_for_url(re.compile(r"/datapacks/[0-9a-f-]+/result$"))
    page.wait_for_function("() => document.activeElement.tagName === 'H1'")
    assert page.evaluate(ACTIVE)[3] == "Portal example is in repovizz2"
