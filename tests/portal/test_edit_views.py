"""Fetching files back and editing a datapack through the portal, against the in-memory repovizz2."""
from __future__ import annotations

import copy
import html
import io
import re

import pytest

from portal.rules.datapack_tree import walk_data_nodes
from portal.rules.media_types import content_disposition, download_name, extension_for, preview_kind
from portal.services.downloads import CHUNK_SIZE
from tests.portal.fakes import MadeFile
from tests.portal.samples import EMG, STORED_DOCUMENT, STORED_FILES, VIDEO, WAV, assert_csp_clean, seed, structure


def page_expect(fake, datapack_id, place):
    """The `expect` the datapack page puts in the forms of the node at `place`."""
    from portal.rules.tree_edits import node_fingerprint
    from portal.rules.tree_edits import node_at
    return node_fingerprint(node_at(structure(fake, datapack_id), place))


def flashes(client):
    with client.session_transaction() as session:
        return [message for _, message in session.get("_flashes", [])]


# --- Download -------------------------------------------------------------------------------------

def test_download_streams_the_bytes_with_the_original_name(client, auth, repovizz2, datapack_id):
    auth.login()
    answer = client.get(f"/datapacks/{datapack_id}/content/{VIDEO}")
    assert answer.status_code == 200
    assert answer.is_streamed
    assert answer.headers["Content-Type"] == "video/mp4"
    assert answer.headers["Content-Disposition"] == "attachment; filename=\"video.mp4\"; filename*=UTF-8''video.mp4"
    assert answer.headers["Content-Length"] == str(300_000)
    assert "sandbox" in answer.headers["Content-Security-Policy"]
    assert answer.get_data() == STORED_FILES[VIDEO][0]


def test_inline_for_previews_and_the_mime_from_meta(client, auth, repovizz2, datapack_id):
    auth.login()
    answer = client.get(f"/datapacks/{datapack_id}/content/repovizz:{EMG}?inline=1")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.headers["Content-Disposition"].startswith('inline; filename="emg 2.json"')
    assert answer.get_data() == b"[1, 2, 3]"


def test_unsafe_types_are_never_inline(client, auth, repovizz2, datapack_id):
    structure(repovizz2, datapack_id)["children"][0]["mime"] = "text/html"
    auth.login()
    answer = client.get(f"/datapacks/{datapack_id}/content/{VIDEO}?inline=1")
    assert answer.headers["Content-Disposition"].startswith("attachment;")


def test_a_file_id_not_in_the_datapack_is_404(client, auth, repovizz2, datapack_id):
    other = seed(repovizz2, "Other")
    structure(repovizz2, other)["children"] = []
    auth.login()
    assert client.get(f"/datapacks/{datapack_id}/content/{'f' * 40}").status_code == 404
    assert client.get(f"/datapacks/{other}/content/{VIDEO}").status_code == 404  # VIDEO is not a node of it
    assert client.get(f"/datapacks/{datapack_id}/content/gyro.json").status_code == 404  # a pending link
    assert not [call for call in repovizz2.mock.calls if "/content/" in call.request.url]


def test_download_needs_login(client, repovizz2, datapack_id):
    answer = client.get(f"/datapacks/{datapack_id}/content/{VIDEO}")
    assert answer.status_code == 302 and "/auth/login" in answer.headers["Location"]


def test_file_names_and_kinds():
    assert download_name("Tone", "audio/wav") == "Tone.wav"
    assert download_name("Tone.wav", "audio/x-wav") == "Tone.wav"
    assert download_name("EMG", "application/json; charset=utf-8") == "EMG.json"
    assert download_name("a/b\\c\"d", "") == "cd"
    assert download_name("", "") == "file"
    assert download_name("Video", "video/mp4", original="../../x/clip.mp4") == "clip.mp4"
    assert extension_for("image/jpeg") == ".jpg"
    assert content_disposition("inline", "müsik ü.wav") == (
        "inline; filename=\"musik u.wav\"; filename*=UTF-8''m%C3%BCsik%20%C3%BC.wav")
    assert [preview_kind(m) for m in ("audio/wav", "video/mp4; charset=binary", "image/png", "image/svg+xml",
                                      "application/json", "text/csv", "application/pdf", "")] == [
        "audio", "video", "image", "", "chart", "chart", "", ""]
    assert preview_kind("", "x.csv") == "chart" and preview_kind("application/octet-stream", "x.json") == "chart"


# --- The datapack page ----------------------------------------------------------------------------

