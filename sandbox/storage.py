"""Uploaded files on disk: streamed into `<data-dir>/tmp/`, moved into `<data-dir>/files/<id>` once complete."""
from __future__ import annotations

import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from typing import IO

from werkzeug.exceptions import BadRequest
from werkzeug.formparser import MultiPartParser

FILE_ID = re.compile(r"^[0-9a-f]{40}$")
READ_BUFFER_SIZE = 512 * 1024
MAX_TEXT_FIELD_SIZE = 2 * 1024 * 1024  # must exceed READ_BUFFER_SIZE: Werkzeug checks it against every read
MAX_FORM_PARTS = 16


@dataclass
class ReceivedFile:
    """A complete file part, waiting in tmp/ to be stored."""

    tmp_path: str
    size: int


class FileStore:
    def __init__(self, data_dir: str):
        self.files_dir = os.path.join(data_dir, "files")
        self.tmp_dir = os.path.join(data_dir, "tmp")
        os.makedirs(self.files_dir, exist_ok=True)
        os.makedirs(self.tmp_dir, exist_ok=True)

    @staticmethod
    def new_file_id() -> str:
        """Random, not a hash of the bytes: the id is an opaque handle, as on the public service."""
        return secrets.token_hex(20)

    def path_of(self, file_id: str) -> str:
        if not FILE_ID.match(file_id):
            raise ValueError(f"not a file id: {file_id!r}")
        return os.path.join(self.files_dir, file_id)

    def exists(self, file_id: str) -> bool:
        return bool(FILE_ID.match(file_id)) and os.path.isfile(self.path_of(file_id))

    def store(self, received: ReceivedFile, file_id: str) -> None:
        os.replace(received.tmp_path, self.path_of(file_id))

    def delete(self, file_id: str) -> None:
        try:
            os.remove(self.path_of(file_id))
        except FileNotFoundError:
            pass

    def clean_tmp(self) -> None:
        """Remove what interrupted uploads of an earlier run may have left behind."""
        for name in os.listdir(self.tmp_dir):
            _remove_quietly(os.path.join(self.tmp_dir, name))

    def receive_single_file(self, stream: IO[bytes], mimetype: str, boundary: str | None,
                            content_length: int | None) -> ReceivedFile:
        """Parse a multipart body with exactly one file part, writing that part to tmp/ as it arrives.

        Any failure (a malformed body, the client going away mid-upload) removes what was written.
        """
        if mimetype != "multipart/form-data" or not boundary:
            raise BadRequest("Expected a multipart/form-data body with one file part.")
        opened: list[IO[bytes]] = []

        def stream_factory(**_part_info) -> IO[bytes]:
            part_file = tempfile.NamedTemporaryFile("wb+", dir=self.tmp_dir, prefix="upload-", delete=False)
            opened.append(part_file)
            return part_file

        parser = MultiPartParser(
            stream_factory=stream_factory,
            max_form_memory_size=MAX_TEXT_FIELD_SIZE,
            max_form_parts=MAX_FORM_PARTS,
            buffer_size=READ_BUFFER_SIZE,
        )
        try:
            _fields, files = parser.parse(stream, boundary.encode("latin-1"), content_length)
            parts = list(files.values())
            if len(parts) != 1:
                raise BadRequest(f"Expected exactly one file part, got {len(parts)}.")
            part = parts[0]
            part_file = part.stream
            part_file.flush()
            size = os.fstat(part_file.fileno()).st_size
            part_file.close()
            return ReceivedFile(part_file.name, size)
        except BaseException as error:
            for part_file in opened:
                part_file.close()
                _remove_quietly(part_file.name)
            if isinstance(error, ValueError):
                raise BadRequest(f"Malformed multipart body: {error}") from None
            raise


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
