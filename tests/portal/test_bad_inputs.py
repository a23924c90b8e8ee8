"""A corpus of bad and hostile inputs at the portal's doors: each gets a 4xx and a message the user
can act on, and none of them reaches repovizz2 when the input is invalid."""
from __future__ import annotations

import io
import json
import stat
import zipfile

import pytest

from tests.portal.samples import DOCUMENT, GOOD_FILES, doc_file, files


def node(link, name="n"):
    return {"class": "data", "name": name, "text": "", "link": link}


def with_children(*children):
    return {**DOCUMENT, "children": list(children)}


def deep_container(levels, leaf=None):
    """`levels` containers, one inside the other, around one data node."""
    current = leaf or node("deep.bin")
    for _ in range(levels):
        current = {"class": "container", "name": "c", "text": "", "children": [current]}
    return current


def nested_meta(levels):
    value = {}
    for _ in range(levels):
        value = {"x": value}
    return value


def zip_of(entries: dict[str, bytes], symlinks=()) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name)
            if name in symlinks:
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, data, zipfile.ZIP_DEFLATED)
    buffer.seek(0)
    return buffer


ZIP_DOC = json.dumps(with_children(node("a.bin"))).encode()

NOT_A_DATAPACK = "this does not look like a datapack document"
SCHEMA = "repovizz2 would refuse this:"
PORTAL = "the portal&#39;s own check:"


def small_place(place: str) -> str:
    """The technical place, as the problem list shows it in small print beside the node's names."""
    return f'<small class="muted place">at <code>{place}</code></small>'