def test_datapack_page_shows_previews_downloads_and_forms(client, auth, repovizz2, datapack_id):
    auth.login()
    page = client.get(f"/datapacks/{datapack_id}").get_data(as_text=True)
    assert f'<video controls preload="metadata" src="/datapacks/{datapack_id}/content/{VIDEO}?inline=1">' in page
    assert f'<audio controls preload="none" src="/datapacks/{datapack_id}/content/{WAV}?inline=1">' in page
    assert f'href="/datapacks/{datapack_id}/timeline">Open the timeline</a>' in page
    assert f'href="/datapacks/{datapack_id}/timeline#track-' in page  # each stream links to its track
    assert f'href="/datapacks/{datapack_id}/content/{EMG}">Download' in page
    assert 'waiting for <code>gyro.json</code>' in page
    assert page.count('class="replace-file"') == 3
    assert page.count('class="remove-node"') == 5 and page.count('class="edit-node"') == 5
    assert f'action="/datapacks/{datapack_id}/rename"' in page and 'class="add-node"' in page
    assert '<option value="children[1]">IMU (children[1])</option>' in page
    assert 'src="/static/charts.js"' not in page  # streams are drawn on the timeline, not here
    assert_csp_clean(page)


# --- Edits ----------------------------------------------------------------------------------------

def test_rename_also_renames_the_document(client, auth, repovizz2, datapack_id):
    auth.login()
    answer = client.post(f"/datapacks/{datapack_id}/rename", data={"name": "  MYO   2 "})
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/datapacks/{datapack_id}")
    assert repovizz2.datapacks[datapack_id]["name"] == "MYO 2"
    assert structure(repovizz2, datapack_id)["info"]["name"] == "MYO 2"
    assert repovizz2.updates[0] == {"name": "MYO 2"}
    assert flashes(client) == ['Renamed "MYO" to "MYO 2".']


def test_rename_to_a_taken_name_is_409_and_changes_nothing(client, auth, repovizz2, datapack_id):
    seed(repovizz2, "Taken")
    auth.login()
    answer = client.post(f"/datapacks/{datapack_id}/rename", data={"name": "Taken"})
    assert answer.status_code == 409
    page = answer.get_data(as_text=True)
    assert "already" in page and "Nothing was renamed." in page and "upload it again" not in page
    assert f"/datapacks/{datapack_id}" in page  # the way back to choose another name
    assert repovizz2.datapacks[datapack_id]["name"] == "MYO"
    assert structure(repovizz2, datapack_id)["info"]["name"] == "MYO"


def test_rename_needs_a_name(client, auth, repovizz2, datapack_id):
    auth.login()
    client.post(f"/datapacks/{datapack_id}/rename", data={"name": "  "})
    assert repovizz2.updates == []
    assert flashes(client)[0].startswith("Nothing was changed: New name: This field is required.")


def test_edit_a_node(client, auth, repovizz2, datapack_id):
    auth.login()
    answer = client.post(f"/datapacks/{datapack_id}/nodes/edit", data={
        "place": "children[1].children[0]", "expect": page_expect(repovizz2, datapack_id, "children[1].children[0]"),
        "name": "EMG forearm",
        "text": " two electrodes "})
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith(f"/datapacks/{datapack_id}#node-children%5B1%5D.children%5B0%5D")
    node = structure(repovizz2, datapack_id)["children"][1]["children"][0]
    assert (node["name"], node["text"], node["link"]) == ("EMG forearm", "two electrodes", f"repovizz:{EMG}")
    assert flashes(client) == ['Saved the data node "EMG forearm" at children[1].children[0].']


ACCELEROMETER, EMG_TYPE = "ae13fb70-fa1e-47d8-9cd6-00cef4fe21cc", "0746bb48-9b92-4cd3-8d9e-3e1de13269eb"


def _edit(client, repovizz2, datapack_id, place, **fields):
    return client.post(f"/datapacks/{datapack_id}/nodes/edit", data={
        "place": place, "expect": page_expect(repovizz2, datapack_id, place), "name": "EMG", "text": "emg", **fields})


def test_the_node_editor_picks_a_datatype(client, auth, repovizz2, datapack_id):
    auth.login()
    place = "children[1].children[0]"
    page = client.get(f"/datapacks/{datapack_id}").get_data(as_text=True)
    assert page.count('<select name="datatype" id="datatype-') == 4  # one per data node, none for the container
    assert '<option value="" selected>none</option>' in page
    assert f'<option value="{ACCELEROMETER}">3-axis accelerometer</option>' in page

    assert _edit(client, repovizz2, datapack_id, place, datatype=EMG_TYPE).status_code == 302
    assert structure(repovizz2, datapack_id)["children"][1]["children"][0]["type"] == EMG_TYPE
    page = client.get(f"/datapacks/{datapack_id}").get_data(as_text=True)
    assert f'<option value="{EMG_TYPE}" selected>MYO 8-channel EMG</option>' in page
    timeline = client.get(f"/datapacks/{datapack_id}/timeline").get_data(as_text=True)
    assert "MYO 8-channel EMG" in timeline and "data-settings=" in timeline  # typed: drawn with the datatype's axes

    _edit(client, repovizz2, datapack_id, place)  # no datatype field (an older page): the type stays
    assert structure(repovizz2, datapack_id)["children"][1]["children"][0]["type"] == EMG_TYPE
    _edit(client, repovizz2, datapack_id, place, datatype="")  # none removes it
    assert "type" not in structure(repovizz2, datapack_id)["children"][1]["children"][0]

    _edit(client, repovizz2, datapack_id, place, datatype="not-a-datatype")
    assert flashes(client)[-1] == "Nothing was changed: 'not-a-datatype' is not a datatype the portal knows."
    assert "type" not in structure(repovizz2, datapack_id)["children"][1]["children"][0]


