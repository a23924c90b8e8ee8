"""Turning a validated datapack and its files into a datapack in repovizz2, and reporting on it."""
from __future__ import annotations

import logging
import mimetypes
import time
import zipfile
from dataclasses import dataclass, field
from typing import BinaryIO, Callable, ContextManager
from urllib.parse import quote

from .datapack import (
    DatapackInvalid,
    TreeNode,
    container_names,
    unsafe_link_reason,
    document_problems,
    is_uploaded,
    link_problems,
    match_links_to_files,
    normalize_path,
    pending_links,
    walk_data_nodes,
)
from .repovizz import NotAuthorized, Repovizz2Client, Repovizz2Error
from .streaming import BodyLengthMismatch

logger = logging.getLogger("portal.uploads")


class UnreadableAsset(Repovizz2Error):
    """A file sent to the portal broke while being read (a damaged zip entry, say): nothing of it was stored."""

    status = 422
    title = "A file could not be read"


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


def plan_upload(document: dict, assets: list[Asset], limits: Limits, *, resume: bool = False) -> dict[str, Asset]:
    """Which file goes to which link, or DatapackInvalid listing every problem (document and files).

    For a new datapack every link needs one file and every file one link. When resuming, the files
    that match pending links are sent; the others (already uploaded, or not chosen) are left be.
    """
    problems = document_problems(document) + link_problems(document)
    if len(assets) > limits.max_files:
        problems.append(f"{len(assets)} files were sent; the limit is {limits.max_files} per datapack")
    by_path: dict[str, Asset] = {}
    for asset in assets:
        path = normalize_path(asset.path)
        if path in by_path:
            problems.append(f"file {path!r} was sent twice")
        by_path[path] = asset
        if asset.size > limits.max_asset_bytes:
            problems.append(
                f"file {path!r} is {human_size(asset.size)}; the limit is {human_size(limits.max_asset_bytes)} per file"
            )
        if asset.size == 0:
            problems.append(f"file {path!r} is empty")
    # Unsafe links are already reported above; looking for their files would only repeat them.
    pending = [node for node in walk_data_nodes(document) if isinstance(node.node.get("link"), str)
               and not is_uploaded(node.link) and unsafe_link_reason(node.link) is None]
    match = match_links_to_files([node.link for node in pending], by_path)
    if resume:
        match.unreferenced, match.missing = [], []
        if not match.matched and not problems:
            problems.append("none of the chosen files matches a link that is still pending")
    place = {}
    for node in pending:
        place.setdefault(node.link, node.place)
    problems += [f"{place[link]}: no file was sent for link {link!r}" for link in match.missing]
    match.missing = []
    problems += match.problems
    if problems:
        raise DatapackInvalid(problems)
    return {link: by_path[path] for link, path in match.matched.items()}


def human_size(size: int) -> str:
    """A size as people read it, in decimal units (1.5 MB)."""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} bytes"



@dataclass
class Row:
    """One data node on the result page."""

    node: TreeNode
    original_link: str
    size: int | None
    reference: str
    status: str  # "uploaded", "pending" or "failed"
    containers: list[str] = field(default_factory=list)  # names of the containers it sits in


@dataclass
class Outcome:
    datapack_id: str
    name: str
    document: dict
    rows: list[Row]
    error: Repovizz2Error | None = None

    @property
    def pending(self) -> list[Row]:
        return [row for row in self.rows if row.status != "uploaded"]


def upload_files(client: Repovizz2Client, datapack_id: str, plan: dict[str, Asset],
                 user: str = "") -> tuple[dict[str, int], Repovizz2Error | None]:
    """Upload each planned file whose link is still pending, in document order; stop at the first failure."""
    pending = set(pending_links(client.content(datapack_id)))
    sent: dict[str, int] = {}
    for link, asset in plan.items():
        if link not in pending:
            continue
        started = time.monotonic()
        try:
            with asset.open() as source:
                client.upload_asset(datapack_id, link, source, asset.size, asset.guessed_mime)
        except (OSError, EOFError, zipfile.BadZipFile, BodyLengthMismatch) as exc:
            error = UnreadableAsset(f"{asset.path!r} could not be read to the end ({exc}); it was not stored")
            error.datapack_id = datapack_id
            error.link = link
            log_upload(datapack_id, link, asset.size, started, "failed: unreadable", user)
            return sent, error
        except Repovizz2Error as error:
            error.datapack_id = datapack_id
            error.link = link
            log_upload(datapack_id, link, asset.size, started, f"failed: {type(error).__name__}", user)
            if isinstance(error, NotAuthorized):
                raise  # log in again, then back to the datapack page to finish
            return sent, error
        log_upload(datapack_id, link, asset.size, started, "ok", user)
        sent[link] = asset.size
    return sent, None


def log_upload(datapack_id: str, link: str, size: int, started: float, result: str, user: str = "") -> None:
    """One line per file sent (never a token): who, which datapack and file, how big, how long, how it ended."""
    logger.info("upload user=%s datapack=%s file=%s size=%d duration=%.2fs outcome=%s",
                user or "-", datapack_id, quote(link, safe="/"), size, time.monotonic() - started, result)


def outcome(client: Repovizz2Client, datapack_id: str, original: dict, sizes: dict[str, int],
            failed: Repovizz2Error | None = None) -> Outcome:
    """Read the datapack back from repovizz2 (the source of truth) and pair its nodes with the original ones."""
    item = client.datapack(datapack_id)
    document = item["structure"]
    now = {node.place: node for node in walk_data_nodes(document)}
    trails = container_names(original)
    rows = []
    for before in walk_data_nodes(original):
        after = now.get(before.place, before)
        done = is_uploaded(after.link)
        failed_here = failed is not None and not done and before.link == getattr(failed, "link", None)
        rows.append(Row(after, before.link, sizes.get(before.link), after.link if done else "",
                        "uploaded" if done else ("failed" if failed_here else "pending"),
                        trails.get(before.place, [])))
    return Outcome(datapack_id, item.get("name", ""), document, rows, failed)


def create_and_upload(client: Repovizz2Client, owner: dict, document: dict, plan: dict[str, Asset]) -> Outcome:
    """The documented flow: create → list content → post each pending file → list again.

    `owner` is the logged-in user, ``{"id", "username"}``.
    """
    item = client.create_datapack(document["info"]["name"], owner["id"], document)
    datapack_id = item["id"]
    _, error = upload_files(client, datapack_id, plan, owner.get("username", ""))
    return outcome(client, datapack_id, document, sizes_of(plan), error)


def sizes_of(plan: dict[str, Asset]) -> dict[str, int]:
    return {link: asset.size for link, asset in plan.items()}
