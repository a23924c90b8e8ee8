"""Reading what a request carries as files, for every view that takes them: the limits in force,
the files chosen in form fields, and each one as an `Asset`."""
from __future__ import annotations

import contextlib
import os

from flask import current_app, request
from werkzeug.datastructures import FileStorage

from ..rules.assets import READ_ERRORS, Asset, Limits
from ..rules.config import MIB
from ..rules.datapack_rules import normalize_path
from ..rules.datatype_suggestion import HEAD_BYTES, count_channels


def limits() -> Limits:
    config = current_app.config
    return Limits(max_files=config["MAX_FILES"], max_asset_bytes=config["MAX_ASSET_MB"] * MIB)


def asset_from_storage(storage: FileStorage) -> Asset:
    """An uploaded form file as an Asset, read from the spooled temporary file Werkzeug made."""
    stream = storage.stream
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)

    def reopen():
        stream.seek(0)
        return contextlib.nullcontext(stream)  # Werkzeug closes it at the end of the request

    return Asset(normalize_path(storage.filename or ""), size, reopen, storage.mimetype or "")


def chosen_files(*field_names: str) -> list[FileStorage]:
    """The files chosen in these form fields, leaving out empty choices."""
    return [storage for name in field_names for storage in request.files.getlist(name)
            if storage and storage.filename]


def chosen_assets(*field_names: str) -> list[Asset]:
    return [asset_from_storage(storage) for storage in chosen_files(*field_names)]


def stream_channels(assets: list[Asset]) -> dict[str, int]:
    """The number of channels of each numeric stream among the files (by path), from its first bytes."""
    counts = {}
    for asset in assets:
        try:
            with asset.open() as source:
                head = source.read(HEAD_BYTES)
        except READ_ERRORS:
            continue
        channels = count_channels(head.decode("utf-8", errors="replace"), complete=asset.size <= HEAD_BYTES)
        if channels is not None:
            counts[asset.path] = channels
    return counts
