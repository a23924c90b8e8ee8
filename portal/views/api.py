"""JSON endpoints for the enhanced upload page and for scripts: plan and create, then stream each file."""
from __future__ import annotations

import contextlib
import mimetypes

from flask import Blueprint, current_app, request, url_for
from flask_wtf.csrf import CSRFError, validate_csrf
from werkzeug.exceptions import BadRequest
from wtforms import ValidationError

from ..rules import api_calls
from ..rules.assets import Asset, size_problem
from ..rules.creation_rules import nesting_problem
from ..rules.datapack_tree import walk_data_nodes
from ..rules.problems import DatapackInvalid, Problem, bounded_problems
from ..rules.repovizz2_rules import not_a_datapack
from ..rules.strict_json import JSONRefused, strict_json, to_json_text
from ..rules.tree_edits import EditError, NodeNotFound
from ..services import datapacks
from ..services.body_relay import request_source
from ..services.login import bearer_token, current_login, script_login
from ..services.node_files import NodeChanged
from ..services.request_files import limits
from ..services.upload_pipeline import IncompleteBody, plan_upload, preview_upload
from ..web.extensions import csrf

bp = Blueprint("api", __name__)
csrf.exempt(bp)  # checked in require_login, where scripts with a bearer token are told apart


@bp.before_request
def require_login():
    """A browser proves itself with its session cookie and the CSRF token; a script with a repovizz2
    bearer token, which no other site can make a browser send, so it needs no CSRF token."""
    token = bearer_token()
    if token:
        script_login(token)
        return None
    if not current_login().has_token:
        return {"error": "Log in with repovizz2 first.", "login": url_for("auth.login")}, 401
    config = current_app.config
    if config.get("WTF_CSRF_ENABLED", True) and request.method in config.get("WTF_CSRF_METHODS", ("POST", "PUT")):
        # From the header only: reading a form field would consume a streamed file's body.
        try:
            validate_csrf(request.headers.get("X-CSRFToken"))
        except ValidationError as error:
            raise CSRFError(error.args[0]) from None
    return None


def request_body():
    """The raw body to stream from (see ``body_relay.request_source``): under gunicorn the client
    socket itself, or gunicorn's own input; else Werkzeug's length-limited wrapper."""
    return request_source(request)


def _unreadable(path: str):
    raise RuntimeError(f"{path} is only described, not sent, when planning")


