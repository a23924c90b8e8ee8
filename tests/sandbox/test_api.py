"""Every API call of the shared repovizz2 description, and its errors, over real HTTP."""
from __future__ import annotations

import uuid

import pytest
import requests

from .helpers import API, TIMEOUT, document, expire_token, make_caller, quote_link, sandbox_files, unique

def test_healthz(sandbox):
    response = requests.get(sandbox.url + "/healthz", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_user_answers_as_documented(alice):
    pack = alice.create_datapack()
    response = alice.get("/user")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"id", "username", "email", "datapacks", "folders", "groups", "_links"}
    assert body["id"] == alice.id
    assert type(body["id"]) is int and body["id"] >= 1, "integer user ids by default, as the public notebooks show"
    assert body["username"] == alice.username
    assert pack in body["datapacks"]
    assert body["folders"] == [] and body["groups"] == []
    assert body["_links"] == {"self": f"/api/v1.0/users/{alice.username}", "collection": "/api/v1.0/users"}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic eDp5"}],
                         ids=["missing", "unknown", "not-bearer"])
def test_401_without_a_valid_token(sandbox, headers):
    response = requests.get(sandbox.url + API + "/user", headers=headers, timeout=TIMEOUT)
    assert response.status_code == 401
    assert response.json() == {"error": "You are unauthorized to make this request."}, "the documented body"
    assert "WWW-Authenticate" not in response.headers


def test_401_with_an_expired_token(sandbox):
    caller = make_caller(sandbox)
    assert caller.get("/user").status_code == 200
    expire_token(sandbox, caller.token)
    response = caller.get("/user")
    assert response.status_code == 401
    assert response.json() == {"error": "You are unauthorized to make this request."}


def test_every_api_call_needs_a_token(sandbox, alice):
    pack = alice.create_datapack()
    calls = [
        ("get", "/user"), ("post", "/datapacks"), ("get", f"/datapacks/{pack}"), ("post", f"/datapacks/{pack}"),
        ("get", f"/datapacks/{pack}/content"), ("post", f"/datapacks/{pack}/content/video.mp4"),
        ("get", f"/datapacks/{pack}/content/{'0' * 40}"),
    ]
    for method, path in calls:
        response = requests.request(method, sandbox.url + API + path, timeout=TIMEOUT)
        assert response.status_code == 401, (method, path)
        assert response.json() == {"error": "You are unauthorized to make this request."}


def test_create_answers_as_documented(alice):
    structure = document()
    response = alice.post("/datapacks", json={"name": "MYO_various", "owner": alice.id, "structure": structure})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["result"] == "OK"
    item = body["item"]
    assert set(item) == {"id", "name", "owner", "folder", "structure", "group_edit_permissions"}
    assert str(uuid.UUID(item["id"], version=4)) == item["id"]
    assert (item["name"], item["owner"], item["group_edit_permissions"]) == ("MYO_various", alice.id, [])
    assert item["structure"] == structure


def test_create_with_someone_elses_owner_is_403(alice, bob):
    response = alice.post("/datapacks", json={"name": unique("p"), "owner": bob.id, "structure": document()})
    assert response.status_code == 403
    assert response.json() == {"error": "Method not allowed."}


def test_same_owner_reusing_a_name_is_409_naming_the_existing_id(alice, bob):
    name = unique("twice")
    first = alice.create_datapack(name=name)
    response = alice.post("/datapacks", json={"name": name, "owner": alice.id, "structure": document()})
    assert response.status_code == 409
    assert response.json() == {"error": f"Datapack {name} already exists with id ({first})"}
    assert bob.create_datapack(name=name) != first


@pytest.mark.parametrize(
    "breakage, message",
    [
        (lambda doc: doc["children"][1]["children"][0].pop("link"), "children[1].children[0]: 'link' is required"),
        (lambda doc: doc["children"][0].pop("text"), "children[0]: 'text' is required"),
        (lambda doc: doc.pop("info"), "'info' is required"),
        (lambda doc: doc["info"].update(keywords=["a", "a"]), "info.keywords"),
        (lambda doc: doc["children"][1].pop("children"), "children[1]: 'children' is required"),
    ],
    ids=["nested-link", "text", "info", "keywords", "container-children"],
)
def test_breaking_the_datapack_rules_is_422_naming_where(alice, breakage, message):
    structure = document()
    breakage(structure)
    response = alice.post("/datapacks", json={"name": unique("bad"), "owner": alice.id, "structure": structure})
    assert response.status_code == 422
    assert message in response.json()["error"]


