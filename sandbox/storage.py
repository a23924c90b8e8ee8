"""Uploaded files on disk: streamed into `<data-dir>/tmp/`, moved into `<data-dir>/files/<id>` once complete."""
from __future__ import annotations

import hashlib
import hmac
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
    """`file_ids="random"`: every upload gets a fresh random id. `"content"`: the id is derived from the bytes
    (HMAC-SHA1 keyed with `salt`, a secret of the data dir), so the same bytes always get the same id, yet the
    id is not the SHA-1 of the bytes (the public service's ids are not either)."""

    def __init__(self, data_dir: str, file_ids: str = "random", salt: str | None = None):
        self.files_dir = os.path.join(data_dir, "files")
        self.tmp_dir = os.path.join(data_dir, "tmp")
        os.makedirs(self.files_dir, exist_ok=True)
        os.makedirs(self.tmp_dir, exist_ok=True)
        if file_ids == "content" and not salt:
            raise ValueError("content-derived file ids need a salt")
        self.file_ids = file_ids
        self.salt = (salt or "").encode()

    @staticmethod
    def new_file_id() -> str:
        """Random, not a hash of the bytes: the id is an opaque handle, as on the public service."""
        return secrets.token_hex(20)

    def content_file_id(self, path: str) -> str:
        """40 hex digits derived from the file's bytes and the salt (reads the file once more)."""
        digest = hmac.new(self.salt, digestmod=hashlib.sha1)
        with open(path, "rb") as stored:
            while chunk := stored.read(READ_BUFFER_SIZE):
                digest.update(chunk)
        return digest.hexdigest()

    def file_id_for(self, received: "ReceivedFile") -> str:
        return self.content_file_id(received.tmp_path) if self.file_ids == "content" else self.new_file_id()

    def path_of(self, file_id: str) -> str:
        if not FILE_ID.match(file_id):
            raise ValueError(f"not a file id: {file_id!r}")
        return os.path.join(self.files_dir, file_id)

    def exists(self, file_id: str) -> bool:
        return bool(FILE_ID.match(file_id)) and os.path.isfile(self.path_of(file_id))

    def store(self, received: ReceivedFile, file_id: str) -> None:
        """Move the received file into files/ as `file_id`. When that id is stored already (content-derived ids:
        the same bytes), the stored copy stays and the received one is dropped."""
        path = self.path_of(file_id)
        if os.path.exists(path):
            _remove_quietly(received.tmp_path)
        else:
            os.replace(received.tmp_path, path)

    @staticmethod
    def discard(received: ReceivedFile) -> None:
        """Remove the received file if it is still in tmp/ (the upload was refused or failed)."""
        _remove_quietly(received.tmp_path)

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