class _Refused(Exception):
    """The request itself is unusable: answered with its status and message, nothing done."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


@bp.errorhandler(_Refused)
def _refused(refusal: _Refused):
    return {"error": refusal.message, "problems": []}, refusal.status


def _json_body() -> dict:
    """The request's JSON object, parsed strictly (rules/strict_json.py: no NaN or Infinity,
    no number too large for JSON, no lone surrogate, no nesting too deep to read), else _Refused
    with what is wrong. Parsed here, not by Flask, whose parser takes NaN and Infinity."""
    if not request.is_json:
        raise _Refused(400, "send JSON (Content-Type: application/json)")
    try:
        body = strict_json(request.get_data(cache=False))
    except JSONRefused as refused:
        raise _Refused(400, f"the request body {refused.reason}") from None
    if not isinstance(body, dict):
        raise _Refused(400, "send a JSON object")
    return body


# A size no file of any datapack can have: larger is refused as nonsense rather than compared.
ABSURD_SIZE = 2**63


def _described_files(body: dict) -> list[Asset]:
    """The files the caller says it holds (``[{"path", "size"}, ...]``), at most MAX_FILES of them,
    checked before anything is matched; else _Refused."""
    files = body.get("files")
    if not isinstance(files, list):
        raise _Refused(400, "send JSON with 'document' and 'files'")
    max_files = limits().max_files
    if len(files) > max_files:
        raise _Refused(413, f"{len(files)} files were listed; the limit is {max_files} per datapack")
    assets = []
    for item in files:
        path, size = (item.get("path"), item.get("size")) if isinstance(item, dict) else (None, None)
        if not isinstance(path, str) or type(size) is not int or size < 0:
            raise _Refused(400, "each file needs a 'path' (text) and a 'size' (a whole number of bytes)")
        if size >= ABSURD_SIZE:
            raise _Refused(400, f"the size given for {path[:200]!r} is not a size a file can have")
        assets.append(Asset(path, size, lambda path=path: _unreadable(path)))
    return assets


def _problems_answer(error: str, problems: list, status: int = 422):
    """Problems as the page's script shows them (`problems`, one line each) and with their parts
    (`problem_details`: kind, where, place, message)."""
    problems = bounded_problems(problems)
    return {"error": error, "problems": [str(problem) for problem in problems],
            "problem_details": [problem.as_dict() for problem in problems]}, status


class _DocumentRefused(Exception):
    """The document cannot be judged at all (not an object, too large, nested too deep)."""

    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


@bp.errorhandler(_DocumentRefused)
def _document_refused(refusal: _DocumentRefused):
    return _problems_answer("The datapack has problems", [refusal.problem])


def _described_request() -> tuple[dict, list[Asset]]:
    """The document and the described files of a create or a check, else _Refused or _DocumentRefused."""
    body = _json_body()
    assets = _described_files(body)
    document = body.get("document")
    if not isinstance(document, dict):
        raise _DocumentRefused(not_a_datapack(document))
    max_json_kb = current_app.config["MAX_JSON_KB"]
    if len(to_json_text(document).encode()) > max_json_kb * 1024:
        raise _DocumentRefused(Problem(f"is larger than {max_json_kb} KB", where="the document"))
    too_deep = nesting_problem(document)
    if too_deep:
        raise _DocumentRefused(too_deep)
    return document, assets


SHOWN_TRAIL = 200  # characters of a node's trail of names one match repeats (its own name last, kept)


def _shown(trail) -> str:
    """A node's name or trail as the check's answer repeats it for each file: its last SHOWN_TRAIL
    characters, so an answer grows with the files sent, not with their depth times their names."""
    trail = str(trail)
    return trail if len(trail) <= SHOWN_TRAIL else "…" + trail[-(SHOWN_TRAIL - 1):]


@bp.route("/api/datapacks/check", methods=["POST"])
def check():
    """What a create would do with this document and these files, without creating anything.

    Same body as a create. Answers 200 with each data node's file (``matches``: link, path, size,
    the node's name and where it sits), the files left out, and every problem found (none when the
    create can go ahead); the upload page shows it as the user chooses.
    """
    document, assets = _described_request()
    plan, problems = preview_upload(document, assets, limits())
    nodes: dict[str, object] = {}
    for node in walk_data_nodes(document):
        if isinstance(node.node.get("link"), str):
            nodes.setdefault(node.link, node)
    answer, _ = _problems_answer("The datapack has problems" if problems else "", problems)
    matches = [{"link": link, "path": asset.path, "size": asset.size,
                "node": _shown(nodes[link].name) if link in nodes else "",
                "where": _shown(nodes[link].where) if link in nodes else ""}
               for link, asset in plan.items()]
    return {**answer, "matches": matches, "left_out": plan.left_out}


@bp.route("/api/datapacks", methods=["POST"])
def create():
    """Check a document against the list of files the browser holds; if all is well, create the datapack.

    Body: ``{"document": {...}, "files": [{"path": "...", "size": 123}, ...]}``. Answers the
    datapack id and, for each file to send, the link and the URL to PUT it to.
    """
    document, assets = _described_request()
    try:
        plan = plan_upload(document, assets, limits())
    except DatapackInvalid as invalid:
        return _problems_answer("The datapack has problems", invalid.problems)
    datapack_id, calls = datapacks.create(current_login(), document, plan,
                                          show_calls=current_app.config["SHOW_API_CALLS"])
    return {"datapack_id": datapack_id, "uploads": _upload_list(datapack_id, plan, document),
            "left_out": plan.left_out, **_calls(calls)}, 201


def _calls(calls: list | None) -> dict:
    """``{"api_calls": [...]}`` for the browser to post back to the result page, when recorded."""
    if calls is None:
        return {}
    return {"api_calls": api_calls.signed(calls, api_calls.signing_key(current_app.secret_key))}


def _upload_list(datapack_id: str, plan: dict[str, Asset], document: dict) -> list[dict]:
    """Each file to send: its link, and the URL to PUT it to. The URL carries the place of the node
    waiting for it, so that the PUT can tell the new reference when repovizz2 answers only "OK"."""
    places: dict[str, str] = {}
    for node in walk_data_nodes(document):
        if not node.uploaded and isinstance(node.node.get("link"), str):
            places.setdefault(node.link, node.place)  # repovizz2 rewrites the first node with the link
    return [{"link": link, "path": asset.path, "size": asset.size,
             "url": url_for("api.put_asset", datapack_id=datapack_id, link=link, place=places.get(link))}
            for link, asset in plan.items()]


@bp.route("/api/datapacks/<datapack_id>/pending", methods=["POST"])
def pending(datapack_id: str):
    """For resuming: which of the browser's files go to links repovizz2 still lists as pending.

    Every answer also carries ``pending_links``, all the links still waiting for a file (chosen or
    not): after a PUT whose answer was lost, the browser tells from it whether its file arrived.
    """
    body = _json_body()
    assets = _described_files(body)
    login = current_login()
    structure = datapacks.datapack(login, datapack_id).get("structure") or {}
    waiting = datapacks.waiting_links(structure)
    if not waiting:
        return {"datapack_id": datapack_id, "uploads": [], "pending_links": []}  # complete: nothing left to send
    try:
        plan = datapacks.plan_resume(login, datapack_id, structure, assets)
    except DatapackInvalid as invalid:
        answer, status = _problems_answer("These files cannot finish the datapack", invalid.problems)
        return {**answer, "pending_links": waiting}, status
    return {"datapack_id": datapack_id, "uploads": _upload_list(datapack_id, plan, structure), "pending_links": waiting}


@bp.route("/datapacks/<datapack_id>/assets/<path:link>", methods=["PUT"])
def put_asset(datapack_id: str, link: str):
    """Stream the raw request body (one file) through to repovizz2 as it arrives: no temp file."""
    size = request.content_length
    if size is None:
        return {"error": "send the file as the body, with a Content-Length"}, 411
    problem = size_problem(link, size, limits())
    if problem:
        return {"error": problem}, 422 if size == 0 else 413
    mime = request.args.get("mime") or mimetypes.guess_type(link)[0] or "application/octet-stream"
    try:
        ref, calls = datapacks.send_one(current_login(), datapack_id, link, request_body(), size, mime,
                                        request.args.get("place", ""), show_calls=current_app.config["SHOW_API_CALLS"])
    except IncompleteBody as error:
        raise BadRequest(f"the body did not match its Content-Length; {error.message}") from None
    return {"link": link, "ref": ref, "size": size, **_calls(calls)}



@bp.route("/api/datapacks/<datapack_id>/nodes/<place>", methods=["PUT"])
def put_node_file(datapack_id: str, place: str):
    """Stream the raw body (one file) to the pending data node at `place` (``children[2].children[0]``),
    whatever its link says: a link no URL can name, or one another node shares, is first replaced by
    a pending link of the node's own, made from ``?name=`` (the file's name; default: the old link's
    last part). ``?mime=`` gives the file's type; ``?expect=`` (optional) the node's fingerprint as a
    form showed it, to refuse a node that changed meanwhile."""
    size = request.content_length
    if size is None:
        return {"error": "send the file as the body, with a Content-Length"}, 411
    name = request.args.get("name", "")
    problem = size_problem(name or place, size, limits())
    if problem:
        return {"error": problem}, 422 if size == 0 else 413
    mime = request.args.get("mime") or mimetypes.guess_type(name)[0] or ""
    asset = Asset(name, size, lambda: contextlib.nullcontext(request_body()), mime)
    try:
        link, ref, calls = datapacks.send_to_node(current_login(), datapack_id, place, asset,
                                                  expect=request.args.get("expect"),
                                                  show_calls=current_app.config["SHOW_API_CALLS"])
    except EditError as error:
        status = 404 if isinstance(error, NodeNotFound) else 409 if isinstance(error, NodeChanged) else 422
        return {"error": f"nothing was sent: {error}"}, status
    except IncompleteBody as error:
        raise BadRequest(f"the body did not match its Content-Length; {error.message}") from None
    return {"place": place, "link": link, "ref": ref, "size": size, **_calls(calls)}