DOCUMENT_CASES = [
    ("not json", b"{'info': 1}", GOOD_FILES, "the document</strong>: is not valid JSON"),
    ("empty document", b"", GOOD_FILES, "the document</strong>: is not valid JSON"),
    ("not utf-8", b"\xff\xfe{", GOOD_FILES, "the document</strong>: is not"),
    ("unterminated string: no 'at at'", b'{"info": "x', GOOD_FILES,
     "is not valid JSON (Unterminated string starting at line 1, column 10)"),
    ("a number", b"42", GOOD_FILES, f"{NOT_A_DATAPACK} (it is a number)"),
    ("a string", b'"x"', GOOD_FILES, f"{NOT_A_DATAPACK} (it is a JSON string)"),
    ("null", b"null", GOOD_FILES, f"{NOT_A_DATAPACK} (it is null)"),
    ("a sensor file", b"[[0.94, -0.33, 0.16], [0.95, -0.34, 0.17]]", GOOD_FILES,
     f"{NOT_A_DATAPACK} (it is a JSON array); a datapack document is a JSON object with &#34;info&#34;"),
    ("an object of something else", {"rows": [1, 2]}, GOOD_FILES,
     f"{NOT_A_DATAPACK} (it is a JSON object without &#34;info&#34; or &#34;children&#34;)"),
    ("no info", {"children": []}, (), "the document</strong>: &#39;info&#39; is required"),
    ("no children", {"info": DOCUMENT["info"]}, (), "the document</strong>: &#39;children&#39; is required"),
    ("info not object", {"info": [], "children": []}, (), "&#39;info&#39; must be of type object, not array"),
    ("keywords not a list", {**DOCUMENT, "info": {**DOCUMENT["info"], "keywords": "a, b"}}, GOOD_FILES,
     "&#39;keywords&#39; must be of type array, not string " + small_place("info.keywords")),
    ("keywords repeat", {**DOCUMENT, "info": {**DOCUMENT["info"], "keywords": ["a", "a"]}}, GOOD_FILES,
     "&#39;keywords&#39; must not repeat a value"),
    ("empty info name", {**DOCUMENT, "info": {**DOCUMENT["info"], "name": ""}}, GOOD_FILES,
     f"{PORTAL}</span> <strong class=\"problem-where\">the datapack&#39;s info</strong>: &#39;name&#39; must not be empty"),
    ("control character in info name", {**DOCUMENT, "info": {**DOCUMENT["info"], "name": "a\x07b"}}, GOOD_FILES,
     "&#39;name&#39; contains a control character (U+0007)"),
    ("control character in a node name", with_children({**node("a.bin"), "name": "x\ny"}), (("a.bin", b"a"),),
     "&#39;name&#39; contains a control character (U+000A); remove it " + small_place("children[0].name")),
    ("control character in a node text", with_children({**node("a.bin"), "text": "x\x1by"}), (("a.bin", b"a"),),
     "&#39;text&#39; contains a control character (U+001B)"),
    ("children not a list", {**DOCUMENT, "children": {}}, (), "&#39;children&#39; must be of type array, not object"),
    ("node not an object", with_children("video.mp4"), (("video.mp4", b"v"),),
     "the top level</strong>: node 1 must be of type object, not string " + small_place("children[0]")),
    ("unknown class", with_children({"class": "folder", "name": "x", "text": ""}), (),
     "&#39;class&#39; must be &#34;container&#34; or &#34;data&#34;, not &#34;folder&#34;"),
    ("no class", with_children({"name": "x", "text": ""}), (), "<strong class=\"problem-where\">x</strong>: "
     "&#39;class&#39; is required"),
    ("name not a string", with_children({**node("a.bin"), "name": 3}), (("a.bin", b"a"),),
     "&#39;name&#39; must be of type string, not integer"),
    ("container without children", with_children({"class": "container", "name": "c", "text": ""}), (),
     "&#39;children&#39; is required"),
    ("data without link", with_children({"class": "data", "name": "d", "text": ""}), (),
     f"{SCHEMA}</span> <strong class=\"problem-where\">d</strong>: &#39;link&#39; is required"),
    ("link not a string", with_children({**node("a"), "link": ["a.bin"]}), (),
     "&#39;link&#39; must be of type string, not array"),
    ("link a number", with_children({**node("a"), "link": 7}), (("7", b"x"),),
     "&#39;link&#39; must be of type string, not integer"),
    ("bad uuid", with_children({**node("a.bin"), "id": "not-a-uuid"}), (("a.bin", b"a"),),
     "&#39;id&#39; must contain a UUID"),
    ("meta not object", with_children({**node("a.bin"), "meta": "x"}), (("a.bin", b"a"),),
     "&#39;meta&#39; must be of type object, not string"),
    ("mime not text", with_children({**node("a.bin"), "mime": 5}), (("a.bin", b"a"),),
     f"{PORTAL}</span> <strong class=\"problem-where\">n</strong>: &#39;mime&#39; must be text"),
    ("duplicate links", with_children(node("a.bin"), node("a.bin")), (("a.bin", b"a"),),
     "link &#39;a.bin&#39; is used by 2 data nodes: n (children[0]), n (children[1])"),
    ("dot-dot link", with_children(node("../../etc/passwd")), (("passwd", b"x"),),
     "link &#39;../../etc/passwd&#39; goes up a folder"),
    ("absolute link", with_children(node("/etc/passwd")), (("passwd", b"x"),),
     "link &#39;/etc/passwd&#39; is an absolute path"),
    ("windows absolute link", with_children(node("C:\\data\\a.bin")), (("a.bin", b"x"),),
     "is an absolute path"),
    ("NUL in link", with_children(node("a\x00.bin")), (("a.bin", b"x"),), "contains a NUL character"),
    ("CR LF in link", with_children(node("a\r\n.bin")), (("a.bin", b"x"),),
     "contains a control character (U+000D)"),
    ("tab in link", with_children(node("a\t.bin")), (("a.bin", b"x"),), "contains a control character (U+0009)"),
    ("empty segment in link", with_children(node("a//b.bin")), (("a/b.bin", b"x"),),
     "has an empty or &#39;.&#39; part between slashes"),
    ("dot segment in link", with_children(node("./b.bin")), (("b.bin", b"x"),),
     "has an empty or &#39;.&#39; part between slashes"),
    ("trailing slash in link", with_children(node("a/")), (("a", b"x"),),
     "has an empty or &#39;.&#39; part between slashes"),
    ("very long link", with_children(node("a" * 2000 + ".bin")), (("a.bin", b"x"),), "is longer than"),
    ("empty link", with_children(node("")), (("a.bin", b"x"),), "link &#39;&#39; is empty"),
    ("missing file", with_children(node("a.bin"), node("b.bin")), (("a.bin", b"x"),),
     "no file was sent for link &#39;b.bin&#39;"),
    ("unicode link, file missing", with_children(node("señal ñ.json")), (("senal n.json", b"[]"),),
     "no file was sent for link &#39;señal ñ.json&#39;"),
    ("empty file", with_children(node("a.bin")), (("a.bin", b""),), "file &#39;a.bin&#39; is empty"),
    ("file sent twice", with_children(node("a.bin")), (("a.bin", b"x"), ("./a.bin", b"y")),
     "file &#39;a.bin&#39; was sent twice"),
    ("ambiguous file name", with_children(node("a.bin")), (("x/a.bin", b"x"), ("y/a.bin", b"y")),
     "link &#39;a.bin&#39; matches several files: &#39;x/a.bin&#39;, &#39;y/a.bin&#39;"),
    ("nested deeper than the portal takes", with_children(deep_container(45)), (("deep.bin", b"x"),),
     "is nested more than 40 levels deep; the portal creates datapacks of at most 40 levels (a limit of the portal, "
     "not of repovizz2)"),
    ("meta nested deeper than the portal takes", with_children({**node("a.bin"), "meta": nested_meta(300)}),
     (("a.bin", b"x"),), "is nested more than 200 levels deep; the portal takes at most 200 levels of JSON"),
    ("infinity", b'{"info": {"name": "x", "author": "", "description": "", "keywords": []}, "children": [], "v": 1e400}',
     (), "is not valid JSON (1e400 is too large a number)"),
    ("NaN", b'{"info": {}, "children": [], "v": NaN}', (), "is not valid JSON (NaN is not a JSON number)"),
    ("lone surrogate", b'{"info": {"name": "\\ud800", "author": "", "description": "", "keywords": []}, "children": []}',
     (), "contains a lone surrogate (\\ud800), which is not text"),
    ("nested too deeply to read", b'{"info": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", (),
     "is nested too deeply to read"),
]



