"""The upload page: validate first, create second; the result page; failures half-way."""
from __future__ import annotations

import io
import json
import zipfile

import pytest

from tests.portal.samples import DOCUMENT, GOOD_FILES, doc_file, files

def test_upload_page_needs_login(client):
    page = client.get("/upload")
    assert page.status_code == 302
    assert "/auth/login?next=/upload" in page.headers["Location"]


def test_upload_page_states_limits(client, auth):
    auth.login()
    page = client.get("/upload").get_data(as_text=True)
    assert "up to 1000 files per datapack" in page
    assert "Upload the example" in page


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
    assert "Open the existing datapack and finish its pending files" in text
    assert repovizz2.creates == 2 and len(repovizz2.datapacks) == 1


def test_failure_half_way_shows_what_is_uploaded_and_how_to_finish(client, auth, repovizz2):
    auth.login()
    repovizz2.fail_upload["emg 2.json"] = 500
    page = client.post("/upload", data={"document": doc_file(), "files": files(*GOOD_FILES)},
                       content_type="multipart/form-data")
    text = page.get_data(as_text=True)
    assert page.status_code == 502
    assert "The upload stopped" in text
    (datapack_id,) = repovizz2.datapacks
    assert "1 of 2 files" in text
    assert f"/datapacks/{datapack_id}" in text
    assert '<span class="status failed">failed</span>' in text

    del repovizz2.fail_upload["emg 2.json"]
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


def test_each_press_of_upload_the_example_makes_a_datapack_of_its_own(client, auth, repovizz2):
    auth.login()
    for _ in range(3):
        page = client.post("/upload/example")
        assert page.status_code == 200, page.get_data(as_text=True)
    names = sorted(item["name"] for item in repovizz2.datapacks.values())
    assert names == ["Portal example", "Portal example (2)", "Portal example (3)"]
    (third,) = [item for item in repovizz2.datapacks.values() if item["name"] == "Portal example (3)"]
    assert third["structure"]["info"]["name"] == "Portal example (3)"
