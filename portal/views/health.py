"""`/healthz` for a load balancer: the portal is up, and whether repovizz2 answers."""
from __future__ import annotations

from flask import Blueprint

from ..services.tokens import anonymous_client

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz():
    """200 while the portal runs; `repovizz2` says whether the service answers at all (any HTTP status)."""
    return {"portal": "ok", "repovizz2": "ok" if anonymous_client().reachable() else "unreachable"}
