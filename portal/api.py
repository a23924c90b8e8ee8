"""JSON endpoints for the enhanced upload page and for scripts: plan and create, then stream each file."""
from __future__ import annotations

import json
import mimetypes
import time

from flask import Blueprint, current_app, g, request, session, url_for
from flask_wtf.csrf import CSRFError, validate_csrf
from werkzeug.exceptions import BadRequest, ClientDisconnected
from wtforms import ValidationError

from . import csrf
from .auth import bearer_token, repovizz2
from .body_relay import request_source
from .datapack import DatapackInvalid, walk_data_nodes
from .repovizz import Repovizz2Error
from .streaming import BodyLengthMismatch
from .upload import limits
from .uploads import Asset, log_upload, plan_upload

bp = Blueprint("api", __name__)
csrf.exempt(bp)  # checked in require_login, where scripts with a bearer token are told apart


@bp.record_once
def _file_puts_only_read_the_session(state) -> None:
    """A file PUT reads the session (for the token) and changes it only when it renews the token. Flask-Session
    would still write the whole session back to its store at the end of every PUT (SESSION_REFRESH_EACH_REQUEST):
    a store write per file sent, and one that can put back a token a parallel PUT of the same user has just
    renewed. So a PUT writes the session only when it changed it; every other request refreshes it as before."""
    interface = state.app.session_interface
    refresh = getattr(interface, "should_set_storage", None)
    if refresh is None:
        return

    def should_set_storage(app, session) -> bool:
        return session.modified if request.endpoint == "api.put_asset" else refresh(app, session)

    interface.should_set_storage = should_set_storage


@bp.before_request
def require_login():
    """A browser proves itself with its session cookie and the CSRF token; a script with a repovizz2
    bearer token, which no other site can make a browser send, so it needs no CSRF token."""
    token = bearer_token()
    if token:
        g.script_token = token
        return None
    if not session.get("token"):
        return {"error": "Log in with repovizz2 first.", "login": url_for("auth.login")}, 401
    config = current_app.config
    if config.get("WTF_CSRF_ENABLED", True) and request.method in config.get("WTF_CSRF_METHODS", ("POST", "PUT")):
        # From the header only: reading a form field would consume a streamed file's body.
        try:
            validate_csrf(request.headers.get("X-CSRFToken"))
        except ValidationError as error:
            raise CSRFError(error.args[0]) from None
    return None


def _owner() -> dict:
    return session["user"] if not g.get("script_token") else repovizz2().user()


def request_body():
    """The raw body to stream from (see ``body_relay.request_source``): under gunicorn the client
    socket itself, or gunicorn's own input; else Werkzeug's length-limited wrapper."""
    return request_source(request)


def _username() -> str:
    return (session.get("user") or {}).get("username") or ("script" if g.get("script_token") else "-")