@pytest.mark.parametrize(("document", "sent", "message"), [case[1:] for case in DOCUMENT_CASES],
                         ids=[case[0] for case in DOCUMENT_CASES])
def test_bad_documents_and_files(client, auth, repovizz2, document, sent, message):
    auth.login()
    page = client.post("/upload", data={"document": doc_file(document), "files": files(*sent)},
                       content_type="multipart/form-data")
    assert page.status_code == 422
    assert message in page.get_data(as_text=True)
    assert len(repovizz2.mock.calls) == 0


ZIP_CASES = [
    ("zip slip", {"datapack.json": ZIP_DOC, "a.bin": b"a", "../evil.sh": b"x"}, (),
     "archive entry &#39;../evil.sh&#39;: goes up a folder with &#39;..&#39;"),
    ("absolute entry", {"datapack.json": ZIP_DOC, "a.bin": b"a", "/etc/cron.d/x": b"x"}, (),
     "archive entry &#39;/etc/cron.d/x&#39;: is an absolute path"),
    ("symlink entry", {"datapack.json": ZIP_DOC, "a.bin": b"/etc/passwd"}, ("a.bin",),
     "archive entry &#39;a.bin&#39;: is a symbolic link"),
    ("zip bomb", {"datapack.json": ZIP_DOC, "a.bin": b"\0" * (20 * 1024 * 1024)}, (),
     "is compressed more than 200:1"),
    ("no document", {"a.bin": b"a", "b.json": b"[1, 2]"}, (), "no datapack document found"),
    ("two documents", {"x/datapack.json": ZIP_DOC, "y/datapack.json": ZIP_DOC, "a.bin": b"a"}, (),
     "several datapack documents were found"),
]


@pytest.mark.parametrize(("entries", "symlinks", "message"), [case[1:] for case in ZIP_CASES],
                         ids=[case[0] for case in ZIP_CASES])
def test_bad_archives(client, auth, repovizz2, entries, symlinks, message):
    auth.login()
    page = client.post("/upload", data={"archive": (zip_of(entries, symlinks), "pack.zip")},
                       content_type="multipart/form-data")
    assert page.status_code == 422
    assert message in page.get_data(as_text=True)
    assert len(repovizz2.mock.calls) == 0


def test_not_a_zip(client, auth, repovizz2):
    auth.login()
    page = client.post("/upload", data={"archive": (io.BytesIO(b"PK not really"), "pack.zip")},
                       content_type="multipart/form-data")
    assert page.status_code == 422
    assert "archive: is not a readable .zip file" in page.get_data(as_text=True)
    assert len(repovizz2.mock.calls) == 0


