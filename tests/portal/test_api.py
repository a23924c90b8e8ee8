"""The JSON endpoints behind the enhanced page: plan-and-create, stream one file, resume."""
from __future__ import annotations

import json
import time

import pytest

from tests.portal.samples import DOCUMENT

FILES = [{"path": "pack/video.mp4", "size": 1000}, {"path": "pack/emg 2.json", "size": 9}]



def create(client, document=DOCUMENT, files=FILES):
    return client.post("/api/datapacks", json={"document": document, "files": files})


def test_needs_login(client, repovizz2):
    answer = create(client)
    assert answer.status_code == 401
    assert answer.json["login"].startswith("/auth/login")


def test_plan_and_create(client, auth, repovizz2):
    auth.login()
    answer = create(client)
    assert answer.status_code == 201, answer.json
    (datapack_id,) = repovizz2.datapacks
    assert answer.json["datapack_id"] == datapack_id
    assert {(u["link"], u["path"]) for u in answer.json["uploads"]} == {("video.mp4", "pack/video.mp4"),
                                                                        ("emg 2.json", "pack/emg 2.json")}
    urls = {u["link"]: u["url"] for u in answer.json["uploads"]}
    # The place of the node waiting for the file rides along: after an upload answered only "OK" it
    # says which node to read the new reference from.
    assert urls["emg 2.json"] == f"/datapacks/{datapack_id}/assets/emg%202.json?place=children%5B1%5D.children%5B0%5D"


@pytest.mark.parametrize(("document", "files", "problem"), [
    ({"info": {}}, FILES, "repovizz2 would refuse this: the document: 'children' is required"),
    (DOCUMENT, FILES[:1], "IMU › EMG: no file was sent for link 'emg 2.json' (children[1].children[0])"),
    (DOCUMENT, [{"path": "pack/video.mp4", "size": 0}, FILES[1]], "Video: file 'pack/video.mp4' is empty (children[0])"),
    ([[1.0, 2.0]], FILES, "repovizz2 would refuse this: the document: this does not look like a datapack document "
                          "(it is a JSON array)"),
])
def test_problems_create_nothing(client, auth, repovizz2, document, files, problem):
    auth.login()
    answer = create(client, document, files)
    assert answer.status_code == 422
    assert any(line.startswith(problem) for line in answer.json["problems"]), answer.json["problems"]
    assert repovizz2.creates == 0


def test_problems_come_with_their_parts(client, auth, repovizz2):
    auth.login()
    document = json.loads(json.dumps(DOCUMENT))
    document["children"][1]["children"][0]["id"] = "no uuid here"
    document["info"]["name"] = " "
    answer = create(client, document, FILES[:1])
    assert answer.status_code == 422
    details = answer.json["problem_details"]
    assert [detail["text"] for detail in details] == answer.json["problems"]
    assert details[0] == {
        "kind": "schema", "where": "IMU › EMG", "place": "children[1].children[0].id",
        "message": "'id' must contain a UUID (lowercase hex, 8-4-4-4-12), not \"no uuid here\"",
        "text": "repovizz2 would refuse this: IMU › EMG: 'id' must contain a UUID (lowercase hex, 8-4-4-4-12), "
                "not \"no uuid here\" (children[1].children[0].id)"}
    assert details[1]["kind"] == "portal" and details[1]["place"] == "info.name"
    # The EMG node is already reported: its missing file is not reported again.
    assert len(details) == 2
    assert repovizz2.creates == 0


def test_files_no_node_refers_to_are_left_out_and_listed(client, auth, repovizz2):
    auth.login()
    answer = create(client, DOCUMENT, FILES + [{"path": "pack/x.csv", "size": 3}, {"path": "pack/notes.txt", "size": 0}])
    assert answer.status_code == 201, answer.json
    assert answer.json["left_out"] == ["pack/notes.txt", "pack/x.csv"]
    assert {upload["link"] for upload in answer.json["uploads"]} == {"video.mp4", "emg 2.json"}


def check(client, document=DOCUMENT, files=FILES):
    return client.post("/api/datapacks/check", json={"document": document, "files": files})


def test_check_says_which_file_each_node_gets_and_what_is_left_out_without_creating(client, auth, repovizz2):
    auth.login()
    answer = check(client, DOCUMENT, FILES + [{"path": "pack/notes.txt", "size": 4}])
    assert answer.status_code == 200, answer.json
    assert answer.json["problems"] == []
    assert sorted((m["link"], m["path"], m["size"], m["where"]) for m in answer.json["matches"]) == [
        ("emg 2.json", "pack/emg 2.json", 9, "IMU › EMG"), ("video.mp4", "pack/video.mp4", 1000, "Video")]
    assert answer.json["left_out"] == ["pack/notes.txt"]
    assert repovizz2.creates == 0


