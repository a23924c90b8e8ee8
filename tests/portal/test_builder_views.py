"""The builder pages without JavaScript: choose files, edit the proposal, download it or upload it."""
from __future__ import annotations

import html
import io
import json
import re

import pytest


from portal.rules.datapack_rules import document_problems, walk_data_nodes
from tests.portal.samples import assert_csp_clean

FOLDER = [("pack/setup.png", b"\x89PNG...."), ("pack/audio/tone.wav", b"RIFF...."),
          ("pack/sensors/emg 2.json", b"[1, 2, 3]"), ("pack/.DS_Store", b"junk")]



def folder(pairs=FOLDER):
    return [(io.BytesIO(data), name) for name, data in pairs]


def draft(page: str) -> dict:
    """The hidden draft document of a builder page."""
    found = re.search(r"name=\"document\" value='([^']*)'", page)
    return json.loads(html.unescape(found.group(1)))


def propose(client, **info):
    data = {"step": "propose", "folder": folder(), **{f"info-{k}": v for k, v in info.items()}}
    return client.post("/build", data=data, content_type="multipart/form-data")


def editor_form(document, **fields):
    return {"step": "edit", "document": json.dumps(document), "folder": "pack", **fields}


def test_build_needs_login(client):
    answer = client.get("/build")
    assert answer.status_code == 302 and "/auth/login?next=/build" in answer.headers["Location"]


def test_build_page_offers_files_and_folder(client, auth):
    auth.login()
    page = client.get("/build").get_data(as_text=True)
    assert 'name="folder" multiple webkitdirectory' in page and 'name="files" multiple' in page
    assert 'id="info-author" name="info-author" value="ana"' in page
    assert 'href="/build">Build from files</a>' in page
    assert_csp_clean(page)


def test_proposing_from_the_files_themselves(client, auth):
    auth.login()
    answer = propose(client, keywords="a, b")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200, page
    document = draft(page)
    assert document["info"] == {"name": "Pack", "author": "ana", "description": "", "keywords": ["a", "b"]}
    assert [(n.place, n.name, n.link) for n in walk_data_nodes(document)] == [
        ("children[0]", "Setup", "setup.png"), ("children[1].children[0]", "Tone", "audio/tone.wav"),
        ("children[2].children[0]", "Emg 2", "sensors/emg 2.json")]
    assert 'name="node-name:children[2].children[0]" value="Emg 2"' in page
    assert 'data-link="sensors/emg 2.json" data-mime="application/json" data-kind="chart"' in page
    assert "<code>pack/.DS_Store</code> is a file the system adds by itself" in page
    assert 'data-folder="pack"' in page
    assert_csp_clean(page)


def test_proposing_from_a_list_sent_by_the_script(client, auth):
    auth.login()
    listed = [{"path": "s/a b.wav", "type": "audio/wav", "size": 3}, {"path": "s/x/y.csv", "type": "", "size": 1}]
    page = client.post("/build", data={"step": "propose", "files_json": json.dumps(listed)}).get_data(as_text=True)
    document = draft(page)
    assert [(n.name, n.link, n.mime) for n in walk_data_nodes(document)] == [
        ("A b", "a b.wav", "audio/wav"), ("Y", "x/y.csv", "text/csv")]


def test_proposing_nothing_says_so(client, auth):
    auth.login()
    answer = client.post("/build", data={"step": "propose", "files_json": "[]"})
    assert answer.status_code == 422
    assert "choose some files or a folder" in answer.get_data(as_text=True)
    assert client.post("/build", data={"step": "propose", "files_json": "{"}).status_code == 400


def test_editing_moving_and_dropping(client, auth):
    auth.login()
    document = draft(propose(client).get_data(as_text=True))
    page = client.post("/build", data=editor_form(document, **{
        "info-name": "Session 1", "node-name:children[1]": "Microphone", "action": "down:children[0]"})).get_data(as_text=True)
    edited = draft(page)
    assert edited["info"]["name"] == "Session 1"
    assert [node["name"] for node in edited["children"]] == ["Microphone", "Setup", "Sensors"]
    dropped = draft(client.post("/build", data=editor_form(edited, action="drop:children[2]")).get_data(as_text=True))
    assert [node["name"] for node in dropped["children"]] == ["Microphone", "Setup"]
    assert document_problems(dropped) == []


