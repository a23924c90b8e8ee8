"""The result page's "What happened in repovizz2" panel (PORTAL_SHOW_API_CALLS): the calls the portal
made for an upload, in order, with what was sent and answered, never a token; the same in Python;
the browser's report of its own requests checked; off by default."""
from __future__ import annotations

import ast
import html
import json
import re

import pytest

from portal.rules import api_calls
from portal.rules.config import settings_from_env
from tests.portal.samples import DOCUMENT, GOOD_FILES, doc_file, files

API = "/api/v1.0"

# Where a value goes in the snippet, only these: literals, the few variables it sets, and BASE + ... .
SNIPPET_NAMES = {"json", "requests", "BASE", "session", "answer", "datapack_id", "document", "structure", "file",
                 "open", "print"}
SNIPPET_CALLS = {"requests.Session", "json.load", "json.dumps", "session.post", "session.get", "session.request",
                 "session.get.json", "session.request.json", "answer.json", "answer.raise_for_status", "open", "print"}


def _dotted(node) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return _dotted(node.func) + "()"
    return type(node).__name__


def assert_only_literals(snippet: str) -> None:
    """The snippet parses, calls nothing but requests, json, open and print, and names nothing else:
    every value in it is a literal."""
    tree = ast.parse(snippet)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            assert _dotted(node.func).replace("()", "") in SNIPPET_CALLS, ast.unparse(node)
        elif isinstance(node, ast.Name):
            assert node.id in SNIPPET_NAMES, ast.unparse(node)
        assert not isinstance(node, (ast.Lambda, ast.JoinedStr, ast.Subscript)) or (
            isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant)), ast.unparse(node)


@pytest.fixture
def shown(app):
    app.config["SHOW_API_CALLS"] = True


def panel(page: str) -> str:
    start = page.index('<section class="api-calls"')
    return page[start:page.index("</section>", start)]


def call_lines(page: str) -> list[str]:
    """'METHOD path' of each listed call, in the order shown."""
    return [f"{method} {html.unescape(path)}" for method, path in re.findall(
        r'<strong class="api-method">(\w+)</strong> <code>([^<]+)</code>', panel(page))]


def test_off_by_default():
    assert settings_from_env({})["SHOW_API_CALLS"] is False
    assert settings_from_env({"PORTAL_SHOW_API_CALLS": "1"})["SHOW_API_CALLS"] is True
    assert settings_from_env({"PORTAL_SHOW_API_CALLS": "no"})["SHOW_API_CALLS"] is False


