"""A multipart/form-data body that streams one file through with an exact Content-Length."""
from __future__ import annotations

import uuid
from typing import BinaryIO, Iterator

# Large reads: gunicorn hands a request body over in up to 1 MiB recv()s, and every read costs Python time.
CHUNK_SIZE = 1024 * 1024


class BodyLengthMismatch(Exception):
    """The file gave more or fewer bytes than announced; the request must not complete."""


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def _content_type(value: str) -> str:
    """The part's media type; a missing one, or one that would break out of its header line, is replaced."""
    if not value or any(char in value for char in "\r\n\x00"):
        return "application/octet-stream"
    return value


class MultipartFile:
    """Iterable body of one file part: header, the file's chunks as read, closing boundary.

    requests streams an iterable that has ``__len__`` with that exact Content-Length
    (no chunked encoding), so nothing is ever held whole in memory.
    """

    def __init__(self, source: BinaryIO, size: int, field: str = "file", filename: str = "file",
                 content_type: str = "application/octet-stream", chunk_size: int = CHUNK_SIZE):
        self.source = source
        self.size = size
        self.chunk_size = chunk_size
        self.boundary = uuid.uuid4().hex
        self.head = (
            f"--{self.boundary}\r\n"
            f'Content-Disposition: form-data; name="{_quote(field)}"; filename="{_quote(filename)}"\r\n'
            f"Content-Type: {_content_type(content_type)}\r\n\r\n"
        ).encode("utf-8")
        self.tail = f"\r\n--{self.boundary}--\r\n".encode("ascii")
        self.sent = 0
        self.start = source.tell() if _seekable(source) else None

    def rewind(self) -> bool:
        """Go back to the file's first byte so the body can be sent again; False for a one-way stream."""
        if self.start is None:
            return False
        self.source.seek(self.start)
        self.sent = 0
        return True

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return len(self.head) + self.size + len(self.tail)

    def __iter__(self) -> Iterator[bytes]:
        yield self.head
        remaining = self.size
        while remaining > 0:
            chunk = self.source.read(min(self.chunk_size, remaining))
            if not chunk:
                raise BodyLengthMismatch(f"the file ended after {self.size - remaining} of {self.size} bytes")
            remaining -= len(chunk)
            self.sent += len(chunk)
            yield chunk
        if self.source.read(1):
            raise BodyLengthMismatch(f"the file is longer than the announced {self.size} bytes")
        yield self.tail


def _seekable(source) -> bool:
    try:
        return bool(source.seekable())
    except (AttributeError, OSError, ValueError):
        return False