def test_picking_a_datatype_for_a_data_node(client, auth):
    auth.login()
    page = propose(client).get_data(as_text=True)
    document = draft(page)
    emg_place = next(node.place for node in walk_data_nodes(document) if node.link.endswith("emg 2.json"))
    # Each data node has a picker: none, or a datatype the portal knows.
    assert page.count('<select name="node-type:') == 3
    assert f'<select name="node-type:{emg_place}" id="type-{emg_place}" aria-describedby="type-{emg_place}-suggestion">' in page
    assert '<option value="0746bb48-9b92-4cd3-8d9e-3e1de13269eb">MYO 8-channel EMG</option>' in page
    page = client.post("/build", data=editor_form(document, **{
        f"node-type:{emg_place}": "0746bb48-9b92-4cd3-8d9e-3e1de13269eb", "action": "apply"})).get_data(as_text=True)
    edited = draft(page)
    node = next(node for node in walk_data_nodes(edited) if node.place == emg_place)
    assert node.node["type"] == "0746bb48-9b92-4cd3-8d9e-3e1de13269eb"
    assert '<option value="0746bb48-9b92-4cd3-8d9e-3e1de13269eb" selected>MYO 8-channel EMG</option>' in page
    assert '<p class="box-datatype"' in page  # the picture names it
    page = client.post("/build", data=editor_form(edited, **{f"node-type:{emg_place}": "", "action": "apply"}))
    assert "type" not in next(n for n in walk_data_nodes(draft(page.get_data(as_text=True))) if n.place == emg_place).node


def test_a_damaged_draft_is_refused(client, auth):
    auth.login()
    assert client.post("/build", data={"step": "edit", "document": "not json"}).status_code == 400
    assert client.post("/build/document.json", data={"document": "[]"}).status_code == 400
    assert client.post("/build", data={"step": "edit", "document": '{"info": [], "children": []}'}).status_code == 400


def test_a_draft_that_breaks_the_rules_is_shown_with_its_problems(client, auth):
    auth.login()
    document = draft(propose(client).get_data(as_text=True))
    document["children"][0]["link"] = "audio/tone.wav"  # tampered: two nodes, one file
    answer = client.post("/build", data=editor_form(document, action="apply"))
    assert answer.status_code == 422
    assert "link &#39;audio/tone.wav&#39; is used by 2 data nodes" in answer.get_data(as_text=True)
    as_json = client.post("/build/document.json", data=editor_form(document), headers={"Accept": "application/json"})
    assert as_json.status_code == 422 and as_json.json["problems"]


def test_download_the_json(client, auth):
    auth.login()
    document = draft(propose(client).get_data(as_text=True))
    answer = client.post("/build/document.json", data=editor_form(document, **{"info-name": "Séance 1"}))
    assert answer.status_code == 200
    assert answer.headers["Content-Disposition"] == "attachment; filename=\"Seance 1.json\"; filename*=UTF-8''S%C3%A9ance%201.json"
    assert answer.json["info"]["name"] == "Séance 1"
    assert answer.json["children"] == document["children"]
    # The draft carried through the page keeps the document's own key order: info first, as written.
    assert list(json.loads(answer.get_data(as_text=True))) == ["info", "children"]
    assert list(draft(propose(client).get_data(as_text=True))) == ["info", "children"]