def test_too_many_files(app, client, auth, repovizz2):
    app.config["MAX_FILES"] = 3
    auth.login()
    sent = [(f"f{i}.bin", b"x") for i in range(4)]
    document = with_children(*[node(name) for name, _ in sent])
    page = client.post("/upload", data={"document": doc_file(document), "files": files(*sent)},
                       content_type="multipart/form-data")
    assert page.status_code == 422
    assert "4 files were sent; the limit is 3 per datapack" in page.get_data(as_text=True)
    assert len(repovizz2.mock.calls) == 0


def test_too_many_entries_in_a_zip(app, client, auth, repovizz2):
    app.config["MAX_FILES"] = 2
    auth.login()
    entries = {"datapack.json": ZIP_DOC, **{f"f{i}.bin": b"x" for i in range(4)}}
    page = client.post("/upload", data={"archive": (zip_of(entries), "pack.zip")}, content_type="multipart/form-data")
    assert page.status_code == 422
    assert "archive: holds 5 files; the limit is 2 per datapack" in page.get_data(as_text=True)


def test_file_too_large(app, client, auth, repovizz2):
    app.config["MAX_ASSET_MB"] = 1
    auth.login()
    page = client.post("/upload", data={"document": doc_file(with_children(node("a.bin"))),
                                        "files": files(("a.bin", b"x" * (1024 * 1024 + 1)))},
                       content_type="multipart/form-data")
    assert page.status_code == 422
    assert "file &#39;a.bin&#39; is 1.0 MB; the limit is 1.0 MB per file" in page.get_data(as_text=True)
    assert len(repovizz2.mock.calls) == 0


def test_document_too_large(app, client, auth, repovizz2):
    app.config["MAX_JSON_KB"] = 1
    auth.login()
    big = with_children(*[node(f"f{i}.bin", name="x" * 50) for i in range(40)])
    page = client.post("/upload", data={"document": doc_file(big)}, content_type="multipart/form-data")
    assert page.status_code == 422
    assert "document: is larger than 1 KB" in page.get_data(as_text=True)


def test_request_too_large(app, client, auth, repovizz2):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    auth.login()
    page = client.post("/upload", data={"document": doc_file(), "files": files(("video.mp4", b"v" * 5000))},
                       content_type="multipart/form-data")
    assert page.status_code == 413
    assert "larger than this portal accepts" in page.get_data(as_text=True)
    assert len(repovizz2.mock.calls) == 0


def test_wrong_csrf_token(app, client, auth, repovizz2):
    app.config["WTF_CSRF_ENABLED"] = True
    auth.login()
    page = client.post("/upload", data={"csrf_token": "forged", "document": doc_file(), "files": files(*GOOD_FILES)},
                       content_type="multipart/form-data")
    assert page.status_code == 400
    assert "The form had expired or did not come from this site" in page.get_data(as_text=True)
    assert len(repovizz2.mock.calls) == 0


def test_wrong_csrf_token_on_put(app, client, auth, repovizz2):
    app.config["WTF_CSRF_ENABLED"] = True
    auth.login()
    answer = client.put("/datapacks/d-1/assets/a.bin", data=b"x", headers={"X-CSRFToken": "forged"})
    assert answer.status_code == 400
    assert "did not come from this site" in answer.json["error"]
    assert len(repovizz2.mock.calls) == 0


def test_logout_needs_csrf(app, client, auth):
    app.config["WTF_CSRF_ENABLED"] = True
    auth.login()
    assert client.post("/auth/logout").status_code == 400
    with client.session_transaction() as session:
        assert "token" in session


def test_put_without_length(client, auth, repovizz2):
    auth.login()
    answer = client.put("/datapacks/d-1/assets/a.bin", input_stream=io.BytesIO(b"abc"),
                        headers={"Transfer-Encoding": "chunked"})
    assert answer.status_code == 411
    assert "Content-Length" in answer.json["error"]
    assert len(repovizz2.mock.calls) == 0