def _suggestion(page: str, place: str):
    """The datatype suggestion beside a node editor's picker: its text and attributes, or None."""
    found = re.search(rf'<span class="datatype-suggestion" id="datatype-{re.escape(place)}-suggestion"([^>]*)>(.*?)</span>',
                      page, re.S)
    if not found:
        return None
    attributes = {name: html.unescape(value) for name, value in re.findall(r'([\w-]+)="([^"]*)"', found.group(1))}
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(2))), attributes


@pytest.mark.parametrize(("place", "note", "reads_file"), [
    ("children[0]", "Suggested: Video (it is a video file).", True),
    ("children[1].children[0]", 'Suggested: MYO 8-channel EMG (the name says "emg").', True),
    ("children[1].children[1]", 'Suggested: 3-axis gyroscope (the name says "gyro").', False),  # pending: no file yet
    ("children[2]", "Suggested: Mono 44100 audio (it is an audio file).", True),
])
def test_the_node_editor_suggests_a_datatype_it_does_not_choose(client, auth, repovizz2, datapack_id, place, note,
                                                                 reads_file):
    auth.login()
    page = client.get(f"/datapacks/{datapack_id}").get_data(as_text=True)
    text, attributes = _suggestion(page, place)
    assert text == note
    assert ("data-src" in attributes) == reads_file  # the script counts the stored file's channels
    assert attributes["data-keep-with"] == "Save name, text and datatype"
    picker = re.search(rf'<select name="datatype" id="datatype-{re.escape(place)}"[^>]*>(.*?)</select>', page, re.S)
    assert '<option value="" selected>none</option>' in picker.group(1)


def test_a_node_the_portal_can_read_gets_no_suggestion(client, auth, repovizz2, datapack_id):
    auth.login()
    structure(repovizz2, datapack_id)["children"][1]["children"][0]["type"] = ACCELEROMETER  # named EMG, typed otherwise
    page = client.get(f"/datapacks/{datapack_id}").get_data(as_text=True)
    assert _suggestion(page, "children[1].children[0]") is None
    assert _suggestion(page, "children[0]") is not None
    structure(repovizz2, datapack_id)["children"][1]["children"][0]["type"] = "0f0e0d0c-0b0a-4909-8807-060504030201"
    page = client.get(f"/datapacks/{datapack_id}").get_data(as_text=True)  # a type the portal does not know
    assert _suggestion(page, "children[1].children[0]")[0] == 'Suggested: MYO 8-channel EMG (the name says "emg").'


def test_a_type_the_portal_reads_differently_is_offered_as_stored(client, auth, repovizz2, datapack_id):
    auth.login()
    place = "children[1].children[0]"
    structure(repovizz2, datapack_id)["children"][1]["children"][0]["type"] = f"urn:uuid:{EMG_TYPE}"
    page = client.get(f"/datapacks/{datapack_id}").get_data(as_text=True)
    assert (f'<option value="urn:uuid:{EMG_TYPE}" selected>MYO 8-channel EMG (as stored: urn:uuid:{EMG_TYPE})'
            '</option>') in page
    # Chosen again as it is, the stored value passes the form's own check (the rules for the whole
    # document are another matter: see the test after this one).
    from portal.services.datapacks import with_datatype
    document = structure(repovizz2, datapack_id)
    known = {datatype_id for datatype_id, _ in client.application.extensions["datatypes"].choices()}
    assert with_datatype(document, place, f"urn:uuid:{EMG_TYPE}", f"urn:uuid:{EMG_TYPE}", known) is document


def test_a_type_the_portal_reads_differently_is_kept_when_other_fields_change(client, auth, repovizz2, datapack_id):
    """repovizz2 accepts any `type` that holds a UUID; saving a node's name and text keeps it as it is."""
    auth.login()
    place = "children[1].children[0]"
    structure(repovizz2, datapack_id)["children"][1]["children"][0]["type"] = f"urn:uuid:{EMG_TYPE}"
    _edit(client, repovizz2, datapack_id, place, datatype=f"urn:uuid:{EMG_TYPE}", text="renamed only")
    assert flashes(client) == [f'Saved the data node "EMG" at {place}.']
    node = structure(repovizz2, datapack_id)["children"][1]["children"][0]
    assert (node["type"], node["text"]) == (f"urn:uuid:{EMG_TYPE}", "renamed only")


