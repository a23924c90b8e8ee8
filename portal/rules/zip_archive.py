"""Reading a .zip the user sent: safety checks from its directory first, then its files as Assets (pure)."""
from __future__ import annotations

import stat
import zipfile
from typing import BinaryIO

from .assets import READ_ERRORS, Asset, human_size, is_ignored
from .datapack_rules import DatapackInvalid, normalize_path, unsafe_link_reason

MAX_COMPRESSION_RATIO = 200
_READABLE_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}


def zip_assets(fileobj: BinaryIO, *, max_files: int, max_total_bytes: int) -> list[Asset]:
    """The files of a zip as Assets read straight from the archive, after checking it is safe.

    Entry count, total uncompressed size and compression ratio are checked from the directory
    before anything is decompressed; absolute paths, '..' and symlinks are refused.
    """
    try:
        archive = zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
        raise DatapackInvalid(["archive: is not a readable .zip file"]) from None
    entries = [info for info in archive.infolist() if not info.is_dir() and not is_ignored(info.filename)]
    problems = []
    if len(entries) > max_files + 1:
        problems.append(f"archive: holds {len(entries)} files; the limit is {max_files} per datapack, plus its document")
    total = sum(info.file_size for info in entries)
    if total > max_total_bytes:
        problems.append(f"archive: would unpack to {human_size(total)}; the limit is {human_size(max_total_bytes)}")
    for info in entries:
        name = info.filename
        reason = unsafe_link_reason(name)
        if reason:
            problems.append(f"archive entry {name!r}: {reason}")
        if stat.S_ISLNK(info.external_attr >> 16):
            problems.append(f"archive entry {name!r}: is a symbolic link")
        if info.file_size > 1024 * 1024 and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
            problems.append(f"archive entry {name!r}: is compressed more than {MAX_COMPRESSION_RATIO}:1 (a zip bomb?)")
        if info.flag_bits & 0x1:
            problems.append(f"archive entry {name!r}: is encrypted; send a .zip without a password")
        elif info.compress_type not in _READABLE_METHODS:
            method = zipfile.compressor_names.get(info.compress_type, f"method {info.compress_type}")
            problems.append(f"archive entry {name!r}: is compressed with {method}, which cannot be read; "
                            "zip it again with the usual (deflate) compression")
    if problems:
        raise DatapackInvalid(problems)
    for info in entries:  # each entry's local header must agree with the directory (read, not decompressed)
        try:
            archive.open(info).close()
        except READ_ERRORS:
            problems.append(f"archive entry {info.filename!r}: is damaged")
    if problems:
        raise DatapackInvalid(problems)
    return [
        Asset(normalize_path(info.filename), info.file_size, (lambda info=info: archive.open(info)))
        for info in entries
    ]
