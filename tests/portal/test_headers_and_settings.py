"""Smaller hardening: yes/no settings read strictly, the media type of a file shown in place, path
segments built from repovizz2's ids, Cache-Control on private answers, a malformed form body named."""
from __future__ import annotations

import pytest
from flask import url_for

from portal import create_app
from portal.rules.config import ConfigError, settings_from_env
from portal.rules.media_types import served_type
from portal.web.security import UnsafePathSegment
from tests.portal.samples import VIDEO, log_in, nested_containers, structure

# --- Yes/no settings ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["true", "True", "YES", "on", "On", "1", " yes "])
def test_yes_words_turn_a_setting_on(value):
    assert settings_from_env({"PORTAL_BEHIND_PROXY": value})["BEHIND_PROXY"] is True


@pytest.mark.parametrize("value", ["false", "False", "NO", "off", "OFF", "0", "", "  "])
def test_no_words_turn_a_setting_off(value):
    assert settings_from_env({"PORTAL_BEHIND_PROXY": value})["BEHIND_PROXY"] is False


@pytest.mark.parametrize("value", ["maybe", "2", "enable", "nope", "y", "ja"])
def test_an_unknown_yes_no_value_refuses_to_start_naming_the_variable(value):
    with pytest.raises(ConfigError, match=f"PORTAL_BEHIND_PROXY must be one of .* not {value!r}"):
        settings_from_env({"PORTAL_BEHIND_PROXY": value})