def test_edits_refuse_a_changed_datapack_or_a_bad_place(client, auth, repovizz2, datapack_id):
    auth.login()
    client.post(f"/datapacks/{datapack_id}/nodes/edit", data={
        "place": "children[1].children[0]", "expect": "data:repovizz:" + "9" * 40, "name": "X", "text": ""})
    client.post(f"/datapacks/{datapack_id}/nodes/remove", data={"place": "children[7]", "expect": ""})
    client.post(f"/datapacks/{datapack_id}/nodes/edit", data={"place": "info", "name": "X"})
    assert repovizz2.updates == []
    messages = flashes(client)
    assert "the datapack changed since this page was loaded" in messages[0]
    assert "there is no node at children[7]" in messages[1]
    assert "'info' is not the place of a node" in messages[2]
    assert structure(repovizz2, datapack_id) == STORED_DOCUMENT


def test_remove_a_container_with_its_nodes(client, auth, repovizz2, datapack_id):
    auth.login()
    answer = client.post(f"/datapacks/{datapack_id}/nodes/remove", data={"place": "children[1]",
                         "expect": page_expect(repovizz2, datapack_id, "children[1]")})
    assert answer.status_code == 302
    assert [node["name"] for node in structure(repovizz2, datapack_id)["children"]] == ["Video", "Tone"]
    assert flashes(client) == ['Removed the container "IMU" with 2 data nodes (it was at children[1]).']


def test_add_a_node_with_its_file(client, auth, repovizz2, datapack_id):
    auth.login()
    answer = client.post(f"/datapacks/{datapack_id}/nodes/add", content_type="multipart/form-data", data={
        "file": (io.BytesIO(b"1,2\n3,4\n"), "knee angle.csv", "text/csv"), "name": "", "text": "left knee",
        "parent": "children[1]"})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    node = structure(repovizz2, datapack_id)["children"][1]["children"][2]
    assert node["name"] == "Knee angle" and node["text"] == "left knee" and node["mime"] == "text/csv"
    assert node["link"].startswith("repovizz:")
    assert repovizz2.files[node["link"][len("repovizz:"):]] == b"1,2\n3,4\n"
    assert repovizz2.uploads == ["knee angle.csv"]
    assert flashes(client) == ['Added the data node "Knee angle" at children[1].children[2] '
                               "and uploaded knee angle.csv (8 bytes)."]
    # ... and the portal serves it back.
    fetched = client.get(f"/datapacks/{datapack_id}/content/{node['link'][len('repovizz:'):]}")
    assert fetched.get_data() == b"1,2\n3,4\n" and fetched.headers["Content-Type"] == "text/csv"


def test_add_refuses_a_link_that_exists_or_an_empty_file(client, auth, repovizz2, datapack_id):
    auth.login()
    client.post(f"/datapacks/{datapack_id}/nodes/add", content_type="multipart/form-data",
                data={"file": (io.BytesIO(b"[]"), "gyro.json")})
    client.post(f"/datapacks/{datapack_id}/nodes/add", content_type="multipart/form-data",
                data={"file": (io.BytesIO(b""), "empty.json")})
    client.post(f"/datapacks/{datapack_id}/nodes/add", content_type="multipart/form-data", data={})
    assert repovizz2.updates == [] and repovizz2.uploads == []
    messages = flashes(client)
    assert "already waits for a file called 'gyro.json'" in messages[0]
    assert "the file 'empty.json' is empty" in messages[1]
    assert "File: This field is required." in messages[2]


def test_a_failed_upload_after_adding_leaves_a_pending_node(client, auth, repovizz2, datapack_id):
    repovizz2.fail("upload", 500, only="new.json")
    auth.login()
    answer = client.post(f"/datapacks/{datapack_id}/nodes/add", content_type="multipart/form-data",
                         data={"file": (io.BytesIO(b"[1]"), "new.json")})
    assert answer.status_code == 502
    assert f"/datapacks/{datapack_id}" in answer.get_data(as_text=True)
    assert structure(repovizz2, datapack_id)["children"][-1]["link"] == "new.json"


def test_replace_a_file(client, auth, repovizz2, datapack_id):
    auth.login()
    answer = client.post(f"/datapacks/{datapack_id}/nodes/replace", content_type="multipart/form-data", data={
        "place": "children[2]", "expect": page_expect(repovizz2, datapack_id, "children[2]"), "file": (io.BytesIO(b"ID3 new"), "tone.mp3", "audio/mpeg")})
    assert answer.status_code == 302
    assert flashes(client) == ['Replaced the file of "Tone" with tone.mp3 (7 bytes).']
    node = structure(repovizz2, datapack_id)["children"][2]
    assert node["link"] != f"repovizz:{WAV}" and node["mime"] == "audio/mpeg"
    assert repovizz2.uploads == [f"repovizz:{WAV}"]
    new_id = node["link"][len("repovizz:"):]
    assert client.get(f"/datapacks/{datapack_id}/content/{new_id}").get_data() == b"ID3 new"
    assert client.get(f"/datapacks/{datapack_id}/content/{WAV}").status_code == 404


