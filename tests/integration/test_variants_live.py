"""The portal against a live sandbox in each of the real server's variants (docs/sandbox.md): user ids as
integers or UUID strings, an upload answered with its id or only "OK", file ids random or derived from
the bytes, and the 401 body as documented or as RFC 6750 has it. Under each: an upload through the plain
form and through the JSON API, a resume, edits, and every file fetched back byte for byte.

Each test runs under the defaults, under every variant at once, and under each variant alone that
changes what it checks (AFFECTED_BY). One sandbox and one portal per variant (module-scoped); each
test logs in a fresh user.
"""
from __future__ import annotations

import html
import itertools
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from portal.rules.datapack_tree import walk_data_nodes
from portal.rules.tree_edits import node_at
from sandbox import cli
from sandbox.testing import LiveSandbox
from tests.live_portal import LivePortal, log_in

EXAMPLE = Path(__file__).resolve().parents[2] / "portal" / "example"
ACCELEROMETER = "ae13fb70-fa1e-47d8-9cd6-00cef4fe21cc"
VARIANTS = {
    "defaults": {},  # integer ids, {"id"} answers, random file ids, the documented 401 body
    "uuid-ids": {"ids": "uuid"},
    "result-ok": {"upload_answer": "result-ok"},
    "content-ids": {"file_ids": "content"},
    "rfc6750": {"unauthorized": "rfc6750"},
    "all-at-once": {"ids": "uuid", "upload_answer": "result-ok", "file_ids": "content", "unauthorized": "rfc6750"},
}
# Two nodes hold identical bytes: with content ids they end up with one repovizz: link.
SAME = b"t,a\n0,1\n1,2\n2,4\n"
FILES = {
    "sensors/accelerometer.json": (EXAMPLE / "sensors" / "accelerometer.json").read_bytes(),
    "takes/left.csv": SAME,
    "takes/right.csv": SAME,
    "tone.wav": (EXAMPLE / "audio" / "tone.wav").read_bytes(),
}
PLACES = {"sensors/accelerometer.json": "children[0]", "takes/left.csv": "children[1].children[0]",
          "takes/right.csv": "children[1].children[1]", "tone.wav": "children[2]"}
_names = itertools.count()


def document(name: str) -> dict:
    return {
        "info": {"name": name, "author": "variants", "description": "", "keywords": ["variants"]},
        "children": [
            {"class": "data", "name": "Accelerometer", "text": "", "link": "sensors/accelerometer.json",
             "mime": "text/plain; charset=us-ascii", "type": ACCELEROMETER},
            {"class": "container", "name": "Takes", "text": "", "children": [
                {"class": "data", "name": "Left", "text": "", "link": "takes/left.csv", "mime": "text/csv"},
                {"class": "data", "name": "Right", "text": "", "link": "takes/right.csv", "mime": "text/csv"},
            ]},
            {"class": "data", "name": "Tone", "text": "", "link": "tone.wav", "mime": "audio/wav"},
        ],
    }


@dataclass
class Setup:
    variant: dict
    sandbox: LiveSandbox
    portal: LivePortal

    @property
    def content_ids(self) -> bool:
        return self.variant.get("file_ids") == "content"


# The variants that change what each test checks, besides the defaults and all at once: the user ids
# decide the owner; the upload answer, every upload; content ids, which nodes share a file; the 401
# body, what a refused login looks like.
AFFECTED_BY = {
    "test_the_owner_is_the_user_id_as_repovizz2_gives_it": ("uuid-ids", "result-ok"),
    "test_upload_through_the_plain_form_and_fetch_every_file_back": ("result-ok", "content-ids"),
    "test_upload_through_the_json_api_then_the_result_page": ("result-ok", "content-ids"),
    "test_a_script_with_a_token_uploads_as_its_user": ("uuid-ids", "result-ok"),
    "test_resume_sends_only_what_is_pending": ("result-ok", "content-ids"),
    "test_edits_change_exactly_the_node_chosen": ("result-ok", "content-ids"),
    "test_a_refused_login_sends_the_user_to_log_in_again": ("rfc6750",),
}


def pytest_generate_tests(metafunc):
    variants = ["defaults", *AFFECTED_BY[metafunc.function.__name__], "all-at-once"]
    metafunc.parametrize("setup", variants, ids=variants, indirect=True, scope="module")


