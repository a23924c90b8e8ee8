"""The upload pipeline: plan which file goes to which link, create the datapack, send each file
(one function, `send_file`, for every path that sends one), and read back what repovizz2 now holds."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import BinaryIO
from urllib.parse import quote

from werkzeug.exceptions import ClientDisconnected

from .assets import READ_ERRORS, Asset, Limits, size_problem
from .datapack_rules import (
    DatapackInvalid,
    TreeNode,
    container_names,
    document_problems,
    is_uploaded,
    link_problems,
    match_links_to_files,
    normalize_path,
    pending_links,
    unsafe_link_reason,
    walk_data_nodes,
)
from .multipart_body import BodyLengthMismatch
from .repovizz2_client import NotAuthorized, Repovizz2Client, Repovizz2Error

logger = logging.getLogger(__name__)


class UnreadableAsset(Repovizz2Error):
    """A file sent to the portal broke while being read (a damaged zip entry, say): nothing of it was stored."""

    status = 422
    title = "A file could not be read"


class IncompleteBody(UnreadableAsset):
    """The sender's body ended before (or ran past) its announced length: nothing of it was stored."""

    status = 400
    title = "The file arrived incomplete"


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
        problem = size_problem(path, asset.size, limits)
        if problem:
            problems.append(problem)
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
    calls: list[dict] = field(default_factory=list)  # the calls to repovizz2, when they are shown

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
        try:
            with asset.open() as source:
                send_file(client, datapack_id, link, source, asset.size, asset.guessed_mime, user)
        except NotAuthorized:
            raise  # log in again, then back to the datapack page to finish
        except Repovizz2Error as error:
            return sent, error
        except READ_ERRORS as exc:  # the file could not even be opened
            return sent, UnreadableAsset(f"{asset.path!r} could not be read ({exc}); it was not stored",
                                         datapack_id=datapack_id, link=link)
        sent[link] = asset.size
    return sent, None


def send_file(client: Repovizz2Client, datapack_id: str, link: str, source: BinaryIO, size: int, mime: str,
              user: str = "") -> str | None:
    """Stream one file to its link, with its log line; what breaks is raised tagged with the datapack and link.

    Returns the new ``repovizz:<id>`` (None when repovizz2 answered only "OK"). A source that breaks
    or gives more or fewer bytes than `size` raises UnreadableAsset (IncompleteBody for a body cut
    short), and nothing of it is stored.
    """
    started = time.monotonic()
    try:
        ref = client.upload_asset(datapack_id, link, source, size, mime)
    except (BodyLengthMismatch, ClientDisconnected) as exc:
        log_upload(datapack_id, link, size, started, "incomplete", user)
        raise IncompleteBody(f"the file for {link!r} did not arrive whole ({exc}); nothing of it was stored",
                             datapack_id=datapack_id, link=link) from None
    except READ_ERRORS as exc:
        log_upload(datapack_id, link, size, started, "failed: unreadable", user)
        raise UnreadableAsset(f"the file for {link!r} could not be read to the end ({exc}); it was not stored",
                              datapack_id=datapack_id, link=link) from None
    except Repovizz2Error as error:
        log_upload(datapack_id, link, size, started, f"failed: {type(error).__name__}", user)
        raise
    log_upload(datapack_id, link, size, started, "ok", user)
    return ref


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


def create_and_upload(client: Repovizz2Client, owner: dict, document: dict, plan: dict[str, Asset],
                      show_calls: bool = False) -> Outcome:
    """The documented flow: create → list content → post each pending file → list again.

    `owner` is the logged-in user, ``{"id", "username"}``. With `show_calls` the client records
    every call, and the outcome carries them for the result page.
    """
    if show_calls:
        client.record_calls()
    item = client.create_datapack(document["info"]["name"], owner["id"], document)
    datapack_id = item["id"]
    _, error = upload_files(client, datapack_id, plan, owner.get("username", ""))
    return recorded_outcome(client, datapack_id, document, sizes_of(plan), error)


def recorded_outcome(client: Repovizz2Client, datapack_id: str, original: dict, sizes: dict[str, int],
                     failed: Repovizz2Error | None = None) -> Outcome:
    """`outcome`, and when the client records its calls, the content listed again first — as the
    public notebook ends, the keys now ``repovizz:<id>`` — with every recorded call in the outcome."""
    if client.calls is not None:
        try:
            client.content(datapack_id)
        except Repovizz2Error:
            pass  # recorded too; reading the datapack back below says what went wrong
    result = outcome(client, datapack_id, original, sizes, failed)
    result.calls = list(client.calls or [])
    return result


def sizes_of(plan: dict[str, Asset]) -> dict[str, int]:
    return {link: asset.size for link, asset in plan.items()}
