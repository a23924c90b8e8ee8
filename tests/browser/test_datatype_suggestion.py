"""The builder in Chromium suggests a datatype from a file's content, and only the user chooses it."""
from __future__ import annotations

import json

import pytest

from tests.browser.helpers import BUILDER, wait_until_enhanced
from tests.browser.test_datapack_page import upload


EMG = "0746bb48-9b92-4cd3-8d9e-3e1de13269eb"


@pytest.fixture
def recording(tmp_path):
    folder = tmp_path / "Trial 4"
    folder.mkdir()
    # As the real server stores an EMG stream: comma-separated integers, one sample per line, no header.
    (folder / "recording.csv").write_text("".join(f"{i % 3 - 1},{i % 5 - 2},0,1,-1,2,-2,{i % 7 - 3}\n" for i in range(400)))
    (folder / "acc.json").write_text(json.dumps([[0.9, -0.3, 0.1]] * 50))
    (folder / "datapack.json").write_text(json.dumps({
        "info": {"name": "Trial 4", "author": "ana", "description": "", "keywords": []},
        "children": [{"class": "data", "name": "EMG", "text": "", "link": "recording.csv"}]}))
    return folder


def test_the_builder_suggests_from_content_and_the_user_confirms(page, login, user, recording):
    login(page, user, next_path="/build")
    wait_until_enhanced(page, BUILDER)
    page.set_input_files("#build-folder", str(recording))
    page.get_by_role("button", name="Propose a datapack").click()
    page.locator("#build-editor").wait_for()
    names = page.locator(".nodes .b-row input[name^='node-name:']").evaluate_all("inputs => inputs.map(i => i.value)")
    assert names == ["Acc", "Recording"]  # the folder's own datapack.json is no data node
    assert "datapack.json" in page.locator("#skipped-title + ul").inner_text()

    # The name says nothing; the 8 channels of its first lines suggest the EMG datatype.
    note = page.locator("[id='type-children[1]-suggestion']")
    page.wait_for_function("() => document.querySelector(\"[id='type-children[1]-suggestion']\").dataset.channels === '8'")
    assert note.inner_text() == "Suggested: MYO 8-channel EMG (it has 8 channels). Use suggestion"
    assert page.locator("[id='type-children[0]-suggestion']").inner_text().startswith(
        'Suggested: 3-axis accelerometer (the name says "acc" and it has 3 channels).')
    picker = page.locator("[id='type-children[1]']")
    assert picker.input_value() == ""  # suggested, not chosen

    note.get_by_role("button", name="Use suggestion").click()
    assert picker.input_value() == EMG
    assert note.inner_text() == "“MYO 8-channel EMG” chosen: Apply changes to keep it."
    assert page.evaluate("document.activeElement.id") == "type-children[1]"
    page.get_by_role("button", name="Apply changes").click()
    page.wait_for_function("() => document.querySelector(\"[id='node-children[1]'] .box-datatype\")")
    assert page.locator("[id='node-children[1]'] .box-datatype").inner_text() == "MYO 8-channel EMG"
    assert page.locator("[id='type-children[1]-suggestion']").count() == 0
    assert page.locator("[id='type-children[0]']").input_value() == ""  # the other suggestion still waits


def test_the_node_editor_reads_the_stored_files_start_when_opened(page, login, user, portal):
    login(page, user)
    document = {"info": {"name": "Stored EMG", "author": user, "description": "", "keywords": []},
                "children": [{"class": "data", "name": "Stream", "text": "", "link": "stream.txt"}]}
    datapack_id = upload(page, portal, document, {"stream.txt": b"-1,1,0,-1,-1,-1,1,1\r\n" * 3000})
    page.goto(f"{portal.url}/datapacks/{datapack_id}")
    note = page.locator("[id='datatype-children[0]-suggestion']")
    wait_until_enhanced(page, "[id='datatype-children[0]-suggestion']")  # opening the editor now asks for the file
    assert note.inner_text() == ""  # the name says nothing; the file is read only once the editor opens
    page.locator("[id='node-children[0]'] .box-edit summary").click()
    page.wait_for_function("() => document.querySelector(\"[id='datatype-children[0]-suggestion']\").dataset.channels")
    assert note.inner_text() == "Suggested: MYO 8-channel EMG (it has 8 channels). Use suggestion"
    assert page.locator("[id='datatype-children[0]']").input_value() == ""