@pytest.mark.parametrize(("files", "problem", "matched"), [
    (FILES[:1], "IMU › EMG: no file was sent for link 'emg 2.json' (children[1].children[0])", ["video.mp4"]),
    (FILES + [{"path": "other/video.mp4", "size": 5}], "Video: link 'video.mp4' matches several files", ["emg 2.json"]),
])
def test_check_lists_the_problems_with_what_matched_so_far(client, auth, repovizz2, files, problem, matched):
    auth.login()
    answer = check(client, DOCUMENT, files)
    assert answer.status_code == 200
    assert any(line.startswith(problem) for line in answer.json["problems"]), answer.json["problems"]
    assert [m["link"] for m in answer.json["matches"]] == matched
    assert repovizz2.creates == 0


def test_check_refuses_what_create_refuses(client, auth, repovizz2):
    auth.login()
    assert check(client, [1], FILES).status_code == 422
    assert client.post("/api/datapacks/check", json={"document": DOCUMENT}).status_code == 400


def test_put_streams_the_body_through(client, auth, repovizz2):
    auth.login()
    uploads = create(client).json["uploads"]
    for upload in uploads:
        body = b"v" * 1000 if upload["link"] == "video.mp4" else b"[1, 2, 3]"
        answer = client.put(upload["url"], data=body, content_type="application/octet-stream")
        assert answer.status_code == 200, answer.json
        assert answer.json["link"] == upload["link"] and answer.json["size"] == len(body)
        assert answer.json["ref"].startswith("repovizz:")
        assert repovizz2.files[answer.json["ref"][len("repovizz:"):]] == body


def _datapack_reads(repovizz2, datapack_id) -> int:
    return sum(1 for call in repovizz2.mock.calls
               if call.request.method == "GET" and call.request.url.endswith(f"/datapacks/{datapack_id}"))


def test_put_after_an_upload_answered_only_ok_reads_the_node_at_its_place(client, auth, repovizz2):
    auth.login()
    repovizz2.upload_answer = "result-ok"
    created = create(client).json
    datapack_id = created["datapack_id"]
    for upload in created["uploads"]:
        answer = client.put(upload["url"], data=b"v" * 10, content_type="application/octet-stream")
        assert answer.status_code == 200, answer.json
        structure = repovizz2.datapacks[datapack_id]["structure"]
        by_link = {"video.mp4": structure["children"][0], "emg 2.json": structure["children"][1]["children"][0]}
        assert answer.json["ref"] == by_link[upload["link"]]["link"]
        assert answer.json["ref"].startswith("repovizz:")
    # Without a place there is no telling which node it was: the answer says so with a null ref.
    repovizz2.datapacks[datapack_id]["structure"]["children"][0]["link"] = "again.mp4"
    answer = client.put(f"/datapacks/{datapack_id}/assets/again.mp4", data=b"x")
    assert answer.status_code == 200 and answer.json["ref"] is None


def test_put_answered_with_an_id_makes_no_extra_call(client, auth, repovizz2):
    auth.login()
    created = create(client).json
    reads = _datapack_reads(repovizz2, created["datapack_id"])
    for upload in created["uploads"]:
        assert client.put(upload["url"], data=b"v" * 10).json["ref"].startswith("repovizz:")
    assert _datapack_reads(repovizz2, created["datapack_id"]) == reads


def test_put_of_an_unknown_link_is_404(client, auth, repovizz2):
    auth.login()
    datapack_id = create(client).json["datapack_id"]
    answer = client.put(f"/datapacks/{datapack_id}/assets/nope.wav", data=b"x")
    assert answer.status_code == 404
    assert "nope.wav" in answer.json["error"]


def test_put_larger_than_the_limit_is_refused_before_sending(client, auth, repovizz2, app):
    app.config["MAX_ASSET_MB"] = 1
    auth.login()
    answer = client.put("/datapacks/d-1/assets/a.wav", data=b"x" * (1024 * 1024 + 1))
    assert answer.status_code == 413
    assert answer.json["error"] == "file 'a.wav' is 1.0 MB; the limit is 1.0 MB per file"
    assert repovizz2.uploads == []


def test_put_when_repovizz2_is_down(client, auth, repovizz2, datapack_id):
    auth.login()
    repovizz2.fail("upload", "unreachable")
    answer = client.put(f"/datapacks/{datapack_id}/assets/gyro.json", data=b"abc")
    assert answer.status_code == 503
    assert answer.json["datapack_id"] == datapack_id
    assert repovizz2.uploads == ["gyro.json"] and b"abc" not in repovizz2.files.values()


