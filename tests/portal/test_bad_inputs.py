"""A corpus of bad and hostile inputs at the portal's doors: each gets a 4xx and a message the user
can act on, and none of them reaches repovizz2 when the input is invalid."""
from __future__ import annotations

import io
import json
import stat
import time
import uuid
import zipfile
from urllib.parse import unquote

import pytest
from werkzeug.test import EnvironBuilder

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
    return f'<small class="muted place">(<code>{place}</code>)</small>'


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
    ("right-to-left override in info name", {**DOCUMENT, "info": {**DOCUMENT["info"], "name": "invoice\u202efdp.exe"}},
     GOOD_FILES, "&#39;name&#39; contains a bidirectional control (U+202E), which makes it display differently"),
    ("isolate in a node name", with_children({**node("a.bin"), "name": "a\u2066b"}), (("a.bin", b"a"),),
     "&#39;name&#39; contains a bidirectional control (U+2066)"),
    ("embedding in a node text", with_children({**node("a.bin"), "text": "a\u202ab"}), (("a.bin", b"a"),),
     "&#39;text&#39; contains a bidirectional control (U+202A)"),
    ("override in a link", with_children(node("a\u202db.bin")), (("a\u202db.bin", b"a"),),
     "contains a bidirectional control (U+202D)"),
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
def test_links_cannot_reach_another_repovizz2_path(client, auth, repovizz2, link):
    """Whatever the link, it is one encoded path segment under the datapack's content."""
    auth.login()
    repovizz2.store("d-1", "x", {"info": {}, "children": [{"class": "data", "name": "n", "text": "",
                                                            "link": unquote(link)}]})
    answer = client.put(f"/datapacks/d-1/assets/{link}", data=b"x")
    assert answer.status_code == 200
    (request,) = repovizz2.calls_to("upload")
    assert request.url.startswith("http://repovizz2.test/api/v1.0/datapacks/d-1/content/")
    assert "/" not in request.url.split("/content/", 1)[1]
    assert [name for name, _, _ in repovizz2.log] == ["upload"]
    (node,) = repovizz2.datapacks["d-1"]["structure"]["children"]  # the file reached the node of that very link
    assert node["link"] == answer.json["ref"] and repovizz2.files[node["link"].removeprefix("repovizz:")] == b"x"


def test_a_urlencoded_body_is_capped_before_it_is_read_into_memory(app, client):
    """The CSRF check reads a urlencoded form whole, logged in or not: MAX_FORM_MB must not apply to it."""
    app.config["WTF_CSRF_ENABLED"] = True
    limit = app.config["MAX_FORM_MEMORY_SIZE"] + app.config["MAX_FILES"] * 2048
    answer = client.post("/auth/logout", data=b"a=" + b"x" * limit, content_type="application/x-www-form-urlencoded")
    assert answer.status_code == 413


def test_a_json_body_is_capped_before_it_is_read_into_memory(app, client, repovizz2):
    repovizz2.issue("script-token")
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


def test_the_document_download_names_the_file_safely(client, auth, repovizz2):
    repovizz2.store("d-1", 'Séance "1"\r\nX-Evil: 1', DOCUMENT)
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


# --- Extra files are left out, not refused ---------------------------------------------------------

def left_out_section(page: str) -> str:
    start = page.index('<section class="notes left-out"')
    return page[start:page.index("</section>", start)]


def test_a_folder_with_files_no_node_refers_to_uploads_and_lists_them(client, auth, repovizz2):
    auth.login()
    folder = [("MYO/datapack.json", json.dumps(DOCUMENT).encode()), ("MYO/video.mp4", b"v" * 1000),
              ("MYO/emg 2.json", b"[1, 2, 3]"), ("MYO/emg 3.json", b"[4]"), ("MYO/notes.txt", b"")]
    page = client.post("/upload", data={"folder": files(*folder)}, content_type="multipart/form-data")
    text = page.get_data(as_text=True)
    assert page.status_code == 200, text
    assert repovizz2.creates == 1 and sorted(repovizz2.uploads) == ["emg 2.json", "video.mp4"]
    section = left_out_section(text)
    assert "Not uploaded: 2 files no data node refers to" in section
    assert "<code>MYO/emg 3.json</code>" in section and "<code>MYO/notes.txt</code>" in section