def _share_the_tone(repovizz2, datapack_id) -> None:
    """A second node holding the very same file as Tone (with ids derived from the bytes, both point at one id)."""
    structure(repovizz2, datapack_id)["children"].append(
        {"class": "data", "name": "Tone copy", "text": "", "link": f"repovizz:{WAV}", "mime": "audio/wav"})


@pytest.mark.parametrize("place", ["children[3]", "children[2]"])
def test_replace_the_file_of_one_of_two_nodes_sharing_it(client, auth, repovizz2, datapack_id, place):
    auth.login()
    _share_the_tone(repovizz2, datapack_id)
    answer = client.post(f"/datapacks/{datapack_id}/nodes/replace", content_type="multipart/form-data", data={
        "place": place, "expect": page_expect(repovizz2, datapack_id, place),
        "file": (io.BytesIO(b"ID3 new"), "tone.mp3", "audio/mpeg")})
    assert answer.status_code == 302
    # The chosen node got a pending link of its own first, and the file went to that link.
    assert repovizz2.uploads == ["tone.mp3"]
    from portal.rules.tree_edits import node_at
    chosen = node_at(structure(repovizz2, datapack_id), place)
    kept = node_at(structure(repovizz2, datapack_id), "children[2]" if place == "children[3]" else "children[3]")
    assert kept["link"] == f"repovizz:{WAV}" and kept["mime"] == "audio/wav"
    assert chosen["link"] not in (f"repovizz:{WAV}", "tone.mp3") and chosen["mime"] == "audio/mpeg"
    assert client.get(f"/datapacks/{datapack_id}/content/{chosen['link'][9:]}").get_data() == b"ID3 new"
    assert client.get(f"/datapacks/{datapack_id}/content/{WAV}").get_data() == STORED_FILES[WAV][0]


def test_a_failed_replacement_of_a_shared_file_points_the_node_back(client, auth, repovizz2, datapack_id):
    auth.login()
    _share_the_tone(repovizz2, datapack_id)
    before = copy.deepcopy(structure(repovizz2, datapack_id))
    repovizz2.fail("upload", 500, only="tone.mp3")
    answer = client.post(f"/datapacks/{datapack_id}/nodes/replace", content_type="multipart/form-data", data={
        "place": "children[3]", "expect": page_expect(repovizz2, datapack_id, "children[3]"),
        "file": (io.BytesIO(b"ID3 new"), "tone.mp3", "audio/mpeg")})
    assert answer.status_code == 502
    assert structure(repovizz2, datapack_id) == before


def test_replace_refuses_a_pending_node(client, auth, repovizz2, datapack_id):
    auth.login()
    client.post(f"/datapacks/{datapack_id}/nodes/replace", content_type="multipart/form-data", data={
        "place": "children[1].children[1]", "expect": page_expect(repovizz2, datapack_id, "children[1].children[1]"),
        "file": (io.BytesIO(b"[1]"), "gyro.json")})
    assert repovizz2.uploads == []
    assert "is not an uploaded data node" in flashes(client)[0]


def test_edits_need_login(client, repovizz2, datapack_id):
    """Refused before the form is read (401, not a redirect that would drop what was sent), with a way
    to log in and come back to the datapack."""
    for action in ("rename", "nodes/edit", "nodes/remove", "nodes/add", "nodes/replace"):
        answer = client.post(f"/datapacks/{datapack_id}/{action}", data={})
        assert answer.status_code == 401
        page = answer.get_data(as_text=True)
        assert "Log in first" in page and f"/auth/login?next=/datapacks/{datapack_id}" in page
    assert structure(repovizz2, datapack_id) == STORED_DOCUMENT


def test_what_is_left_after_edits_passes_the_rules(client, auth, repovizz2, datapack_id):
    auth.login()
    for _ in range(3):
        client.post(f"/datapacks/{datapack_id}/nodes/remove",
                    data={"place": "children[0]", "expect": page_expect(repovizz2, datapack_id, "children[0]")})
    assert structure(repovizz2, datapack_id)["children"] == []
    assert walk_data_nodes(structure(repovizz2, datapack_id)) == []
    page = client.get(f"/datapacks/{datapack_id}")
    assert page.status_code == 200 and "No nodes yet." in page.get_data(as_text=True)


def test_download_is_passed_on_chunk_by_chunk(client, auth, repovizz2, datapack_id):
    video = repovizz2.files[VIDEO] = MadeFile(1000 * CHUNK_SIZE)  # 64 MB, never held whole
    auth.login()
    answer = client.get(f"/datapacks/{datapack_id}/content/{VIDEO}", buffered=False)
    assert answer.headers["Content-Length"] == str(1000 * CHUNK_SIZE)
    body = iter(answer.response)
    (upstream,) = video.readers
    assert len(next(body)) == CHUNK_SIZE and upstream.given == CHUNK_SIZE  # read from repovizz2 as it is sent on
    next(body)
    assert upstream.given == 2 * CHUNK_SIZE
    answer.close()
    assert upstream.closed