@pytest.mark.parametrize("link", ["..%2F..%2Fapi%2Fv1.0%2Fuser", "a%3Fx%3D1", "a%23frag", "%2E%2E"])
def test_links_cannot_reach_another_repovizz2_path(client, auth, api, link):
    """Whatever the link, it is one encoded path segment under the datapack's content."""
    auth.login()
    api.post(f"http://repovizz2.test/api/v1.0/datapacks/d-1/content/{link.replace('%2E', '.')}",
             json={"id": "f" * 40})
    api.post(f"http://repovizz2.test/api/v1.0/datapacks/d-1/content/{link}", json={"id": "f" * 40})
    answer = client.put(f"/datapacks/d-1/assets/{link}", data=b"x")
    assert answer.status_code == 200
    (call,) = api.calls
    assert call.request.url.startswith("http://repovizz2.test/api/v1.0/datapacks/d-1/content/")
    assert "/" not in call.request.url.split("/content/", 1)[1]


def test_a_urlencoded_body_is_capped_before_it_is_read_into_memory(app, client):
    """The CSRF check reads a urlencoded form whole, logged in or not: MAX_FORM_MB must not apply to it."""
    app.config["WTF_CSRF_ENABLED"] = True
    limit = app.config["MAX_FORM_MEMORY_SIZE"] + app.config["MAX_FILES"] * 2048
    answer = client.post("/auth/logout", data=b"a=" + b"x" * limit, content_type="application/x-www-form-urlencoded")
    assert answer.status_code == 413


def test_a_json_body_is_capped_before_it_is_read_into_memory(app, client, repovizz2):
    limit = app.config["MAX_FORM_MEMORY_SIZE"] + app.config["MAX_FILES"] * 2048
    answer = client.post("/api/datapacks", data=b'{"x": "' + b"x" * limit + b'"}', content_type="application/json",
                         headers={"Authorization": "Bearer script-token"})
    assert answer.status_code == 413
    assert len(repovizz2.mock.calls) == 0


def test_a_document_up_to_the_json_limit_fits_in_a_form_field(app, client, auth, repovizz2):
    """The result page gets the whole document in a form field: Werkzeug's 500 kB default was below the limit."""
    document = {**DOCUMENT, "info": {**DOCUMENT["info"], "description": "x" * (app.config["MAX_JSON_KB"] * 1024 - 500)}}
    auth.login()
    created = client.post("/api/datapacks", json={"document": document, "files": [
        {"path": path, "size": len(data)} for path, data in GOOD_FILES]})
    assert created.status_code == 201, created.json
    page = client.post(f"/datapacks/{created.json['datapack_id']}/result",
                       data={"document": json.dumps(document), "sizes": "{}", "f": (io.BytesIO(b""), "")},
                       content_type="multipart/form-data")
    assert page.status_code == 200


@pytest.mark.parametrize("field", ["document", "sizes"])
def test_a_result_form_nested_too_deep_goes_back_to_the_datapack(client, auth, field):
    auth.login()
    form = {"document": json.dumps(DOCUMENT), "sizes": "{}", field: "[" * 100_000}
    page = client.post("/datapacks/d-1/result", data=form)
    assert page.status_code == 302
    assert page.headers["Location"].endswith("/datapacks/d-1")


def test_the_document_download_names_the_file_safely(client, auth, api):
    api.get("http://repovizz2.test/api/v1.0/datapacks/d-1",
            json={"id": "d-1", "name": 'Séance "1"\r\nX-Evil: 1', "structure": DOCUMENT})
    auth.login()
    answer = client.get("/datapacks/d-1/document.json")
    assert answer.status_code == 200
    disposition = answer.headers["Content-Disposition"]
    assert "\n" not in disposition and "X-Evil" not in answer.headers
    assert 'filename="Seance 1X-Evil_ 1.json"' in disposition  # for clients without filename*
    assert "filename*=UTF-8''S%C3%A9ance%201X-Evil%3A%201.json" in disposition


def test_an_unsafe_link_is_reported_once_and_missing_files_name_their_place(client, auth, repovizz2):
    auth.login()
    document = with_children(node("../x.bin"), {"class": "container", "name": "c", "text": "", "children": [
        node("gone.bin")]})
    page = client.post("/upload", data={"document": doc_file(document), "files": files(("x.bin", b"x"))},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert page.count("../x.bin") == 1
    assert ("<strong class=\"problem-where\">c › n</strong>: no file was sent for link &#39;gone.bin&#39; "
            + small_place("children[1].children[0]")) in page