def test_ready_then_upload_the_files_chosen_again(client, auth, repovizz2):
    auth.login()
    document = draft(propose(client).get_data(as_text=True))
    ready = client.post("/build", data=editor_form(document, **{"node-text:children[0]": "the set-up",
                                                                  "action": "ready"})).get_data(as_text=True)
    assert 'id="build-upload"' in ready and "Choose the" in ready
    final = draft(ready)
    assert final["children"][0]["text"] == "the set-up"
    answer = client.post("/build/upload", content_type="multipart/form-data",
                         data={"document": json.dumps(final), "folder": "pack", "files": folder()})
    text = answer.get_data(as_text=True)
    assert answer.status_code == 200, text
    assert "Pack is in repovizz2" in text
    assert sorted(repovizz2.uploads) == ["audio/tone.wav", "sensors/emg 2.json", "setup.png"]
    (item,) = repovizz2.datapacks.values()
    assert item["structure"]["children"][0]["text"] == "the set-up"
    assert sorted(repovizz2.files.values()) == sorted(data for name, data in FOLDER if "DS_Store" not in name)


def test_upload_leaves_out_the_files_of_dropped_nodes(client, auth, repovizz2):
    auth.login()
    document = draft(propose(client).get_data(as_text=True))
    dropped = draft(client.post("/build", data=editor_form(document, action="drop:children[1]")).get_data(as_text=True))
    answer = client.post("/build/upload", content_type="multipart/form-data",
                         data={"document": json.dumps(dropped), "folder": "pack", "files": folder()})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert sorted(repovizz2.uploads) == ["sensors/emg 2.json", "setup.png"]


def test_upload_without_the_files_or_with_missing_ones(client, auth, repovizz2):
    auth.login()
    document = draft(propose(client).get_data(as_text=True))
    answer = client.post("/build/upload", content_type="multipart/form-data",
                         data={"document": json.dumps(document), "folder": "pack"})
    assert answer.status_code == 422 and "choose the files" in answer.get_data(as_text=True)
    answer = client.post("/build/upload", content_type="multipart/form-data",
                         data={"document": json.dumps(document), "folder": "pack", "files": folder(FOLDER[:2])})
    assert answer.status_code == 422
    assert "no file was sent for link &#39;sensors/emg 2.json&#39;" in answer.get_data(as_text=True)
    assert repovizz2.creates == 0


def test_upload_with_a_taken_name_creates_nothing(client, auth, repovizz2):
    auth.login()
    document = draft(propose(client).get_data(as_text=True))
    for _ in range(2):
        answer = client.post("/build/upload", content_type="multipart/form-data",
                             data={"document": json.dumps(document), "folder": "pack", "files": folder()})
    assert answer.status_code == 409
    assert len(repovizz2.datapacks) == 1


DOCUMENT_JSON = json.dumps({"info": {"name": "Pack", "author": "ana", "description": "", "keywords": []},
                            "children": [{"class": "data", "name": "EMG", "text": "", "link": "emg.json"}]}).encode()


def test_a_folder_holding_its_datapack_document_proposes_no_node_for_it(client, auth):
    auth.login()
    pairs = [("pack/datapack.json", DOCUMENT_JSON), ("pack/emg.json", b"[[1, 2], [3, 4]]")]
    page = client.post("/build", data={"step": "propose", "folder": folder(pairs)},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert [node.link for node in walk_data_nodes(draft(page))] == ["emg.json"]
    assert "<code>pack/datapack.json</code> is a datapack document, not a data file" in page


def test_the_script_marks_the_datapack_document_among_the_files(client, auth):
    auth.login()
    listed = [{"path": "s/datapack.json", "type": "application/json", "size": 90, "document": True},
              {"path": "s/emg.json", "type": "application/json", "size": 9, "document": False},
              {"path": "s/acc.json", "type": "", "size": 9, "document": "yes"}]  # only true marks a document
    page = client.post("/build", data={"step": "propose", "files_json": json.dumps(listed)}).get_data(as_text=True)
    assert [node.link for node in walk_data_nodes(draft(page))] == ["acc.json", "emg.json"]


def suggestion_note(page: str, place: str) -> str | None:
    """The text of the datatype suggestion beside a node's picker, or None when there is none."""
    found = re.search(rf'<span class="datatype-suggestion" id="type-{re.escape(place)}-suggestion"[^>]*>(.*?)</span>',
                      page, re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))) if found else None