def test_a_stale_form_does_not_undo_a_change_made_in_another_tab(client, auth, repovizz2, datapack_id):
    auth.login()
    stale = page_expect(repovizz2, datapack_id, "children[1].children[0]")  # tab 1 is loaded
    client.post(f"/datapacks/{datapack_id}/nodes/edit", data={  # tab 2 renames EMG
        "place": "children[1].children[0]", "expect": stale, "name": "EMG forearm", "text": "emg"})
    client.post(f"/datapacks/{datapack_id}/nodes/edit", data={  # tab 1 still shows "EMG" and edits the text
        "place": "children[1].children[0]", "expect": stale, "name": "EMG", "text": "two electrodes"})
    node = structure(repovizz2, datapack_id)["children"][1]["children"][0]
    assert (node["name"], node["text"]) == ("EMG forearm", "emg")
    assert "the datapack changed since this page was loaded" in flashes(client)[-1]


def test_a_stale_form_does_not_remove_what_was_added_meanwhile(client, auth, repovizz2, datapack_id):
    auth.login()
    stale = page_expect(repovizz2, datapack_id, "children[1]")
    structure(repovizz2, datapack_id)["children"][1]["children"].append(
        {"class": "data", "name": "New", "text": "", "link": "new.json"})  # added in another tab
    client.post(f"/datapacks/{datapack_id}/nodes/remove", data={"place": "children[1]", "expect": stale})
    assert [node["name"] for node in structure(repovizz2, datapack_id)["children"]] == ["Video", "IMU", "Tone"]
    assert "the datapack changed since this page was loaded" in flashes(client)[-1]


def test_a_container_of_the_same_name_is_not_taken_for_another(client, auth, repovizz2, datapack_id):
    children = structure(repovizz2, datapack_id)["children"]
    children[1:2] = [{"class": "container", "name": "Trial", "text": "", "children": [copy.deepcopy(node)]}
                     for node in children[1]["children"]]  # Trial (EMG), Trial (Gyro)
    auth.login()
    stale = page_expect(repovizz2, datapack_id, "children[1]")  # the page offers to remove Trial (EMG)
    del children[1]  # another tab removed it
    client.post(f"/datapacks/{datapack_id}/nodes/remove", data={"place": "children[1]", "expect": stale})
    assert [node.name for node in walk_data_nodes(structure(repovizz2, datapack_id))] == ["Video", "Gyro", "Tone"]
    assert "the datapack changed since this page was loaded" in flashes(client)[-1]


def test_an_edit_without_expect_is_refused(client, auth, repovizz2, datapack_id):
    auth.login()
    for action, data in (("nodes/edit", {"place": "children[0]", "name": "X"}),
                         ("nodes/remove", {"place": "children[0]"}),
                         ("nodes/replace", {"place": "children[0]", "file": (io.BytesIO(b"x"), "x.mp4")})):
        client.post(f"/datapacks/{datapack_id}/{action}", data=data, content_type="multipart/form-data")
    assert repovizz2.updates == [] and repovizz2.uploads == []
    assert structure(repovizz2, datapack_id) == STORED_DOCUMENT
    assert all("did not say which node it was made for" in message for message in flashes(client))


HOSTILE_PLACES = ["children[99]", "children[-1]", "__class__", "children[0].__class__", "children[١]", "chïldren[0]",
                  "children[0]\n", "children[0].children[0]", "children[1].children[5].children[0]",
                  "children[0]." * 20_000 + "children[0]", "x" * 100_000, "children[1" + "0" * 50_000 + "]"]


@pytest.mark.parametrize("place", HOSTILE_PLACES, ids=lambda place: place[:30])
def test_hostile_places_are_refused_in_a_few_words(client, auth, repovizz2, datapack_id, place):
    auth.login()
    for action, data in (("nodes/edit", {"place": place, "expect": "data:x", "name": "X"}),
                         ("nodes/remove", {"place": place, "expect": "data:x"}),
                         ("nodes/replace", {"place": place, "expect": "data:x", "file": (io.BytesIO(b"x"), "x.mp4")}),
                         ("nodes/add", {"parent": place, "file": (io.BytesIO(b"[1]"), "new.json")})):
        answer = client.post(f"/datapacks/{datapack_id}/{action}", data=data, content_type="multipart/form-data")
        assert answer.status_code == 302
        message = flashes(client)[-1]
        assert message.startswith("Nothing was") and len(message) < 300, message[:300]
        # The message is kept in the session cookie: a long one would be dropped by the browser.
        assert len(answer.headers.get("Set-Cookie", "")) < 4000
    assert repovizz2.updates == [] and repovizz2.uploads == []