def test_several_problems_are_joined(alice):
    structure = document()
    structure["children"][0].pop("text")
    structure["children"][1]["children"][0].pop("link")
    response = alice.post("/datapacks", json={"name": unique("bad"), "owner": alice.id, "structure": structure})
    assert response.status_code == 422
    assert response.json()["error"] == "children[0]: 'text' is required; children[1].children[0]: 'link' is required"


@pytest.mark.parametrize("body", [[], "text", {"owner": "x", "structure": {}}, {"name": "", "owner": "x"}],
                         ids=["array", "string", "no-name", "empty-name"])
def test_malformed_create_body_is_400(alice, body):
    response = alice.post("/datapacks", json=body)
    assert response.status_code == 400
    assert response.json()["error"]


def test_missing_structure_is_422(alice):
    response = alice.post("/datapacks", json={"name": unique("p"), "owner": alice.id})
    assert response.status_code == 422


def test_get_datapack(alice):
    structure = document()
    name = unique("get")
    pack = alice.create_datapack(structure, name=name)
    response = alice.get(f"/datapacks/{pack}")
    assert response.status_code == 200
    assert response.json() == {"id": pack, "name": name, "owner": alice.id, "folder": None,
                               "structure": structure, "group_edit_permissions": []}


def test_someone_elses_datapack_is_403_for_every_call(alice, bob):
    pack = alice.create_datapack()
    uploaded = alice.upload(pack, "video.mp4", b"video").json()["id"]
    calls = [
        bob.get(f"/datapacks/{pack}"),
        bob.post(f"/datapacks/{pack}", json={"name": unique("stolen")}),
        bob.get(f"/datapacks/{pack}/content"),
        bob.upload(pack, "accelerometer.json", b"{}"),
        bob.get(f"/datapacks/{pack}/content/{uploaded}"),
    ]
    for response in calls:
        assert response.status_code == 403
        assert response.json() == {"error": "Method not allowed."}
    assert "accelerometer.json" in alice.content(pack)


def test_unknown_datapack_is_404(alice):
    missing = str(uuid.uuid4())
    for response in (
        alice.get(f"/datapacks/{missing}"),
        alice.post(f"/datapacks/{missing}", json={"name": "x"}),
        alice.get(f"/datapacks/{missing}/content"),
        alice.upload(missing, "video.mp4", b"x"),
        alice.get(f"/datapacks/{missing}/content/{'a' * 40}"),
    ):
        assert response.status_code == 404
        assert response.json()["error"]


def test_rename(alice):
    pack = alice.create_datapack()
    new_name = unique("renamed")
    response = alice.post(f"/datapacks/{pack}", json={"name": new_name})
    assert response.status_code == 200
    assert response.json() == {"result": "OK"}
    assert alice.get(f"/datapacks/{pack}").json()["name"] == new_name
    assert alice.post(f"/datapacks/{pack}", json={"name": new_name}).status_code == 200


def test_rename_onto_another_of_ones_names_is_409(alice):
    taken = unique("taken")
    other = alice.create_datapack(name=taken)
    pack = alice.create_datapack()
    response = alice.post(f"/datapacks/{pack}", json={"name": taken})
    assert response.status_code == 409
    assert response.json() == {"error": f"Datapack {taken} already exists with id ({other})"}


def test_structure_is_replaced_whole(alice):
    pack = alice.create_datapack()
    replacement = document("only.csv")
    response = alice.post(f"/datapacks/{pack}", json={"structure": replacement})
    assert response.status_code == 200
    assert alice.get(f"/datapacks/{pack}").json()["structure"] == replacement
    assert list(alice.content(pack)) == ["only.csv"]


def test_invalid_structure_replacement_is_422_and_changes_nothing(alice):
    pack = alice.create_datapack()
    broken = document()
    broken["children"][1]["children"][0].pop("link")
    response = alice.post(f"/datapacks/{pack}", json={"name": unique("n"), "structure": broken})
    assert response.status_code == 422
    assert "children[1].children[0]: 'link' is required" in response.json()["error"]
    assert alice.get(f"/datapacks/{pack}").json()["structure"] == document()


def test_update_without_name_or_structure_is_400(alice):
    pack = alice.create_datapack()
    assert alice.post(f"/datapacks/{pack}", json={}).status_code == 400


def test_content_lists_every_data_node_by_link(alice):
    pack = alice.create_datapack()
    assert alice.content(pack) == {
        "video.mp4": {"class": "data", "link": "video.mp4", "mime": "video/mp4; charset=binary",
                      "name": "Video", "text": "Handheld camera"},
        "accelerometer.json": {"class": "data", "link": "accelerometer.json", "mime": "application/json",
                               "name": "Accelerometer", "text": "XYZ acceleration"},
        "emg 2.json": {"class": "data", "link": "emg 2.json", "mime": "", "name": "EMG", "text": "Muscles"},
    }


