"""The home page: who you are and your datapacks, a page at a time, and a search by name through all of them.

repovizz2 lists only a user's datapack ids (`GET /user`, in an order it never explains, so the page
keeps that order and says so); each datapack's name and files take one more call. The page shows
`HOME_PAGE_SIZE` at a time (`/?page=2` for the next ones, no JavaScript needed), and fetches only the
shown page's datapacks, `HOME_FETCHES` at once on the worker's pooled connections. A search
(`/?q=…`) looks through every datapack in that order, a page's worth at a time with the same bounded
concurrency, until it has a page of matches (`&from=` goes on where it stopped). The fetching threads
run without Flask's request context: they get plain clients from `tokens.worker_clients()`, made in
the request thread. A datapack whose answer cannot be read is listed as unreadable, with the reason.
"""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from ..services.datapack_summaries import MAX_QUERY, listed_ids, page_of_summaries, search_summaries
from ..services.sent_files import known_size
from ..services.tokens import repovizz2
from ..web.access import current_user

bp = Blueprint("home", __name__)


def _with_sizes(lines: list[dict]) -> list[dict]:
    """Each readable line with its total size, where this session knows it (repovizz2 lists none)."""
    return [line if line.get("unreadable") else {**line, "size": known_size(line["id"], line["assets"])}
            for line in lines]

SEARCH_PAGES = 10  # pages' worth of datapacks one search request looks through at most


@bp.route("/")
def home():
    if current_user() is None:
        return render_template("welcome.html")
    user = repovizz2().user()
    ids = listed_ids(user)
    size = max(1, current_app.config["HOME_PAGE_SIZE"])
    unsafe_query = " ".join(request.args.get("q", "").split())[:MAX_QUERY]
    if unsafe_query:
        start = min(max(request.args.get("from", 0, type=int), 0), len(ids))
        found = search_summaries(ids, unsafe_query, start, size, chunk=size, most=size * SEARCH_PAGES)
        return render_template("home.html", user=user, query=unsafe_query, found=found, datapacks=_with_sizes(found.matches),
                               total=len(ids), page=1, pages=1)
    pages = max(1, -(-len(ids) // size))
    page = request.args.get("page", 1, type=int)
    if page < 1 or page > pages:  # out of range: the nearest page there is
        nearest = min(max(page, 1), pages)
        return redirect(url_for("home.home", page=nearest if nearest > 1 else None))
    first = (page - 1) * size
    datapacks = _with_sizes(page_of_summaries(ids[first:first + size]))
    return render_template("home.html", user=user, query="", datapacks=datapacks, page=page, pages=pages,
                           first=first + 1, last=first + len(datapacks), total=len(ids))