@pytest.mark.parametrize(("mime", "served", "disposition"), [
    ("text/plain\r\nSet-Cookie: a=b", "application/octet-stream", "attachment;"),
    (5, "application/octet-stream", "attachment;"),
    ("vidéo/mp4", "application/octet-stream", "attachment;"),
    ("not a type", "application/octet-stream", "attachment;"),
    # repovizz2 sends the type without its parameters: the portal takes that one, never the document's
    ("video/mp4;\r\n x=y", "video/mp4", "inline;"),
])
def test_a_broken_type_in_the_document_is_served_as_bytes_and_upstream_closed(client, auth, repovizz2, datapack_id,
                                                                               mime, served, disposition):
    structure(repovizz2, datapack_id)["children"][0]["mime"] = mime
    video = MadeFile(2 * CHUNK_SIZE)
    repovizz2.store_file(datapack_id, VIDEO, video, uploaded_as="recording")  # no type to guess from its name
    auth.login()
    answer = client.get(f"/datapacks/{datapack_id}/content/{VIDEO}?inline=1")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == served
    assert answer.headers["Content-Disposition"].startswith(disposition)
    assert "Set-Cookie" not in answer.headers and "x=y" not in answer.headers["Content-Type"]
    (upstream,) = video.readers
    assert len(answer.get_data()) == 2 * CHUNK_SIZE and upstream.closed


def test_upstream_is_closed_when_the_answer_cannot_be_made(client, auth, repovizz2, datapack_id, monkeypatch):
    """No stored name or type is known to break the answer: a failure is made to happen where it would."""
    video = repovizz2.files[VIDEO] = MadeFile(2 * CHUNK_SIZE)
    monkeypatch.setattr("portal.services.downloads.download_name", lambda *args: 1 / 0)
    auth.login()
    with pytest.raises(ZeroDivisionError):
        client.get(f"/datapacks/{datapack_id}/content/{VIDEO}")
    (upstream,) = video.readers
    assert upstream.closed and upstream.given == 0


@pytest.mark.parametrize("mime, inline", [("audio/x-wav", True), ("image/png", True), ("text/plain; charset=utf-8", True),
                                          ("text/plainhtml", False), ("image/png+xml", False),
                                          ("application/jsonx", False), ("text/csv-evil", False)])
def test_only_safe_types_exactly_are_inline(client, auth, repovizz2, datapack_id, mime, inline):
    structure(repovizz2, datapack_id)["children"][0]["mime"] = mime
    auth.login()
    answer = client.get(f"/datapacks/{datapack_id}/content/{VIDEO}?inline=1")
    assert answer.headers["Content-Disposition"].startswith("inline;" if inline else "attachment;")


@pytest.mark.parametrize("filename, why", [
    (".", "has no name"), ("sub/..", "has no name"), ("a\tb.json", "contains a control character"),
    ("gyro.json", "already waits"), ("gyro\u0301.json", None),
])
def test_add_refuses_a_file_name_that_cannot_be_a_link(client, auth, repovizz2, datapack_id, filename, why):
    if why is None:  # the pending link is the same name in the other Unicode form (NFC vs macOS's NFD)
        structure(repovizz2, datapack_id)["children"][1]["children"][1]["link"] = "gyró.json"
        filename, why = "gyro\u0301.json", "already waits"
    auth.login()
    answer = client.post(f"/datapacks/{datapack_id}/nodes/add", content_type="multipart/form-data",
                         data={"file": (io.BytesIO(b"[1]"), filename)})
    assert answer.status_code == 302
    assert repovizz2.updates == [] and repovizz2.uploads == []
    message = flashes(client)[-1]
    assert message.startswith("Nothing was added:") and why in message, message


@pytest.mark.parametrize("asked, status, body, content_range", [
    ("bytes=0-9", 206, b"v" * 10, "bytes 0-9/300000"),
    ("bytes=299990-", 206, b"v" * 10, "bytes 299990-299999/300000"),
    (None, 200, b"v" * 300_000, None),
    ("lines=1-2", 200, b"v" * 300_000, None),  # not a byte range: not passed on, the whole file
])
def test_a_ranged_download_is_passed_through_so_a_video_can_be_seeked(client, auth, repovizz2, datapack_id,
                                                                       asked, status, body, content_range):
    auth.login()
    answer = client.get(f"/datapacks/{datapack_id}/content/{VIDEO}?inline=1",
                        headers={"Range": asked} if asked else {})
    assert answer.status_code == status
    assert answer.get_data() == body
    assert answer.headers["Accept-Ranges"] == "bytes"
    assert answer.headers.get("Content-Range") == content_range
    assert answer.headers["Content-Length"] == str(len(body))
    sent = [call.request.headers.get("Range") for call in repovizz2.mock.calls if f"/content/{VIDEO}" in call.request.url]
    assert sent == [asked if asked and asked.startswith("bytes=") else None]


def test_a_range_answered_whole_upstream_is_passed_on_whole(client, auth, repovizz2, datapack_id):
    repovizz2.ranges = False
    auth.login()
    answer = client.get(f"/datapacks/{datapack_id}/content/{VIDEO}", headers={"Range": "bytes=0-9"})
    assert answer.status_code == 200
    assert len(answer.get_data()) == 300_000 and "Content-Range" not in answer.headers