def test_a_zip_with_an_extra_file_uploads_and_lists_it(client, auth, repovizz2):
    auth.login()
    archive = zip_of({"pack/datapack.json": ZIP_DOC, "pack/a.bin": b"a", "pack/readme.txt": b"hello"})
    page = client.post("/upload", data={"archive": (archive, "pack.zip")}, content_type="multipart/form-data")
    text = page.get_data(as_text=True)
    assert page.status_code == 200, text
    assert repovizz2.uploads == ["a.bin"]
    assert "Not uploaded: 1 file no data node refers to" in left_out_section(text)
    assert "<code>pack/readme.txt</code>" in text


def test_missing_files_remain_an_error_beside_extra_ones(client, auth, repovizz2):
    auth.login()
    page = client.post("/upload", data={"document": doc_file(), "files": files(("video.mp4", b"v"), ("x.txt", b"x"))},
                       content_type="multipart/form-data")
    text = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "no file was sent for link &#39;emg 2.json&#39;" in text and "x.txt" not in text
    assert len(repovizz2.mock.calls) == 0


# --- The API: strict JSON, capped lists, absurd sizes ------------------------------------------------

API_FILES = [{"path": path, "size": len(data)} for path, data in GOOD_FILES]


def api_body(document=DOCUMENT, files_=None) -> str:
    return json.dumps({"document": document, "files": API_FILES if files_ is None else files_})


@pytest.mark.parametrize(("body", "status", "message"), [
    (api_body().replace('"size": 1000', '"size": 1e400'), 400, "the request body is not valid JSON (1e400 is too large a number)"),
    (api_body().replace('"test"', "1e400"), 400, "the request body is not valid JSON (1e400 is too large a number)"),
    (api_body().replace('"test"', "-Infinity"), 400, "the request body is not valid JSON (-Infinity is not a JSON number)"),
    (api_body().replace('"test"', '"\\ud800"'), 400, "the request body contains a lone surrogate (\\ud800), which is not text"),
    (api_body().replace('"Video"', '"\\udfff x"'), 400, "the request body contains a lone surrogate (\\udfff), which is not text"),
    ('{"document": ' + "[" * 100_000 + "]" * 100_000 + ', "files": []}', 400, "the request body is nested too deeply to read"),
    (api_body(files_=[{"path": "video.mp4", "size": 10**400}]), 400, "the size given for 'video.mp4' is not a size a file can have"),
    (api_body(files_=[{"path": "video.mp4", "size": 2**63}]), 400, "the size given for 'video.mp4' is not a size a file can have"),
    (api_body(files_=[{"path": "video.mp4", "size": True}]), 400, "each file needs a 'path' (text) and a 'size'"),
    ('{"document": {}, "files": [], "x": ' + "9" * 5000 + "}", 400, "the request body is not valid JSON"),
])
def test_api_refuses_what_is_not_strict_json_before_anything_is_created(client, auth, repovizz2, body, status, message):
    auth.login()
    answer = client.post("/api/datapacks", data=body, content_type="application/json")
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.json["error"].startswith(message)
    assert repovizz2.creates == 0 and repovizz2.mock.calls == [] or repovizz2.creates == 0


def test_api_refuses_more_file_entries_than_the_limit_before_matching(app, client, auth, repovizz2):
    app.config["MAX_FILES"] = 10
    auth.login()
    listed = [{"path": f"f{i}.bin", "size": 1} for i in range(11)]
    answer = client.post("/api/datapacks", data=api_body(files_=listed), content_type="application/json")
    assert answer.status_code == 413
    assert answer.json["error"] == "11 files were listed; the limit is 10 per datapack"
    pending = client.post("/api/datapacks/d-1/pending", json={"files": listed})
    assert pending.status_code == 413
    assert len(repovizz2.mock.calls) == 0


def test_a_document_nested_deeper_than_the_portal_takes_is_a_422(client, auth, repovizz2):
    auth.login()
    document = with_children({**node("video.mp4"), "meta": nested_meta(400)})
    answer = client.post("/api/datapacks", json={"document": document, "files": API_FILES[:1]})
    assert answer.status_code == 422
    (problem,) = answer.json["problem_details"]
    assert problem["kind"] == "portal" and problem["where"] == "n"
    assert "is nested more than 200 levels deep" in problem["message"]
    assert repovizz2.creates == 0


