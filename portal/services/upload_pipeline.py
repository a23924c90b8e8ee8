"""The upload pipeline: plan which file goes to which link, create the datapack, send each file
(one function, `send_file`, for every path that sends one), and read back what repovizz2 now holds."""
from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO
from urllib.parse import quote

from werkzeug.exceptions import ClientDisconnected

from ..rules.assets import READ_ERRORS, Asset, Limits, size_problem
from ..rules.datapack_rules import (
    DatapackInvalid,
    Problem,
    TreeNode,
    broken_places,
    container_names,
    is_uploaded,
    link_reason,
    listed,
    match_links_to_files,
    normalize_path,
    pending_links,
    quoted,
    readable_copy,
    reference_id,
    upload_problems,
    walk_data_nodes,
)
from ..rules.multipart_body import BodyLengthMismatch
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


class Plan(dict):
    """Which file goes to which link (a dict: link -> Asset), and the files left out: those no data
    node refers to (`left_out`, their paths). Extra files in a folder or zip are usual; they are
    listed, not sent, and are not a problem."""

    def __init__(self, matched=(), left_out: list[str] | None = None):
        super().__init__(matched)
        self.left_out: list[str] = list(left_out or [])


def plan_upload(document: dict, assets: list[Asset], limits: Limits, *, resume: bool = False) -> Plan:
    """Which file goes to which link, or DatapackInvalid listing every problem (document and files).

    For a new datapack the document must pass both levels of rules (repovizz2's and the portal's
    own) and every link needs one file; files no link refers to are left out (`Plan.left_out`).
    When resuming, the document is what repovizz2 already holds and is not judged again: the files
    that match pending links are sent; the others (already uploaded, or not chosen) are left be.
    """
    problems: list = [] if resume else upload_problems(document)
    broken = broken_places(problems)
    if len(assets) > limits.max_files:
        problems.append(Problem(f"{len(assets)} files were sent; the limit is {limits.max_files} per datapack"))
    by_path: dict[str, Asset] = {}
    twice: set[str] = set()
    for asset in assets:
        path = normalize_path(asset.path)
        if path in by_path:
            twice.add(path)
        by_path[path] = asset
    # Nodes already reported, and unsafe links (reported by the link rules, or unreachable when
    # resuming), are not looked for: their files would only repeat the problem.
    pending = [node for node in walk_data_nodes(document) if isinstance(node.node.get("link"), str)
               and not is_uploaded(node.link) and link_reason(node.link) is None
               and node.place not in broken]
    match = match_links_to_files([node.link for node in pending], by_path)
    if resume and not match.matched and not problems:
        problems.append(Problem("none of the chosen files matches a link that is still pending"))
    first: dict[str, TreeNode] = {}
    for node in pending:
        first.setdefault(node.link, node)
    if not resume:
        problems += [Problem(f"no file was sent for link {quoted(link)}", where=first[link].where,
                             place=first[link].place) for link in match.missing]
    problems += [Problem(f"link {quoted(link)} matches several files: {listed(paths)}",
                         where=first[link].where, place=first[link].place) for link, paths in match.ambiguous.items()]
    problems += [Problem(f"file {quoted(path)} is matched by several links: {listed(links)}")
                 for path, links in match.contested.items()]
    for link, path in match.matched.items():
        node = first[link]
        if path in twice:
            problems.append(Problem(f"file {quoted(path)} was sent twice", where=node.where, place=node.place))
        problem = size_problem(path, by_path[path].size, limits)
        if problem:
            problems.append(Problem(problem, where=node.where, place=node.place))
    if problems:
        raise DatapackInvalid(problems)
    return Plan({link: by_path[path] for link, path in match.matched.items()}, match.unreferenced)


_NUMBERED = re.compile(r"(.*) \(([0-9]{1,9})\)", re.DOTALL)


def next_name(name: str) -> str:
    """The name to offer when `name` is taken: "Session 12" → "Session 12 (2)", "Session 12 (2)" → "… (3)"."""
    numbered = _NUMBERED.fullmatch(name)
    if numbered:
        return f"{numbered.group(1)} ({int(numbered.group(2)) + 1})"
    return f"{name} (2)"


