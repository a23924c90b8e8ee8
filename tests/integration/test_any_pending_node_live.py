"""A stored datapack whose pending links no file name matches — ``../up.csv``, ``/abs.csv``, ``a//b.csv``,
an empty link, and a link two nodes share, all allowed by the public schema — is finished node by
node: from each node's box on the datapack page, and through the API by the node's place."""
from __future__ import annotations

import re
from urllib.parse import quote

import pytest
import requests

from portal.rules.datapack_rules import walk_data_nodes
from portal.rules.tree_edits import node_at

from .test_unusual_datapack_live import csrf, expect, structure

# place → (link as written into repovizz2, the file chosen for it, its bytes)
NODES = {
    "children[0]": ("../up.csv", "up.csv", b"t,x\n0,1\n1,2\n"),
    "children[1]": ("/abs.csv", "abs.csv", b"t,y\n0,3\n1,4\n"),
    "children[2]": ("", "empty-link.csv", b"t,z\n0,5\n1,6\n"),
    "children[3].children[0]": ("a//b.csv", "b.csv", b"t,w\n0,7\n1,8\n"),
    "children[3].children[1]": ("twice.csv", "twice.csv", b"first of two\n"),
    "children[3].children[2]": ("twice.csv", "twice.csv", b"second of two\n"),
}


def odd_document() -> dict:
    def data(place):
        link = NODES[place][0]
        return {"class": "data", "name": f"Node {place}", "text": f"link {link!r}", "link": link}

    return {
        "info": {"name": "Odd links", "author": "", "description": "", "keywords": []},
        "children": [data("children[0]"), data("children[1]"), data("children[2]"),
                     {"class": "container", "name": "Inside", "text": "", "children": [
                         data("children[3].children[0]"), data("children[3].children[1]"),
                         data("children[3].children[2]")]}],
    }


def written_straight_into_repovizz2(sandbox, user, name) -> tuple[str, requests.Session]:
    api = requests.Session()
    api.headers["Authorization"] = "Bearer " + sandbox.issue_token(user)
    owner = api.get(f"{sandbox.url}/api/v1.0/user").json()["id"]
    created = api.post(f"{sandbox.url}/api/v1.0/datapacks",
                       json={"name": name, "owner": owner, "structure": {**odd_document(),
                                                                         "info": {**odd_document()["info"],
                                                                                  "name": name}}})
    assert created.status_code == 200, created.text
    return created.json()["item"]["id"], api


def assert_each_node_holds_its_own_file(http, portal, sandbox, api, datapack_id):
    done = structure(sandbox, api, datapack_id)
    assert all(node.uploaded for node in walk_data_nodes(done))
    for place, (_, _, data) in NODES.items():
        file_id = node_at(done, place)["link"].removeprefix("repovizz:")
        fetched = http.get(f"{portal.url}/datapacks/{datapack_id}/content/{file_id}")
        assert fetched.status_code == 200 and fetched.content == data, place
        assert node_at(done, place)["name"] == f"Node {place}"


def test_every_pending_node_is_finished_from_its_box_on_the_page(portal, sandbox, browser_session, user):
    datapack_id, api = written_straight_into_repovizz2(sandbox, user, "Odd links (page)")
    page_url = f"{portal.url}/datapacks/{datapack_id}"
    page = browser_session.get(page_url)
    assert page.status_code == 200
    assert "6 files still to upload" in page.text
    assert "its link is empty, so choose its file in" in page.text
    assert "another data node has the same link" in page.text
    # Matching by name cannot reach them: the form for all the pending files says so.
    token = csrf(browser_session, page_url)
    tried = browser_session.post(page_url, data={"csrf_token": token}, files=[("files", ("../up.csv", b"t\n1\n"))])
    assert tried.status_code == 422

    for place, (_, filename, data) in NODES.items():
        answer = browser_session.post(f"{page_url}/nodes/send", data={
            "csrf_token": token, "place": place, "expect": expect(browser_session, page_url, place)},
            files={"file": (filename, data)})
        assert answer.status_code == 200
        flashed = re.search(r'class="flash (\w+)"[^>]*>([^<]*)', answer.text)
        assert flashed and flashed.group(1) == "ok", flashed and flashed.group(2)
    assert_each_node_holds_its_own_file(browser_session, portal, sandbox, api, datapack_id)
    assert "Every file of this datapack is in repovizz2" in browser_session.get(page_url).text


def test_every_pending_node_is_finished_through_the_api_by_its_place(portal, sandbox, browser_session, user):
    datapack_id, api = written_straight_into_repovizz2(sandbox, user, "Odd links (API)")
    script = requests.Session()
    script.headers["Authorization"] = "Bearer " + sandbox.issue_token(user)
    for place, (_, filename, data) in NODES.items():
        answer = script.put(f"{portal.url}/api/datapacks/{datapack_id}/nodes/{quote(place)}",
                            params={"name": filename}, data=data)
        assert answer.status_code == 200, answer.text
        assert answer.json()["place"] == place and answer.json()["ref"].startswith("repovizz:")
    assert_each_node_holds_its_own_file(browser_session, portal, sandbox, api, datapack_id)


@pytest.mark.parametrize("place, status, message", [
    ("children[9]", 404, "there is no node at children[9]"),
    ("children[3]", 422, "children[3] is not a data node"),
    ("nowhere", 404, "is not the place of a node"),
])
def test_the_api_refuses_what_is_not_a_pending_data_node(portal, sandbox, user, place, status, message):
    datapack_id, _ = written_straight_into_repovizz2(sandbox, user, f"Odd links ({place})")
    script = requests.Session()
    script.headers["Authorization"] = "Bearer " + sandbox.issue_token(user)
    answer = script.put(f"{portal.url}/api/datapacks/{datapack_id}/nodes/{quote(place)}", data=b"x\n")
    assert answer.status_code == status and message in answer.json()["error"]