def test_upload_answers_an_opaque_40_hex_id_and_rewrites_the_link(alice):
    pack = alice.create_datapack()
    data = b"same bytes"
    first = alice.upload(pack, "video.mp4", data)
    assert first.status_code == 200, first.text
    assert set(first.json()) == {"id"}
    file_id = first.json()["id"]
    assert len(file_id) == 40 and all(c in "0123456789abcdef" for c in file_id)
    second = alice.upload(pack, "accelerometer.json", data).json()["id"]
    assert second != file_id, "ids are random handles, not hashes of the bytes"
    content = alice.content(pack)
    assert content[f"repovizz:{file_id}"]["name"] == "Video"
    assert content[f"repovizz:{second}"]["name"] == "Accelerometer"
    assert "video.mp4" not in content
    structure = alice.get(f"/datapacks/{pack}").json()["structure"]
    assert structure["children"][0]["link"] == f"repovizz:{file_id}"


@pytest.mark.parametrize("link", ["emg 2.json", "señal ñ.json", "sub/dir file.wav", "a+b&c=d?#.txt", "100% done.txt"])
def test_links_with_spaces_non_ascii_and_folders_round_trip(alice, link):
    pack = alice.create_datapack(document("plain.txt", link))
    assert link in alice.content(pack)
    data = f"bytes of {link}".encode()
    response = alice.upload(pack, link, data)
    assert response.status_code == 200, response.text
    file_id = response.json()["id"]
    content = alice.content(pack)
    assert link not in content and f"repovizz:{file_id}" in content
    assert alice.get(f"/datapacks/{pack}/content/{file_id}").content == data


def test_a_folder_path_may_come_with_a_plain_slash(alice):
    pack = alice.create_datapack(document("sub/dir file.wav"))
    response = alice.post(f"/datapacks/{pack}/content/sub/dir%20file.wav", files={"file": ("x.wav", b"RIFF")})
    assert response.status_code == 200, response.text
    assert f"repovizz:{response.json()['id']}" in alice.content(pack)


def test_any_field_name_is_accepted(alice):
    pack = alice.create_datapack()
    response = alice.upload(pack, "emg 2.json", b"[]", field="emg 2.json")
    assert response.status_code == 200


def test_upload_to_a_link_no_node_has_is_404(alice):
    pack = alice.create_datapack()
    response = alice.upload(pack, "nowhere.bin", b"x")
    assert response.status_code == 404
    assert "nowhere.bin" in response.json()["error"]


def test_posting_again_to_the_uploaded_link_replaces_the_file(sandbox, alice):
    pack = alice.create_datapack()
    old = alice.upload(pack, "video.mp4", b"first version").json()["id"]
    response = alice.upload(pack, f"repovizz:{old}", b"second version")
    assert response.status_code == 200, response.text
    new = response.json()["id"]
    assert new != old
    content = alice.content(pack)
    assert f"repovizz:{new}" in content and f"repovizz:{old}" not in content
    assert content[f"repovizz:{new}"]["name"] == "Video"
    assert alice.get(f"/datapacks/{pack}/content/{new}").content == b"second version"
    assert alice.get(f"/datapacks/{pack}/content/{old}").status_code == 404
    assert old not in sandbox_files(sandbox)
    assert alice.upload(pack, f"repovizz:{old}", b"too late").status_code == 404


def test_download_gives_the_bytes_with_the_nodes_type(alice):
    pack = alice.create_datapack()
    data = bytes(range(256)) * 100
    file_id = alice.upload(pack, "video.mp4", data).json()["id"]
    response = alice.get(f"/datapacks/{pack}/content/{file_id}")
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["Content-Type"] == "video/mp4"
    also = alice.get(f"/datapacks/{pack}/content/repovizz:{file_id}")
    assert also.content == data


def test_unknown_file_id_is_404(alice):
    pack = alice.create_datapack()
    for ref in ("0" * 40, "not-an-id", "../../sandbox.db", quote_link("../secret_key")):
        response = alice.get(f"/datapacks/{pack}/content/{ref}")
        assert response.status_code == 404, ref
        assert response.json()["error"]


def test_a_file_is_only_reachable_through_its_own_datapack(alice):
    pack = alice.create_datapack()
    other = alice.create_datapack()
    file_id = alice.upload(pack, "video.mp4", b"private").json()["id"]
    assert alice.get(f"/datapacks/{other}/content/{file_id}").status_code == 404
    borrowed = document(f"repovizz:{file_id}")
    assert alice.post(f"/datapacks/{other}", json={"structure": borrowed}).status_code == 200
    assert alice.get(f"/datapacks/{other}/content/{file_id}").status_code == 404


