"""The real server's variants as sandbox settings: ids, upload answer, file ids, 401 body; and their plumbing."""
from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import uuid

import pytest
import requests

from sandbox import create_app
from sandbox.db import init_db
from sandbox.testing import LiveSandbox

from .helpers import API, TIMEOUT, document, hidden_field, make_caller, run_cli, sandbox_files, unique

DOCUMENTED_401 = {"error": "You are unauthorized to make this request."}
FRAMERS = ["http://localhost:8888", "https://hub.example.org/"]
PAGES = ["/login", "/", "/logout", "/oauth/show_token?code=x"]


@pytest.fixture(scope="module")
def variant(tmp_path_factory):
    """A sandbox with every variant away from its default."""
    with LiveSandbox(tmp_path_factory.mktemp("variant"), ids="uuid", upload_answer="result-ok", file_ids="content",
                     unauthorized="rfc6750", allow_framing_from=FRAMERS) as live:
        yield live


@pytest.fixture(scope="module")
def content(tmp_path_factory):
    """Content-derived file ids, the other settings at their defaults (so uploads answer the id)."""
    with LiveSandbox(tmp_path_factory.mktemp("content"), file_ids="content") as live:
        yield live


# --- ids -------------------------------------------------------------------------------------------------


def test_user_and_owner_ids_are_integers_by_default(sandbox):
    caller = make_caller(sandbox)
    assert type(caller.id) is int
    assert caller.get("/user").json()["id"] == caller.id
    created = caller.post("/datapacks", json={"name": unique("p"), "owner": caller.id, "structure": document()})
    assert created.status_code == 200
    item = created.json()["item"]
    assert item["owner"] == caller.id and type(item["owner"]) is int
    assert str(uuid.UUID(item["id"])) == item["id"], "datapack ids stay UUIDs"
    assert caller.get(f"/datapacks/{item['id']}").json()["owner"] == caller.id


def test_users_are_numbered_in_the_order_they_were_added(sandbox):
    first, second = make_caller(sandbox), make_caller(sandbox)
    assert second.id == first.id + 1


@pytest.mark.parametrize("disguise", [str, float, lambda value: [value], lambda value: True],
                         ids=["string", "float", "array", "boolean"])
def test_an_owner_of_another_json_type_is_not_the_user(sandbox, disguise):
    caller = make_caller(sandbox)
    owner = disguise(caller.id)
    response = caller.post("/datapacks", json={"name": unique("p"), "owner": owner, "structure": document()})
    assert response.status_code == 403
    assert response.json() == {"error": "Method not allowed."}


def test_uuid_ids_when_asked(variant):
    caller = make_caller(variant)
    assert str(uuid.UUID(caller.id)) == caller.id
    assert caller.get("/user").json()["id"] == caller.id
    item = caller.post("/datapacks", json={"name": unique("p"), "owner": caller.id, "structure": document()}).json()
    assert item["item"]["owner"] == caller.id
    assert caller.get(f"/datapacks/{item['item']['id']}").json()["owner"] == caller.id


# --- upload answer -----------------------------------------------------------------------------------------


def test_result_ok_upload_answer_and_the_listing_tells_the_new_link(variant):
    caller = make_caller(variant)
    pack = caller.create_datapack()
    response = caller.upload(pack, "video.mp4", b"frames")
    assert response.status_code == 200
    assert response.json() == {"result": "OK"}
    listing = caller.content(pack)
    uploaded = [link for link in listing if link.startswith("repovizz:")]
    assert len(uploaded) == 1 and re.fullmatch(r"repovizz:[0-9a-f]{40}", uploaded[0])
    assert listing[uploaded[0]]["name"] == "Video"
    assert caller.get(f"/datapacks/{pack}/content/{uploaded[0]}").content == b"frames"


# --- file ids ---------------------------------------------------------------------------------------------


def test_random_file_ids_by_default(sandbox):
    caller = make_caller(sandbox)
    pack = caller.create_datapack(document("a.bin", "b.bin"))
    assert caller.upload(pack, "a.bin", b"same").json()["id"] != caller.upload(pack, "b.bin", b"same").json()["id"]