def test_pending_lists_only_what_is_left(client, auth, repovizz2):
    auth.login()
    created = create(client).json
    video = next(u for u in created["uploads"] if u["link"] == "video.mp4")
    client.put(video["url"], data=b"v" * 1000)
    answer = client.post(f"/api/datapacks/{created['datapack_id']}/pending", json={"files": FILES})
    assert answer.status_code == 200
    assert [u["link"] for u in answer.json["uploads"]] == ["emg 2.json"]


def test_csrf_is_required_for_json_calls(app, client, auth, repovizz2):
    app.config["WTF_CSRF_ENABLED"] = True
    auth.login()
    answer = create(client)
    assert answer.status_code == 400
    assert "expired" in answer.json["error"]
    page = client.get("/upload").get_data(as_text=True)
    token = page.split('name="csrf-token" content="')[1].split('"')[0]
    answer = client.post("/api/datapacks", json={"document": DOCUMENT, "files": FILES}, headers={"X-CSRFToken": token})
    assert answer.status_code == 201


def test_security_headers(client):
    page = client.get("/")
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "same-origin"


def test_healthz(client, repovizz2):
    assert client.get("/healthz").json == {"portal": "ok", "repovizz2": "ok"}
    assert repovizz2.tokens_sent_to("user") == [""]  # asked without a token: its 401 says it is up


def test_healthz_when_repovizz2_is_down(client, repovizz2):
    repovizz2.fail("user", "unreachable")
    assert client.get("/healthz").json == {"portal": "ok", "repovizz2": "unreachable"}


def test_scripts_use_a_bearer_token_without_session_or_csrf(app, client, repovizz2):
    """The scripting API: a repovizz2 token in Authorization, no cookie, so no CSRF token is needed."""
    app.config["WTF_CSRF_ENABLED"] = True
    repovizz2.issue("script-token")
    headers = {"Authorization": "Bearer script-token"}
    created = client.post("/api/datapacks", json={"document": DOCUMENT, "files": FILES}, headers=headers)
    assert created.status_code == 201, created.json
    for upload in created.json["uploads"]:
        body = b"v" * 1000 if upload["link"] == "video.mp4" else b"[1, 2, 3]"
        answer = client.put(upload["url"], data=body, headers=headers)
        assert answer.status_code == 200, answer.json
    assert set(repovizz2.tokens_sent_to("user") + repovizz2.tokens_sent_to("create")
               + repovizz2.tokens_sent_to("upload")) == {"Bearer script-token"}
    assert {name for name, _, _ in repovizz2.log} <= {"user", "create", "upload", "content"}
    (item,) = repovizz2.datapacks.values()
    assert item["owner"] == "u-1"
    with client.session_transaction() as session:
        assert "token" not in session


def test_a_refused_script_token_is_401_json(client, repovizz2, datapack_id):
    """A token repovizz2 accepts when asked who it is, then refuses for the file (it ended meanwhile)."""
    repovizz2.issue("nope")
    repovizz2.during["upload"] = lambda request: repovizz2.revoke("nope")
    answer = client.put(f"/datapacks/{datapack_id}/assets/gyro.json", data=b"x", headers={"Authorization": "Bearer nope"})
    assert answer.status_code == 401
    assert "log in again" in answer.json["error"]
    assert [name for name, _, _ in repovizz2.log] == ["user", "upload"]
    assert b"x" not in repovizz2.files.values()


@pytest.mark.parametrize("files", [["a.bin"], [{"path": "a.bin"}], [{"path": "a.bin", "size": "big"}]])
def test_pending_refuses_malformed_file_lists(client, auth, repovizz2, files):
    auth.login()
    answer = client.post("/api/datapacks/d-1/pending", json={"files": files})
    assert answer.status_code == 400
    assert answer.json["error"] == "each file needs a 'path' (text) and a 'size' (a whole number of bytes)"


@pytest.mark.parametrize("body", [
    "[" * 100_000,  # nested too deep for Python's parser
    '{"document": {}, "files": [{"path": "a.bin", "size": Infinity}]}',
    '{"document": {}, "files": [{"path": "a.bin", "size": -5}]}',
    '{"document": {}, "files": [{"path": "a.bin", "size": 1.5}]}',
])
@pytest.mark.parametrize("url", ["/api/datapacks", "/api/datapacks/d-1/pending"])
def test_malformed_json_is_a_400_not_a_500(client, auth, repovizz2, url, body):
    auth.login()
    answer = client.post(url, data=body, content_type="application/json")
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert repovizz2.creates == 0


def test_a_document_with_nan_is_refused_before_anything_is_created(client, auth, repovizz2):
    document = json.loads(json.dumps(DOCUMENT))
    document["children"][0]["meta"] = {"gain": float("nan")}
    auth.login()
    answer = client.post("/api/datapacks", data=json.dumps({"document": document, "files": FILES}),
                         content_type="application/json")
    assert answer.status_code == 400
    assert answer.json["error"] == "the request body is not valid JSON (NaN is not a JSON number)"
    assert repovizz2.creates == 0


