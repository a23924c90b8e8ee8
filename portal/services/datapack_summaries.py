"""The one-line summaries of a user's datapacks (name, files, pending), fetched a few at once.

repovizz2 lists only a user's datapack ids (`GET /user`, in an order it never explains); each
datapack's name and files take one more call. These calls run on worker threads without Flask's
request context: they get plain clients from `Login.worker_clients()`, made in the request thread.
A datapack whose answer cannot be read gets an "unreadable" line with the reason.
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable

from flask import current_app

from ..rules.datapack_tree import walk_data_nodes
from ..rules.errors import Forbidden, NotAuthorized, NotFound, Repovizz2Error, ServerError
from .login import Login
from .repovizz2_client import Repovizz2Client

logger = logging.getLogger(__name__)

REASON_LENGTH = 120


def summary(datapack_id: str, item: dict) -> dict:
    """What the home page shows of one datapack: its name and how many of its files are pending."""
    nodes = walk_data_nodes(item["structure"])
    name = item.get("name")
    return {
        "id": datapack_id,
        "name": name if isinstance(name, str) and name else datapack_id,
        "assets": len(nodes),
        "pending": sum(1 for node in nodes if not node.uploaded),
    }


def unreadable(datapack_id: str, reason: str) -> dict:
    """The line of a datapack whose answer could not be read: its id and why."""
    if len(reason) > REASON_LENGTH:
        reason = reason[:REASON_LENGTH - 1] + "…"
    return {"id": datapack_id, "unreadable": True, "reason": reason}


def _reason(error: Repovizz2Error) -> str:
    if isinstance(error, Forbidden):
        return "repovizz2 says it belongs to someone else (403)"
    if isinstance(error, NotFound):
        return "repovizz2 does not find it (404)"
    if isinstance(error, ServerError) and error.status and error.status >= 500:
        return f"repovizz2 failed to answer for it ({error.status})"
    return error.message


def fetch_summary(clients: Callable[[], Repovizz2Client], datapack_id) -> dict:
    """One datapack's line. Runs in a worker thread: no request context, only `clients`.
    NotAuthorized is left to the request thread, which can renew the login."""
    if not isinstance(datapack_id, str) or not datapack_id:
        return unreadable(str(datapack_id), "repovizz2 listed something that is not a datapack id")
    if datapack_id in (".", ".."):  # even percent-encoded, a path segment of its own in repovizz2's API
        return unreadable(datapack_id, "repovizz2 listed an id that cannot be part of an address")
    try:
        return summary(datapack_id, clients().datapack(datapack_id))
    except NotAuthorized:
        raise
    except Repovizz2Error as error:
        return unreadable(datapack_id, _reason(error))
    except Exception as error:  # a stored document the summary cannot walk
        logger.warning("datapack %s cannot be summarized", datapack_id, exc_info=True)
        return unreadable(datapack_id, f"its document cannot be read ({type(error).__name__})")


def fetch_summaries(ids: list, clients: Callable[[], Repovizz2Client], fetches: int) -> list:
    """The lines of `ids`, in their order, at most `fetches` at once. A datapack whose call met a
    401 gets its NotAuthorized in place of its line."""
    if not ids:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(fetches, len(ids))), thread_name_prefix="summaries") as pool:
        futures = [pool.submit(fetch_summary, clients, datapack_id) for datapack_id in ids]
    lines = []
    for future in futures:
        error = future.exception()
        if error is not None and not isinstance(error, NotAuthorized):
            raise error
        lines.append(error or future.result())
    return lines


def page_of_summaries(login: Login, ids: list) -> list[dict]:
    """The lines of `ids`; when repovizz2 refused the token to some calls, renew it once and ask again."""
    fetches = current_app.config["HOME_FETCHES"]
    lines = fetch_summaries(ids, login.worker_clients(), fetches)
    refused = [index for index, line in enumerate(lines) if isinstance(line, NotAuthorized)]
    if refused:
        login.renew()
        again = fetch_summaries([ids[index] for index in refused], login.worker_clients(), fetches)
        for index, line in zip(refused, again):
            if isinstance(line, NotAuthorized):
                login.forget()
                raise line
            lines[index] = line
    return lines


def your_datapacks(login: Login) -> tuple[dict, list]:
    """Who the login is, as repovizz2 answers it, and the ids of their datapacks as it lists them."""
    user = login.client().user()
    return user, listed_ids(user)


def listed_ids(user: dict) -> list:
    """The user's datapack ids in the order repovizz2 lists them. That order is never shown to be by
    anything (creation or name), so the portal keeps it as it is and says so."""
    listed = user.get("datapacks", [])
    if not isinstance(listed, list):
        raise ServerError("repovizz2 answered the user with a list of datapacks the portal does not know")
    return listed


MAX_QUERY = 200


def search_key(text: str) -> str:
    """How names are compared by the search: case and runs of spaces ignored."""
    return " ".join(text.split()).casefold()


@dataclass
class SearchPage:
    """A page of matches for a search by name, found by fetching the summaries in order from `start`."""

    matches: list[dict]
    start: int        # index in the list where this search page began
    next_start: int   # where the next one begins (== searched when all were looked at)
    unreadable: int   # datapacks looked at whose name could not be read


def search_summaries(login: Login, ids: list, query: str, start: int, wanted: int, chunk: int, most: int) -> SearchPage:
    """Up to `wanted` datapacks whose name contains `query`, looking through `ids` from `start` a
    `chunk` at a time (each chunk fetched `HOME_FETCHES` at once), and at most `most` of them per call:
    a search over thousands of datapacks goes on page by page instead of holding one request."""
    key = search_key(query)
    matches: list[dict] = []
    unreadable = 0
    position, end = start, min(len(ids), start + max(most, wanted))
    while position < end and len(matches) < wanted:
        batch = ids[position:min(end, position + chunk)]
        for offset, line in enumerate(page_of_summaries(login, batch)):
            if line.get("unreadable"):
                unreadable += 1
            elif key in search_key(line["name"]):
                matches.append(line)
                if len(matches) == wanted:
                    return SearchPage(matches, start, position + offset + 1, unreadable)
        position += len(batch)
    return SearchPage(matches, start, position, unreadable)