@pytest.fixture(scope="module")
def setup(request, tmp_path_factory):
    variant = VARIANTS[request.param]
    with LiveSandbox(tmp_path_factory.mktemp(f"sandbox-{request.param}"), **variant) as sandbox:
        portal = LivePortal(sandbox, str(tmp_path_factory.mktemp(f"sessions-{request.param}")), WTF_CSRF_ENABLED=True)
        try:
            yield Setup(variant, sandbox, portal)
        finally:
            portal.stop()


@dataclass
class User:
    name: str
    id: object
    http: requests.Session  # logged in to the portal
    api: requests.Session  # straight to the sandbox, with a token of the user's own


@pytest.fixture
def user(setup):
    name = f"variant{next(_names)}"
    added = setup.sandbox.add_user(name, "secret pw")
    http = requests.Session()
    log_in(http, setup.portal.url, name, "secret pw")
    api = requests.Session()
    api.headers["Authorization"] = "Bearer " + setup.sandbox.issue_token(name)
    yield User(name, added["id"], http, api)
    http.close()
    api.close()


def csrf(http, url) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', http.get(url).text).group(1)


def stored(setup, user, datapack_id) -> dict:
    answer = user.api.get(f"{setup.sandbox.url}/api/v1.0/datapacks/{datapack_id}")
    assert answer.status_code == 200, answer.text
    return answer.json()


def result_rows(page: str) -> dict[str, tuple[str, str, str]]:
    """The result page's rows: place -> (original file, reference, status)."""
    rows = {}
    for row in re.findall(r"<tr class=\"(\w+)\">(.*?)</tr>", page, re.S):
        status, cells = row
        place = re.search(r'class="muted place"><code>([^<]+)</code>', cells).group(1)
        original = re.search(r'data-label="Original file"><code>([^<]*)</code>', cells).group(1)
        ref = re.search(r'<code class="ref">([^<]+)</code>', cells)
        rows[place] = (html.unescape(original), ref.group(1) if ref else "", status)
    return rows


def assert_rows_match_repovizz2(setup, user, datapack_id, page: str, originals=None) -> dict[str, str]:
    """Each row of the result page shows the reference repovizz2 holds at its place, beside its original
    link (`originals`: place -> link, by default the document's); returns place -> ref."""
    structure = stored(setup, user, datapack_id)["structure"]
    rows = result_rows(page)
    assert {place for place in rows} == set(PLACES.values())
    for link, place in PLACES.items():
        original, ref, status = rows[place]
        assert (original, status) == ((originals or {}).get(place, link), "uploaded")
        assert ref == node_at(structure, place)["link"] and ref.startswith("repovizz:")
    return {place: rows[place][1] for place in rows}


def assert_shared_as_the_variant_says(setup, refs: dict[str, str]) -> None:
    left, right = refs[PLACES["takes/left.csv"]], refs[PLACES["takes/right.csv"]]
    assert (left == right) == setup.content_ids
    assert len(set(refs.values())) == (3 if setup.content_ids else 4)


def assert_downloads(setup, user, datapack_id, expected: dict[str, bytes]) -> None:
    """Every data node's file, fetched back through the portal, is the bytes expected at its place."""
    structure = stored(setup, user, datapack_id)["structure"]
    for place, data in expected.items():
        ref = node_at(structure, place)["link"]
        answer = user.http.get(f"{setup.portal.url}/datapacks/{datapack_id}/content/{ref.removeprefix('repovizz:')}")
        assert answer.status_code == 200 and answer.content == data, place


def upload_through_the_form(setup, user, name: str) -> requests.Response:
    token = csrf(user.http, setup.portal.url + "/upload")
    files = [("folder", ("pack/datapack.json", json.dumps(document(name)).encode()))]
    files += [("folder", (f"pack/{path}", data)) for path, data in FILES.items()]
    return user.http.post(setup.portal.url + "/upload", data={"csrf_token": token}, files=files)


def test_the_owner_is_the_user_id_as_repovizz2_gives_it(setup, user):
    me = user.api.get(f"{setup.sandbox.url}/api/v1.0/user").json()
    assert me["id"] == user.id
    assert isinstance(me["id"], str if setup.variant.get("ids") == "uuid" else int)
    assert f"Hello, {user.name}" in user.http.get(setup.portal.url + "/").text
    page = upload_through_the_form(setup, user, "owner check")
    datapack_id = re.search(r'id="datapack-id">([^<]+)<', page.text).group(1)
    item = stored(setup, user, datapack_id)
    assert item["owner"] == me["id"] and type(item["owner"]) is type(me["id"])


