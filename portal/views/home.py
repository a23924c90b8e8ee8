"""The home page: who you are and your datapacks."""
from __future__ import annotations

from flask import Blueprint, render_template

from ..access import current_user
from ..datapack_rules import walk_data_nodes
from ..tokens import repovizz2

bp = Blueprint("home", __name__)


def summary(item: dict) -> dict:
    """What the home page shows of one datapack: its name and how many of its files are pending."""
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
    user = client.user()
    # repovizz2 lists only ids: one call per datapack, on the worker's kept-alive connections.
    datapacks = [summary(client.datapack(datapack_id)) for datapack_id in user.get("datapacks", [])]
    return render_template("home.html", user=user, datapacks=datapacks)
