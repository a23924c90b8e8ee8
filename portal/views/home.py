"""The home page: who you are and your datapacks, a page at a time.

repovizz2 lists only a user's datapack ids (`GET /user`, in the order they were created); each
datapack's name and files take one more call. The page shows the newest first, `HOME_PAGE_SIZE` at
a time (`/?page=2` for the next ones, no JavaScript needed), and fetches only the shown page's
datapacks, `HOME_FETCHES` at once on the worker's pooled connections. The fetching threads run
without Flask's request context: they get plain clients from `tokens.worker_clients()`, made in the
request thread. A datapack whose answer cannot be read is listed as unreadable, with the reason.
"""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from ..services.datapack_summaries import newest_first, page_of_summaries
from ..services.tokens import repovizz2
from ..web.access import current_user

bp = Blueprint("home", __name__)

@bp.route("/")
def home():
    if current_user() is None:
        return render_template("welcome.html")
    user = repovizz2().user()
    ids = newest_first(user)
    size = max(1, current_app.config["HOME_PAGE_SIZE"])
    pages = max(1, -(-len(ids) // size))
    page = request.args.get("page", 1, type=int)
    if page < 1 or page > pages:  # out of range: the nearest page there is
        nearest = min(max(page, 1), pages)
        return redirect(url_for("home.home", page=nearest if nearest > 1 else None))
    first = (page - 1) * size
    datapacks = page_of_summaries(ids[first:first + size])
    return render_template("home.html", user=user, datapacks=datapacks, page=page, pages=pages,
                           first=first + 1, last=first + len(datapacks), total=len(ids))
