"""A datapack's page and everything under ``/datapacks/<id>``: the tree as repovizz2 has it now,
finishing its pending files, the result page, ``document.json``, a stored file streamed back, and
the edits (rename, edit a node, add a node with its file, replace a file, remove a node)."""
from __future__ import annotations

import json
import posixpath
import unicodedata
from contextlib import contextmanager

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from werkzeug.http import parse_options_header

from .. import api_calls
from ..access import login_required
from ..assets import human_size, size_problem
from ..datapack_rules import UPLOADED_PREFIX, DatapackInvalid, TreeNode, document_problems, is_uploaded, \
    normalize_path, reference_id, walk_data_nodes, walk_nodes
from ..document_builder import guess_mime, readable_name
from ..forms import AddNodeForm, ConfirmForm, NodeForm, PendingFilesForm, RemoveForm, RenameForm, ReplaceForm
from ..media_types import CONTENT_CSP, base_mime, content_disposition, download_name, header_mime, \
    inline_allowed, safe_filename
from ..request_files import asset_from_storage, chosen_assets, limits
from ..tokens import repovizz2
from ..tree_edits import EditError, add_node, data_node, describe, node_at, node_fingerprint, remove_node, \
    set_info, set_node_fields, set_node_mime
from ..upload_pipeline import plan_upload, recorded_outcome, send_file, sizes_of, upload_files

bp = Blueprint("datapack", __name__, url_prefix="/datapacks")

CHUNK_SIZE = 64 * 1024


def _username() -> str:
    return (session.get("user") or {}).get("username", "")


# --- The page, finishing pending files, the result page, the document --------------------------------

def _page(datapack_id: str, item: dict, form: PendingFilesForm, problems=(), status: int = 200):
    document = item.get("structure") or {}
    nodes = list(walk_nodes(document))
    pending = [node for node in nodes if node.is_data and not node.uploaded]
    return render_template("datapack.html", item=item, datapack_id=datapack_id, nodes=nodes, pending=pending,
                           form=form, problems=list(problems), limits=limits()), status


@bp.route("/<datapack_id>")
@login_required
def show(datapack_id: str):
    item = repovizz2().datapack(datapack_id)
    return _page(datapack_id, item, PendingFilesForm())


@bp.route("/<datapack_id>", methods=["POST"])
@login_required
def upload_pending(datapack_id: str):
    """Finish an interrupted upload: only the links repovizz2 still lists as pending are sent."""
    client = repovizz2()
    if current_app.config["SHOW_API_CALLS"]:
        client.record_calls()
    item = client.datapack(datapack_id)
    form = PendingFilesForm()
    if not form.validate_on_submit():
        return _page(datapack_id, item, form, ["the form had expired: choose the files again"], 400)
    assets = chosen_assets("files", "folder")
    if not assets:
        return _page(datapack_id, item, form, ["choose the files still to upload, or the whole folder"], 422)
    document = item.get("structure") or {}
    try:
        plan = plan_upload(document, assets, limits(), resume=True)
    except DatapackInvalid as invalid:
        return _page(datapack_id, item, form, invalid.problems, 422)
    _, error = upload_files(client, datapack_id, plan, _username())
    result = recorded_outcome(client, datapack_id, document, sizes_of(plan), error)
    return render_template("result.html", outcome=result), 502 if error else 200


@bp.route("/<datapack_id>/result", methods=["POST"])
@login_required
def result(datapack_id: str):
    """The result page after the browser sent the files itself.

    The browser posts back the document as it chose it (`document`) and the sizes it sent
    (`sizes`, a JSON object link → bytes); everything else is read from repovizz2. When the calls
    to repovizz2 are shown, it also posts those its own requests made (`api_calls`): they are
    checked, shortened and shown as reported by the browser, before the calls of this request.
    """
    form = ConfirmForm()
    if not form.validate_on_submit():
        return redirect(url_for("datapack.show", datapack_id=datapack_id))
    try:
        original = json.loads(request.form.get("document", ""))
        sizes = json.loads(request.form.get("sizes") or "{}")
    except (ValueError, RecursionError):
        return redirect(url_for("datapack.show", datapack_id=datapack_id))
    if not isinstance(original, dict) or not isinstance(sizes, dict):
        return redirect(url_for("datapack.show", datapack_id=datapack_id))
    sizes = {str(link): size for link, size in sizes.items() if isinstance(size, int)}
    client = repovizz2()
    reported = []
    if current_app.config["SHOW_API_CALLS"]:
        client.record_calls()
        reported = api_calls.from_browser(request.form.get("api_calls"))
    result = recorded_outcome(client, datapack_id, original, sizes)
    result.calls = reported + result.calls
    return render_template("result.html", outcome=result)


@bp.route("/<datapack_id>/document.json")
@login_required
def document(datapack_id: str):
    item = repovizz2().datapack(datapack_id)
    body = json.dumps(item.get("structure"), indent=2, ensure_ascii=False)
    filename = safe_filename(f"{item.get('name') or datapack_id}.json")
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": content_disposition("attachment", filename)})