def test_structure_replacement_drops_files_no_longer_referenced(sandbox, alice):
    pack = alice.create_datapack()
    kept = alice.upload(pack, "video.mp4", b"kept").json()["id"]
    dropped = alice.upload(pack, "emg 2.json", b"dropped").json()["id"]
    structure = alice.get(f"/datapacks/{pack}").json()["structure"]
    structure["children"][1]["children"].pop()
    assert alice.post(f"/datapacks/{pack}", json={"structure": structure}).status_code == 200
    assert alice.get(f"/datapacks/{pack}/content/{kept}").content == b"kept"
    assert alice.get(f"/datapacks/{pack}/content/{dropped}").status_code == 404
    assert dropped not in sandbox_files(sandbox)


def test_upload_needs_exactly_one_file_part(alice):
    pack = alice.create_datapack()
    path = f"/datapacks/{pack}/content/video.mp4"
    two = alice.post(path, files={"a": ("a", b"1"), "b": ("b", b"2")})
    assert two.status_code == 400
    none = alice.post(path, data={"just": "a field"}, files={})
    assert none.status_code == 400
    raw = alice.post(path, data=b"raw bytes", headers={"Content-Type": "application/octet-stream"})
    assert raw.status_code == 400
    assert "video.mp4" in alice.content(pack)


def test_unknown_api_paths_answer_json(alice):
    response = alice.get("/nothing-here")
    assert response.status_code == 404
    assert "error" in response.json()


def test_the_users_self_link_answers_like_user(alice, bob):
    own = alice.get("/user").json()
    response = alice.get(own["_links"]["self"].removeprefix(API))
    assert response.status_code == 200
    assert response.json() == own
    for other in (f"/users/{bob.username}", "/users/nobody-at-all"):
        refused = alice.get(other)
        assert refused.status_code == 403
        assert refused.json() == {"error": "Method not allowed."}
    assert alice.get("/users").status_code == 404
    assert requests.get(alice.base_url + API + f"/users/{alice.username}", timeout=TIMEOUT).status_code == 401


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded; charset=UTF-8", "text/plain", None],
                         ids=["form-encoded", "text", "none"])
def test_a_json_body_is_read_whatever_its_content_type(alice, content_type):
    """The documented jQuery samples post JSON.stringify(...) with jQuery's default, form-encoded type."""
    import json
    name = unique("jquery")
    headers = {"Content-Type": content_type} if content_type else {}
    created = alice.post("/datapacks", data=json.dumps({"name": name, "owner": alice.id, "structure": document()}),
                         headers=headers)
    assert created.status_code == 200, created.text
    pack = created.json()["item"]["id"]
    renamed = alice.post(f"/datapacks/{pack}", data=json.dumps({"name": name + "-2"}), headers=headers)
    assert renamed.status_code == 200
    assert alice.get(f"/datapacks/{pack}").json()["name"] == name + "-2"


def test_a_form_encoded_body_that_is_not_json_is_400(alice):
    response = alice.post("/datapacks", data={"name": "x", "owner": str(alice.id)})
    assert response.status_code == 400
    assert response.json()["error"].startswith("The body must be a JSON object")


@pytest.fixture(scope="module")
def recording(alice):
    pack = alice.create_datapack()
    data = bytes(range(256)) * 40
    return pack, alice.upload(pack, "video.mp4", data).json()["id"], data


@pytest.mark.parametrize("byte_range, start, end", [("0-99", 0, 99), ("5000-", 5000, 10239), ("-240", 10000, 10239),
                                                    ("10000-99999", 10000, 10239)])
def test_a_ranged_download_is_206_with_just_those_bytes(alice, recording, byte_range, start, end):
    pack, file_id, data = recording
    response = alice.get(f"/datapacks/{pack}/content/{file_id}", headers={"Range": f"bytes={byte_range}"})
    assert response.status_code == 206
    assert response.content == data[start:end + 1]
    assert response.headers["Content-Range"] == f"bytes {start}-{end}/{len(data)}"
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["Content-Type"] == "video/mp4"


def test_a_whole_download_says_it_accepts_ranges(alice, recording):
    pack, file_id, data = recording
    response = alice.get(f"/datapacks/{pack}/content/{file_id}")
    assert response.status_code == 200
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.content == data


def test_a_range_beyond_the_end_is_416(alice, recording):
    pack, file_id, data = recording
    response = alice.get(f"/datapacks/{pack}/content/{file_id}", headers={"Range": "bytes=99999-"})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{len(data)}"


def test_a_range_of_someone_elses_file_is_still_403(bob, recording):
    pack, file_id, _data = recording
    response = bob.get(f"/datapacks/{pack}/content/{file_id}", headers={"Range": "bytes=0-9"})
    assert response.status_code == 403