@dataclass
class Row:
    """One data node on the result page. For a file uploaded before this upload, `original_link` is
    what portal/sent_files.py noted, else the name repovizz2 gives it, else "" (not known)."""

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
    left_out: list[str] = field(default_factory=list)  # files chosen that no data node refers to
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
            return sent, UnreadableAsset(f"{quoted(asset.path)} could not be read ({exc}); it was not stored",
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
        raise IncompleteBody(f"the file for {quoted(link)} did not arrive whole ({exc}): nothing was stored",
                             datapack_id=datapack_id, link=link) from None
    except READ_ERRORS as exc:
        log_upload(datapack_id, link, size, started, "failed: unreadable", user)
        raise UnreadableAsset(f"the file for {quoted(link)} could not be read to the end ({exc}); it was not stored",
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


def outcome(client: Repovizz2Client, datapack_id: str, original: dict | None, sizes: dict[str, int],
            failed: Repovizz2Error | None = None, earlier: dict[str, list] | None = None) -> Outcome:
    """Read the datapack back from repovizz2 (the source of truth) and pair its nodes with the original ones.

    `original` is the document as it was sent (None: the datapack's document as it is now, after a
    resume); `sizes` the bytes sent per original link; `earlier` what portal/sent_files.py recalls of
    this datapack (place → [name, link, size]), for the files uploaded before this upload.
    """
    item = client.datapack(datapack_id)
    item = readable_copy(item)  # for a page: what repovizz2 holds, made showable
    original = readable_copy(original) if original is not None else None
    document = item["structure"]
    original = document if original is None else original
    now = {node.place: node for node in walk_data_nodes(document)}
    trails = container_names(original)
    rows = []
    for before in walk_data_nodes(original):
        after = now.get(before.place, before)
        done = is_uploaded(after.link)
        failed_here = failed is not None and not done and before.link == getattr(failed, "link", None)
        link, size = _original_file(before, sizes, earlier or {})
        rows.append(Row(after, link, size, after.link if done else "",
                        "uploaded" if done else ("failed" if failed_here else "pending"),
                        trails.get(before.place, [])))
    _ask_for_unknown_files(client, datapack_id, rows)
    return Outcome(datapack_id, item.get("name", ""), document, rows, failed)


MAX_DETAIL_LOOKUPS = 50  # files sent from another login, looked up one by one at most this many


def _ask_for_unknown_files(client: Repovizz2Client, datapack_id: str, rows: list[Row]) -> None:
    """Files uploaded before, from another login: their name and size as repovizz2's download gives them."""
    unknown = [row for row in rows if not row.original_link and row.reference]
    for row in unknown[:MAX_DETAIL_LOOKUPS]:
        try:
            name, size = client.asset_details(datapack_id, reference_id(row.reference))
        except Repovizz2Error:
            continue  # shown as not known, never guessed
        row.original_link = name
        row.size = size if row.size is None else row.size


def _original_file(node: TreeNode, sizes: dict[str, int], earlier: dict[str, list]) -> tuple[str, int | None]:
    """The file a node was given (its original link) and its size, as far as the portal knows them."""
    known = earlier.get(node.place)
    if not (isinstance(known, list) and len(known) == 3 and known[0] == node.name):
        known = None
    link = node.link if isinstance(node.link, str) else ""
    if is_uploaded(link):  # uploaded before: its original link is gone from the document
        if known is None:
            return "", None
        link = known[1]
    size = sizes.get(link)
    if size is None and known is not None and known[1] == link:
        size = known[2]
    return link, size


def create_and_upload(client: Repovizz2Client, owner: dict, document: dict, plan: dict[str, Asset],
                      created: Callable[[str], None] | None = None, show_calls: bool = False) -> Outcome:
    """The documented flow: create → list content → post each pending file → list again.

    `owner` is the logged-in user, ``{"id", "username"}``; `created(datapack_id)` is called once the
    datapack exists, before any file is sent. With `show_calls` the client records every call, and
    the outcome carries them for the result page.
    """
    if show_calls:
        client.record_calls()
    item = client.create_datapack(document["info"]["name"], owner["id"], document)
    datapack_id = item["id"]
    if created is not None:
        created(datapack_id)
    _, error = upload_files(client, datapack_id, plan, owner.get("username", ""))
    result = recorded_outcome(client, datapack_id, document, sizes_of(plan), error)
    result.left_out = list(getattr(plan, "left_out", []))
    return result


def recorded_outcome(client: Repovizz2Client, datapack_id: str, original: dict | None, sizes: dict[str, int],
                     failed: Repovizz2Error | None = None, earlier: dict[str, list] | None = None) -> Outcome:
    """`outcome`, and when the client records its calls, the content listed again first — as the
    public notebook ends, the keys now ``repovizz:<id>`` — with every recorded call in the outcome."""
    if client.calls is not None:
        try:
            client.content(datapack_id)
        except Repovizz2Error:
            pass  # recorded too; reading the datapack back below says what went wrong
    result = outcome(client, datapack_id, original, sizes, failed, earlier)
    result.calls = list(client.calls or [])
    return result


def sizes_of(plan: dict[str, Asset]) -> dict[str, int]:
    return {link: asset.size for link, asset in plan.items()}