# --- A stored file, streamed back -------------------------------------------------------------------

@bp.route("/<datapack_id>/content/<file_id>")
@login_required
def content(datapack_id: str, file_id: str):
    """One stored file, streamed chunk by chunk from repovizz2 (constant memory)."""
    file_id = file_id.removeprefix(UPLOADED_PREFIX)
    client = repovizz2()
    document = client.datapack(datapack_id).get("structure") or {}
    node = next((node for node in walk_data_nodes(document) if file_id and reference_id(node.link) == file_id), None)
    if node is None:
        abort(404, "This datapack has no file with that id.")
    upstream = client.open_asset(datapack_id, file_id)
    try:
        return _stream(upstream, header_mime(node.mime, upstream.headers.get("Content-Type")), node.name)
    except BaseException:
        upstream.close()  # once the answer exists, closing it closes upstream (also when the client goes away)
        raise


def _upstream_filename(headers) -> str:
    value = headers.get("Content-Disposition")
    if not value:
        return ""
    _, options = parse_options_header(value)
    return options.get("filename") or ""


def _stream(upstream, mime: str, node_name: str) -> Response:
    name = download_name(node_name, mime, _upstream_filename(upstream.headers))
    inline = request.args.get("inline") == "1" and inline_allowed(mime)

    def chunks():
        try:
            for chunk in upstream.iter_content(CHUNK_SIZE):
                if chunk:
                    yield chunk
        finally:
            upstream.close()

    response = Response(chunks(), content_type=mime, direct_passthrough=True)
    response.call_on_close(upstream.close)
    length = upstream.headers.get("Content-Length")
    if length and length.isdigit() and not upstream.headers.get("Content-Encoding"):
        response.headers["Content-Length"] = length
    response.headers["Content-Disposition"] = content_disposition("inline" if inline else "attachment", name)
    response.headers["Content-Security-Policy"] = CONTENT_CSP
    response.headers["Cache-Control"] = "private, max-age=3600"  # a file id never changes its bytes
    return response


# --- Edits ---------------------------------------------------------------------------------------------

def _back(datapack_id: str, place: str = ""):
    anchor = f"#node-{place}" if place else ""
    return redirect(url_for("datapack.show", datapack_id=datapack_id) + anchor)


class _Refused(Exception):
    """An edit that was not made: answered with its message and the way back to the datapack."""

    def __init__(self, datapack_id: str, message: str):
        super().__init__(message)
        self.datapack_id, self.message = datapack_id, message


@bp.errorhandler(_Refused)
def _refused(refusal: _Refused):
    flash(refusal.message, "error")
    return _back(refusal.datapack_id)


def _form_problem(form: FlaskForm) -> str:
    messages = [f"{getattr(form, key).label.text}: {message}" if hasattr(form, key) else message
                for key, errors in form.errors.items() for message in errors]
    return "Nothing was changed: " + "; ".join(messages)


def _checked_form(datapack_id: str, form: FlaskForm) -> None:
    if not form.validate_on_submit():
        raise _Refused(datapack_id, _form_problem(form))


def _fetch(datapack_id: str, form: FlaskForm):
    """After the form's own checks: the repovizz2 client and the datapack's document as it is now."""
    _checked_form(datapack_id, form)
    client = repovizz2()
    return client, client.datapack(datapack_id).get("structure") or {}


@contextmanager
def _or_nothing_was(verb: str, datapack_id: str):
    """An EditError or DatapackInvalid in the block refuses the edit: "Nothing was <verb>: <why>"."""
    try:
        yield
    except EditError as error:
        raise _Refused(datapack_id, f"Nothing was {verb}: {error}.") from None
    except DatapackInvalid as invalid:
        raise _Refused(datapack_id, f"Nothing was {verb}: " + "; ".join(invalid.problems)) from None


def _expected_node(document: dict, place: str, expect: str) -> dict:
    """The node at `place`, if it is still the one the form was made for."""
    node = node_at(document, place)
    if not expect:
        raise EditError("the form did not say which node it was made for: look at the datapack again "
                        "and redo the change")
    if node_fingerprint(node) != expect:
        raise EditError("the datapack changed since this page was loaded (in another tab?): "
                        "look at it again and redo the change")
    return node


def _save(client, datapack_id: str, document: dict) -> None:
    problems = document_problems(document)
    if problems:
        raise DatapackInvalid(problems)
    client.update_datapack(datapack_id, structure=document)