def test_behind_proxy_false_trusts_no_forwarded_header(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for name, value in {"PORTAL_SECRET_KEY": "k", "PORTAL_CLIENT_ID": "i", "PORTAL_CLIENT_SECRET": "s",
                        "PORTAL_SESSION_DIR": str(tmp_path), "PORTAL_BEHIND_PROXY": "False"}.items():
        monkeypatch.setenv(name, value)
    app = create_app()
    answer = app.test_client().get("/upload", headers={"X-Forwarded-Prefix": "/evil"})
    assert answer.headers["Location"].startswith("/auth/login")


# --- A stored file shown in place ---------------------------------------------------------------------

@pytest.mark.parametrize(("mime", "inline", "sent", "shown"), [
    ("text/plain; x=1,text/html", True, "text/plain", True),
    ("TEXT/PLAIN;charset=utf-8", True, "text/plain", True),
    ("video/mp4; codecs=\"avc1\"", True, "video/mp4", True),
    ("text/html", True, "text/html", False),
    ("text/html; x=1,text/plain", True, "text/html", False),
    ("image/svg+xml", True, "image/svg+xml", False),
    ("text/plain", False, "text/plain", False),
    ("not a type", True, "application/octet-stream", False),
    ("", True, "application/octet-stream", False),
])
def test_only_the_base_type_is_sent_and_shown_only_from_the_allow_list(mime, inline, sent, shown):
    assert served_type(mime, inline) == (sent, shown)


def test_a_type_with_a_second_type_in_its_parameters_is_sent_as_its_base(client, auth, repovizz2, datapack_id):
    structure(repovizz2, datapack_id)["children"][0]["mime"] = "text/plain; x=1,text/html"
    auth.login()
    answer = client.get(f"/datapacks/{datapack_id}/content/{VIDEO}?inline=1")
    assert answer.headers["Content-Type"] == "text/plain"
    assert answer.headers["Content-Disposition"].startswith("inline;")
    assert answer.headers["Cache-Control"] == "private, max-age=3600"  # a file id never changes its bytes


# --- Ids from repovizz2 in addresses ------------------------------------------------------------------

@pytest.mark.parametrize("link", ["repovizz:../../../auth/login", "repovizz:..", "repovizz:a/b", "repovizz:.",
                                  "repovizz:a\\..\\b", "repovizz:a\nb"])
def test_a_stored_reference_that_is_not_one_segment_gets_no_address(client, auth, repovizz2, datapack_id, link):
    structure(repovizz2, datapack_id)["children"][0]["link"] = link
    structure(repovizz2, datapack_id)["children"][0]["mime"] = "image/png"
    auth.login()
    page = client.get(f"/datapacks/{datapack_id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "/content/.." not in text and "/content/a/b" not in text and "/content/a%2F" not in text
    assert "<img src=" not in text


@pytest.mark.parametrize(("value", "segment"), [
    ("x/../../auth/login", "x%2F..%2F..%2Fauth%2Flogin"),
    ("a b?c#d", "a%20b%3Fc%23d"),
    ("...", "..."),
    ("a\\b", "a%5Cb"),
])
def test_a_value_in_a_route_is_always_one_quoted_segment(app, value, segment):
    with app.test_request_context():
        assert url_for("datapack.show", datapack_id=value) == f"/datapacks/{segment}"
        assert url_for("datapack.content", datapack_id="d", file_id=value) == f"/datapacks/d/content/{segment}"


@pytest.mark.parametrize("value", ["", ".", ".."])
def test_a_value_a_browser_would_resolve_is_never_made_into_an_address(app, value):
    with app.test_request_context(), pytest.raises(UnsafePathSegment):
        url_for("datapack.show", datapack_id=value)


def test_a_datapack_listed_under_an_unsafe_id_is_a_row_without_a_link_not_a_500(client, auth, repovizz2):
    auth.login()
    repovizz2.store("..", "x", {"info": {}, "children": []})
    answer = client.get("/")
    assert answer.status_code == 200
    text = answer.get_data(as_text=True)
    assert "repovizz2 listed an id that cannot be part of an address" in text and 'href="/datapacks/' not in text


# --- Cache-Control ------------------------------------------------------------------------------------

def test_private_answers_are_not_stored(client, auth, repovizz2, datapack_id):
    assert client.get("/").headers["Cache-Control"] == "no-store"  # the welcome page too: it says who is in
    auth.login()
    for path in ("/", f"/datapacks/{datapack_id}", f"/datapacks/{datapack_id}/document.json", "/upload",
                 "/no-such-page"):
        answer = client.get(path)
        assert answer.headers["Cache-Control"] == "no-store", path
    answer = client.post("/api/datapacks", json={"document": {}, "files": []})
    assert answer.status_code == 422 and answer.headers["Cache-Control"] == "no-store"


def test_static_files_and_stored_files_keep_their_own_caching(client, auth, repovizz2, datapack_id):
    assert "no-store" not in client.get("/static/portal.css").headers.get("Cache-Control", "")
    auth.login()
    assert client.get(f"/datapacks/{datapack_id}/content/{VIDEO}").headers["Cache-Control"] == "private, max-age=3600"


# --- A malformed form body ----------------------------------------------------------------------------

@pytest.mark.parametrize(("content_type", "body"), [
    ("multipart/form-data", b"--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--x--\r\n"),
    ("multipart/form-data; boundary=", b"anything"),
])
def test_a_malformed_multipart_body_is_named_not_form_expired(csrf_app, content_type, body):
    client = csrf_app.test_client()
    log_in(client)
    answer = client.post("/upload", data=body, content_type=content_type)
    assert answer.status_code == 400
    text = answer.get_data(as_text=True)
    assert "What was sent could not be read" in text and "not well-formed multipart/form-data" in text
    assert "Form expired" not in text


def test_a_malformed_multipart_put_to_the_api_answers_json(csrf_app):
    client = csrf_app.test_client()
    log_in(client)
    answer = client.post("/datapacks/d-1/nodes/add", data=b"x", content_type="multipart/form-data",
                         headers={"Accept": "application/json"})
    assert answer.status_code == 400 and "not well-formed" in answer.json["error"]


def test_a_reference_that_is_one_segment_is_linked(client, auth, repovizz2, datapack_id):
    structure(repovizz2, datapack_id)["children"][0]["mime"] = "image/png"
    auth.login()
    text = client.get(f"/datapacks/{datapack_id}").get_data(as_text=True)
    assert f'<img src="/datapacks/{datapack_id}/content/{VIDEO}?inline=1"' in text


# --- A datapack page shows what it can --------------------------------------------------------------

NOT_AN_OBJECT = "repovizz2 answered the datapack with a document that is not an object"
NO_SUCH_FILE = "This datapack has no file with that id."


@pytest.mark.parametrize("structure_", [[1, 2], "text", None, 5], ids=["list", "string", "null", "number"])
@pytest.mark.parametrize("path", ["", "/document.json", "/content/abc", "/content/abc?inline=1"])
def test_a_stored_document_that_is_not_an_object_is_said_so(client, auth, repovizz2, structure_, path):
    auth.login()
    repovizz2.store("d-1", "x", structure_)
    answer = client.get(f"/datapacks/d-1{path}")
    assert answer.status_code == 502
    assert '<section class="problems" role="alert">' in answer.get_data(as_text=True)
    assert NOT_AN_OBJECT in answer.get_data(as_text=True)


@pytest.mark.parametrize("structure_, link", [
    ({"info": "x", "children": "x"}, None),
    ({"info": {}, "children": [1, "a", None, []]}, None),
    ({"info": {}, "children": [{"class": "data", "name": "n", "text": "", "link": 5, "mime": 5}]}, None),
    ({"info": {}, "children": [{"class": "data", "name": 5, "text": 7, "link": "repovizz:abc", "mime": ["x"]}]},
     "repovizz:abc"),
    ({"info": {}, "children": [nested_containers(300)]}, None),
], ids=["strings", "junk-children", "int-link", "int-name", "300-deep"])
def test_an_unexpected_stored_shape_is_shown_as_it_is(client, auth, repovizz2, structure_, link):
    """Whatever the public schema lets repovizz2 hold: the page, the document and its files, never a 500."""
    auth.login()
    repovizz2.store("d-1", "x", structure_)
    repovizz2.store_file("d-1", "abc", b"x")
    page = client.get("/datapacks/d-1")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "<h1>x</h1>" in page.get_data(as_text=True) and 'class="problems"' not in page.get_data(as_text=True)
    document = client.get("/datapacks/d-1/document.json")
    assert document.status_code == 200 and document.json == structure_
    for path in ("/content/abc", "/content/abc?inline=1"):
        answer = client.get(f"/datapacks/d-1{path}")
        if link:  # the one data node whose link is that file's: served as it is
            assert answer.status_code == 200 and answer.data == b"x"
        else:  # no data node links the file: a page that says so
            assert answer.status_code == 404 and NO_SUCH_FILE in answer.get_data(as_text=True)
    assert len(repovizz2.calls_to("download")) == (2 if link else 0)


@pytest.mark.parametrize("path", ["", "/document.json"])
def test_a_tree_too_deep_to_walk_is_a_page_that_says_so(client, auth, repovizz2, path):
    auth.login()
    repovizz2.store("d-1", "x", {"info": {}, "children": [nested_containers(3000)]})  # deeper than Python's json reads
    answer = client.get(f"/datapacks/d-1{path}")
    assert answer.status_code == 502
    text = answer.get_data(as_text=True)
    assert "Nested too deeply to show" in text
    assert "nested too deeply for the portal to show or change it" in text


@pytest.mark.parametrize("path", ["/datapacks/..", "/datapacks/.", "/datapacks/../document.json",
                                  "/datapacks/d-1/content/..", "/datapacks/d-1/content/.?inline=1"])
def test_a_dot_segment_in_a_request_path_is_not_an_id(client, auth, repovizz2, path):
    """A raw request (a browser would resolve the dots first) must not hand ".." to repovizz2's API."""
    auth.login()
    assert client.get(path).status_code == 404
    assert repovizz2.log == []
