"""A name already used: chosen anew on the page and uploaded, no JSON editing, with JavaScript and without."""
from __future__ import annotations

import re

from tests.browser.helpers import EXAMPLE, REF, hold_final_post, references, wait_until_enhanced, wait_until_listed


RESULT_PAGE = re.compile(r"/datapacks/[0-9a-f-]+/result$")


def upload_the_example(page, javascript=True):
    """Upload the example (a plain form, with the script too), then open the upload page again (with
    JavaScript, once its script has taken over its form)."""
    page.get_by_role("button", name="Upload the example").click()
    page.get_by_role("heading", name="Portal example is in repovizz2").wait_for()
    page.get_by_role("link", name="Upload", exact=True).click()
    page.wait_for_url("**/upload")  # the new page's form, not the one left behind
    if javascript:
        wait_until_enhanced(page)


def test_a_taken_name_is_renamed_on_the_page_and_uploaded(page, login, user, picture):
    login(page, user)
    upload_the_example(page)
    page.set_input_files('input[name="folder"]', str(EXAMPLE))
    wait_until_listed(page)
    page.get_by_role("button", name="Check and upload").click()
    taken = page.locator("section.name-taken")
    taken.wait_for()
    assert "You already have a datapack with that name" in taken.inner_text()
    field = taken.get_by_label("Upload under another name")
    assert field.input_value() == "Portal example (2)"
    assert page.evaluate("() => document.activeElement.id") == "new-name"
    assert taken.get_by_role("link", name="Open the existing datapack", exact=True).is_visible()
    picture(page, "js-name-taken-rename.png", full_page=True)

    field.fill("Violin, second session")
    hold_final_post(page)
    taken.get_by_role("button", name="Upload under this name").click()
    page.wait_for_function("() => window.heldForm")
    assert page.get_by_role("heading", name="Uploading Violin, second session").is_visible()
    assert page.locator("section.problems").count() == 0  # the taken name's box is answered
    page.evaluate("() => window.releaseForm()")
    page.wait_for_url(RESULT_PAGE)
    assert page.get_by_role("heading", name="Violin, second session is in repovizz2").is_visible()
    refs = references(page)
    assert len(set(refs)) == 4 and all(REF.match(ref) for ref in refs), refs
    page.wait_for_function("() => document.activeElement && document.activeElement.tagName === 'H1'")
    assert '"name": "Violin, second session"' in page.locator("pre.document").text_content()  # folded: read, not seen

    page.get_by_role("link", name="My datapacks").click()
    names = page.locator("table.datapacks tbody tr").all_inner_texts()
    assert len(names) == 2 and any("Violin, second session" in name for name in names)


def test_taken_again_offers_the_next_number(page, login, user):
    login(page, user)
    upload_the_example(page)
    page.locator("#upload-form input[name=name]").fill("Portal example")  # the field of the plain form, too
    page.set_input_files('input[name="folder"]', str(EXAMPLE))
    wait_until_listed(page)
    page.get_by_role("button", name="Check and upload").click()
    field = page.locator("#new-name")
    field.wait_for()
    # The offer was taken meanwhile (another tab): the next number is offered.
    page.evaluate("""async () => {
        const token = document.querySelector('meta[name="csrf-token"]').content;
        const answer = await fetch("/api/datapacks", {method: "POST",
            headers: {"Content-Type": "application/json", "X-CSRFToken": token},
            body: JSON.stringify({document: {info: {name: "Portal example (2)", author: "a", description: "", keywords: []},
                                             children: [{class: "data", name: "x", text: "", link: "x.bin"}]},
                                  files: [{path: "x.bin", size: 1}]})});
        if (answer.status !== 201) throw new Error(String(answer.status));
    }""")
    page.get_by_role("button", name="Upload under this name").click()
    page.wait_for_function("() => document.getElementById('new-name') && "
                           "document.getElementById('new-name').value === 'Portal example (3)'")
    assert page.locator("section.problems").count() == 1
    page.get_by_role("button", name="Upload under this name").click()
    page.wait_for_url(RESULT_PAGE)
    assert page.get_by_role("heading", name="Portal example (3) is in repovizz2").is_visible()


def test_a_taken_name_without_javascript(nojs_page, login, user, picture):
    page = nojs_page
    login(page, user)
    upload_the_example(page, javascript=False)
    page.set_input_files('input[name="folder"]', str(EXAMPLE))
    page.get_by_role("button", name="Check and upload").click()
    page.get_by_role("heading", name="You already have a datapack with that name").wait_for()
    assert page.get_by_text("Choose the files again").is_visible()
    field = page.get_by_label("Upload under another name")
    assert field.input_value() == "Portal example (2)"
    assert page.get_by_role("link", name="Open the existing datapack", exact=True).is_visible()
    picture(page, "nojs-name-taken.png", full_page=True)

    page.set_input_files('input[name="folder"]', str(EXAMPLE))
    page.get_by_role("button", name="Check and upload").click()
    page.get_by_role("heading", name="Portal example (2) is in repovizz2").wait_for()
    assert len(set(references(page))) == 4
