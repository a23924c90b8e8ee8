"""The home page: who you are and your datapacks."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from flask import Blueprint, copy_current_request_context, render_template

from .auth import current_user, repovizz2
from .datapack import walk_data_nodes

bp = Blueprint("main", __name__)
PARALLEL_LOOKUPS = 8


def summary(item: dict) -> dict:
    nodes = walk_data_nodes(item.get("structure") or {})
    return {
        "id": item["id"],
        "name": item.get("name", ""),
        "assets": len(nodes),
        "pending": sum(1 for node in nodes if not node.uploaded),
    }


@bp.route("/")
def home():
    if current_user() is None:
        return render_template("welcome.html")
    client = repovizz2()
    user = client.user()  # renews the token if it must, before the lookups below share it
    ids = user.get("datapacks", [])

    @copy_current_request_context
    def look_up(datapack_id: str) -> dict:
        return client.datapack(datapack_id)

    # repovizz2 lists ids only: fetch the datapacks a few at a time rather than one after another.
    with ThreadPoolExecutor(max_workers=min(PARALLEL_LOOKUPS, max(len(ids), 1))) as pool:
        items = list(pool.map(look_up, ids))
    return render_template("home.html", user=user, datapacks=[summary(item) for item in items])