# --- Removing asks first ----------------------------------------------------------------------------

def test_the_remove_button_asks_before_removing(client, auth, repovizz2, datapack_id):
    auth.login()
    page = client.get(f"/datapacks/{datapack_id}").get_data(as_text=True)
    expect = page_expect(repovizz2, datapack_id, "children[1]")
    form = re.search(r'<form method="get"[^>]*class="remove-node"[^>]*>\s*'
                     r'<input type="hidden" name="place" value="children\[1\]">.*?</form>', page, re.S).group(0)
    assert f'action="/datapacks/{datapack_id}/nodes/remove"' in form
    assert 'data-confirm="the container &#34;IMU&#34; and the 2 nodes inside it (1 uploaded file)"' in form
    assert "csrf_token" not in form  # a GET carries no token in its address
    assert 'id="remove-dialog"' in page and 'src="/static/confirm-remove.js"' in page
    assert_csp_clean(page)

    confirm = client.get(f"/datapacks/{datapack_id}/nodes/remove", query_string={"place": "children[1]", "expect": expect})
    text = confirm.get_data(as_text=True)
    assert confirm.status_code == 200
    assert "Remove the container &#34;IMU&#34; and the 2 nodes inside it (1 uploaded file)?" in text
    assert "This cannot be undone" in text
    assert f'<form method="post" action="/datapacks/{datapack_id}/nodes/remove"' in text
    assert '<input type="hidden" name="place" value="children[1]">' in text
    assert f'<input type="hidden" name="expect" value="{expect}">' in text
    assert f'href="/datapacks/{datapack_id}#node-children[1]">Cancel: keep it</a>' in text
    assert_csp_clean(text)
    assert repovizz2.updates == [] and structure(repovizz2, datapack_id) == STORED_DOCUMENT

    answer = client.post(f"/datapacks/{datapack_id}/nodes/remove", data={"place": "children[1]", "expect": expect})
    assert answer.status_code == 302
    assert [child["name"] for child in structure(repovizz2, datapack_id)["children"]] == ["Video", "Tone"]


@pytest.mark.parametrize(("place", "what"), [
    ("children[0]", "Remove the data node &#34;Video&#34; and its file?"),
    ("children[1].children[1]", "Remove the data node &#34;Gyro&#34; (its file was never uploaded)?"),
])
def test_the_confirmation_names_a_data_node(client, auth, repovizz2, datapack_id, place, what):
    auth.login()
    text = client.get(f"/datapacks/{datapack_id}/nodes/remove",
                      query_string={"place": place, "expect": page_expect(repovizz2, datapack_id, place)}).get_data(as_text=True)
    assert what in text and "This cannot be undone" in text
    assert repovizz2.updates == []


def test_an_empty_container_says_so():
    from portal.rules.tree_edits import removal_summary

    assert removal_summary({"class": "container", "name": "Empty", "text": "", "children": []}) == 'the empty container "Empty"'
    one = {"class": "container", "name": "One", "text": "", "children": [
        {"class": "container", "name": "In", "text": "", "children": [
            {"class": "data", "name": "x", "text": "", "link": "repovizz:" + "d" * 40}]}]}
    assert removal_summary(one) == 'the container "One" and the 2 nodes inside it (1 uploaded file)'


@pytest.mark.parametrize("query", [
    {"place": "children[1]", "expect": "container:IMU#0000000000000000"},  # made from an older page
    {"place": "children[9]", "expect": "x"},
    {"place": "children[0]"},
    {"place": "not a place", "expect": "x"},
])
def test_a_confirmation_for_a_node_that_is_not_there_changes_nothing(client, auth, repovizz2, datapack_id, query):
    auth.login()
    answer = client.get(f"/datapacks/{datapack_id}/nodes/remove", query_string=query)
    assert answer.status_code == 302 and answer.headers["Location"] == f"/datapacks/{datapack_id}"
    assert flashes(client)[0].startswith("Nothing was removed:")
    assert repovizz2.updates == [] and structure(repovizz2, datapack_id) == STORED_DOCUMENT


def test_the_confirmation_needs_login(client, repovizz2, datapack_id):
    answer = client.get(f"/datapacks/{datapack_id}/nodes/remove", query_string={"place": "children[0]", "expect": "x"})
    assert answer.status_code == 302 and "/auth/login" in answer.headers["Location"]


def test_the_trees_container_marker_is_hidden_from_screen_readers(client, auth, repovizz2, datapack_id):
    auth.login()
    page = client.get(f"/datapacks/{datapack_id}").get_data(as_text=True)
    tree = page[page.index('<ul class="tree">'):page.index("</ul>", page.index('<ul class="tree">'))]
    assert tree.count("▸") == tree.count('<span class="marker" aria-hidden="true">▸</span> <strong>IMU</strong>') == 1
