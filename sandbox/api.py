"""The repovizz2 API v1.0, answering as /work/shared/repovizz2-api.md describes it."""
from __future__ import annotations

import mimetypes
import posixpath

from authlib.integrations.flask_oauth2 import current_token
from flask import Blueprint, abort, current_app, jsonify, make_response, request, send_file

from portal.datapack_rules import schema_problems

from . import datapacks, models
from .datapacks import Datapack, LinkNotFound, NameTaken
from .db import get_db
from .oauth import require_oauth
from .storage import FILE_ID, FileStore

bp = Blueprint("api", __name__, url_prefix="/api/v1.0")


def fail(status: int, message: str):
    abort(make_response(jsonify({"error": message}), status))


def current_user() -> models.User:
    user = models.user_by_id(get_db(), current_token.user_id)
    if user is None:
        fail(401, "The user of this token no longer exists.")
    return user


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


def json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        fail(400, "The body must be a JSON object.")
    return body


def check_name(body: dict) -> str:
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        fail(400, "'name' must be a non-empty string.")
    return name


def check_structure(structure) -> dict:
    # The public schema's rules only (what repovizz2 accepts), each as "<place>: <message>".
    problems = [f"{problem.place or 'document'}: {problem.message}" for problem in schema_problems(structure)]
    if problems:
        fail(422, "; ".join(problems))
    return structure


@bp.get("/user")
@require_oauth("basic")
def user():
    user = current_user()
    return jsonify(
        {
            "id": user.id,
            "username": user.username,
            "email": user.email,
            "datapacks": datapacks.datapack_ids_of(get_db(), user.id),
            "folders": [],
            "groups": [],
            "_links": {"self": f"/api/v1.0/users/{user.username}", "collection": "/api/v1.0/users"},
        }
    )


@bp.post("/datapacks")
@require_oauth("basic")
def create_datapack():
    body = json_body()
    name = check_name(body)
    if "owner" not in body:
        fail(400, "'owner' is required.")
    if body["owner"] != current_user().id:
        fail(403, "Method not allowed.")
    if "structure" not in body:
        fail(422, "'structure' is required.")
    structure = check_structure(body["structure"])
    try:
        datapack = datapacks.create_datapack(get_db(), name, body["owner"], structure)
    except NameTaken as error:
        fail(409, str(error))
    return jsonify({"result": "OK", "item": datapack.as_json()})


@bp.get("/datapacks/<datapack_id>")
@require_oauth("basic")
def get_datapack(datapack_id):
    return jsonify(owned_datapack(datapack_id).as_json())


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
        unused_files = datapacks.update_datapack(get_db(), datapack_id, name=name, structure=structure)
    except NameTaken as error:
        fail(409, str(error))
    for file_id in unused_files:
        file_store().delete(file_id)
    return jsonify({"result": "OK"})


@bp.get("/datapacks/<datapack_id>/content")
@require_oauth("basic")
def list_content(datapack_id):
    return jsonify(datapacks.content_listing(owned_datapack(datapack_id).structure))


@bp.post("/datapacks/<datapack_id>/content/<path:link>")
@require_oauth("basic")
def upload_file(datapack_id, link):
    """Stream the one file part to tmp/, move it into files/ when complete, then point the node at it.

    Posting to `repovizz:<id>` replaces that file: the node gets a new id and the old file is deleted.
    """
    datapack = owned_datapack(datapack_id)
    if not datapacks.has_link(datapack.structure, link):
        fail(404, f"No data node has link '{link}'.")
    store = file_store()
    received = store.receive_single_file(
        request.stream, request.mimetype, request.mimetype_params.get("boundary"), request.content_length
    )
    file_id = store.new_file_id()
    store.store(received, file_id)
    try:
        unused_files = datapacks.attach_file(get_db(), datapack_id, link, file_id, received.size)
    except LinkNotFound:
        store.delete(file_id)
        fail(404, f"No data node has link '{link}'.")
    except BaseException:
        store.delete(file_id)
        raise
    for unused in unused_files:
        store.delete(unused)
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
    return send_file(store.path_of(file_id), mimetype=content_type(node, uploaded_as),
                     download_name=posixpath.basename(uploaded_as) or file_id)


def content_type(node: dict, uploaded_as: str) -> str:
    """The node's mime without parameters (`video/mp4; charset=binary` → `video/mp4`), else a guess from the
    name the file was uploaded under."""
    mime = datapacks.node_mime(node).split(";")[0].strip()
    if "/" in mime:
        return mime
    return mimetypes.guess_type(uploaded_as)[0] or "application/octet-stream"
