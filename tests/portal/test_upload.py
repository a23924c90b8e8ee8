"""The upload page: validate first, create second; the result page; failures half-way."""
from __future__ import annotations

import io
import json
import re
import zipfile

import pytest

from tests.portal.conftest import AuthActions
from tests.portal.samples import DOCUMENT, GOOD_FILES, doc_file, files

def test_upload_page_needs_login(client):
    page = client.get("/upload")
    assert page.status_code == 302
    assert "/auth/login?next=/upload" in page.headers["Location"]


def test_upload_page_states_limits(client, auth):
    auth.login()
    page = client.get("/upload").get_data(as_text=True)
    pickers = page.split("<legend>Document and files</legend>", 1)[1].split("</fieldset>", 1)[0]
    assert "Up to 1000 files" in " ".join(pickers.split())  # beside the pickers, not by the button
    archive = page.split("<legend>Or an archive</legend>", 1)[1].split("</fieldset>", 1)[0]
    assert "may unpack to at most" in archive
    assert "Upload the example" in page
    assert "Choose the files again" not in page


def test_after_a_problem_the_plain_form_says_the_files_must_be_chosen_again(client, auth, repovizz2):
    auth.login()
    page = client.post("/upload", data={"document": doc_file(), "files": files(*GOOD_FILES[:1])},
                       content_type="multipart/form-data")
    assert page.status_code == 422
    assert "<strong>Choose the files again</strong>" in page.get_data(as_text=True)


def test_good_upload_shows_every_reference(client, auth, repovizz2):
    auth.login()
    page = client.post("/upload", data={"document": doc_file(), "files": files(*GOOD_FILES)},
                       content_type="multipart/form-data")
    text = page.get_data(as_text=True)
    assert page.status_code == 200, text
    assert "MYO is in repovizz2" in text
    assert repovizz2.creates == 1
    assert sorted(repovizz2.uploads) == ["emg 2.json", "video.mp4"]
    (item,) = repovizz2.datapacks.values()
    for node in (item["structure"]["children"][0], item["structure"]["children"][1]["children"][0]):
        assert node["link"].startswith("repovizz:")
        assert node["link"] in text
    assert "children[1].children[0]" in text and "emg 2.json" in text
    assert '<td data-label="In">IMU <small' in text and '<td data-label="In">top level <small' in text
    assert sorted(repovizz2.files.values()) == sorted([b"v" * 1000, b"[1, 2, 3]"])


def test_folder_upload_with_document_inside(client, auth, repovizz2):
    auth.login()
    folder = files(("pack/datapack.json", json.dumps(DOCUMENT).encode()), ("pack/video.mp4", b"v"),
                   ("pack/emg 2.json", b"[1]"), ("pack/.DS_Store", b"junk"))
    page = client.post("/upload", data={"folder": folder}, content_type="multipart/form-data")
    assert page.status_code == 200, page.get_data(as_text=True)
    assert sorted(repovizz2.uploads) == ["emg 2.json", "video.mp4"]


def test_zip_upload(client, auth, repovizz2):
    auth.login()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("pack/datapack.json", json.dumps(DOCUMENT))
        archive.writestr("pack/video.mp4", b"v" * 5000)
        archive.writestr("pack/emg 2.json", b"[1]")
    buffer.seek(0)
    page = client.post("/upload", data={"archive": (buffer, "pack.zip")}, content_type="multipart/form-data")
    assert page.status_code == 200, page.get_data(as_text=True)
    assert sorted(repovizz2.files.values()) == [b"[1]", b"v" * 5000]


BROKEN = {**DOCUMENT, "children": [{"class": "data", "name": "Video", "text": "cam", "link": "video.mp4"},
                                   {"class": "container", "name": "IMU", "text": "imu",
                                    "children": [{"class": "data", "name": "EMG", "text": "emg"}]}]}


