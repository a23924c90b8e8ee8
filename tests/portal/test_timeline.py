"""The timeline: which nodes of a stored datapack are tracks (whatever shape repovizz2 keeps them in),
the page that lists them for timeline.js, and the datatype picker on a track of unknown rate."""
from __future__ import annotations

import copy
import html
import json
import re
import uuid
from urllib.parse import unquote

import pytest

from portal.rules.datatype_catalog import BUILT_IN_DIR, load_catalog
from portal.rules.timeline import MAX_TRACKS, timeline_of
from tests.portal.samples import assert_csp_clean, structure

ACCELEROMETER = "ae13fb70-fa1e-47d8-9cd6-00cef4fe21cc"
EMG = "0746bb48-9b92-4cd3-8d9e-3e1de13269eb"
AUDIO = "48e3b5d2-c34c-459c-9a2d-0756c20d80de"
DRUMS = "68cd3fb2-6f76-4790-b432-c9c49ebaffee"
UNKNOWN = "0f0e0d0c-0b0a-4908-8706-050403020100"
CATALOG = load_catalog(BUILT_IN_DIR)


def ref(n: int) -> str:
    return f"repovizz:{n:040x}"


# As the real server stores a datapack: mime only in meta (libmagic's wording), sensor nodes with
# neither mime nor meta, every node typed, one type the portal does not know.
STORED = {"info": {"name": "MYO_various", "author": "x", "description": "", "keywords": []}, "children": [
    {"class": "data", "name": "Picture", "text": "", "link": ref(1), "meta": {"mime": "image/png"}},
    {"class": "container", "name": "IMU", "text": "", "children": [
        {"class": "data", "name": "EMG", "text": "", "link": ref(2), "type": EMG},
        {"class": "data", "name": "Accelerometer", "text": "", "link": ref(3), "type": ACCELEROMETER},
        {"class": "data", "name": "Pressure", "text": "", "link": ref(4), "type": UNKNOWN},
        {"class": "data", "name": "Pending", "text": "", "link": "later.csv"},
    ]},
    {"class": "data", "name": "Audio", "text": "", "link": ref(5), "type": AUDIO,
     "meta": {"mime": "audio/x-wav; charset=binary"}},
    {"class": "data", "name": "Drums", "text": "", "link": ref(6), "type": DRUMS},
    {"class": "data", "name": "Video", "text": "", "link": ref(7), "type": "e44ab9c4-a1b5-4474-b806-ece64555ef2b",
     "meta": {"mime": "video/mp4; charset=binary"}},
    {"class": "data", "name": "Report", "text": "", "link": ref(8), "mime": "application/pdf"},
    {"class": "data", "name": "Camera 2", "text": "", "link": ref(9), "type": "e44ab9c4-a1b5-4474-b806-ece64555ef2b"},
]}


def test_the_tracks_of_a_datapack_as_the_real_server_stores_it():
    found = timeline_of(STORED, CATALOG.find)
    assert [(track.name, track.kind, track.place) for track in found.tracks] == [
        ("Video", "video", "children[4]"),  # players first, then the rest in document order
        ("Camera 2", "video", "children[6]"),  # typed Video, no media type: played all the same
        ("Audio", "audio", "children[2]"),
        ("EMG", "stream", "children[1].children[0]"),
        ("Accelerometer", "stream", "children[1].children[1]"),
        ("Pressure", "stream", "children[1].children[2]"),  # unknown type: its content decides
        ("Drums", "events", "children[3]"),
    ]
    emg, accelerometer, pressure = found.tracks[3:6]
    assert emg.rate_known and emg.settings()["channels"] == [str(n) for n in range(1, 9)]
    assert accelerometer.accessible_name == "Accelerometer, g, time in seconds"
    assert not pressure.rate_known and pressure.type_value == UNKNOWN
    assert pressure.settings() == {"name": "", "rate": None, "channels": [], "units": "", "range": None}
    assert pressure.accessible_name == "Pressure, time in seconds"
    assert found.left_out == 0


