"""`/healthz` for a load balancer: the portal is up, and whether repovizz2 answers."""
from __future__ import annotations

import requests
from flask import Blueprint, current_app

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz():
    """200 while the portal runs; `repovizz2` says whether the service answers at all (any HTTP status)."""
    url = current_app.config["REPOVIZZ2_URL"] + "/api/v1.0/user"
    try:
        requests.get(url, timeout=(2, 3))
        upstream = "ok"
    except requests.RequestException:
        upstream = "unreachable"
    return {"portal": "ok", "repovizz2": upstream}
