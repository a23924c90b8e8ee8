"""A real lab folder holds files its document does not mention: they are left out and listed, and the
upload goes on — folder or zip, with JavaScript or without."""
from __future__ import annotations

import re
import shutil
import zipfile

import pytest

from tests.browser.helpers import EXAMPLE, REF, hold_final_post, references, wait_until_enhanced, wait_until_listed


EXTRA = "notes/emg 2 (old).json"


@pytest.fixture
def lab_folder(tmp_path):
    """The example's recording, as an instrument leaves it: with one more file its document never names."""
    folder = tmp_path / "recording"
    shutil.copytree(EXAMPLE, folder)
    (folder / EXTRA).parent.mkdir()
    (folder / EXTRA).write_text("[[1, 2], [3, 4]]")
    return folder


def zipped(folder, tmp_path):
    archive = tmp_path / "recording.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                bundle.write(path, "recording/" + path.relative_to(folder).as_posix())
    return archive


def choose(page, how, lab_folder, tmp_path):
    if how == "folder":
        page.set_input_files('input[name="folder"]', str(lab_folder))
    else:
        page.set_input_files('input[name="archive"]', str(zipped(lab_folder, tmp_path)))


def assert_uploaded_with_the_extra_file_listed(page):
    assert page.get_by_role("heading", name="Portal example is in repovizz2").is_visible()
    refs = references(page)
    assert len(refs) == 4 and all(REF.match(ref) for ref in refs), refs
    left_out = page.locator("section.left-out")
    assert left_out.get_by_role("heading", name="Not uploaded: 1 file no data node refers to").is_visible()
    assert left_out.locator("li").all_inner_texts() == [f"recording/{EXTRA}"]


@pytest.mark.parametrize("how", ["folder", "zip"])
def test_extra_files_are_left_out_without_javascript(nojs_page, login, user, lab_folder, tmp_path, how):
    page = nojs_page
    login(page, user)
    choose(page, how, lab_folder, tmp_path)
    page.get_by_role("button", name="Check and upload").click()
    page.wait_for_load_state()
    assert_uploaded_with_the_extra_file_listed(page)


def test_a_zip_with_extra_files_is_left_out_with_javascript_on_too(page, login, user, lab_folder, tmp_path):
    """A zip read in the page goes through the progress path; its result page lists the extra file."""
    login(page, user)
    wait_until_enhanced(page)
    choose(page, "zip", lab_folder, tmp_path)
    wait_until_listed(page)
    page.get_by_role("button", name="Check and upload").click()
    page.wait_for_url(re.compile(r"/datapacks/[0-9a-f-]+/result$"))
    assert_uploaded_with_the_extra_file_listed(page)


def test_a_folder_with_extra_files_uploads_with_javascript_and_says_what_was_left_out(page, login, user, lab_folder):
    login(page, user)
    wait_until_enhanced(page)
    hold_final_post(page)
    page.set_input_files('input[name="folder"]', str(lab_folder))
    wait_until_listed(page)
    page.get_by_role("button", name="Check and upload").click()
    page.wait_for_function("() => window.heldForm")
    transfer = page.locator("#transfer")
    assert transfer.locator("li.transfer-file").count() == 4  # the extra file is not sent
    assert f"Not uploaded: 1 file no data node refers to — recording/{EXTRA}." in transfer.inner_text()
    page.evaluate("() => window.releaseForm()")
    page.wait_for_url("**/result")
    assert page.get_by_role("heading", name="Portal example is in repovizz2").is_visible()
    assert len(references(page)) == 4
