"""The repovizz2 API v1.0, answering as the public repovizz2 API documentation describes it."""
from __future__ import annotations

import json
import math
import mimetypes
import posixpath
import re

from authlib.integrations.flask_oauth2 import current_token
from flask import Blueprint, abort, current_app, jsonify, make_response, request, send_file

from . import datapacks, models
from .datapacks import Datapack, LinkNotFound, NameTaken
from .db import get_db
from .oauth import require_oauth, unauthorized_response
from .schema import document_problems
from .storage import FILE_ID, FileStore

bp = Blueprint("api", __name__, url_prefix="/api/v1.0")


def fail(status: int, message: str):
    abort(make_response(jsonify({"error": message}), status))


def current_user() -> models.User:
    user = models.user_by_id(get_db(), current_token.user_id)
    if user is None:
        abort(unauthorized_response("invalid_token", "The user of this token no longer exists."))
    return user


def public_id(user: models.User) -> int | str:
    """The user's id as this sandbox shows it (`--ids integer|uuid`)."""
    return user.public_id(current_app.config["IDS"])


def same_id(given, user: models.User) -> bool:
    """Whether `given` (from a JSON body) is the user's id: the same JSON value, so `"2"` is not `2` and
    `true` is not `1`."""
    expected = public_id(user)
    return type(given) is type(expected) and given == expected


def file_store() -> FileStore:
    return current_app.extensions["sandbox_files"]


def owned_datapack(datapack_id: str) -> Datapack:
    """The datapack, if the caller owns it: 404 when there is none, 403 when it is someone else's."""
    datapack = datapacks.get_datapack(get_db(), datapack_id)
    if datapack is None:
        fail(404, f"Datapack {datapack_id} not found.")
    if datapack.owner != current_user().id:
        fail(403, "Method not allowed.")
    return datapack


# How deeply arrays and objects may nest in a request body. The public rules set no depth limit; this is
# the sandbox's own, well inside what Python's json module can read and write back (about 990 levels), so
# whatever it accepts it can also store and answer. A datapack 250 containers deep fits.
MAX_JSON_DEPTH = 512
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def json_depth(text: str) -> int:
    """How deeply arrays and objects nest in `text` (strings skipped), counted without parsing."""
    depth = deepest = 0
    for bracket in _JSON_BRACKET.findall(_JSON_STRING.sub("", text)):
        if bracket in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is out of range")
    return number


def read_json(data: bytes):
    """Strict JSON: UTF-8, no NaN/Infinity, no number that overflows a double, at most MAX_JSON_DEPTH deep."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        fail(400, "The body must be JSON in UTF-8.")
    if json_depth(text) > MAX_JSON_DEPTH:
        fail(422, f"The body nests arrays and objects more than {MAX_JSON_DEPTH} deep: this sandbox reads no deeper"
                  " (its own limit, not a repovizz2 rule).")
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        fail(422, "The body nests arrays and objects too deeply for this sandbox to read.")
    except ValueError as error:
        fail(400, f"The body must be a JSON object ({error}).")


def json_body() -> dict:
    """The body as a JSON object, whatever its Content-Type says (the documented jQuery samples send JSON
    form-encoded)."""
    body = read_json(request.get_data(cache=True))
    if not isinstance(body, dict):
        fail(400, "The body must be a JSON object.")
    return body


def check_name(body: dict) -> str:
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        fail(400, "'name' must be a non-empty string.")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        fail(400, "'name' must be Unicode text (it has a lone surrogate).")
    return name


def check_structure(structure) -> dict:
    problems = document_problems(structure)
    if problems:
        fail(422, "; ".join(problems))
    return structure


def user_answer(user: models.User) -> dict:
    return {
        "id": public_id(user),
        "username": user.username,
        "email": user.email,
        "datapacks": datapacks.datapack_ids_of(get_db(), user.id),
        "folders": [],
        "groups": [],
        "_links": {"self": f"/api/v1.0/users/{user.username}", "collection": "/api/v1.0/users"},
    }


@bp.get("/user")
@require_oauth("basic")
def user():
    return jsonify(user_answer(current_user()))


@bp.get("/users/<path:username>")
@require_oauth("basic")
def user_by_name(username):
    """The `_links.self` of /user: the caller's own answer; anyone else (existing or not) is 403."""
    user = current_user()
    if username != user.username:
        fail(403, "Method not allowed.")
    return jsonify(user_answer(user))