def test_upload_through_the_plain_form_and_fetch_every_file_back(setup, user):
    page = upload_through_the_form(setup, user, "plain form")
    assert page.status_code == 200, page.text
    assert "plain form is in repovizz2" in page.text
    datapack_id = re.search(r'id="datapack-id">([^<]+)<', page.text).group(1)
    refs = assert_rows_match_repovizz2(setup, user, datapack_id, page.text)
    assert_shared_as_the_variant_says(setup, refs)
    assert_downloads(setup, user, datapack_id, {PLACES[path]: data for path, data in FILES.items()})
    # A ranged download (what a browser seeking a video asks for) is passed through.
    tone = refs[PLACES["tone.wav"]].removeprefix("repovizz:")
    part = user.http.get(f"{setup.portal.url}/datapacks/{datapack_id}/content/{tone}", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == FILES["tone.wav"][100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(FILES['tone.wav'])}"
    page = user.http.get(f"{setup.portal.url}/datapacks/{datapack_id}")
    assert page.status_code == 200 and "Every file of this datapack is in repovizz2" in page.text


def test_upload_through_the_json_api_then_the_result_page(setup, user):
    token = csrf(user.http, setup.portal.url + "/upload")
    created = user.http.post(setup.portal.url + "/api/datapacks", headers={"X-CSRFToken": token},
                             json={"document": document("json api"),
                                   "files": [{"path": path, "size": len(data)} for path, data in FILES.items()]})
    assert created.status_code == 201, created.text
    datapack_id = created.json()["datapack_id"]
    sizes = {}
    for upload in created.json()["uploads"]:
        sent = user.http.put(setup.portal.url + upload["url"], data=FILES[upload["path"]],
                             headers={"X-CSRFToken": token, "Content-Type": "application/octet-stream"})
        assert sent.status_code == 200, sent.text
        # The reference beside each file is the one repovizz2 now holds at that file's node, whatever it answered.
        now = node_at(stored(setup, user, datapack_id)["structure"], PLACES[upload["link"]])
        assert sent.json()["ref"] == now["link"] and now["link"].startswith("repovizz:")
        sizes[upload["link"]] = len(FILES[upload["path"]])
    page = user.http.post(f"{setup.portal.url}/datapacks/{datapack_id}/result",
                          data={"csrf_token": token, "document": json.dumps(document("json api")),
                                "sizes": json.dumps(sizes)})
    assert page.status_code == 200
    assert_shared_as_the_variant_says(setup, assert_rows_match_repovizz2(setup, user, datapack_id, page.text))
    assert_downloads(setup, user, datapack_id, {PLACES[path]: data for path, data in FILES.items()})


def test_a_script_with_a_token_uploads_as_its_user(setup, user):
    script = requests.Session()
    script.headers["Authorization"] = user.api.headers["Authorization"]
    one = {"info": {"name": "script", "author": "", "description": "", "keywords": []},
           "children": [{"class": "data", "name": "Notes", "text": "", "link": "notes.csv"}]}
    created = script.post(setup.portal.url + "/api/datapacks",
                          json={"document": one, "files": [{"path": "notes.csv", "size": len(SAME)}]})
    assert created.status_code == 201, created.text
    (upload,) = created.json()["uploads"]
    sent = script.put(setup.portal.url + upload["url"], data=SAME)
    assert sent.status_code == 200, sent.text
    item = stored(setup, user, created.json()["datapack_id"])
    assert item["owner"] == user.id and sent.json()["ref"] == item["structure"]["children"][0]["link"]


def test_resume_sends_only_what_is_pending(setup, user):
    token = csrf(user.http, setup.portal.url + "/upload")
    created = user.http.post(setup.portal.url + "/api/datapacks", headers={"X-CSRFToken": token},
                             json={"document": document("resumed"),
                                   "files": [{"path": path, "size": len(data)} for path, data in FILES.items()]})
    datapack_id = created.json()["datapack_id"]
    by_link = {upload["link"]: upload for upload in created.json()["uploads"]}
    for link in ("sensors/accelerometer.json", "takes/left.csv"):  # then the upload was interrupted
        sent = user.http.put(setup.portal.url + by_link[link]["url"], data=FILES[link], headers={"X-CSRFToken": token})
        assert sent.status_code == 200, sent.text
    page = user.http.get(f"{setup.portal.url}/datapacks/{datapack_id}")
    assert "2 files still to upload" in page.text

    # The enhanced page's way: ask which of the chosen files are pending, PUT them.
    pending = user.http.post(f"{setup.portal.url}/api/datapacks/{datapack_id}/pending", headers={"X-CSRFToken": token},
                             json={"files": [{"path": path, "size": len(data)} for path, data in FILES.items()]})
    assert pending.status_code == 200, pending.text
    assert sorted(upload["link"] for upload in pending.json()["uploads"]) == ["takes/right.csv", "tone.wav"]
    right = next(upload for upload in pending.json()["uploads"] if upload["link"] == "takes/right.csv")
    sent = user.http.put(setup.portal.url + right["url"], data=SAME, headers={"X-CSRFToken": token})
    assert sent.status_code == 200, sent.text
    assert sent.json()["ref"] == node_at(stored(setup, user, datapack_id)["structure"], PLACES["takes/right.csv"])["link"]

    # The plain form's way: the whole folder again; only the one still pending is sent.
    before = stored(setup, user, datapack_id)["structure"]
    page = user.http.post(f"{setup.portal.url}/datapacks/{datapack_id}", data={"csrf_token": token},
                          files=[("folder", (f"again/{path}", data)) for path, data in FILES.items()])
    assert page.status_code == 200, page.text
    assert "All 4 files were uploaded" in page.text
    # Not sent twice: the files uploaded before kept their references, and every row still shows the
    # file it was given (the portal noted them when the datapack was created in this login).
    earlier = {node.place: node.link for node in walk_data_nodes(before) if node.uploaded}
    assert len(earlier) == 3
    refs = assert_rows_match_repovizz2(setup, user, datapack_id, page.text)
    assert_shared_as_the_variant_says(setup, refs)
    for place, ref in earlier.items():
        assert refs[place] == ref
    assert_downloads(setup, user, datapack_id, {PLACES[path]: data for path, data in FILES.items()})


def _expect(setup, user, datapack_id, place) -> str:
    page = user.http.get(f"{setup.portal.url}/datapacks/{datapack_id}").text
    found = re.search(rf'name="place" value="{re.escape(place)}">\s*'
                      r'<input type="hidden" name="expect" value="([^"]*)"', page)
    return html.unescape(found.group(1))


def _edit(setup, user, datapack_id, action, data, files=None) -> requests.Response:
    page_url = f"{setup.portal.url}/datapacks/{datapack_id}"
    answer = user.http.post(f"{page_url}/{action}", data={"csrf_token": csrf(user.http, page_url), **data}, files=files)
    assert answer.status_code == 200 and answer.url.startswith(page_url), answer.text
    assert 'class="flash error"' not in answer.text and "Nothing was" not in answer.text, answer.text
    return answer


def test_edits_change_exactly_the_node_chosen(setup, user):
    page = upload_through_the_form(setup, user, "edited")
    datapack_id = re.search(r'id="datapack-id">([^<]+)<', page.text).group(1)
    left, right = PLACES["takes/left.csv"], PLACES["takes/right.csv"]
    shared_before = node_at(stored(setup, user, datapack_id)["structure"], left)["link"]

    # Rename one of the two nodes that may share a link: only its name changes.
    _edit(setup, user, datapack_id, "nodes/edit",
          {"place": left, "expect": _expect(setup, user, datapack_id, left), "name": "Left hand", "text": "first"})
    structure = stored(setup, user, datapack_id)["structure"]
    assert (node_at(structure, left)["name"], node_at(structure, left)["link"]) == ("Left hand", shared_before)
    assert node_at(structure, right)["name"] == "Right"

    # Replace the file of the second one: the first keeps its file (with content ids, the very bytes both
    # pointed at) and still downloads it.
    new = b"t,a\n0,5\n1,6\n2,7\n"
    _edit(setup, user, datapack_id, "nodes/replace", {"place": right, "expect": _expect(setup, user, datapack_id, right)},
          files={"file": ("right again.csv", new, "text/csv")})
    structure = stored(setup, user, datapack_id)["structure"]
    assert node_at(structure, left)["link"] == shared_before
    assert node_at(structure, right)["link"] not in (shared_before, "right again.csv")
    assert node_at(structure, right)["link"].startswith("repovizz:")
    assert_downloads(setup, user, datapack_id, {left: SAME, right: new, PLACES["tone.wav"]: FILES["tone.wav"]})

    # Replace the first one's file too, with bytes another node already has: each node has what it was sent.
    _edit(setup, user, datapack_id, "nodes/replace", {"place": left, "expect": _expect(setup, user, datapack_id, left)},
          files={"file": ("left.csv", new, "text/csv")})
    structure = stored(setup, user, datapack_id)["structure"]
    assert (node_at(structure, left)["link"] == node_at(structure, right)["link"]) == setup.content_ids
    assert_downloads(setup, user, datapack_id, {left: new, right: new})

    # Add a node with its file, then remove another; the page shows the datapack as repovizz2 has it.
    answer = _edit(setup, user, datapack_id, "nodes/add", {"name": "", "text": "", "parent": "children[1]"},
                   files={"file": ("knee.csv", SAME, "text/csv")})
    assert "Added the data node &#34;Knee&#34; at children[1].children[2]" in answer.text
    _edit(setup, user, datapack_id, "nodes/remove",
          {"place": PLACES["tone.wav"], "expect": _expect(setup, user, datapack_id, PLACES["tone.wav"])})
    structure = stored(setup, user, datapack_id)["structure"]
    assert [node.name for node in walk_data_nodes(structure)] == ["Accelerometer", "Left hand", "Right", "Knee"]
    assert_downloads(setup, user, datapack_id, {"children[1].children[2]": SAME, left: new, right: new,
                                                PLACES["sensors/accelerometer.json"]: FILES["sensors/accelerometer.json"]})
    _edit(setup, user, datapack_id, "rename", {"name": "edited, renamed"})
    assert stored(setup, user, datapack_id)["name"] == "edited, renamed"


def _revoke_every_token_of(setup, name: str) -> None:
    """As if repovizz2 had revoked the user's logins (written straight into the sandbox's database)."""
    db = cli.open_db(setup.sandbox.data_dir)
    try:
        with db:
            db.execute("UPDATE tokens SET revoked = 1, refresh_revoked = 1 WHERE user_id = "
                       "(SELECT id FROM users WHERE username = ?)", (name,))
    finally:
        db.close()


def test_a_refused_login_sends_the_user_to_log_in_again(setup, user):
    page = upload_through_the_form(setup, user, "refused")
    datapack_id = re.search(r'id="datapack-id">([^<]+)<', page.text).group(1)
    token = csrf(user.http, setup.portal.url + "/upload")
    refused = user.api.get(f"{setup.sandbox.url}/api/v1.0/user", headers={"Authorization": "Bearer nope"})
    assert refused.status_code == 401
    assert ("WWW-Authenticate" in refused.headers) == (setup.variant.get("unauthorized") == "rfc6750")

    # A script whose token repovizz2 refuses gets a 401 in JSON, whatever the shape of repovizz2's 401.
    for method, path in (("POST", "/api/datapacks"), ("PUT", f"/datapacks/{datapack_id}/assets/x.csv")):
        answer = requests.request(method, setup.portal.url + path, headers={"Authorization": "Bearer nope"},
                                  json={"document": document("x"), "files": [{"path": path, "size": len(data)} for path, data
                                                                      in FILES.items()]} if method == "POST" else None,
                                  data=b"x" if method == "PUT" else None)
        assert answer.status_code == 401, answer.text
        assert "log in again" in answer.json()["error"]

    _revoke_every_token_of(setup, user.name)
    # The browser: a page goes to the login (back to that page afterwards); the JSON API says 401 with the way.
    page = user.http.get(f"{setup.portal.url}/datapacks/{datapack_id}", allow_redirects=False)
    assert page.status_code == 302 and "/auth/login" in page.headers["Location"]
    assert datapack_id in requests.utils.unquote(page.headers["Location"])
    log_in(user.http, setup.portal.url, user.name, "secret pw")  # the session was forgotten: log in afresh
    token = csrf(user.http, setup.portal.url + "/upload")
    assert user.http.get(f"{setup.portal.url}/datapacks/{datapack_id}").status_code == 200
    _revoke_every_token_of(setup, user.name)
    answer = user.http.post(f"{setup.portal.url}/api/datapacks/{datapack_id}/pending", headers={"X-CSRFToken": token},
                            json={"files": []})
    assert answer.status_code == 401 and "/auth/login" in answer.json()["login"]
