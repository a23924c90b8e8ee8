"""The portal against a live sandbox over real HTTP: login, upload, fetch back, resume."""
from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import pytest
import requests

from portal.rules.assets import human_size
from portal.rules.datapack_tree import walk_data_nodes
from tests.live_portal import log_in
from tests.waiting import wait_until

EXAMPLE = Path(__file__).resolve().parents[2] / "portal" / "example"


def csrf(http, url):
    return re.search(r'name="csrf-token" content="([^"]+)"', http.get(url).text).group(1)


def example_files():
    return [(p.relative_to(EXAMPLE).as_posix(), p.read_bytes()) for p in sorted(EXAMPLE.rglob("*")) if p.is_file()]


def test_login_shows_the_user(portal, browser_session, user):
    page = browser_session.get(portal.url + "/")
    assert f"Hello, {user}" in page.text
    assert "You have no datapacks yet" in page.text


def test_upload_through_the_form_and_get_the_bytes_back(portal, sandbox, browser_session, user):
    token = csrf(browser_session, portal.url + "/upload")
    files = [("folder", (f"example/{name}", data)) for name, data in example_files()]
    page = browser_session.post(portal.url + "/upload", data={"csrf_token": token}, files=files)
    assert page.status_code == 200, page.text
    assert "Portal example is in repovizz2" in page.text
    refs = re.findall(r"repovizz:[0-9a-f]{40}", page.text)
    assert len(set(refs)) == 4

    datapack_id = re.search(r'id="datapack-id">([^<]+)<', page.text).group(1)
    api = requests.Session()
    api.headers["Authorization"] = "Bearer " + sandbox.issue_token(user)
    item = api.get(f"{sandbox.url}/api/v1.0/datapacks/{datapack_id}").json()
    original = json.loads((EXAMPLE / "datapack.json").read_text())
    after = {node.place: node.link for node in walk_data_nodes(item["structure"])}
    for node in walk_data_nodes(original):
        ref = after[node.place]
        assert ref in refs
        stored = api.get(f"{sandbox.url}/api/v1.0/datapacks/{datapack_id}/content/{ref[len('repovizz:'):]}")
        assert hashlib.sha256(stored.content).digest() == hashlib.sha256((EXAMPLE / node.link).read_bytes()).digest()

    home = browser_session.get(portal.url + "/")
    assert "Portal example" in home.text and "complete" in home.text
    document = browser_session.get(f"{portal.url}/datapacks/{datapack_id}/document.json")
    assert document.json() == item["structure"]


def test_invalid_datapack_creates_nothing(portal, sandbox, browser_session, user):
    token = csrf(browser_session, portal.url + "/upload")
    document = json.loads((EXAMPLE / "datapack.json").read_text())
    del document["children"][1]["children"][0]["link"]
    files = [("document", ("datapack.json", json.dumps(document).encode()))]
    files += [("files", (name, data)) for name, data in example_files() if name != "datapack.json"]
    page = browser_session.post(portal.url + "/upload", data={"csrf_token": token}, files=files)
    assert page.status_code == 422
    assert "&#39;link&#39; is required <small class=\"muted place\">(<code>children[1].children[0]</code>)" in page.text
    # The node is reported once: its file, now referred to by no node, is not a second problem.
    assert "tone.wav" not in page.text
    api = requests.Session()
    api.headers["Authorization"] = "Bearer " + sandbox.issue_token(user)
    assert api.get(f"{sandbox.url}/api/v1.0/user").json()["datapacks"] == []


def test_resume_sends_only_the_pending_files(portal, sandbox, browser_session, user):
    token = csrf(browser_session, portal.url + "/upload")
    files = dict(example_files())
    created = browser_session.post(
        portal.url + "/api/datapacks", headers={"X-CSRFToken": token},
        json={"document": json.loads(files.pop("datapack.json")),
              "files": [{"path": name, "size": len(data)} for name, data in files.items()]})
    assert created.status_code == 201, created.text
    datapack_id = created.json()["datapack_id"]
    first = created.json()["uploads"][0]
    sent = browser_session.put(portal.url + first["url"], data=files[first["path"]], headers={"X-CSRFToken": token})
    assert sent.status_code == 200, sent.text

    page = browser_session.get(f"{portal.url}/datapacks/{datapack_id}")
    assert "3 files still to upload" in page.text
    page = browser_session.post(f"{portal.url}/datapacks/{datapack_id}", data={"csrf_token": token},
                                files=[("folder", (f"again/{name}", data)) for name, data in files.items()])
    assert page.status_code == 200, page.text
    assert "All 4 files were uploaded" in page.text
    assert sent.json()["ref"] in page.text  # the first file kept its reference: it was not sent again