@pytest.mark.parametrize("node", [
    {"class": "data", "name": 5, "text": None, "link": ref(1), "type": 7, "meta": "not an object"},
    {"class": "data", "name": "x", "text": "", "link": ref(1), "mime": {"a": 1}, "type": ["list"]},
    {"class": "data", "name": "x", "text": "", "link": 42},
    {"class": "data", "name": "x", "text": "", "link": "repovizz:"},
    {"class": "data"},
])
def test_whatever_a_node_holds_the_tracks_are_found_without_breaking(node):
    found = timeline_of({"info": {}, "children": [node]}, CATALOG.find)
    assert all(track.kind == "stream" and track.file_id for track in found.tracks)


def test_a_huge_tree_draws_a_bounded_number_of_tracks():
    children = [{"class": "data", "name": f"s{n}", "text": "", "link": ref(n)} for n in range(MAX_TRACKS + 5)]
    found = timeline_of({"info": {}, "children": children}, CATALOG.find)
    assert len(found.tracks) == MAX_TRACKS and found.left_out == 5


@pytest.fixture
def stored_id(repovizz2):
    datapack_id = str(uuid.uuid4())
    repovizz2.datapacks[datapack_id] = {"id": datapack_id, "name": "MYO_various", "owner": "u-1", "folder": None,
                                        "structure": copy.deepcopy(STORED), "group_edit_permissions": []}
    return datapack_id


def test_the_timeline_page_lists_every_track_for_the_script(client, auth, stored_id):
    auth.login()
    page = client.get(f"/datapacks/{stored_id}/timeline").get_data(as_text=True)
    assert page.count('<figure class="track ') == 7
    assert f'<video class="track-media" controls preload="metadata" src="/datapacks/{stored_id}/content/{7:040x}?inline=1"' \
           ' aria-label="Video: Video">' in page
    assert 'aria-label="EMG, a.u., time in seconds"' in page
    (settings,) = re.findall(r'id="track-children\[1\]\.children\[1\]".*?data-settings="([^"]+)"', page, re.S)
    assert json.loads(html.unescape(settings))["rate"] == 200
    assert 'data-datatype="unknown"' in page  # Pressure: drawn by the browser, its rate to be fixed here
    assert page.count('<select name="datatype">') == 1
    assert f'<option value="{UNKNOWN}" selected>unknown to the portal: {UNKNOWN}</option>' in page
    assert 'src="/static/timeline.js"' in page and "vendor/uplot/uPlot.min.css" in page
    assert "Picture" not in page and "Report" not in page and "Pending" not in page
    assert_csp_clean(page)


def test_a_datapack_with_nothing_timed_says_so(client, auth, repovizz2, stored_id):
    repovizz2.datapacks[stored_id]["structure"]["children"] = [STORED["children"][0]]
    auth.login()
    page = client.get(f"/datapacks/{stored_id}/timeline").get_data(as_text=True)
    assert "Nothing of this datapack has a time axis" in page and "timeline.js" not in page


def _pick(client, repovizz2, datapack_id, **extra):
    from portal.rules.tree_edits import node_at, node_fingerprint
    place = "children[1].children[2]"
    return client.post(f"/datapacks/{datapack_id}/nodes/edit", data={
        "place": place, "expect": node_fingerprint(node_at(structure(repovizz2, datapack_id), place)),
        "name": "Pressure", "text": "", "datatype": ACCELEROMETER, **extra})


def test_the_datatype_picked_on_a_track_returns_to_the_timeline(client, auth, repovizz2, stored_id):
    auth.login()
    answer = _pick(client, repovizz2, stored_id, back="timeline")
    assert answer.status_code == 302
    assert unquote(answer.headers["Location"]) == f"/datapacks/{stored_id}/timeline#track-children[1].children[2]"
    assert structure(repovizz2, stored_id)["children"][1]["children"][2]["type"] == ACCELEROMETER


@pytest.mark.parametrize("back", ["https://evil.example/", "//evil.example", "/elsewhere", "TIMELINE"])
def test_any_other_way_back_is_the_datapack_page(client, auth, repovizz2, stored_id, back):
    auth.login()
    answer = _pick(client, repovizz2, stored_id, back=back)
    assert unquote(answer.headers["Location"]) == f"/datapacks/{stored_id}#node-children[1].children[2]"