def test_content_ids_same_bytes_same_id_but_not_their_sha1(content):
    caller = make_caller(content)
    pack = caller.create_datapack(document("a.bin", "b.bin", "c.bin"))
    first = caller.upload(pack, "a.bin", b"identical").json()["id"]
    assert caller.upload(pack, "b.bin", b"identical").json()["id"] == first
    assert caller.upload(pack, "c.bin", b"different").json()["id"] != first
    assert re.fullmatch(r"[0-9a-f]{40}", first)
    assert first != hashlib.sha1(b"identical").hexdigest()
    listing = caller.content(pack)
    assert len(listing) == 2, "the listing is keyed by link: two nodes with one link show once"
    assert listing[f"repovizz:{first}"]["name"] == "node 0"
    structure = caller.get(f"/datapacks/{pack}").json()["structure"]
    assert [node["link"] for node in structure["children"][:2]] == [f"repovizz:{first}"] * 2
    assert caller.get(f"/datapacks/{pack}/content/{first}").content == b"identical"
    assert first in sandbox_files(content)


def test_content_ids_are_the_same_across_datapacks_users_and_restarts_but_not_data_dirs(tmp_path, content, variant):
    data = b"the same recording"
    alice, bob = make_caller(content), make_caller(content)
    ids = {alice.upload(alice.create_datapack(), "video.mp4", data).json()["id"],
           bob.upload(bob.create_datapack(), "video.mp4", data).json()["id"]}
    assert len(ids) == 1
    stranger = make_caller(variant)
    pack = stranger.create_datapack()
    stranger.upload(pack, "video.mp4", data)
    assert not set(stranger.content(pack)) & {f"repovizz:{file_id}" for file_id in ids}, "each data dir has its salt"

    with LiveSandbox(tmp_path, file_ids="content") as first_run:
        carol = make_caller(first_run, username="carol")
        before = carol.upload(carol.create_datapack(), "video.mp4", data).json()["id"]
    with LiveSandbox(tmp_path, file_ids="content") as second_run:
        carol = make_caller(second_run, username="carol")
        assert carol.upload(carol.create_datapack(), "video.mp4", data).json()["id"] == before


def test_replacing_one_of_two_nodes_with_the_same_bytes_keeps_them_for_the_other(content):
    caller = make_caller(content)
    pack = caller.create_datapack(document("a.bin", "b.bin"))
    shared = caller.upload(pack, "a.bin", b"shared bytes").json()["id"]
    caller.upload(pack, "b.bin", b"shared bytes")
    replaced = caller.upload(pack, f"repovizz:{shared}", b"new bytes for the first node")
    assert replaced.status_code == 200, replaced.text
    new = replaced.json()["id"]
    structure = caller.get(f"/datapacks/{pack}").json()["structure"]
    assert structure["children"][0]["link"] == f"repovizz:{new}"
    assert structure["children"][1]["children"][0]["link"] == f"repovizz:{shared}"
    assert caller.get(f"/datapacks/{pack}/content/{shared}").content == b"shared bytes"
    assert {shared, new} <= sandbox_files(content)

    caller.upload(pack, f"repovizz:{shared}", b"and new bytes for the second")
    assert shared not in sandbox_files(content), "no node points at them any more"
    assert caller.get(f"/datapacks/{pack}/content/{shared}").status_code == 404


def test_bytes_another_datapack_still_points_at_survive_a_replacement_and_an_edit(content):
    alice, bob = make_caller(content), make_caller(content)
    alice_pack, bob_pack = alice.create_datapack(), bob.create_datapack()
    shared = alice.upload(alice_pack, "video.mp4", b"one video, two owners").json()["id"]
    assert bob.upload(bob_pack, "video.mp4", b"one video, two owners").json()["id"] == shared

    assert alice.upload(alice_pack, f"repovizz:{shared}", b"alice re-encoded it").status_code == 200
    assert shared in sandbox_files(content)
    assert bob.get(f"/datapacks/{bob_pack}/content/{shared}").content == b"one video, two owners"
    assert alice.get(f"/datapacks/{alice_pack}/content/{shared}").status_code == 404, "alice no longer has it"

    structure = bob.get(f"/datapacks/{bob_pack}").json()["structure"]
    structure["children"].pop(0)
    assert bob.post(f"/datapacks/{bob_pack}", json={"structure": structure}).status_code == 200
    assert shared not in sandbox_files(content)


def test_replacing_a_file_with_the_same_bytes_changes_nothing(content):
    caller = make_caller(content)
    pack = caller.create_datapack()
    file_id = caller.upload(pack, "video.mp4", b"unchanged").json()["id"]
    again = caller.upload(pack, f"repovizz:{file_id}", b"unchanged")
    assert again.status_code == 200 and again.json() == {"id": file_id}
    assert caller.get(f"/datapacks/{pack}/content/{file_id}").content == b"unchanged"
    assert file_id in sandbox_files(content)


