"""With JavaScript off, the plain forms do the whole job: log in, upload, see every reference."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.helpers import EXAMPLE, EXAMPLE_ASSETS, REF, broken_example, references


def assert_example_uploaded(page):
    assert page.get_by_role("heading", name="Portal example is in repovizz2").is_visible()
    refs = references(page)
    assert len(refs) == 4 and len(set(refs)) == 4, refs
    assert all(REF.match(ref) for ref in refs), refs
    assert page.locator("table.result tr.uploaded").count() == 4
    # The original file names are listed beside their references, spaces and folders included.
    originals = page.locator("table.result tbody tr td:nth-child(3)").all_inner_texts()
    assert sorted(originals) == sorted(EXAMPLE_ASSETS)


def test_folder_upload_without_javascript(nojs_page, login, user, picture):
    page = nojs_page
    login(page, user)
    assert page.locator("#drop-zone").is_hidden()  # the drop zone is only offered when the script runs
    page.set_input_files('input[name="folder"]', str(EXAMPLE))
    page.get_by_role("button", name="Check and upload").click()
    page.wait_for_load_state()
    assert_example_uploaded(page)
    picture(page, "nojs-result-folder.png", full_page=True)


def test_document_and_files_without_javascript(nojs_page, login, user, picture):
    page = nojs_page
    login(page, user)
    page.set_input_files('input[name="document"]', str(EXAMPLE / "datapack.json"))
    page.set_input_files('input[name="files"]', [str(EXAMPLE / name) for name in EXAMPLE_ASSETS])
    page.get_by_role("button", name="Check and upload").click()
    page.wait_for_load_state()
    assert_example_uploaded(page)
    picture(page, "nojs-result-files.png", full_page=True)


def test_upload_the_example_button_without_javascript(nojs_page, login, user, picture):
    page = nojs_page
    login(page, user)
    page.get_by_role("button", name="Upload the example").click()
    page.wait_for_load_state()
    assert_example_uploaded(page)
    picture(page, "nojs-result-example-button.png", full_page=True)
    page.get_by_role("link", name="My datapacks").click()
    row = page.locator("table.datapacks tbody tr")
    assert row.count() == 1
    assert "Portal example" in row.inner_text() and "complete" in row.inner_text()


def test_broken_document_without_javascript_lists_problems(nojs_page, login, user, tmp_path):
    page = nojs_page
    login(page, user)
    broken = broken_example(tmp_path)
    page.set_input_files('input[name="document"]', str(broken))
    page.set_input_files('input[name="files"]', [str(EXAMPLE / name) for name in EXAMPLE_ASSETS[1:]])
    page.get_by_role("button", name="Check and upload").click()
    page.wait_for_load_state()
    problems = page.locator("section.problems")
    assert problems.get_by_role("heading").inner_text().startswith("Nothing was created:")
    items = problems.locator("li").all_inner_texts()
    assert any("the datapack's info: 'author' is required" in item and item.startswith("repovizz2 would refuse this")
               for item in items)
    assert any("no file was sent for link 'missing.png'" in item and "children[0]" in item for item in items)
    page.get_by_role("link", name="My datapacks").click()
    expect(page.get_by_text("You have no datapacks yet.")).to_be_visible()
