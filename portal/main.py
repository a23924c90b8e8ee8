"""The home page: who you are and your datapacks."""
from __future__ import annotations

from flask import Blueprint, render_template

from .auth import current_user, repovizz2
from .datapack import walk_data_nodes

bp = Blueprint("main", __name__)


@bp.route("/")
def home():
    if current_user() is None:
        return render_template("welcome.html")
    client = repovizz2()
    user = client.user()
    datapacks = []
    for datapack_id in user.get("datapacks", []):
        item = client.datapack(datapack_id)
        nodes = walk_data_nodes(item.get("structure") or {})
        datapacks.append({
            "id": datapack_id,
            "name": item.get("name", ""),
            "assets": len(nodes),
            "pending": sum(1 for node in nodes if not node.uploaded),
        })
    return render_template("home.html", user=user, datapacks=datapacks)
