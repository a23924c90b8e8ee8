"""Each edit of a datapack, and fetching its files back, through the portal against the live sandbox."""
from __future__ import annotations

import html
import re
from pathlib import Path

import requests

from portal.rules.datapack_rules import walk_data_nodes

EXAMPLE = Path(__file__).resolve().parents[2] / "portal" / "example"


def csrf(http, url):
    return re.search(r'name="csrf-token" content="([^"]+)"', http.get(url).text).group(1)


def upload_example(portal, http) -> str:
    token = csrf(http, portal.url + "/upload")
    files = [("folder", (f"example/{p.relative_to(EXAMPLE).as_posix()}", p.read_bytes()))
             for p in sorted(EXAMPLE.rglob("*")) if p.is_file()]
    page = http.post(portal.url + "/upload", data={"csrf_token": token}, files=files)
    assert page.status_code == 200, page.text
    return re.search(r'id="datapack-id">([^<]+)<', page.text).group(1)


def document(portal, http, datapack_id) -> dict:
    answer = http.get(f"{portal.url}/datapacks/{datapack_id}/document.json")
    assert answer.status_code == 200
    return answer.json()


def file_id(node) -> str:
    return node.link.removeprefix("repovizz:")


def node(portal, http, datapack_id, name):
    return next(n for n in walk_data_nodes(document(portal, http, datapack_id)) if n.name == name)


def expect(portal, http, datapack_id, place) -> str:
    """What the datapack page's forms for the node at `place` say they expect to find there."""
    page = http.get(f"{portal.url}/datapacks/{datapack_id}").text
    found = re.search(rf'name="place" value="{re.escape(place)}">\s*'
                      r'<input type="hidden" name="expect" value="([^"]*)"', page)
    return html.unescape(found.group(1))


def post(portal, http, datapack_id, action, data=None, files=None) -> requests.Response:
    """Post an edit form as the page would (with its CSRF token); follow the redirect to the datapack page."""
    page_url = f"{portal.url}/datapacks/{datapack_id}"
    token = csrf(http, page_url)
    answer = http.post(f"{page_url}/{action}", data={"csrf_token": token, **(data or {})}, files=files)
    return answer


def test_download_a_file_and_compare_bytes(portal, browser_session):
    datapack_id = upload_example(portal, browser_session)
    for name, path in (("Tone", "audio/tone.wav"), ("EMG", "sensors/emg 2.json"), ("Set-up", "setup.png")):
        answer = browser_session.get(f"{portal.url}/datapacks/{datapack_id}/content/"
                                     f"{file_id(node(portal, browser_session, datapack_id, name))}")
        assert answer.status_code == 200
        assert answer.content == (EXAMPLE / path).read_bytes()
        assert answer.headers["Content-Disposition"].startswith("attachment;")
        assert path.rsplit("/", 1)[-1].replace(" ", "%20") in answer.headers["Content-Disposition"]
    inline = browser_session.get(f"{portal.url}/datapacks/{datapack_id}/content/"
                                 f"{file_id(node(portal, browser_session, datapack_id, 'Tone'))}?inline=1")
    assert inline.headers["Content-Type"] == "audio/wav" and inline.headers["Content-Disposition"].startswith("inline;")
    assert browser_session.get(f"{portal.url}/datapacks/{datapack_id}/content/{'0' * 40}").status_code == 404


def test_the_page_shows_previews_and_charts(portal, browser_session):
    datapack_id = upload_example(portal, browser_session)
    page = browser_session.get(f"{portal.url}/datapacks/{datapack_id}").text
    assert page.count("<audio controls") == 1 and page.count("<img src=") == 1
    assert page.count('class="chart" data-chart-src=') == 2


def test_rename(portal, browser_session):
    datapack_id = upload_example(portal, browser_session)
    answer = post(portal, browser_session, datapack_id, "rename", {"name": "Renamed example"})
    assert answer.status_code == 200 and answer.url == f"{portal.url}/datapacks/{datapack_id}"
    assert "Renamed &#34;Portal example&#34; to &#34;Renamed example&#34;." in answer.text
    assert "<h1>Renamed example</h1>" in answer.text
    assert document(portal, browser_session, datapack_id)["info"]["name"] == "Renamed example"


def test_rename_to_a_taken_name_is_409(portal, browser_session):
    first = upload_example(portal, browser_session)
    post(portal, browser_session, first, "rename", {"name": "Kept"})
    second = upload_example(portal, browser_session)
    answer = post(portal, browser_session, second, "rename", {"name": "Kept"})
    assert answer.status_code == 409
    assert first in answer.text  # the page links to the datapack that has the name
    assert document(portal, browser_session, second)["info"]["name"] == "Portal example"


def test_edit_a_node(portal, browser_session):
    datapack_id = upload_example(portal, browser_session)
    before = node(portal, browser_session, datapack_id, "EMG")
    answer = post(portal, browser_session, datapack_id, "nodes/edit", {
        "place": before.place, "expect": expect(portal, browser_session, datapack_id, before.place),
        "name": "EMG forearm", "text": "Two electrodes"})
    assert answer.status_code == 200 and "Saved the data node &#34;EMG forearm&#34;" in answer.text
    after = node(portal, browser_session, datapack_id, "EMG forearm")
    assert (after.place, after.text, after.link) == (before.place, "Two electrodes", before.link)