# --- 401 ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"}], ids=["missing", "unknown"])
def test_documented_401_by_default(sandbox, headers):
    response = requests.get(sandbox.url + API + "/user", headers=headers, timeout=TIMEOUT)
    assert response.status_code == 401
    assert response.json() == DOCUMENTED_401
    assert "WWW-Authenticate" not in response.headers


def test_rfc6750_401_when_asked(variant):
    missing = requests.get(variant.url + API + "/user", timeout=TIMEOUT)
    assert missing.status_code == 401
    assert missing.json()["error"] == "missing_authorization" and missing.json()["error_description"]
    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="repovizz2"'
    unknown = requests.get(variant.url + API + "/user", headers={"Authorization": "Bearer nope"}, timeout=TIMEOUT)
    assert unknown.status_code == 401
    assert unknown.json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in unknown.headers["WWW-Authenticate"]
    upload = requests.post(variant.url + API + f"/datapacks/{uuid.uuid4()}/content/x", files={"f": b"x"},
                           timeout=TIMEOUT)
    assert upload.status_code == 401 and upload.json()["error"] == "missing_authorization"


# --- framing ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_pages_refuse_to_be_framed_by_default(sandbox, path):
    page = requests.get(sandbox.url + path, timeout=TIMEOUT)
    assert page.status_code == 200
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Content-Security-Policy"] == "frame-ancestors 'none'"


@pytest.mark.parametrize("path", PAGES)
def test_pages_may_be_framed_by_the_origins_allowed(variant, path):
    page = requests.get(variant.url + path, timeout=TIMEOUT)
    assert page.status_code == 200
    assert "X-Frame-Options" not in page.headers
    assert page.headers["Content-Security-Policy"] == \
        "frame-ancestors 'self' http://localhost:8888 https://hub.example.org"


def test_the_consent_page_may_be_framed_by_the_origins_allowed(variant):
    username = unique("framed")
    variant.add_user(username, "pw")
    client = variant.add_client("Notebook", ["http://localhost:8888/callback"])
    session = requests.Session()
    login = session.get(variant.url + "/login", timeout=TIMEOUT)
    session.post(variant.url + "/login", timeout=TIMEOUT, data={
        "username": username, "password": "pw", "csrf_token": hidden_field(login.text, "csrf_token")})
    consent = session.get(variant.url + "/oauth/authorize", timeout=TIMEOUT, params={
        "response_type": "code", "client_id": client["client_id"], "redirect_uri": "http://localhost:8888/callback"})
    assert "Authorize" in consent.text
    assert "X-Frame-Options" not in consent.headers
    assert consent.headers["Content-Security-Policy"].startswith("frame-ancestors 'self' http://localhost:8888")


def test_framing_origins_from_the_command_line_repeated_and_comma_separated(tmp_path):
    from sandbox.cli import build_parser
    args = build_parser().parse_args(["serve", "--allow-framing-from", "http://localhost:8888, http://127.0.0.1:8888",
                                      "--allow-framing-from", "https://hub.example.org"])
    assert [origin for group in args.allow_framing_from for origin in group] == [
        "http://localhost:8888", "http://127.0.0.1:8888", "https://hub.example.org"]


# --- login hint -------------------------------------------------------------------------------------------


def test_the_login_page_names_no_login_by_default(sandbox):
    assert 'id="login-hint"' not in requests.get(sandbox.url + "/login", timeout=TIMEOUT).text


def test_the_login_page_names_the_login_hint(tmp_path):
    app = create_app({"DATA_DIR": str(tmp_path), "LOGIN_HINT": "demo   / <demo>"})
    page = app.test_client().get("/login").get_data(as_text=True)
    assert '<p class="hint" id="login-hint">' in page
    assert "<strong>demo / &lt;demo&gt;</strong>" in page


def test_the_login_hint_from_the_command_line_and_the_environment(tmp_path):
    from sandbox.cli import build_parser
    assert build_parser().parse_args(["serve", "--login-hint", "demo / demo"]).login_hint == "demo / demo"
    assert run_cli("serve", "--port", "0", "--data-dir", str(tmp_path), "--login-hint", "a\x07b").returncode == 2
    result = run_cli("serve", "--port", "0", "--data-dir", str(tmp_path), env={"SANDBOX_LOGIN_HINT": "x" * 201})
    assert result.returncode == 1 and "login-hint must be one line" in result.stderr