def test_a_maximum_size_request_is_answered_in_linear_time(app, client, auth, repovizz2):
    """MAX_FILES data nodes, as many files, in a document as large as the limit: the work is linear
    (dictionaries, no pairwise comparison), well under a second of CPU; a generous bound here."""
    import time

    max_files, max_kb = app.config["MAX_FILES"], app.config["MAX_JSON_KB"]
    children = [node(f"sensors/take {i}/emg {i}.json", name=f"EMG {i}") for i in range(max_files)]
    document = with_children(*children)
    padding = max_kb * 1024 - len(json.dumps(document)) - 200
    document["info"] = {**DOCUMENT["info"], "description": "x" * padding}
    assert max_kb * 1024 - 400 < len(json.dumps(document)) <= max_kb * 1024
    listed = [{"path": f"MYO/sensors/take {i}/emg {i}.json", "size": 10} for i in range(max_files)]
    auth.login()
    started = time.process_time()
    answer = client.post("/api/datapacks", json={"document": document, "files": listed})
    spent = time.process_time() - started
    assert answer.status_code == 201, answer.json
    assert len(answer.json["uploads"]) == max_files
    assert spent < 2, f"{spent:.2f} s of CPU"


def test_matching_many_links_that_all_share_a_file_name_stays_linear():
    """The worst case for matching by file name: every link could mean every file."""
    import time

    from portal.rules.links import match_links_to_files

    links = [f"a{i}/emg.json" for i in range(1000)]
    paths = [f"b{i}/emg.json" for i in range(1000)]
    started = time.process_time()
    match = match_links_to_files(links, paths)
    assert time.process_time() - started < 2
    assert len(match.ambiguous) == 1000 and match.matched == {}


# --- The builder: strict fields, the portal's depth limits, no 500 -----------------------------------

BUILD_DOCUMENT = {"info": {"name": "Pack", "author": "ana", "description": "", "keywords": []},
                  "children": [{"class": "data", "name": "Tone", "text": "", "link": "tone.wav", "mime": "audio/wav"}]}


def build_form(document_text: str, **fields):
    return {"step": "edit", "document": document_text, "folder": "pack", "action": "apply", **fields}


@pytest.mark.parametrize(("document_text", "message"), [
    ("[" * 100_000 + "]" * 100_000, "The draft datapack is nested too deeply to read"),
    (json.dumps(BUILD_DOCUMENT).replace('"Pack"', "1e400"), "The draft datapack is not valid JSON (1e400 is too large a number)"),
    (json.dumps(BUILD_DOCUMENT).replace('"Pack"', "NaN"), "The draft datapack is not valid JSON (NaN is not a JSON number)"),
    (json.dumps(BUILD_DOCUMENT).replace('"Tone"', '"\\ud800"'), "The draft datapack contains a lone surrogate"),
    (json.dumps({**BUILD_DOCUMENT, "children": [deep_container(300)]}),
     "The draft datapack is nested more than 40 levels deep; the portal builds datapacks of at most 40 levels"),
    (json.dumps({**BUILD_DOCUMENT, "children": [{**node("a.bin"), "meta": nested_meta(400)}]}),
     "The draft datapack is nested more than 200 levels deep"),
])
@pytest.mark.parametrize("url", ["/build", "/build/document.json", "/build/upload"])
def test_build_refuses_a_draft_it_cannot_read_with_a_message(client, auth, repovizz2, url, document_text, message):
    auth.login()
    answer = client.post(url, data=build_form(document_text))
    assert answer.status_code == 400
    assert message in answer.get_data(as_text=True)
    assert len(repovizz2.mock.calls) == 0


@pytest.mark.parametrize("described", ["[" * 100_000, '[{"path": "a.wav", "size": 1e400}]', '[{"path": "\\ud800"}]'])
def test_build_refuses_a_file_list_it_cannot_read(client, auth, described):
    auth.login()
    answer = client.post("/build", data={"step": "propose", "files_json": described})
    assert answer.status_code == 400
    assert "The list of files was not readable" in answer.get_data(as_text=True)


def test_the_builder_never_writes_infinity():
    from portal.rules.strict_json import to_json_text

    assert to_json_text({"x": float("inf"), "y": float("nan")}) == '{"x":null,"y":null}'


@pytest.mark.parametrize(("fields", "message"), [
    ({"info-name": "Pack\x07"}, "&#39;name&#39; contains a control character (U+0007)"),
    ({"info-author": "ana\x1b[31m"}, "&#39;author&#39; contains a control character (U+001B)"),
    ({"info-description": "two\x00lines"}, "&#39;description&#39; contains a control character (U+0000)"),
    ({"node-name:children[0]": "Tone\x08"}, "&#39;name&#39; contains a control character (U+0008)"),
    ({"node-text:children[0]": "a\x7fb"}, "&#39;text&#39; contains a control character (U+007F)"),
])
def test_build_refuses_control_characters_in_its_fields(client, auth, repovizz2, fields, message):
    auth.login()
    answer = client.post("/build", data=build_form(json.dumps(BUILD_DOCUMENT), **fields))
    assert answer.status_code == 422
    assert message in answer.get_data(as_text=True)
    download = client.post("/build/document.json", data=build_form(json.dumps(BUILD_DOCUMENT), **fields))
    assert download.status_code == 422
    assert len(repovizz2.mock.calls) == 0


