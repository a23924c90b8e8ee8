"""The result page's "What happened in repovizz2" panel (PORTAL_SHOW_API_CALLS): the calls the portal
made for an upload, in order, with what was sent and answered, never a token; the same in Python;
the browser's report of its own requests checked; off by default."""
from __future__ import annotations

import html
import json
import re

import pytest

from portal.rules import api_calls
from portal.rules.config import settings_from_env
from tests.portal.samples import DOCUMENT, GOOD_FILES, doc_file, files

API = "/api/v1.0"


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
    assert 'session.headers["Authorization"] = "Bearer YOUR_ACCESS_TOKEN"' in snippet
    assert 'BASE = "http://repovizz2.test/api/v1.0"' in snippet
    assert 'datapack_id = answer.json()["item"]["id"]' in snippet
    assert 'with open("emg 2.json", "rb") as file:' in snippet
    assert 'session.post(f"{BASE}/datapacks/{datapack_id}/content/emg%202.json"' in snippet
    compile(snippet, "snippet", "exec")


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
    assert api_calls.from_browser(reported) == []


def test_a_report_is_shortened_and_marked():
    (call,) = api_calls.from_browser(json.dumps([{"method": "POST", "path": "/api/v1.0/datapacks", "status": 200,
                                                  "sent": {"structure": {"children": list(range(50))}},
                                                  "answer": "x" * 10_000, "reported": False}]))
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
    repovizz2.fail_upload["emg 2.json"] = 500
    page = client.post("/upload", data={"document": doc_file(), "files": files(*GOOD_FILES)},
                       content_type="multipart/form-data").get_data(as_text=True)
    (datapack_id,) = repovizz2.datapacks
    here = f"{API}/datapacks/{datapack_id}"
    assert call_lines(page) == [f"POST {API}/datapacks", f"GET {here}/content", f"POST {here}/content/video.mp4",
                                f"POST {here}/content/emg%202.json", f"GET {here}/content", f"GET {here}"]
    assert re.search(r"emg%202\.json</code>\s*→ <span class=\"api-status\">500</span>", panel(page))

    del repovizz2.fail_upload["emg 2.json"]
    page = client.post(f"/datapacks/{datapack_id}", data={"folder": files(("pack/video.mp4", b"v" * 1000),
                                                                           ("pack/emg 2.json", b"[1, 2, 3]"))},
                       content_type="multipart/form-data").get_data(as_text=True)
    # Only the pending file is sent; the calls start with reading the datapack the resume is for.
    assert call_lines(page) == [f"GET {here}", f"GET {here}/content", f"POST {here}/content/emg%202.json",
                                f"GET {here}/content", f"GET {here}"]
