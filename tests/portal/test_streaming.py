"""The multipart/form-data body that streams one file (portal/streaming.py): what Werkzeug reads
back from it, its exact length, and that it never holds more than one chunk of the file."""
from __future__ import annotations

import io
import os

import pytest
import requests
from werkzeug.formparser import parse_form_data

from portal.rules.multipart_body import CHUNK_SIZE, BodyLengthMismatch, MultipartFile


class CountingReader(io.RawIOBase):
    """A file that hands out `data` and counts the reads and the bytes asked for and given."""

    def __init__(self, data: bytes, most_per_read: int | None = None):
        self.data = data
        self.position = 0
        self.reads = 0
        self.largest_request = 0
        self.most_per_read = most_per_read  # to behave like a pipe that gives less than asked

    def read(self, size=-1):
        self.reads += 1
        size = len(self.data) - self.position if size is None or size < 0 else size
        self.largest_request = max(self.largest_request, size)
        if self.most_per_read:
            size = min(size, self.most_per_read)
        chunk = self.data[self.position:self.position + size]
        self.position += len(chunk)
        return chunk

    def readable(self):
        return True


def parse(body: MultipartFile):
    """The form fields and files Werkzeug finds in the body, as a Flask app receiving it would."""
    raw = b"".join(body)
    assert len(raw) == len(body)
    environ = {"REQUEST_METHOD": "POST", "CONTENT_TYPE": body.content_type, "CONTENT_LENGTH": str(len(raw)),
               "wsgi.input": io.BytesIO(raw)}
    _, form, files = parse_form_data(environ)
    return form, files


@pytest.mark.parametrize(("filename", "received"), [
    ("video.mp4", "video.mp4"),
    ("emg 2.json", "emg 2.json"),
    ("  spaced  out .csv", "  spaced  out .csv"),
    ("señal ✓ 日本.json", "señal ✓ 日本.json"),
    ('say "hi".txt', 'say "hi".txt'),
    ("it's.txt", "it's.txt"),
    ("a;b=c.json", "a;b=c.json"),
    ("back\\slash.json", "back\\slash.json"),
    ("tab\there.json", "tab\there.json"),
    # A line break cannot be in a header: it is sent as the HTML standard says, percent-encoded.
    ("line\r\nbreak.json", "line%0D%0Abreak.json"),
])
def test_werkzeug_reads_back_the_file_and_its_name(filename, received):
    data = os.urandom(3000)
    body = MultipartFile(io.BytesIO(data), len(data), field="file", filename=filename, content_type="audio/wav",
                         chunk_size=1024)
    form, files = parse(body)
    assert list(files) == ["file"] and not form
    upload = files["file"]
    assert upload.filename == received
    assert upload.mimetype == "audio/wav"
    assert upload.read() == data


@pytest.mark.parametrize("field", ["file", "emg 2.json", "señal.json", 'a"b'])
def test_the_field_can_be_named_after_the_link(field):
    _, files = parse(MultipartFile(io.BytesIO(b"x"), 1, field=field, filename="f"))
    assert list(files) == [field]


def test_defaults():
    body = MultipartFile(io.BytesIO(b"abc"), 3)
    _, files = parse(body)
    assert files["file"].filename == "file"
    assert files["file"].mimetype == "application/octet-stream"
    assert body.content_type == f"multipart/form-data; boundary={body.boundary}"


@pytest.mark.parametrize(("content_type", "sent"), [
    ("", "application/octet-stream"),
    (None, "application/octet-stream"),
    ("video/mp4; charset=binary", "video/mp4"),
    ("text/plain\r\nX-Injected: 1", "application/octet-stream"),
])
def test_content_type_of_the_part(content_type, sent):
    body = MultipartFile(io.BytesIO(b"abc"), 3, content_type=content_type)
    _, files = parse(body)
    assert files["file"].mimetype == sent
    assert "X-Injected" not in files["file"].headers


@pytest.mark.parametrize("size", [0, 1, 1023, 1024, 1025, 10 * 1024 + 7])
def test_length_is_exact_for_any_size(size):
    data = os.urandom(size)
    body = MultipartFile(io.BytesIO(data), size, filename="señal ✓.bin", chunk_size=1024)
    raw = b"".join(body)
    assert len(body) == len(raw)
    assert body.sent == size
    assert raw.startswith(b"--" + body.boundary.encode()) and raw.endswith(b"--" + body.boundary.encode() + b"--\r\n")
    _, files = parse(MultipartFile(io.BytesIO(data), size, chunk_size=1024))
    assert files["file"].read() == data


def test_length_is_known_before_anything_is_read():
    source = CountingReader(b"x" * 5000)
    body = MultipartFile(source, 5000)
    assert len(body) > 5000
    assert source.reads == 0


def test_iterating_holds_one_chunk_at_a_time():
    size = 10 * 1024 + 5
    source = CountingReader(os.urandom(size))
    body = MultipartFile(source, size, chunk_size=1024)
    parts = iter(body)
    assert next(parts) == body.head
    assert source.reads == 0  # the header needs nothing from the file
    received = 0
    for part in parts:
        if part == body.tail:
            break
        received += len(part)
        assert 0 < len(part) <= 1024
        assert source.position == received  # the file is read as the body is sent, never ahead of it
    assert received == size
    assert source.largest_request <= 1024
    assert source.reads == 11 + 1  # eleven chunks, then one byte to be sure the file ended


def test_default_chunks_are_bounded():
    size = 3 * CHUNK_SIZE
    source = CountingReader(bytes(size))
    for _ in MultipartFile(source, size):
        pass
    assert source.largest_request == CHUNK_SIZE


def test_a_source_that_gives_less_than_asked_is_read_until_the_size():
    data = os.urandom(5000)
    source = CountingReader(data, most_per_read=333)
    body = MultipartFile(source, len(data), chunk_size=1024)
    _, files = parse(body)
    assert files["file"].read() == data
    assert source.reads > 5000 // 333


def test_source_shorter_than_announced():
    body = MultipartFile(io.BytesIO(b"abc"), 5, chunk_size=2)
    parts = iter(body)
    assert next(parts) == body.head
    assert next(parts) == b"ab" and next(parts) == b"c"
    with pytest.raises(BodyLengthMismatch, match=r"^the file ended after 3 of 5 bytes$"):
        next(parts)


def test_source_longer_than_announced():
    body = MultipartFile(io.BytesIO(b"abcdef"), 5)
    parts = iter(body)
    assert next(parts) == body.head and next(parts) == b"abcde"
    with pytest.raises(BodyLengthMismatch, match=r"^the file is longer than the announced 5 bytes$"):
        next(parts)  # the closing boundary is never sent, so the request cannot complete


def test_empty_source_announced_as_not_empty():
    with pytest.raises(BodyLengthMismatch, match=r"^the file ended after 0 of 4 bytes$"):
        b"".join(MultipartFile(io.BytesIO(b""), 4))


def test_each_body_has_its_own_boundary():
    assert MultipartFile(io.BytesIO(b""), 0).boundary != MultipartFile(io.BytesIO(b""), 0).boundary


def test_requests_sends_it_with_a_content_length_not_chunked():
    data = os.urandom(2000)
    body = MultipartFile(io.BytesIO(data), len(data), filename="emg 2.json")
    prepared = requests.Request("POST", "http://repovizz2.test/api/v1.0/datapacks/x/content/emg%202.json",
                                data=body, headers={"Content-Type": body.content_type}).prepare()
    assert prepared.headers["Content-Length"] == str(len(body))
    assert "Transfer-Encoding" not in prepared.headers
    assert prepared.body is body  # streamed as it is iterated, not joined up front
