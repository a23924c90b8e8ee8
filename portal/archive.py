"""Reading a datapack out of what the user sent: a .zip, or a set of files that holds the document."""
from __future__ import annotations

import json
import posixpath
import stat
import zipfile
import zlib
from typing import BinaryIO

from .datapack import DatapackInvalid, normalize_path, load_document, unsafe_link_reason
from .uploads import Asset, human_size

MAX_COMPRESSION_RATIO = 200
_READABLE_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
# What a damaged archive raises while its entries are opened or read.
_DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError, RuntimeError)
_IGNORED_NAMES = (".DS_Store", "Thumbs.db", "desktop.ini")


def is_ignored(path: str) -> bool:
    """Files a desktop adds on its own, never meant as assets."""
    name = posixpath.basename(path)
    return path.startswith("__MACOSX/") or name in _IGNORED_NAMES or name.startswith("._")


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
        except _DAMAGED:
            problems.append(f"archive entry {info.filename!r}: is damaged")
    if problems:
        raise DatapackInvalid(problems)
    return [
        Asset(normalize_path(info.filename), info.file_size, (lambda info=info: archive.open(info)))
        for info in entries
    ]


def _looks_like_document(text: bytes) -> bool:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return isinstance(value, dict) and "info" in value and "children" in value


def find_document(assets: list[Asset], max_json_bytes: int) -> tuple[Asset, dict]:
    """Among the files, the one datapack document (a .json object with 'info' and 'children').

    Sensor streams are often JSON too, so the document is recognised by its shape, and the
    shallowest one wins; two at the same depth are ambiguous.
    """
    found: list[tuple[Asset, bytes]] = []
    too_large: list[str] = []
    for asset in assets:
        if not asset.path.lower().endswith(".json"):
            continue
        if asset.size > max_json_bytes:
            too_large.append(asset.path)
            continue
        try:
            with asset.open() as source:
                text = source.read(max_json_bytes + 1)
        except _DAMAGED:
            raise DatapackInvalid([f"archive entry {asset.path!r}: is damaged"]) from None
        if _looks_like_document(text):
            found.append((asset, text))
    if not found:
        problem = "no datapack document found: add the .json file that has 'info' and 'children'"
        if too_large:
            names = ", ".join(repr(path) for path in too_large[:3]) + (", …" if len(too_large) > 3 else "")
            problem += f" (.json files larger than {human_size(max_json_bytes)} are not read: {names})"
        raise DatapackInvalid([problem])
    depth = min(asset.path.count("/") for asset, _ in found)
    top = [(asset, text) for asset, text in found if asset.path.count("/") == depth]
    if len(top) > 1:
        names = ", ".join(repr(asset.path) for asset, _ in top)
        raise DatapackInvalid([f"several datapack documents were found ({names}): send one"])
    asset, text = top[0]
    return asset, load_document(text)