@pytest.mark.parametrize(("document", "sent", "messages"), [
    (b"{not json", GOOD_FILES, ["the document</strong>: is not valid JSON"]),
    (b"[]", GOOD_FILES, ["this does not look like a datapack document (it is a JSON array)"]),
    (BROKEN, GOOD_FILES[:1], ["<strong class=\"problem-where\">IMU › EMG</strong>: &#39;link&#39; is required",
                              "<code>children[1].children[0]</code>"]),
    (DOCUMENT, GOOD_FILES[:1], ["<strong class=\"problem-where\">IMU › EMG</strong>: no file was sent for link "
                                "&#39;emg 2.json&#39;"]),
    (DOCUMENT, (("video.mp4", b""), GOOD_FILES[1]), ["file &#39;video.mp4&#39; is empty"]),
    ({**DOCUMENT, "children": DOCUMENT["children"] + [{"class": "data", "name": "again", "text": "", "link": "video.mp4"}]},
     GOOD_FILES, ["link &#39;video.mp4&#39; is used by 2 data nodes: Video (children[0]), again (children[2])"]),
    ({**DOCUMENT, "children": [{"class": "data", "name": "x", "text": "", "link": "../etc/passwd"}]},
     (("passwd", b"x"),), ["<strong class=\"problem-where\">x</strong>: link &#39;../etc/passwd&#39; goes up a folder "
                           "with &#39;..&#39;"]),
])
def test_bad_input_creates_nothing(client, auth, repovizz2, document, sent, messages):
    auth.login()
    page = client.post("/upload", data={"document": doc_file(document), "files": files(*sent)},
                       content_type="multipart/form-data")
    text = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "Nothing was created" in text
    for message in messages:
        assert message in text
    assert repovizz2.mock.calls == [] or repovizz2.creates == 0
    assert repovizz2.uploads == []


def test_nothing_chosen(client, auth, repovizz2):
    auth.login()
    page = client.post("/upload", data={}, content_type="multipart/form-data")
    assert page.status_code == 422
    assert "choose a datapack document (.json) and its files, or one .zip" in page.get_data(as_text=True)


def test_name_taken_offers_the_existing_datapack(client, auth, repovizz2):
    auth.login()
    client.post("/upload", data={"document": doc_file(), "files": files(*GOOD_FILES)}, content_type="multipart/form-data")
    (existing,) = repovizz2.datapacks
    page = client.post("/upload", data={"document": doc_file(), "files": files(*GOOD_FILES)},
                       content_type="multipart/form-data")
    text = page.get_data(as_text=True)
    assert page.status_code == 409
    assert f"/datapacks/{existing}" in text
    # The existing one is complete: nothing to finish there.
    assert ">Open the existing datapack</a>" in text and "pending file" not in text
    assert repovizz2.creates == 2 and len(repovizz2.datapacks) == 1