def test_no_panel_unless_shown(client, auth, repovizz2):
    auth.login()
    page = client.post("/upload", data={"document": doc_file(), "files": files(*GOOD_FILES)},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "MYO is in repovizz2" in page
    assert "What happened in repovizz2" not in page


def test_the_result_page_lists_the_calls_in_order(client, auth, repovizz2, shown):
    auth.login()
    answer = client.post("/upload", data={"document": doc_file(), "files": files(*GOOD_FILES)},
                         content_type="multipart/form-data")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200, page
    (datapack_id,) = repovizz2.datapacks
    here = f"{API}/datapacks/{datapack_id}"
    # As the notebook: create, list the content, send each file, list again; then the portal reads it back.
    assert call_lines(page) == [
        f"POST {API}/datapacks", f"GET {here}/content", f"POST {here}/content/video.mp4",
        f"POST {here}/content/emg%202.json", f"GET {here}/content", f"GET {here}"]
    shown_panel = html.unescape(panel(page))
    assert '"name": "MYO"' in shown_panel and '"owner": "u-1"' in shown_panel and '"structure": {' in shown_panel
    assert '"filename": "video.mp4"' in shown_panel and '"size": 1000' in shown_panel
    # The listing before is keyed by the links, the one after by the new references.
    listings = re.findall(r'aria-label="Answer to call (\d+)">([^<]*)</pre>', panel(page))
    before, after = json.loads(html.unescape(listings[1][1])), json.loads(html.unescape(listings[4][1]))
    assert sorted(before) == ["emg 2.json", "video.mp4"]
    assert len(after) == 2 and all(key.startswith("repovizz:") for key in after)
    # Never a token; a placeholder in the snippet instead, which is Python that compiles.
    assert "access-1" not in page and "refresh-1" not in page
    snippet = html.unescape(re.search(r'<pre class="api-json snippet"[^>]*><code>(.*?)</code></pre>',
                                      page, re.S).group(1))
    assert "session.headers['Authorization'] = 'Bearer YOUR_ACCESS_TOKEN'" in snippet
    assert "BASE = 'http://repovizz2.test/api/v1.0'" in snippet
    assert "datapack_id = answer.json()['item']['id']" in snippet
    assert "with open('emg 2.json', 'rb') as file:" in snippet
    assert "session.post(BASE + '/datapacks/' + datapack_id + '/content/emg%202.json'" in snippet
    assert_only_literals(snippet)


def test_the_api_answers_its_calls_and_the_result_page_shows_them_as_reported(client, auth, repovizz2, shown):
    auth.login()
    created = client.post("/api/datapacks", json={"document": DOCUMENT, "files": [
        {"path": path, "size": len(data)} for path, data in GOOD_FILES]})
    assert created.status_code == 201
    datapack_id = created.json["datapack_id"]
    here = f"{API}/datapacks/{datapack_id}"
    # As the notebook does: create, then list the content (the links still to upload) before any file.
    assert [(call["method"], call["path"]) for call in created.json["api_calls"]] == [
        ("POST", f"{API}/datapacks"), ("GET", f"{here}/content")]
    reported = list(created.json["api_calls"])
    for upload in created.json["uploads"]:
        put = client.put(upload["url"], data=dict(GOOD_FILES)[upload["link"]], content_type="application/octet-stream")
        (sent,) = put.json["api_calls"]
        assert sent["method"] == "POST" and sent["answer"]["id"] in put.json["ref"]
        reported.append(sent)
    page = client.post(f"/datapacks/{datapack_id}/result", data={
        "document": json.dumps(DOCUMENT), "sizes": "{}", "api_calls": json.dumps(reported)}).get_data(as_text=True)
    assert call_lines(page) == [f"POST {API}/datapacks", f"GET {here}/content", f"POST {here}/content/video.mp4",
                                f"POST {here}/content/emg%202.json", f"GET {here}/content", f"GET {here}"]
    assert panel(page).count("(reported by your browser)") == 4


def test_no_calls_in_the_api_answers_unless_shown(client, auth, repovizz2):
    auth.login()
    created = client.post("/api/datapacks", json={"document": DOCUMENT, "files": [
        {"path": path, "size": len(data)} for path, data in GOOD_FILES]})
    assert "api_calls" not in created.json
    put = client.put(created.json["uploads"][0]["url"], data=b"v" * 1000, content_type="application/octet-stream")
    assert "api_calls" not in put.json


@pytest.mark.parametrize("reported", [
    "not json", "{}", json.dumps([{"method": "PATCH", "path": "/api/v1.0/datapacks"}]),
    json.dumps([{"method": "GET", "path": "https://elsewhere.example/api/v1.0"}]),
    json.dumps([{"method": "GET", "path": "/api/v1.0/x\n<script>"}]),
    json.dumps([{"method": "GET", "path": "/api/v1.0/x", "status": "200"}]),
    json.dumps([{"method": "GET", "path": "/api/v1.0/x"}] * (api_calls.MAX_REPORTED_CALLS + 1)),
    "[" + " " * api_calls.MAX_REPORTED_BYTES + "]",
])
def test_a_bad_report_from_the_browser_is_left_out(reported):
    assert api_calls.from_browser(reported, KEY) == []


KEY = api_calls.signing_key("test")
INJECTION = '/api/v1.0/x"+__import__("os").system("id")+"'


@pytest.mark.parametrize("made", [
    {"method": "GET", "path": "/api/v1.0/user", "status": 200},  # a call the portal never signed
    {"method": "GET", "path": INJECTION, "status": 200},
])
def test_a_call_the_portal_did_not_make_is_left_out(made):
    assert api_calls.from_browser(json.dumps([made]), KEY) == []
    forged = api_calls.signed([made], api_calls.signing_key("another secret"))
    assert api_calls.from_browser(json.dumps(forged), KEY) == []


def test_a_signed_call_changed_on_its_way_is_left_out():
    (made,) = api_calls.signed([{"method": "GET", "path": "/api/v1.0/user", "sent": None, "status": 200,
                                 "answer": {"id": 1}}], KEY)
    assert len(api_calls.from_browser(json.dumps([made]), KEY)) == 1
    assert api_calls.from_browser(json.dumps([{**made, "answer": {"id": 2}}]), KEY) == []


def test_a_report_is_shortened_and_marked():
    (call,) = api_calls.from_browser(json.dumps(api_calls.signed([{
        "method": "POST", "path": "/api/v1.0/datapacks", "status": 200,
        "sent": {"structure": {"children": list(range(50))}}, "answer": "x" * 10_000, "reported": False}], KEY)), KEY)
    assert call["reported"] is True
    assert call["sent"]["structure"]["children"] == [0, 1, 2, 3, 4, 5, "… 44 more"]
    assert len(call["answer"]) < 200 and call["answer"].endswith("(10000 characters)")


def test_shorten_keeps_the_shape():
    deep = {"a": {"b": {"c": {"d": {"e": {"f": {"g": 1}}}}}}}
    assert api_calls.shorten(deep) == {"a": {"b": {"c": {"d": {"e": {"f": "…"}}}}}}
    many = {f"k{i}": i for i in range(10)}
    assert api_calls.shorten(many) == {**{f"k{i}": i for i in range(6)}, "…": "4 more"}
    assert api_calls.shorten([True, None, 1.5]) == [True, None, 1.5]


def test_a_failure_and_the_resume_show_their_calls(client, auth, repovizz2, shown):
    auth.login()
    repovizz2.fail("upload", 500, only="emg 2.json")
    page = client.post("/upload", data={"document": doc_file(), "files": files(*GOOD_FILES)},
                       content_type="multipart/form-data").get_data(as_text=True)
    (datapack_id,) = repovizz2.datapacks
    here = f"{API}/datapacks/{datapack_id}"
    assert call_lines(page) == [f"POST {API}/datapacks", f"GET {here}/content", f"POST {here}/content/video.mp4",
                                f"POST {here}/content/emg%202.json", f"GET {here}/content", f"GET {here}"]
    assert re.search(r"emg%202\.json</code>\s*→ <span class=\"api-status\">500</span>", panel(page))

    repovizz2.mend("upload")
    page = client.post(f"/datapacks/{datapack_id}", data={"folder": files(("pack/video.mp4", b"v" * 1000),
                                                                           ("pack/emg 2.json", b"[1, 2, 3]"))},
                       content_type="multipart/form-data").get_data(as_text=True)
    # Only the pending file is sent; the calls start with reading the datapack the resume is for.
    assert call_lines(page) == [f"GET {here}", f"GET {here}/content", f"POST {here}/content/emg%202.json",
                                f"GET {here}/content", f"GET {here}"]


HOSTILE = '"); __import__("os").system("id"); ("'


def test_the_snippet_writes_every_value_as_a_literal_and_leaves_out_a_path_that_is_not_plain():
    """The injection case of a hostile review, and hostile values wherever the snippet shows one."""
    calls = [
        {"method": "POST", "path": f"{API}/datapacks", "status": 200, "sent": {"name": HOSTILE, "owner": HOSTILE},
         "answer": {"item": {"id": "d-1"}}},
        {"method": "POST", "path": f"{API}/datapacks/d-1/content/{HOSTILE}", "status": 200,
         "sent": {"file": {"content_type": HOSTILE}}},
        {"method": "POST", "path": f"{API}/datapacks/d-1/content/a%22%29%3B%20x", "status": 200,
         "sent": {"file": {"content_type": HOSTILE, "filename": HOSTILE}}},
        {"method": "GET", "path": INJECTION, "status": 200},
        {"method": "DELETE", "path": f"{API}/datapacks/d-1", "status": 200,
         "sent": {"x": [HOSTILE, None, True, float("nan"), {"k": HOSTILE}]}},
        {"method": "GET", "path": f"{API}/datapacks/d-1", "status": HOSTILE},
    ]
    snippet = api_calls.python_snippet(calls, 'http://x"+__import__("os")+"')
    assert_only_literals(snippet)
    assert "__import__" not in snippet.replace(repr(HOSTILE), "").replace(repr('http://x"+__import__("os")+"/api/v1.0'), "") \
        .replace(repr('a"); x'), "")
    assert "# 2. (left out: not a plain call to repovizz2's API)" in snippet
    assert "# 4. (left out: not a plain call to repovizz2's API)" in snippet


def call_labels(page: str) -> list[str]:
    return [re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", label))).strip()
            for label in re.findall(r'<h3 class="api-call-label">(.*?)</h3>', panel(page), re.S)]


def test_the_panel_says_each_call_in_plain_words_near_the_top(client, auth, repovizz2, shown):
    auth.login()
    page = client.post("/upload", data={"document": doc_file(), "files": files(*GOOD_FILES)},
                       content_type="multipart/form-data").get_data(as_text=True)
    labels = call_labels(page)
    assert labels[:2] == ["1. Create the datapack", "2. List its content: the links still waiting for a file"]
    assert re.fullmatch(r"3\. Send Video \(video\.mp4\) → repovizz:\S+", labels[2])
    assert re.fullmatch(r"4\. Send EMG \(emg 2\.json\) → repovizz:\S+", labels[3])
    assert labels[4:] == ["5. List its content again: each key is now repovizz:<id>", "6. Read the datapack back"]
    # The listings before and after side by side, above the calls; the panel before the table of files,
    # the rewritten document folded.
    before = re.search(r'aria-label="The content listed before the files">([^<]*)</pre>', page)
    after = re.search(r'aria-label="The content listed after the files">([^<]*)</pre>', page)
    assert sorted(json.loads(html.unescape(before.group(1)))) == ["emg 2.json", "video.mp4"]
    assert all(key.startswith("repovizz:") for key in json.loads(html.unescape(after.group(1))))
    assert page.index('<section class="api-calls"') < page.index('<table class="result')
    assert "<details><summary>View the rewritten document</summary>" in page


def test_the_example_opened_again_shows_the_panel_rebuilt_from_repovizz2(client, auth, repovizz2, shown):
    auth.login()
    first = client.post("/upload/example").get_data(as_text=True)
    first_labels = call_labels(first)
    again = client.post("/upload/example")
    assert again.status_code == 303
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    labels = call_labels(page)
    # The same story as the first time: create, list, send each file with its new id, list again.
    assert labels[:2] == first_labels[:2]
    sends = [label for label in labels if ". Send " in label]
    assert sends == [label for label in first_labels if ". Send " in label]
    assert any(re.fullmatch(r"\d+\. Send Set-up \(setup\.png\) → repovizz:\S+", label) for label in sends)
    assert labels[-2:] == [f"{len(labels) - 1}. Read the datapack back",
                           f"{len(labels)}. List its content again: each key is now repovizz:<id>"]
    assert panel(page).count("(rebuilt)") == len(labels) - 2
    assert "The content listed before the files" in page and "The content listed after the files" in page


def test_the_example_opened_again_shows_no_panel_unless_shown(client, auth, repovizz2):
    auth.login()
    client.post("/upload/example")
    again = client.post("/upload/example")
    assert "What happened in repovizz2" not in client.get(again.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize(("made", "said"), [
    ({"method": "GET", "path": f"{API}/user"}, "1. Ask who you are (and your datapacks)"),
    ({"method": "POST", "path": f"{API}/datapacks/d-1"}, "1. Save the datapack's document"),
    ({"method": "POST", "path": f"{API}/datapacks/d-1/content/a%2Fb%20c.csv"}, "1. Send the file for a/b c.csv"),
    ({"method": "PUT", "path": f"{API}/elsewhere"}, f"1. PUT {API}/elsewhere"),
])
def test_each_call_has_plain_words(made, said):
    assert api_calls.labels([made], {}) == [said]


def test_an_upload_rebuilt_from_what_repovizz2_holds_claims_no_more_than_it_holds():
    original = {"info": {"name": "x"}, "children": [
        {"class": "data", "name": "A", "text": "", "link": "a.csv"},
        {"class": "data", "name": "B", "text": "", "link": "b.csv"}]}
    calls = api_calls.rebuilt_upload(original, {"id": "d-1", "name": "x", "owner": 2, "structure": {}},
                                     [("children[0]", "a.csv", "A", "repovizz:" + "1" * 40),
                                      ("children[1]", "b.csv", "B", "b.csv")])
    assert [(made["method"], made["path"]) for made in calls] == [
        ("POST", f"{API}/datapacks"), ("GET", f"{API}/datapacks/d-1/content"),
        ("POST", f"{API}/datapacks/d-1/content/a.csv")]  # b.csv is still pending: no sending is claimed
    assert all(made["rebuilt"] for made in calls)
    assert api_calls.new_reference(calls[2]) == "repovizz:" + "1" * 40
    assert api_calls.labels(calls, {"a.csv": "A"})[2] == "3. Send A (a.csv)"