def _unreadable(path: str):
    raise RuntimeError(f"{path} is only described, not sent, when planning")


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _json_body() -> dict | None:
    """The request's JSON object, or None when it is not one.

    Parsed here, not by Flask: Flask's parser takes NaN and Infinity (which repovizz2 cannot be sent)
    and lets a RecursionError from deep nesting out as a 500.
    """
    if not request.is_json:
        return None
    try:
        body = json.loads(request.get_data(cache=False), parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        return None
    return body if isinstance(body, dict) else None


def _described_files(body: dict) -> list[Asset] | None:
    """The files the caller says it holds (``[{"path", "size"}, ...]``), or None when the list is malformed."""
    files = body.get("files")
    if not isinstance(files, list):
        return None
    assets = []
    for item in files:
        path, size = (item.get("path"), item.get("size")) if isinstance(item, dict) else (None, None)
        if not isinstance(path, str) or type(size) is not int or size < 0:
            return None
        assets.append(Asset(path, size, lambda path=path: _unreadable(path)))
    return assets


@bp.route("/api/datapacks", methods=["POST"])
def create():
    """Check a document against the list of files the browser holds; if all is well, create the datapack.

    Body: ``{"document": {...}, "files": [{"path": "...", "size": 123}, ...]}``. Answers the
    datapack id and, for each file to send, the link and the URL to PUT it to.
    """
    body = _json_body()
    if body is None or not isinstance(body.get("files"), list):
        return {"error": "send JSON with 'document' and 'files'", "problems": []}, 400
    document = body.get("document")
    if not isinstance(document, dict):
        return {"error": "The datapack has problems", "problems": ["document: must be a JSON object"]}, 422
    assets = _described_files(body)
    if assets is None:
        return {"error": "each file needs a 'path' and a 'size'", "problems": []}, 400
    max_json_kb = current_app.config["MAX_JSON_KB"]
    if len(json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()) > max_json_kb * 1024:
        return {"error": "The datapack has problems", "problems": [f"document: is larger than {max_json_kb} KB"]}, 422
    try:
        plan = plan_upload(document, assets, limits())
    except DatapackInvalid as invalid:
        return {"error": "The datapack has problems", "problems": invalid.problems}, 422
    item = repovizz2().create_datapack(document["info"]["name"], _owner()["id"], document)
    return {"datapack_id": item["id"], "uploads": _upload_list(item["id"], plan)}, 201


def _upload_list(datapack_id: str, plan: dict[str, Asset]) -> list[dict]:
    return [{"link": link, "path": asset.path, "size": asset.size,
             "url": url_for("api.put_asset", datapack_id=datapack_id, link=link)} for link, asset in plan.items()]


@bp.route("/api/datapacks/<datapack_id>/pending", methods=["POST"])
def pending(datapack_id: str):
    """For resuming: which of the browser's files go to links repovizz2 still lists as pending."""
    body = _json_body()
    if body is None or not isinstance(body.get("files"), list):
        return {"error": "send JSON with 'files'"}, 400
    assets = _described_files(body)
    if assets is None:
        return {"error": "each file needs a 'path' and a 'size'"}, 400
    item = repovizz2().datapack(datapack_id)
    if not any(not node.uploaded for node in walk_data_nodes(item["structure"])):
        return {"datapack_id": datapack_id, "uploads": []}  # complete: nothing left to send
    try:
        plan = plan_upload(item.get("structure") or {}, assets, limits(), resume=True)
    except DatapackInvalid as invalid:
        return {"error": "These files cannot finish the datapack", "problems": invalid.problems}, 422
    return {"datapack_id": datapack_id, "uploads": _upload_list(datapack_id, plan)}


@bp.route("/datapacks/<datapack_id>/assets/<path:link>", methods=["PUT"])
def put_asset(datapack_id: str, link: str):
    """Stream the raw request body (one file) through to repovizz2 as it arrives: no temp file."""
    size = request.content_length
    if size is None:
        return {"error": "send the file as the body, with a Content-Length"}, 411
    if size == 0:
        return {"error": f"the file for {link!r} is empty"}, 422
    if size > limits().max_asset_bytes:
        return {"error": f"the file is larger than the {current_app.config['MAX_ASSET_MB']} MB limit"}, 413
    mime = request.args.get("mime") or mimetypes.guess_type(link)[0] or "application/octet-stream"
    started = time.monotonic()
    try:
        ref = repovizz2().upload_asset(datapack_id, link, request_body(), size, mime)
    except (BodyLengthMismatch, ClientDisconnected) as exc:
        log_upload(datapack_id, link, size, started, "incomplete", _username())
        raise BadRequest(f"the body did not match its Content-Length ({exc}); nothing was stored") from None
    except Repovizz2Error as error:
        error.datapack_id = datapack_id
        log_upload(datapack_id, link, size, started, f"failed: {type(error).__name__}", _username())
        raise
    log_upload(datapack_id, link, size, started, "ok", _username())
    return {"link": link, "ref": ref, "size": size}