def test_build_keeps_line_breaks_in_a_description(client, auth):
    auth.login()
    answer = client.post("/build/document.json",
                         data=build_form(json.dumps(BUILD_DOCUMENT), **{"info-description": "one\ntwo\tthree"}))
    assert answer.status_code == 200
    assert json.loads(answer.data)["info"]["description"] == "one\ntwo\tthree"


def test_build_shows_a_link_that_is_not_text_as_a_problem(client, auth, repovizz2):
    auth.login()
    document = {**BUILD_DOCUMENT, "children": [{**BUILD_DOCUMENT["children"][0], "link": 5},
                                               {**node("b.bin"), "link": {"x": 1}}]}
    answer = client.post("/build", data=build_form(json.dumps(document)))
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "&#39;link&#39; must be of type string, not integer" in page
    assert "&#39;link&#39; must be of type string, not object" in page
    assert len(repovizz2.mock.calls) == 0


def test_build_upload_leaves_out_the_files_of_dropped_nodes_and_lists_them(client, auth, repovizz2):
    auth.login()
    answer = client.post("/build/upload", data={
        **build_form(json.dumps(BUILD_DOCUMENT)),
        "folder": files(("pack/tone.wav", b"RIFF"), ("pack/dropped.png", b"png"))}, content_type="multipart/form-data")
    text = answer.get_data(as_text=True)
    assert answer.status_code == 200, text
    assert repovizz2.uploads == ["tone.wav"]
    assert "Not uploaded: 1 file" in text and "dropped.png</code>" in text


# --- Datapacks repovizz2 already holds: anything its schema accepts is shown, edited, finished --------

def stored(repovizz2, structure, name="Stored") -> str:
    return repovizz2.store(str(uuid.uuid4()), name, structure)


def odd(**changes):
    document = json.loads(json.dumps(DOCUMENT))
    for key, change in changes.items():
        change(document)
    return document


UUID = "0f8fad5b-d9cb-469f-a165-70867728950e"
STORED_CASES = {
    "mime null": odd(a=lambda d: d["children"][0].update(mime=None)),
    "mime a number": odd(a=lambda d: d["children"][0].update(mime=5)),
    "type urn:uuid": odd(a=lambda d: d["children"][0].update(type=f"urn:uuid:{UUID}")),
    "id containing a uuid": odd(a=lambda d: d["children"][1].update(id=f"node-{UUID}-x")),
    "empty info name": odd(a=lambda d: d["info"].update(name="")),
    "60 nested containers": odd(a=lambda d: d["children"].append(deep_container(60, node("bottom.bin")))),
    "meta nested 600 deep": odd(a=lambda d: d["children"][0].update(meta=nested_meta(600))),
    "a lone surrogate in names": odd(a=lambda d: d["children"][1].update(name="IMU \ud800"),
                                     b=lambda d: d["info"].update(name="x\udc00")),
    "a link that is not text": odd(a=lambda d: d["children"][0].update(link=5)),
    "a link with a line break": odd(a=lambda d: d["children"][0].update(link="a\r\nb.mp4")),
    "children not a list": {**DOCUMENT, "children": {"x": 1}},
    "a node that is not an object": odd(a=lambda d: d["children"].append("loose")),
}


@pytest.mark.parametrize("structure", STORED_CASES.values(), ids=STORED_CASES.keys())
def test_any_stored_document_shows_and_downloads(client, auth, repovizz2, structure):
    auth.login()
    with_surrogates = structure is STORED_CASES["a lone surrogate in names"]
    datapack_id = stored(repovizz2, structure, name="Stored \ud800" if with_surrogates else "Stored")
    page = client.get(f"/datapacks/{datapack_id}")
    assert page.status_code == 200
    document = client.get(f"/datapacks/{datapack_id}/document.json")
    assert document.status_code == 200
    from portal.rules.strict_json import strict_json

    parsed = json.loads(document.data)  # standard JSON, whatever was stored
    assert isinstance(parsed, dict)
    if not with_surrogates:
        strict_json(document.data)
    else:  # written as its escape, which standard JSON readers take
        assert "\\ud800" in document.get_data(as_text=True)
    assert repovizz2.updates == []