@bp.route("/<datapack_id>/rename", methods=["POST"])
@login_required
def rename(datapack_id: str):
    form = RenameForm()
    _checked_form(datapack_id, form)
    new = " ".join(form.name.data.split())
    client = repovizz2()
    item = client.datapack(datapack_id)
    old = item.get("name", "")
    if new == old:
        flash(f'The datapack is already called "{new}".', "info")
        return _back(datapack_id)
    client.update_datapack(datapack_id, name=new)  # 409 (NameTaken) when you have one of that name
    document = item.get("structure")
    if isinstance(document, dict) and isinstance(document.get("info"), dict) and document["info"].get("name") != new:
        renamed = set_info(document, name=new)
        if not document_problems(renamed):
            client.update_datapack(datapack_id, structure=renamed)
    flash(f'Renamed "{old}" to "{new}".', "ok")
    return _back(datapack_id)


@bp.route("/<datapack_id>/nodes/edit", methods=["POST"])
@login_required
def edit_node(datapack_id: str):
    form = NodeForm()
    client, document = _fetch(datapack_id, form)
    place = form.place.data
    with _or_nothing_was("changed", datapack_id):
        _expected_node(document, place, form.expect.data)
        edited = set_node_fields(document, place, name=" ".join(form.name.data.split()),
                                 text=(form.text.data or "").strip())
        _save(client, datapack_id, edited)
    flash(f"Saved the {describe(node_at(edited, place))} at {place}.", "ok")
    return _back(datapack_id, place)


@bp.route("/<datapack_id>/nodes/remove", methods=["POST"])
@login_required
def remove(datapack_id: str):
    form = RemoveForm()
    client, document = _fetch(datapack_id, form)
    place = form.place.data
    with _or_nothing_was("removed", datapack_id):
        node = _expected_node(document, place, form.expect.data)
        _save(client, datapack_id, remove_node(document, place))
    flash(f"Removed the {describe(node)} (it was at {place}).", "ok")
    return _back(datapack_id)


def _checked_asset(storage):
    """The uploaded form file as an Asset, or EditError when it is empty or too large."""
    asset = asset_from_storage(storage)
    problem = size_problem(asset.path, asset.size, limits())
    if problem:
        raise EditError(f"the {problem}")
    return asset


@bp.route("/<datapack_id>/nodes/add", methods=["POST"])
@login_required
def add(datapack_id: str):
    """Append a data node whose link is the file's name, save the structure, then upload the file to it."""
    form = AddNodeForm()
    client, document = _fetch(datapack_id, form)
    storage = form.file.data
    link = unicodedata.normalize("NFC", posixpath.basename(normalize_path(storage.filename or "")))
    name = " ".join((form.name.data or "").split()) or readable_name(link)
    mime = guess_mime(link, storage.mimetype or "")
    with _or_nothing_was("added", datapack_id):
        asset = _checked_asset(storage)
        asset.path, asset.mime = link, mime
        edited, place = add_node(document, data_node(name, (form.text.data or "").strip(), link, mime),
                                 form.parent.data or "")
        plan = plan_upload(edited, [asset], limits(), resume=True)
        _save(client, datapack_id, edited)
    _, error = upload_files(client, datapack_id, plan, _username())
    if error is not None:
        raise error  # the node exists, waiting for its file: the error page links to the datapack
    flash(f'Added the data node "{name}" at {place} and uploaded {link} ({human_size(asset.size)}).', "ok")
    return _back(datapack_id, place)


@bp.route("/<datapack_id>/nodes/replace", methods=["POST"])
@login_required
def replace(datapack_id: str):
    """Send a new file to the node's current link (``repovizz:<id>``): repovizz2 replaces the file."""
    form = ReplaceForm()
    client, document = _fetch(datapack_id, form)
    place = form.place.data
    storage = form.file.data
    with _or_nothing_was("replaced", datapack_id):
        node = _expected_node(document, place, form.expect.data)
        if node.get("class") != "data" or not is_uploaded(node.get("link", "")):
            raise EditError(f"{place} is not an uploaded data node (upload its file from the pending form)")
        asset = _checked_asset(storage)
    mime = guess_mime(asset.path, storage.mimetype or "")
    with asset.open() as source:
        new_link = send_file(client, datapack_id, node["link"], source, asset.size, mime, _username())
    _update_mime(client, datapack_id, place, new_link, mime)
    flash(f'Replaced the file of "{node.get("name", "")}" with {asset.path} ({human_size(asset.size)}).', "ok")
    return _back(datapack_id, place)


def _update_mime(client, datapack_id: str, place: str, new_link: str | None, mime: str) -> None:
    """Keep the node's type in step with the new file (a .wav replaced by an .mp3)."""
    if not mime or mime == "application/octet-stream":
        return
    document = client.datapack(datapack_id).get("structure") or {}
    try:
        node = node_at(document, place)
    except EditError:
        return
    if node.get("class") != "data" or (new_link and node.get("link") != new_link):
        return
    if base_mime(TreeNode(place, 0, node).mime) == base_mime(mime):
        return
    edited = set_node_mime(document, place, mime)
    if not document_problems(edited):
        client.update_datapack(datapack_id, structure=edited)