def test_add_a_node_with_its_file(portal, browser_session):
    datapack_id = upload_example(portal, browser_session)
    data = b"time,x,y\n0,1,2\n1,2,3\n2,3,5\n"
    answer = post(portal, browser_session, datapack_id, "nodes/add", {"name": "", "text": "Knee", "parent": "children[2]"},
                  files={"file": ("knee angle.csv", data, "text/csv")})
    assert answer.status_code == 200, answer.text
    assert "Added the data node &#34;Knee angle&#34; at children[2].children[2]" in answer.text
    added = node(portal, browser_session, datapack_id, "Knee angle")
    assert added.place == "children[2].children[2]" and added.link.startswith("repovizz:")
    fetched = browser_session.get(f"{portal.url}/datapacks/{datapack_id}/content/{file_id(added)}")
    assert fetched.content == data and fetched.headers["Content-Type"] == "text/csv"
    again = post(portal, browser_session, datapack_id, "nodes/add", {}, files={"file": ("tone.wav", b"x", "audio/wav")})
    # The example's tone.wav is uploaded (its link is repovizz:…), so the name is free for a new node.
    assert "Added the data node &#34;Tone&#34; at children[3]" in again.text


def test_replace_a_file_and_fetch_the_new_bytes(portal, browser_session):
    datapack_id = upload_example(portal, browser_session)
    before = node(portal, browser_session, datapack_id, "Accelerometer")
    new_bytes = b"[[0, 0, 1], [0.5, 0.5, 0.7], [1, 0, 0]]"
    answer = post(portal, browser_session, datapack_id, "nodes/replace",
                  {"place": before.place, "expect": expect(portal, browser_session, datapack_id, before.place)},
                  files={"file": ("accelerometer.json", new_bytes, "application/json")})
    assert answer.status_code == 200 and "Replaced the file of &#34;Accelerometer&#34;" in answer.text
    after = node(portal, browser_session, datapack_id, "Accelerometer")
    assert after.link != before.link and after.link.startswith("repovizz:")
    fetched = browser_session.get(f"{portal.url}/datapacks/{datapack_id}/content/{file_id(after)}")
    assert fetched.content == new_bytes
    assert browser_session.get(f"{portal.url}/datapacks/{datapack_id}/content/{file_id(before)}").status_code == 404


def test_remove_a_node_and_a_container(portal, browser_session):
    datapack_id = upload_example(portal, browser_session)
    answer = post(portal, browser_session, datapack_id, "nodes/remove",
                  {"place": "children[1]", "expect": expect(portal, browser_session, datapack_id, "children[1]")})
    assert "Removed the container &#34;Audio&#34; with 1 data node" in answer.text
    tone_gone = document(portal, browser_session, datapack_id)
    assert [child["name"] for child in tone_gone["children"]] == ["Set-up", "Sensors"]
    emg = node(portal, browser_session, datapack_id, "EMG")
    post(portal, browser_session, datapack_id, "nodes/remove",
         {"place": emg.place, "expect": expect(portal, browser_session, datapack_id, emg.place)})
    assert [n.name for n in walk_data_nodes(document(portal, browser_session, datapack_id))] == ["Set-up", "Accelerometer"]
    assert browser_session.get(f"{portal.url}/datapacks/{datapack_id}/content/{file_id(emg)}").status_code == 404


def test_a_stale_form_changes_nothing(portal, browser_session):
    datapack_id = upload_example(portal, browser_session)
    audio = expect(portal, browser_session, datapack_id, "children[1]")  # the form for Audio, sent for children[0]
    answer = post(portal, browser_session, datapack_id, "nodes/remove", {"place": "children[0]", "expect": audio})
    assert "the datapack changed since this page was loaded" in answer.text
    assert len(document(portal, browser_session, datapack_id)["children"]) == 3


def test_pick_a_datatype_in_the_node_editor(portal, browser_session):
    datapack_id = upload_example(portal, browser_session)
    emg = node(portal, browser_session, datapack_id, "EMG")
    assert emg.node["type"] == "0746bb48-9b92-4cd3-8d9e-3e1de13269eb"
    page = browser_session.get(f"{portal.url}/datapacks/{datapack_id}").text
    assert '<option value="0746bb48-9b92-4cd3-8d9e-3e1de13269eb" selected>MYO 8-channel EMG</option>' in page
    answer = post(portal, browser_session, datapack_id, "nodes/edit", {
        "place": emg.place, "expect": expect(portal, browser_session, datapack_id, emg.place),
        "name": "EMG", "text": emg.text, "datatype": ""})
    assert answer.status_code == 200 and "Saved the data node &#34;EMG&#34;" in answer.text
    assert "type" not in node(portal, browser_session, datapack_id, "EMG").node
    answer = post(portal, browser_session, datapack_id, "nodes/edit", {
        "place": emg.place, "expect": expect(portal, browser_session, datapack_id, emg.place),
        "name": "EMG", "text": emg.text, "datatype": "ae13fb70-fa1e-47d8-9cd6-00cef4fe21cc"})
    assert node(portal, browser_session, datapack_id, "EMG").node["type"] == "ae13fb70-fa1e-47d8-9cd6-00cef4fe21cc"
    box = re.search(rf'id="node-{re.escape(emg.place)}".*?</figure>', answer.text, re.S).group(0)
    assert '<p class="box-datatype"' in box and "3-axis accelerometer" in box and "data-chart-settings=" in box