def test_a_document_over_the_json_limit_is_refused_before_anything_is_created(client, auth, repovizz2, app):
    app.config["MAX_JSON_KB"] = 1
    document = json.loads(json.dumps(DOCUMENT))
    document["info"]["description"] = "x" * 2000
    auth.login()
    answer = create(client, document)
    assert answer.status_code == 422
    assert answer.json["problems"] == ["the document: is larger than 1 KB"]
    assert repovizz2.creates == 0


def test_a_put_file_has_the_per_file_limit_not_the_form_or_in_memory_limits(client, auth, repovizz2, datapack_id,
                                                                             app):
    app.config.update(MAX_CONTENT_LENGTH=100, MAX_FORM_MEMORY_SIZE=100, MAX_FILES=0)
    auth.login()
    answer = client.put(f"/datapacks/{datapack_id}/assets/gyro.json", data=b"v" * 10_000)
    assert answer.status_code == 200, answer.json
    assert repovizz2.files[answer.json["ref"].removeprefix("repovizz:")] == b"v" * 10_000


def test_a_put_whose_body_looks_like_a_form_still_streams_whole(app, client, auth, repovizz2):
    """The CSRF token is read from the header only, so a form-typed file is not parsed away."""
    app.config["WTF_CSRF_ENABLED"] = True
    auth.login()
    page = client.get("/upload").get_data(as_text=True)
    token = page.split('name="csrf-token" content="')[1].split('"')[0]
    created = client.post("/api/datapacks", json={"document": DOCUMENT, "files": FILES}, headers={"X-CSRFToken": token})
    video = next(u for u in created.json["uploads"] if u["link"] == "video.mp4")
    body = b"a=1&b=2" + b"v" * 993
    answer = client.put(video["url"], data=body, content_type="application/x-www-form-urlencoded",
                        headers={"X-CSRFToken": token})
    assert answer.status_code == 200, answer.json
    assert repovizz2.files[answer.json["ref"].removeprefix("repovizz:")] == body


def test_an_empty_put_is_refused(client, auth, repovizz2):
    auth.login()
    answer = client.put("/datapacks/d-1/assets/a.bin", environ_overrides={"CONTENT_LENGTH": "0"})
    assert answer.status_code == 422
    assert answer.json["error"] == "file 'a.bin' is empty"
    assert len(repovizz2.mock.calls) == 0


def test_pending_of_a_complete_datapack_is_an_empty_list(client, auth, repovizz2):
    auth.login()
    created = create(client).json
    for upload in created["uploads"]:
        client.put(upload["url"], data=b"x")
    answer = client.post(f"/api/datapacks/{created['datapack_id']}/pending", json={"files": FILES})
    assert answer.status_code == 200
    assert answer.json["uploads"] == []


def stored_session_writes(app, monkeypatch) -> list[dict]:
    """Every write of a session to the server-side store, as the dict written."""
    writes = []
    cache = app.session_interface.cache
    original = cache.set
    monkeypatch.setattr(cache, "set", lambda key, value, timeout=None: (writes.append(dict(value)),
                                                                         original(key, value, timeout))[1])
    return writes


def test_a_put_does_not_write_the_session_back(app, client, auth, repovizz2, monkeypatch):
    """A PUT per file: the session store is not written once per file (nor can a PUT put back a token
    that a parallel one renewed meanwhile); other requests still refresh it."""
    auth.login()
    uploads = create(client).json["uploads"]
    writes = stored_session_writes(app, monkeypatch)
    for upload in uploads:
        body = b"v" * 1000 if upload["link"] == "video.mp4" else b"[1, 2, 3]"
        assert client.put(upload["url"], data=body, content_type="application/octet-stream").status_code == 200
    assert writes == []
    client.get("/upload")
    assert len(writes) == 1


def test_a_put_that_renews_the_token_stores_it(app, client, auth, repovizz2, monkeypatch):
    auth.login()
    upload = next(u for u in create(client).json["uploads"] if u["link"] == "emg 2.json")
    with client.session_transaction() as session:
        session["token"] = {**session["token"], "expires_at": int(time.time()) - 10}
    writes = stored_session_writes(app, monkeypatch)
    assert client.put(upload["url"], data=b"[1, 2, 3]", content_type="application/octet-stream").status_code == 200
    assert writes and all(write["token"]["refresh_token"] == "refresh-2" for write in writes)
    with client.session_transaction() as session:
        assert session["token"]["refresh_token"] == "refresh-2"
    assert repovizz2.tokens_sent_to("upload") == ["Bearer access-2"]
