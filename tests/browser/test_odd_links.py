"""A datapack written straight into repovizz2 with pending links no file name can match (``../up.csv``,
``/abs.csv``, an empty link) is finished in Chromium from each node's box on its page; the page passes axe."""
from __future__ import annotations

import requests

from tests.browser.axe import assert_no_serious_violations
from tests.browser.helpers import PENDING_FORM, wait_until_enhanced


NODES = [("Up", "../up.csv", "up.csv"), ("Absolute", "/abs.csv", "abs.csv"), ("Empty", "", "empty.csv")]


def written_straight_into_repovizz2(sandbox, user) -> str:
    api = requests.Session()
    api.headers["Authorization"] = "Bearer " + sandbox.issue_token(user)
    owner = api.get(f"{sandbox.url}/api/v1.0/user", timeout=10).json()["id"]
    document = {"info": {"name": "Odd links", "author": "", "description": "", "keywords": []},
                "children": [{"class": "data", "name": name, "text": "", "link": link} for name, link, _ in NODES]}
    created = api.post(f"{sandbox.url}/api/v1.0/datapacks", timeout=10,
                       json={"name": "Odd links", "owner": owner, "structure": document})
    assert created.status_code == 200, created.text
    return created.json()["item"]["id"]


def test_odd_links_are_finished_from_each_nodes_box(page, login, user, sandbox, portal, tmp_path):
    datapack_id = written_straight_into_repovizz2(sandbox, user)
    login(page, user, f"/datapacks/{datapack_id}")
    assert page.get_by_role("heading", name="3 files still to upload").is_visible()
    wait_until_enhanced(page, PENDING_FORM)  # axe sees the page as its script leaves it
    assert_no_serious_violations(page, "a datapack page with odd pending links")
    for index, (name, _, filename) in enumerate(NODES):
        path = tmp_path / filename
        path.write_bytes(f"t,v\n0,{index}\n1,{index + 1}\n".encode())
        box = page.locator(f'[id="node-children[{index}]"]')
        box.get_by_label(f"Choose its file for data {name}").set_input_files(str(path))
        box.get_by_role("button", name="Send it to this node").click()
        page.get_by_text(f"Sent {filename}").wait_for()
    assert page.get_by_text("Every file of this datapack is in repovizz2").is_visible()
