"""The files sent beside a datapack: what one is (`Asset`), the limits on them, and the rules on
chosen files that do not depend on where they came from (ignored desktop files, finding the document).

Pure: no Flask, no repovizz2.
"""
from __future__ import annotations

import json
import mimetypes
import posixpath
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import BinaryIO, Callable, ContextManager

from .datapack_rules import DatapackInvalid, load_document, quoted

_IGNORED_NAMES = (".DS_Store", "Thumbs.db", "desktop.ini")
# What a file raises while it is read when it is damaged (a zip entry, say).
READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError, RuntimeError)


@dataclass
class Asset:
    """One file sent beside a datapack: its relative path, its size, and `open()` giving a context
    manager that yields a binary stream at its first byte."""

    path: str
    size: int
    open: Callable[[], ContextManager[BinaryIO]] = field(repr=False)
    mime: str = ""

    @property
    def guessed_mime(self) -> str:
        return self.mime or mimetypes.guess_type(self.path)[0] or "application/octet-stream"


@dataclass
class Limits:
    max_files: int
    max_asset_bytes: int


def size_problem(path: str, size: int, limits: Limits) -> str | None:
    """The one size rule, for every way a file arrives: not empty, not over the per-file limit."""
    if size == 0:
        return f"file {quoted(path)} is empty"
    if size > limits.max_asset_bytes:
        return f"file {quoted(path)} is {human_size(size)}; the limit is {human_size(limits.max_asset_bytes)} per file"
    return None


_HUGE = 10**15


def human_size(size: int) -> str:
    """A size as people read it, in decimal units (1.5 MB). Any integer, however absurd, gives a text."""
    if not isinstance(size, (int, float)) or isinstance(size, bool) or size != size:
        return "an unknown size"
    if size >= _HUGE:
        return "more than 1,000,000 GB"
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} bytes"


def is_ignored(path: str) -> bool:
    """Files a desktop adds on its own, never meant as assets."""
    name = posixpath.basename(path)
    return path.startswith("__MACOSX/") or name in _IGNORED_NAMES or name.startswith("._")


def _looks_like_document(text: bytes) -> bool:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return isinstance(value, dict) and "info" in value and "children" in value


def document_paths(assets: list[Asset], max_json_bytes: int) -> set[str]:
    """The paths of the files that are datapack documents (a .json object with 'info' and 'children',
    read up to `max_json_bytes`): the builder proposes them as no data node."""
    found = set()
    for asset in assets:
        if not asset.path.lower().endswith(".json") or asset.size > max_json_bytes:
            continue
        try:
            with asset.open() as source:
                text = source.read(max_json_bytes + 1)
        except READ_ERRORS:
            continue
        if _looks_like_document(text):
            found.add(asset.path)
    return found


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
        except READ_ERRORS:
            raise DatapackInvalid([f"archive entry {quoted(asset.path)}: is damaged"]) from None
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