@pytest.mark.parametrize(("path", "mime", "note"), [
    ("s/acc.csv", "text/csv", 'Suggested: 3-axis accelerometer (the name says "acc").'),
    ("s/emg 2.json", "", 'Suggested: MYO 8-channel EMG (the name says "emg").'),
    ("s/Orientation.json", "", 'Suggested: Orientation (roll, pitch, yaw) (the name says "orientation").'),
    ("s/camera.mp4", "video/mp4", "Suggested: Video (it is a video file)."),
    ("s/tone.wav", "", "Suggested: Mono 44100 audio (it is an audio file)."),  # the type guessed from the name
    ("s/stream.csv", "text/csv", ""),  # nothing from the name: the script may still count its channels
])
def test_the_builder_suggests_a_datatype_beside_the_picker_without_choosing_it(client, auth, path, mime, note):
    auth.login()
    listed = [{"path": path, "type": mime, "size": 9}, {"path": "s/other.bin", "type": "", "size": 9}]
    page = client.post("/build", data={"step": "propose", "files_json": json.dumps(listed)}).get_data(as_text=True)
    place = next(node.place for node in walk_data_nodes(draft(page)) if node.link == path[2:])
    assert suggestion_note(page, place) == note
    picker = re.search(rf'<select name="node-type:{re.escape(place)}"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert '<option value="" selected>none</option>' in picker  # suggested, never chosen
    assert "type" not in next(node.node for node in walk_data_nodes(draft(page)) if node.link == path[2:])


def test_a_node_typed_with_a_known_datatype_gets_no_suggestion(client, auth):
    auth.login()
    document = {"info": {"name": "P", "author": "a", "description": "", "keywords": []},
                "children": [{"class": "data", "name": "Acc", "text": "", "link": "acc.csv",
                              "type": "ae13fb70-fa1e-47d8-9cd6-00cef4fe21cc"}]}
    page = client.post("/build", data=editor_form(document, action="apply")).get_data(as_text=True)
    assert suggestion_note(page, "children[0]") is None
    assert 'aria-describedby="type-children[0]-suggestion"' not in page


HEADERLESS_EMG = b"".join(b"-1,1,0,-1,-1,-1,1,1\n" for _ in range(20))


def test_without_javascript_the_portal_counts_the_channels_and_keeps_them_through_edits(client, auth):
    auth.login()
    pairs = [("pack/recording.csv", HEADERLESS_EMG), ("pack/acc.json", b"[[1, 2, 3, 4]]")]
    page = client.post("/build", data={"step": "propose", "folder": folder(pairs)},
                       content_type="multipart/form-data").get_data(as_text=True)
    document = draft(page)
    places = {node.link: node.place for node in walk_data_nodes(document)}
    assert suggestion_note(page, places["recording.csv"]) == "Suggested: MYO 8-channel EMG (it has 8 channels)."
    assert suggestion_note(page, places["acc.json"]) == ""  # named like an accelerometer, but 4 channels
    carried = html.unescape(re.search(r"name=\"channels\" value='([^']*)'", page).group(1))
    assert json.loads(carried) == {"recording.csv": 8, "acc.json": 4}
    page = client.post("/build", data=editor_form(document, channels=carried, action="apply")).get_data(as_text=True)
    assert suggestion_note(page, places["recording.csv"]) == "Suggested: MYO 8-channel EMG (it has 8 channels)."


@pytest.mark.parametrize("carried", ['{"recording.csv": true}', '{"recording.csv": 8.0}', '{"recording.csv": 100000}',
                                     '{"recording.csv": -8}', "[8]", "{not json", '"8"', "", "NaN"])
def test_damaged_channel_counts_only_lose_the_suggestion(client, auth, carried):
    auth.login()
    document = {"info": {"name": "P", "author": "a", "description": "", "keywords": []},
                "children": [{"class": "data", "name": "Recording", "text": "", "link": "recording.csv"}]}
    answer = client.post("/build", data=editor_form(document, channels=carried, action="apply"))
    assert answer.status_code == 200
    assert suggestion_note(answer.get_data(as_text=True), "children[0]") == ""