def test_a_resume_from_another_login_names_the_files_sent_before(portal, sandbox, browser_session, user):
    """The result page of a resume from a new login: the file sent by the first login is named and sized
    from repovizz2's own headers (a HEAD of its download), not left blank."""
    token = csrf(browser_session, portal.url + "/upload")
    files = dict(example_files())
    created = browser_session.post(
        portal.url + "/api/datapacks", headers={"X-CSRFToken": token},
        json={"document": json.loads(files.pop("datapack.json")),
              "files": [{"path": name, "size": len(data)} for name, data in files.items()]}).json()
    emg = next(upload for upload in created["uploads"] if upload["link"] == "sensors/emg 2.json")
    assert browser_session.put(portal.url + emg["url"], data=files[emg["path"]],
                               headers={"X-CSRFToken": token}).status_code == 200

    later = requests.Session()
    log_in(later, portal.url, user, "secret pw")
    token = csrf(later, portal.url + "/upload")
    page = later.post(f"{portal.url}/datapacks/{created['datapack_id']}", data={"csrf_token": token},
                      files=[("folder", (f"again/{name}", data)) for name, data in files.items()])
    assert page.status_code == 200, page.text
    row = next(row for row in re.findall(r"<tr class=\"uploaded\">(.*?)</tr>", page.text, re.S) if ">EMG<" in row)
    assert '<td data-label="Original file"><code>emg 2.json</code></td>' in row
    assert f'<td data-label="Size" class="size">{human_size(len(files["sensors/emg 2.json"]))}</td>' in row


def test_someone_elses_datapack(portal, sandbox, browser_session):
    sandbox.add_user("stranger", "pw")
    api = requests.Session()
    api.headers["Authorization"] = "Bearer " + sandbox.issue_token("stranger")
    owner = api.get(f"{sandbox.url}/api/v1.0/user").json()["id"]
    document = json.loads((EXAMPLE / "datapack.json").read_text())
    theirs = api.post(f"{sandbox.url}/api/v1.0/datapacks", json={"name": "theirs", "owner": owner,
                                                                "structure": document}).json()["item"]["id"]
    page = browser_session.get(f"{portal.url}/datapacks/{theirs}")
    assert page.status_code == 403
    assert "That datapack belongs to someone else" in page.text


def test_scripting_api_with_a_bearer_token(portal, sandbox, user):
    """What the curl example of docs/api.md does: plan and create, then PUT each file; no browser, no cookie."""
    http = requests.Session()
    http.headers["Authorization"] = "Bearer " + sandbox.issue_token(user)
    files = dict(example_files())
    document = json.loads(files.pop("datapack.json"))
    document["info"]["name"] = "from a script"
    created = http.post(portal.url + "/api/datapacks",
                        json={"document": document, "files": [{"path": n, "size": len(d)} for n, d in files.items()]})
    assert created.status_code == 201, created.text
    for upload in created.json()["uploads"]:
        sent = http.put(portal.url + upload["url"], data=files[upload["path"]])
        assert sent.status_code == 200, sent.text
        stored = http.get(f"{sandbox.url}/api/v1.0/datapacks/{created.json()['datapack_id']}/content/"
                          f"{sent.json()['ref'].removeprefix('repovizz:')}")
        assert stored.content == files[upload["path"]]
    assert not http.cookies


def test_calls_to_repovizz2_reuse_pooled_connections(portal, browser_session):
    """Many pages, each several API calls, ride on a few kept-alive connections of the worker's pool."""
    for _ in range(10):
        assert browser_session.get(portal.url + "/").status_code == 200
    pools = portal.app.extensions["repovizz2_adapter"].poolmanager.pools
    opened = sum(pools[key].num_connections for key in pools.keys())
    requests_made = sum(pools[key].num_requests for key in pools.keys())
    assert requests_made >= 10
    assert opened <= 3


@pytest.mark.parametrize("server", ["portal", "gunicorn_portal"])
def test_a_put_cut_short_by_the_client_stores_nothing(request, server, sandbox, user):
    """The browser goes away mid-file: repovizz2 must not keep the half it got, and the file can be sent
    again; under the development server and under gunicorn, whose body the portal reads directly."""
    portal = request.getfixturevalue(server)
    import socket
    from urllib.parse import urlsplit

    http = requests.Session()
    http.headers["Authorization"] = "Bearer " + sandbox.issue_token(user)
    document = {"info": {"name": "cut short", "author": user, "description": "", "keywords": []},
                "children": [{"class": "data", "name": "Big", "text": "", "link": "big.bin"}]}
    whole = bytes(range(256)) * 1024
    created = http.post(portal.url + "/api/datapacks",
                        json={"document": document, "files": [{"path": "big.bin", "size": len(whole)}]}).json()
    (upload,) = created["uploads"]
    address = urlsplit(portal.url)
    with socket.create_connection((address.hostname, address.port), timeout=30) as raw:
        raw.sendall((f"PUT {upload['url']} HTTP/1.1\r\nHost: {address.netloc}\r\n"
                     f"Authorization: {http.headers['Authorization']}\r\n"
                     f"Content-Length: {len(whole)}\r\n\r\n").encode() + whole[:len(whole) // 2])
        raw.shutdown(socket.SHUT_WR)  # the body ends half-way
        while raw.recv(65536):  # until the portal has given up on it and closed the connection
            pass
    wait_until(lambda: not os.listdir(os.path.join(sandbox.data_dir, "tmp")), "cleaned up by the sandbox")
    content_url = f"{sandbox.url}/api/v1.0/datapacks/{created['datapack_id']}/content"
    assert list(http.get(content_url).json()) == ["big.bin"]  # still pending: nothing was stored
    sent = http.put(portal.url + upload["url"], data=whole)
    assert sent.status_code == 200, sent.text
    stored = http.get(f"{content_url}/{sent.json()['ref'].removeprefix('repovizz:')}")
    assert stored.content == whole
