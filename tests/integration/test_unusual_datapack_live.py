"""A datapack written straight into repovizz2 (the sandbox) that the public schema accepts but that no
upload through the portal would make: a `mime` of null, a `type` of ``urn:uuid:<uuid>``, 60 nested
containers, pending links. The portal shows it, edits it and finishes it all the same."""
from __future__ import annotations

import html
import re

import requests

from portal.rules.datapack_rules import walk_data_nodes
from portal.rules.tree_edits import node_at

ACCELEROMETER = "ae13fb70-fa1e-47d8-9cd6-00cef4fe21cc"
DEPTH = 60
ROWS = b"[[0.1, 0.2, 0.3], [0.2, 0.1, 0.4], [0.3, 0.0, 0.5]]"
TABLE = b"t,a,b\n0,1,2\n1,2,3\n2,3,5\n"
UPLOADED = b"already here\n"
DEEP_PLACE = ".".join(["children[2]"] + ["children[0]"] * DEPTH)


def unusual_document() -> dict:
    deep = {"class": "data", "name": "Deep", "text": "sixty containers down", "link": "deep/table.csv"}
    for level in range(DEPTH, 0, -1):
        deep = {"class": "container", "name": f"Level {level}", "text": "", "children": [deep]}
    return {
        "info": {"name": "Unusual", "author": "", "description": "", "keywords": []},
        "children": [
            {"class": "data", "name": "No mime", "text": "mime is null", "link": "rows.json", "mime": None},
            {"class": "data", "name": "Typed", "text": "type holds a UUID", "link": "done.txt",
             "type": f"urn:uuid:{ACCELEROMETER}", "mime": "text/plain; charset=us-ascii"},
            deep,
        ],
    }


def csrf(http, url) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', http.get(url).text).group(1)


def written_straight_into_repovizz2(sandbox, user) -> tuple[str, requests.Session]:
    api = requests.Session()
    api.headers["Authorization"] = "Bearer " + sandbox.issue_token(user)
    owner = api.get(f"{sandbox.url}/api/v1.0/user").json()["id"]
    created = api.post(f"{sandbox.url}/api/v1.0/datapacks",
                       json={"name": "Unusual", "owner": owner, "structure": unusual_document()})
    assert created.status_code == 200, created.text
    datapack_id = created.json()["item"]["id"]
    sent = api.post(f"{sandbox.url}/api/v1.0/datapacks/{datapack_id}/content/done.txt",
                    files={"file": ("done.txt", UPLOADED)})
    assert sent.status_code == 200, sent.text
    return datapack_id, api


def structure(sandbox, api, datapack_id) -> dict:
    return api.get(f"{sandbox.url}/api/v1.0/datapacks/{datapack_id}").json()["structure"]


def expect(http, page_url, place) -> str:
    found = re.search(rf'name="place" value="{re.escape(place)}">\s*'
                      r'<input type="hidden" name="expect" value="([^"]*)"', http.get(page_url).text)
    return html.unescape(found.group(1))


def test_an_unusual_datapack_is_shown_edited_and_finished(portal, sandbox, browser_session, user):
    datapack_id, api = written_straight_into_repovizz2(sandbox, user)
    page_url = f"{portal.url}/datapacks/{datapack_id}"

    # Shown: every node, the typed one with its datatype, the pending links listed.
    page = browser_session.get(page_url)
    assert page.status_code == 200, page.text
    for name in ("No mime", "Typed", "Level 1", "Level 60", "Deep"):
        assert f"<strong>{name}</strong>" in page.text, name
    assert "3-axis accelerometer" in page.text
    assert "2 files still to upload" in page.text
    assert "<code>rows.json</code>" in page.text and "<code>deep/table.csv</code>" in page.text

    # Edited: the node with a null mime, and the one sixty containers down; only what was asked changes.
    token = csrf(browser_session, page_url)
    for place, name in (("children[0]", "Rows"), (DEEP_PLACE, "Deepest")):
        answer = browser_session.post(f"{page_url}/nodes/edit", data={
            "csrf_token": token, "place": place, "expect": expect(browser_session, page_url, place),
            "name": name, "text": "renamed"})
        assert answer.status_code == 200
        assert "Nothing was changed" not in answer.text, re.search(r'class="flash error"[^>]*>([^<]*)', answer.text).group(1)
    now = structure(sandbox, api, datapack_id)
    assert node_at(now, "children[0]")["name"] == "Rows" and node_at(now, "children[0]")["mime"] is None
    assert node_at(now, DEEP_PLACE)["name"] == "Deepest"
    assert node_at(now, "children[1]")["type"] == f"urn:uuid:{ACCELEROMETER}"

    # Finished: the pending files chosen on the datapack page; the one already uploaded is not sent again.
    before = node_at(now, "children[1]")["link"]
    answer = browser_session.post(page_url, data={"csrf_token": token},
                                  files=[("files", ("rows.json", ROWS)), ("files", ("table.csv", TABLE))])
    assert answer.status_code == 200, re.findall(r"<li>([^<]*)</li>", answer.text)
    assert "All 3 files were uploaded" in answer.text
    done = structure(sandbox, api, datapack_id)
    assert all(node.uploaded for node in walk_data_nodes(done))
    assert node_at(done, "children[1]")["link"] == before
    for place, data in (("children[0]", ROWS), (DEEP_PLACE, TABLE), ("children[1]", UPLOADED)):
        file_id = node_at(done, place)["link"].removeprefix("repovizz:")
        fetched = browser_session.get(f"{page_url}/content/{file_id}")
        assert fetched.status_code == 200 and fetched.content == data, place
    page = browser_session.get(page_url)
    assert page.status_code == 200 and "Every file of this datapack is in repovizz2" in page.text