def test_the_deepest_of_60_nested_containers_is_drawn_and_can_be_edited(client, auth, repovizz2):
    from portal.rules.tree_edits import node_fingerprint, node_at

    auth.login()
    structure = odd(a=lambda d: d["children"].append(deep_container(60, node("bottom.bin", name="Bottom"))))
    datapack_id = stored(repovizz2, structure)
    place = "children[2]" + ".children[0]" * 60
    page = client.get(f"/datapacks/{datapack_id}").get_data(as_text=True)
    assert f'id="node-{place}"' in page
    answer = client.post(f"/datapacks/{datapack_id}/nodes/edit", data={
        "place": place, "expect": node_fingerprint(node_at(structure, place)), "name": "Deepest", "text": ""})
    assert answer.status_code == 302
    assert node_at(repovizz2.datapacks[datapack_id]["structure"], place)["name"] == "Deepest"


def test_a_tree_deeper_than_a_page_can_draw_says_where_the_picture_stops(client, auth, repovizz2):
    auth.login()
    datapack_id = stored(repovizz2, odd(a=lambda d: d["children"].append(deep_container(150))))
    page = client.get(f"/datapacks/{datapack_id}").get_data(as_text=True)
    assert "The picture stops here, 100 levels down" in page
    assert "children[2]" + ".children[0]" * 150 in page  # the tree list still names every node


def test_renaming_a_node_beside_a_node_with_mime_null_succeeds(client, auth, repovizz2):
    from portal.rules.tree_edits import node_fingerprint

    auth.login()
    structure = odd(a=lambda d: d["children"][0].update(mime=None, type=f"urn:uuid:{UUID}"),
                    b=lambda d: d["info"].update(name=""))
    datapack_id = stored(repovizz2, structure)
    answer = client.post(f"/datapacks/{datapack_id}/nodes/edit", data={
        "place": "children[1]", "expect": node_fingerprint(structure["children"][1]), "name": "Inertial", "text": "x"})
    assert answer.status_code == 302
    with client.session_transaction() as session:
        assert session["_flashes"][-1][0] == "ok", session["_flashes"]
    now = repovizz2.datapacks[datapack_id]["structure"]
    assert now["children"][1]["name"] == "Inertial"
    assert now["children"][0]["mime"] is None and now["info"]["name"] == ""  # the rest as it was


def test_finishing_the_pending_files_of_an_unusual_document(client, auth, repovizz2):
    auth.login()
    structure = odd(a=lambda d: d["children"][0].update(mime=None, meta=nested_meta(300)),
                    b=lambda d: d["children"].append(deep_container(45, node("deep.bin"))))
    datapack_id = stored(repovizz2, structure)
    answer = client.post(f"/datapacks/{datapack_id}", data={"files": files(*GOOD_FILES, ("deep.bin", b"d"))},
                         content_type="multipart/form-data")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert sorted(repovizz2.uploads) == ["deep.bin", "emg 2.json", "video.mp4"]
    api_answer = client.post(f"/api/datapacks/{datapack_id}/pending", json={"files": API_FILES})
    assert api_answer.status_code == 200 and api_answer.json["uploads"] == []


def test_a_renamed_or_edited_node_with_a_lone_surrogate_elsewhere_keeps_its_fingerprint(client, auth, repovizz2):
    from portal.rules.strict_json import readable_copy
    from portal.rules.tree_edits import node_fingerprint

    auth.login()
    structure = odd(a=lambda d: d["children"][1].update(name="IMU \ud800"))
    datapack_id = stored(repovizz2, structure)
    shown = readable_copy(structure)["children"][1]  # what the page made its form from
    answer = client.post(f"/datapacks/{datapack_id}/nodes/edit", data={
        "place": "children[1]", "expect": node_fingerprint(shown), "name": "IMU", "text": ""})
    assert answer.status_code == 302
    assert repovizz2.datapacks[datapack_id]["structure"]["children"][1]["name"] == "IMU"


# --- Control characters in names and texts --------------------------------------------------------