@bp.post("/datapacks")
@require_oauth("basic")
def create_datapack():
    body = json_body()
    name = check_name(body)
    if "owner" not in body:
        fail(400, "'owner' is required.")
    user = current_user()
    if not same_id(body["owner"], user):
        fail(403, "Method not allowed.")
    if "structure" not in body:
        fail(422, "'structure' is required.")
    structure = check_structure(body["structure"])
    try:
        datapack = datapacks.create_datapack(get_db(), name, user.id, structure)
    except NameTaken as error:
        fail(409, str(error))
    return jsonify({"result": "OK", "item": datapack.as_json(public_id(user))})


@bp.get("/datapacks/<datapack_id>")
@require_oauth("basic")
def get_datapack(datapack_id):
    return jsonify(owned_datapack(datapack_id).as_json(public_id(current_user())))


@bp.post("/datapacks/<datapack_id>")
@require_oauth("basic")
def update_datapack(datapack_id):
    owned_datapack(datapack_id)
    body = json_body()
    if "name" not in body and "structure" not in body:
        fail(400, "Send 'name' and/or 'structure'.")
    name = check_name(body) if "name" in body else None
    structure = check_structure(body["structure"]) if "structure" in body else None
    try:
        datapacks.update_datapack(get_db(), file_store(), datapack_id, name=name, structure=structure)
    except NameTaken as error:
        fail(409, str(error))
    return jsonify({"result": "OK"})


@bp.get("/datapacks/<datapack_id>/content")
@require_oauth("basic")
def list_content(datapack_id):
    return jsonify(datapacks.content_listing(owned_datapack(datapack_id).structure))


@bp.post("/datapacks/<datapack_id>/content/<path:link>")
@require_oauth("basic")
def upload_file(datapack_id, link):
    """Stream the one file part to tmp/, then (under the write lock) move it into files/ and point the node at it.

    Posting to `repovizz:<id>` replaces that file: the node gets the new id, and the old bytes are deleted
    unless some node still points at them.
    """
    datapack = owned_datapack(datapack_id)
    if not datapacks.has_link(datapack.structure, link):
        fail(404, f"No data node has link '{link}'.")
    store = file_store()
    received = store.receive_single_file(
        request.stream, request.mimetype, request.mimetype_params.get("boundary"), request.content_length
    )
    file_id = None
    try:
        file_id = store.file_id_for(received)
        datapacks.attach_file(get_db(), store, datapack_id, link, file_id, received)
    except LinkNotFound:
        fail(404, f"No data node has link '{link}'.")
    except BaseException:
        if file_id is not None:
            datapacks.delete_bytes_if_unreferenced(get_db(), store, file_id)
        raise
    finally:
        store.discard(received)
    if current_app.config["UPLOAD_ANSWER"] == "result-ok":
        return jsonify({"result": "OK"})
    return jsonify({"id": file_id})


@bp.get("/datapacks/<datapack_id>/content/<path:file_ref>")
@require_oauth("basic")
def download_file(datapack_id, file_ref):
    datapack = owned_datapack(datapack_id)
    file_id = file_ref.removeprefix(datapacks.UPLOADED_PREFIX)
    store = file_store()
    record = datapacks.file_record(get_db(), datapack_id, file_id) if FILE_ID.match(file_id) else None
    if record is None or not store.exists(file_id):
        fail(404, f"File {file_ref} not found in datapack {datapack_id}.")
    node = datapacks.file_node(datapack.structure, file_id) or {}
    uploaded_as = record["uploaded_as"]
    # conditional=True: Range requests get 206 Partial Content (browsers need it to seek a video).
    return send_file(store.path_of(file_id), mimetype=content_type(node, uploaded_as),
                     download_name=posixpath.basename(uploaded_as) or file_id, conditional=True)


def content_type(node: dict, uploaded_as: str) -> str:
    """The node's mime without parameters (`video/mp4; charset=binary` → `video/mp4`), else a guess from the
    name the file was uploaded under."""
    mime = datapacks.node_mime(node).split(";")[0].strip()
    if "/" in mime:
        return mime
    return mimetypes.guess_type(uploaded_as)[0] or "application/octet-stream"