def test_name_taken_with_pending_files_says_so(client, auth, repovizz2):
    auth.login()
    repovizz2.fail("upload", 500, only="emg 2.json")
    client.post("/upload", data={"document": doc_file(), "files": files(*GOOD_FILES)}, content_type="multipart/form-data")
    repovizz2.mend("upload")
    (existing,) = repovizz2.datapacks
    text = client.post("/upload", data={"document": doc_file(), "files": files(*GOOD_FILES)},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert f'href="/datapacks/{existing}">Open the existing datapack and finish its 1 pending file</a>' in text


def test_name_taken_offers_the_form_again_under_a_new_name(client, auth, repovizz2):
    auth.login()
    client.post("/upload", data={"document": doc_file(), "files": files(*GOOD_FILES)}, content_type="multipart/form-data")
    page = client.post("/upload", data={"document": doc_file(), "files": files(*GOOD_FILES)},
                       content_type="multipart/form-data")
    text = page.get_data(as_text=True)
    assert page.status_code == 409
    assert 'id="upload-form"' in text and 'action="/upload"' in text
    assert re.search(r'<input[^>]*name="name"[^>]*value="MYO \(2\)"', text)
    assert "Choose the files again" in text
    assert 'src="/static/upload.js"' in text

    # The same document and files, under the offered name: created, info.name and all.
    page = client.post("/upload", data={"document": doc_file(), "files": files(*GOOD_FILES), "name": " MYO  (2) "},
                       content_type="multipart/form-data")
    assert page.status_code == 200, page.get_data(as_text=True)
    assert "MYO (2) is in repovizz2" in page.get_data(as_text=True)
    (renamed,) = [item for item in repovizz2.datapacks.values() if item["name"] == "MYO (2)"]
    assert renamed["structure"]["info"]["name"] == "MYO (2)"

    # Taken again: the next number is offered.
    text = client.post("/upload", data={"document": doc_file(), "files": files(*GOOD_FILES), "name": "MYO (2)"},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert 'value="MYO (3)"' in text


def test_the_offered_name_is_one_the_user_does_not_have_yet(client, auth, repovizz2):
    """"MYO" and "MYO (2)" exist: uploading "MYO" again offers "MYO (3)", not a second clash."""
    auth.login()
    for name in ("", "MYO (2)"):
        client.post("/upload", data={"document": doc_file(), "files": files(*GOOD_FILES), "name": name},
                    content_type="multipart/form-data")
    assert sorted(item["name"] for item in repovizz2.datapacks.values()) == ["MYO", "MYO (2)"]
    text = client.post("/upload", data={"document": doc_file(), "files": files(*GOOD_FILES)},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert re.search(r'<input[^>]*name="name"[^>]*value="MYO \(3\)"', text)
    answer = client.post("/api/datapacks", json={"document": DOCUMENT, "files": [
        {"path": name, "size": len(data)} for name, data in GOOD_FILES]})
    assert answer.status_code == 409 and answer.json["suggested_name"] == "MYO (3)"


def test_an_empty_other_name_keeps_the_documents_name(client, auth, repovizz2):
    auth.login()
    page = client.post("/upload", data={"document": doc_file(), "files": files(*GOOD_FILES), "name": "  "},
                       content_type="multipart/form-data")
    assert page.status_code == 200
    assert [item["name"] for item in repovizz2.datapacks.values()] == ["MYO"]


def test_the_builders_taken_name_keeps_its_own_advice(app, client, auth, repovizz2):
    from portal.services.repovizz2_client import NameTaken

    auth.login()
    with app.test_request_context("/build/upload", method="POST"):
        from portal.web.error_pages import handle_repovizz2_error
        page, status = handle_repovizz2_error(NameTaken("Datapack MYO already exists with id (x-1)"))
    assert status == 409
    assert 'id="upload-form"' not in page and "another <code>info.name</code>" in page


def test_failure_half_way_shows_what_is_uploaded_and_how_to_finish(client, auth, repovizz2):
    auth.login()
    repovizz2.fail("upload", 500, only="emg 2.json")
    page = client.post("/upload", data={"document": doc_file(), "files": files(*GOOD_FILES)},
                       content_type="multipart/form-data")
    text = page.get_data(as_text=True)
    assert page.status_code == 502
    assert "The upload stopped" in text
    (datapack_id,) = repovizz2.datapacks
    assert "1 of 2 files" in text
    assert f"/datapacks/{datapack_id}" in text
    assert '<span class="status failed">failed</span>' in text

    repovizz2.mend("upload")
    page = client.get(f"/datapacks/{datapack_id}")
    assert "1 file still to upload" in page.get_data(as_text=True)
    page = client.post(f"/datapacks/{datapack_id}", data={"folder": files(("pack/video.mp4", b"v" * 1000),
                                                                           ("pack/emg 2.json", b"[1, 2, 3]"))},
                       content_type="multipart/form-data")
    text = page.get_data(as_text=True)
    assert page.status_code == 200, text
    assert repovizz2.uploads.count("video.mp4") == 1  # the uploaded one was not sent again
    assert repovizz2.creates == 1
    assert "All 2 files were uploaded" in text


def test_example_upload(client, auth, repovizz2):
    auth.login()
    page = client.post("/upload/example")
    text = page.get_data(as_text=True)
    assert page.status_code == 200, text
    assert text.count("repovizz:") >= 4
    assert "sensors/emg 2.json" in text


def test_example_zip_download(client):
    page = client.get("/example.zip")
    names = zipfile.ZipFile(io.BytesIO(page.data)).namelist()
    assert "example/datapack.json" in names and "example/sensors/emg 2.json" in names


def test_damaged_zip_entry_stops_cleanly(client, auth, repovizz2):
    """A zip whose entry fails its CRC only breaks while it is read: the page says so, nothing half-stored."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("datapack.json", json.dumps(DOCUMENT))
        archive.writestr("video.mp4", b"v" * 5000)
        archive.writestr("emg 2.json", b"[1]")
    raw = bytearray(buffer.getvalue())
    raw[raw.index(b"v" * 100) + 50] = ord("X")  # flip one byte of the stored video: its CRC no longer matches
    auth.login()
    page = client.post("/upload", data={"archive": (io.BytesIO(bytes(raw)), "pack.zip")},
                       content_type="multipart/form-data")
    text = page.get_data(as_text=True)
    assert page.status_code == 502
    assert "A file could not be read" in text and "video.mp4" in text
    (item,) = repovizz2.datapacks.values()
    assert item["structure"]["children"][0]["link"] == "video.mp4"  # still pending
    assert "Open it to send the" in text


def test_pressing_upload_the_example_twice_leaves_one_example(client, auth, repovizz2):
    auth.login()
    assert client.post("/upload/example").status_code == 200
    (example,) = repovizz2.datapacks
    again = client.post("/upload/example")
    assert again.status_code == 303
    assert again.headers["Location"] == f"/datapacks/{example}?example=again"
    assert list(repovizz2.datapacks) == [example] and repovizz2.uploads.count("setup.png") == 1
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "You already have the example" in page
    assert 'action="/upload/example"' in page and 'name="copy"' in page and "Make another copy" in page


def test_make_another_copy_of_the_example(client, auth, repovizz2):
    auth.login()
    client.post("/upload/example")
    for _ in range(2):
        page = client.post("/upload/example", data={"copy": "1"})
        assert page.status_code == 200, page.get_data(as_text=True)
    names = sorted(item["name"] for item in repovizz2.datapacks.values())
    assert names == ["Portal example", "Portal example (2)", "Portal example (3)"]
    (third,) = [item for item in repovizz2.datapacks.values() if item["name"] == "Portal example (3)"]
    assert third["structure"]["info"]["name"] == "Portal example (3)"
    # Without "copy", the first one is opened again, whatever copies there are.
    assert client.post("/upload/example").status_code == 303
    assert len(repovizz2.datapacks) == 3


def test_a_copy_of_the_example_is_made_even_when_the_first_is_gone(client, auth, repovizz2):
    auth.login()
    page = client.post("/upload/example", data={"copy": "1"})
    assert page.status_code == 200
    assert [item["name"] for item in repovizz2.datapacks.values()] == ["Portal example (2)"]


def test_next_name():
    from portal.services.upload_pipeline import next_name

    assert next_name("MYO") == "MYO (2)"
    assert next_name("MYO (2)") == "MYO (3)"
    assert next_name("MYO (9)") == "MYO (10)"
    assert next_name("MYO (x)") == "MYO (x) (2)"
    assert next_name("(4)") == "(4) (2)"


def result_rows(text: str) -> list[tuple[str, str, str]]:
    """(original file, size, reference) of each row of the result table."""
    rows = []
    for row in re.findall(r"<tr class=\"[a-z]+\">(.*?)</tr>", text, re.S):
        original = re.search(r'data-label="Original file">(.*?)</td>', row, re.S).group(1)
        size = re.search(r'data-label="Size" class="size">(.*?)</td>', row, re.S).group(1)
        reference = re.search(r'data-label="Reference">(.*?)</td>', row, re.S).group(1)
        rows.append(tuple(re.sub(r"<[^>]+>", "", cell).strip() for cell in (original, size, reference)))
    return rows


def test_after_a_plain_resume_every_row_shows_its_original_file_size_and_reference(client, auth, repovizz2):
    auth.login()
    repovizz2.fail("upload", 500, only="emg 2.json")
    client.post("/upload", data={"document": doc_file(), "files": files(*GOOD_FILES)}, content_type="multipart/form-data")
    repovizz2.mend("upload")
    (datapack_id,) = repovizz2.datapacks
    page = client.post(f"/datapacks/{datapack_id}", data={"folder": files(("pack/video.mp4", b"v" * 1000),
                                                                           ("pack/emg 2.json", b"[1, 2, 3]"))},
                       content_type="multipart/form-data")
    assert page.status_code == 200
    nodes = repovizz2.datapacks[datapack_id]["structure"]
    video, emg = nodes["children"][0]["link"], nodes["children"][1]["children"][0]["link"]
    assert result_rows(page.get_data(as_text=True)) == [("video.mp4", "1.0 KB", video), ("emg 2.json", "9 bytes", emg)]


def test_after_a_scripted_resume_the_result_page_shows_every_file(client, auth, repovizz2):
    """The enhanced page resumes through the JSON API and posts only the sizes it sent to the result page."""
    auth.login()
    created = client.post("/api/datapacks", json={"document": DOCUMENT, "files": [
        {"path": "pack/video.mp4", "size": 1000}, {"path": "pack/emg 2.json", "size": 9}]}).json
    video = next(u for u in created["uploads"] if u["link"] == "video.mp4")
    client.put(video["url"], data=b"v" * 1000)
    # Later, from the datapack page: the pending files are listed, then sent.
    datapack_id = created["datapack_id"]
    pending = client.post(f"/api/datapacks/{datapack_id}/pending", json={"files": [
        {"path": "again/video.mp4", "size": 1000}, {"path": "again/emg 2.json", "size": 9}]}).json
    assert pending["pending_links"] == ["emg 2.json"]
    (emg,) = pending["uploads"]
    client.put(emg["url"], data=b"[1, 2, 3]")
    page = client.post(f"/datapacks/{datapack_id}/result", data={"document": "", "sizes": json.dumps({"emg 2.json": 9})})
    links = [node["link"] for node in (repovizz2.datapacks[datapack_id]["structure"]["children"][0],
                                       repovizz2.datapacks[datapack_id]["structure"]["children"][1]["children"][0])]
    assert result_rows(page.get_data(as_text=True)) == [("video.mp4", "1.0 KB", links[0]), ("emg 2.json", "9 bytes", links[1])]


def test_a_file_sent_from_another_login_is_named_as_repovizz2_names_it(app, client, auth, repovizz2):
    auth.login()
    repovizz2.fail("upload", 500, only="emg 2.json")
    client.post("/upload", data={"document": doc_file(), "files": files(*GOOD_FILES)}, content_type="multipart/form-data")
    repovizz2.mend("upload")
    (datapack_id,) = repovizz2.datapacks
    other = app.test_client()
    AuthActions(other).login()
    page = other.post(f"/datapacks/{datapack_id}", data={"files": files(("emg 2.json", b"[1, 2, 3]"))},
                      content_type="multipart/form-data")
    video = repovizz2.datapacks[datapack_id]["structure"]["children"][0]["link"]
    rows = result_rows(page.get_data(as_text=True))
    assert rows[0] == ("video.mp4", "1.0 KB", video)  # from the headers of its download, no bytes fetched
    assert rows[1][:2] == ("emg 2.json", "9 bytes")
    assert [call.request.method for call in repovizz2.mock.calls if call.request.method in ("HEAD", "GET")
            and "/content/" in call.request.url] == ["HEAD"]

    # When repovizz2 cannot say, the row says it is not known rather than guess.
    repovizz2.files.clear()
    repovizz2.file_datapack.clear()
    page = other.post(f"/datapacks/{datapack_id}/result", data={"document": "", "sizes": "{}"})
    assert result_rows(page.get_data(as_text=True))[0] == ("uploaded earlier (its name is not known here)", "—", video)


def _created_with_the_video_sent(client):
    created = client.post("/api/datapacks", json={"document": DOCUMENT, "files": [
        {"path": "pack/video.mp4", "size": 1000}, {"path": "pack/emg 2.json", "size": 9},
        {"path": "pack/notes.txt", "size": 4}]}).json
    video = next(u for u in created["uploads"] if u["link"] == "video.mp4")
    client.put(video["url"], data=b"v" * 1000)
    return created


def test_the_scripted_result_page_names_the_files_left_out(client, auth, repovizz2):
    auth.login()
    created = _created_with_the_video_sent(client)
    emg = next(u for u in created["uploads"] if u["link"] == "emg 2.json")
    client.put(emg["url"], data=b"[1, 2, 3]")
    page = client.post(f"/datapacks/{created['datapack_id']}/result", data={
        "document": json.dumps(DOCUMENT), "sizes": json.dumps({"video.mp4": 1000, "emg 2.json": 9}),
        "left_out": json.dumps(created["left_out"])}).get_data(as_text=True)
    assert "Not uploaded: 1 file no data node refers to" in page
    assert "<li><code>pack/notes.txt</code></li>" in page


@pytest.mark.parametrize("unsafe_left_out", ["not json", '{"a": 1}', "[1, null]", "[" * 5000, ""])
def test_a_hostile_left_out_field_is_taken_as_none(client, auth, repovizz2, unsafe_left_out):
    auth.login()
    created = _created_with_the_video_sent(client)
    page = client.post(f"/datapacks/{created['datapack_id']}/result", data={
        "document": "", "sizes": "{}", "left_out": unsafe_left_out})
    assert page.status_code == 200
    assert "Not uploaded" not in page.get_data(as_text=True)


def test_a_cancelled_upload_says_what_is_in_repovizz2_and_how_to_finish(client, auth, repovizz2):
    auth.login()
    created = _created_with_the_video_sent(client)
    page = client.post(f"/datapacks/{created['datapack_id']}/result", data={
        "document": json.dumps(DOCUMENT), "sizes": json.dumps({"video.mp4": 1000}), "cancelled": "1"})
    text = " ".join(page.get_data(as_text=True).split())
    assert "Upload stopped: 1 of 2 files of MYO are in repovizz2" in text
    assert f'href="/datapacks/{created["datapack_id"]}">Finish now: send the pending files</a>' in text
    assert "Or finish later" in text