@pytest.mark.parametrize(("name", "shown"), [("My\x07pack", "U+0007"), ("x\x1b[2J", "U+001B"), ("a\x9bb", "U+009B")])
def test_rename_refuses_control_characters(client, auth, repovizz2, name, shown):
    auth.login()
    datapack_id = stored(repovizz2, json.loads(json.dumps(DOCUMENT)))
    answer = client.post(f"/datapacks/{datapack_id}/rename", data={"name": name})
    assert answer.status_code == 302
    with client.session_transaction() as session:
        category, message = session["_flashes"][-1]
    assert category == "error" and message.startswith(f"Nothing was renamed: the new name contains a control "
                                                      f"character ({shown})")
    assert repovizz2.updates == []


@pytest.mark.parametrize(("fields", "message"), [
    ({"name": "IMU\x00", "text": ""}, "the name contains a control character (U+0000)"),
    ({"name": "IMU", "text": "bell\x07"}, "the text contains a control character (U+0007)"),
])
def test_node_edit_refuses_control_characters(client, auth, repovizz2, fields, message):
    from portal.rules.tree_edits import node_fingerprint

    auth.login()
    structure = json.loads(json.dumps(DOCUMENT))
    datapack_id = stored(repovizz2, structure)
    answer = client.post(f"/datapacks/{datapack_id}/nodes/edit", data={
        "place": "children[1]", "expect": node_fingerprint(structure["children"][1]), **fields})
    assert answer.status_code == 302
    with client.session_transaction() as session:
        category, text = session["_flashes"][-1]
    assert category == "error" and message in text
    assert repovizz2.updates == []


def test_a_node_text_may_hold_line_breaks(client, auth, repovizz2):
    from portal.rules.tree_edits import node_fingerprint

    auth.login()
    structure = json.loads(json.dumps(DOCUMENT))
    datapack_id = stored(repovizz2, structure)
    client.post(f"/datapacks/{datapack_id}/nodes/edit", data={
        "place": "children[1]", "expect": node_fingerprint(structure["children"][1]), "name": "IMU",
        "text": "line one\r\nline two\tend"})
    assert repovizz2.datapacks[datapack_id]["structure"]["children"][1]["text"] == "line one\r\nline two\tend"


def test_adding_a_node_refuses_control_characters_in_its_name(client, auth, repovizz2):
    auth.login()
    datapack_id = stored(repovizz2, json.loads(json.dumps(DOCUMENT)))
    answer = client.post(f"/datapacks/{datapack_id}/nodes/add", data={
        "file": (io.BytesIO(b"x"), "new.bin"), "name": "New\x1bone", "text": ""}, content_type="multipart/form-data")
    assert answer.status_code == 302
    with client.session_transaction() as session:
        category, message = session["_flashes"][-1]
    assert category == "error" and "the name contains a control character (U+001B)" in message
    assert repovizz2.updates == [] and repovizz2.uploads == []


# --- Limits before work: 60,000 paths are counted and refused, never matched or proposed ------------

SIXTY_THOUSAND = [{"path": f"s{index // 100}/{index}.wav", "size": 1} for index in range(60_000)]
CPU_BOUND = 0.5  # seconds of this process's CPU: generous for counting, far below matching or proposing


def _cpu_seconds(send) -> tuple[float, object]:
    started = time.process_time()
    answer = send()
    return time.process_time() - started, answer


def test_build_with_sixty_thousand_paths_is_refused_before_any_work(client, auth):
    auth.login()
    # The request is built first: only the portal's own work is timed, not the test client's encoding.
    request = EnvironBuilder(path="/build", method="POST", base_url="http://portal.test",
                             data={"files_json": json.dumps(SIXTY_THOUSAND)}).get_environ()
    cpu, answer = _cpu_seconds(lambda: client.open(request))
    assert answer.status_code == 413
    assert "60000 files were chosen; the limit is 1000 per datapack" in answer.get_data(as_text=True)
    assert cpu < CPU_BOUND, f"{cpu:.2f} s of CPU"


@pytest.mark.parametrize("path", ["/api/datapacks", "/api/datapacks/d-1/pending"])
def test_the_api_with_sixty_thousand_files_is_refused_before_any_work(client, auth, repovizz2, path):
    auth.login()
    request = EnvironBuilder(path=path, method="POST", base_url="http://portal.test", content_type="application/json",
                             data=json.dumps({"document": {"info": {}, "children": []}, "files": SIXTY_THOUSAND}))
    environ = request.get_environ()
    cpu, answer = _cpu_seconds(lambda: client.open(environ))
    assert answer.status_code == 413
    assert answer.json["error"] == "60000 files were listed; the limit is 1000 per datapack"
    assert cpu < CPU_BOUND, f"{cpu:.2f} s of CPU"
    assert len(repovizz2.mock.calls) == 0