# --- plumbing ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("option, value", [("--ids", "string"), ("--upload-answer", "OK"), ("--file-ids", "sha1"),
                                           ("--unauthorized", "rfc"), ("--allow-framing-from", "localhost:8888"),
                                           ("--allow-framing-from", "http://localhost:8888/notebooks")])
def test_serve_refuses_unknown_values(tmp_path, option, value):
    result = run_cli("serve", "--port", "0", "--data-dir", str(tmp_path), option, value)
    assert result.returncode == 2
    assert option in result.stderr


def test_a_bad_value_in_the_environment_stops_the_start(tmp_path):
    result = run_cli("serve", "--port", "0", "--data-dir", str(tmp_path), env={"SANDBOX_FILE_IDS": "sha1"})
    assert result.returncode == 1
    assert "file-ids must be random or content" in result.stderr


def test_create_app_and_live_sandbox_refuse_unknown_values(tmp_path):
    with pytest.raises(ValueError, match="ids must be integer or uuid"):
        create_app({"DATA_DIR": str(tmp_path), "IDS": "guid"})
    with pytest.raises(ValueError, match="not an origin"):
        LiveSandbox(tmp_path, allow_framing_from=["*"])


def test_the_settings_land_in_the_app_config(tmp_path):
    app = create_app({"DATA_DIR": str(tmp_path), "IDS": "uuid", "UPLOAD_ANSWER": "result-ok", "FILE_IDS": "content",
                      "UNAUTHORIZED": "rfc6750", "ALLOW_FRAMING_FROM": ["http://localhost:8888/"]})
    assert {name: app.config[name] for name in ("IDS", "UPLOAD_ANSWER", "FILE_IDS", "UNAUTHORIZED",
                                                "ALLOW_FRAMING_FROM")} == {
        "IDS": "uuid", "UPLOAD_ANSWER": "result-ok", "FILE_IDS": "content", "UNAUTHORIZED": "rfc6750",
        "ALLOW_FRAMING_FROM": ["http://localhost:8888"]}
    defaults = create_app({"DATA_DIR": str(tmp_path)}).config
    assert (defaults["IDS"], defaults["UPLOAD_ANSWER"], defaults["FILE_IDS"], defaults["UNAUTHORIZED"],
            defaults["ALLOW_FRAMING_FROM"]) == ("integer", "id", "random", "documented", [])


OLD_SCHEMA = """
CREATE TABLE users (id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE, email TEXT NOT NULL DEFAULT '',
                    password_hash TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE tokens (access_token TEXT PRIMARY KEY, refresh_token TEXT UNIQUE, client_id TEXT, user_id TEXT NOT NULL,
                     scope TEXT NOT NULL, issued_at REAL NOT NULL, expires_in INTEGER NOT NULL,
                     refresh_revoked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE files (id TEXT PRIMARY KEY, datapack_id TEXT NOT NULL, uploaded_as TEXT NOT NULL, size INTEGER NOT NULL,
                    created_at REAL NOT NULL);
INSERT INTO users VALUES ('u-1', 'old', '', 'x', 1.0), ('u-2', 'older', '', 'x', 2.0);
INSERT INTO tokens (access_token, user_id, scope, issued_at, expires_in) VALUES ('t', 'u-1', 'basic', 1.0, 60);
INSERT INTO files VALUES ('aaaa', 'pack-1', 'video.mp4', 5, 1.0);
"""


def test_a_data_dir_of_an_earlier_version_is_migrated(tmp_path):
    path = str(tmp_path / "sandbox.db")
    with sqlite3.connect(path) as old:
        old.executescript(OLD_SCHEMA)
    init_db(path)
    init_db(path)  # and again: nothing left to do
    db = sqlite3.connect(path)
    assert db.execute("SELECT id, number FROM users ORDER BY number").fetchall() == [("u-1", 1), ("u-2", 2)]
    assert db.execute("SELECT revoked, grant_id FROM tokens").fetchall() == [(0, None)]
    assert db.execute("SELECT datapack_id, file_id, uploaded_as FROM file_records").fetchall() == [
        ("pack-1", "aaaa", "video.mp4")]
    assert db.execute("SELECT name FROM sqlite_master WHERE name = 'files'").fetchone() is None
    db.close()
    user = json.loads(run_cli("add-user", "new", "--password", "pw", "--data-dir", str(tmp_path)).stdout)
    assert user == {"id": 3, "username": "new"}
