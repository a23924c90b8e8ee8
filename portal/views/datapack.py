"""A datapack's page and everything under ``/datapacks/<id>``: the tree as repovizz2 has it now,
finishing its pending files, the result page, ``document.json``, a stored file streamed back, and
the edits (rename, edit a node, add a node with its file, replace a file, remove a node)."""
from __future__ import annotations

import posixpath
import re
import unicodedata
from contextlib import contextmanager

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from werkzeug.http import parse_options_header

from ..rules import api_calls
from ..rules.assets import human_size, size_problem
from ..rules.datapack_rules import UPLOADED_PREFIX, DatapackInvalid, JSONRefused, TreeNode, bounded_problems, \
    control_character_reason, is_uploaded, normalize_path, readable_copy, reference_id, schema_problems, strict_json, \
    to_json_text, walk_data_nodes, walk_nodes
from ..rules.document_builder import guess_mime, readable_name
from ..rules.media_types import CONTENT_CSP, base_mime, content_disposition, download_name, header_mime, \
    safe_filename, served_type
from ..rules.tree_edits import EditError, add_node, data_node, describe, free_link, node_at, node_fingerprint, put_node, \
    removal_summary, remove_node, set_info, set_node_fields, set_node_link, set_node_mime, set_node_type, shares_link
from ..services.repovizz2_client import Repovizz2Error
from ..services.request_files import asset_from_storage, chosen_assets, limits
from ..services.sent_files import recall, remember
from ..services.example_calls import example_calls
from ..services.node_files import send_to_node, slot_problems
from ..services.tokens import repovizz2
from ..services.upload_pipeline import plan_upload, recorded_outcome, send_file, sizes_of, upload_files
from ..web.access import login_required
from ..web.forms import AddNodeForm, ConfirmForm, NodeFileForm, NodeForm, PendingFilesForm, RemoveForm, RenameForm, \
    ReplaceForm

bp = Blueprint("datapack", __name__, url_prefix="/datapacks")

CHUNK_SIZE = 64 * 1024
# A Range header worth passing on: byte ranges only, a handful of them (a seeking video asks for one).
_BYTE_RANGES = re.compile(r"bytes=\s*(\d*-\d*)(\s*,\s*\d*-\d*){0,7}\s*")


def _username() -> str:
    return (session.get("user") or {}).get("username", "")


# --- The page, finishing pending files, the result page, the document --------------------------------

def _page(datapack_id: str, item: dict, form: PendingFilesForm, problems=(), status: int = 200, teaching=None):
    item = readable_copy(item)  # whatever repovizz2 holds, the page can show (a lone surrogate cannot be sent)
    document = item.get("structure") or {}
    nodes = list(walk_nodes(document))
    pending = [node for node in nodes if node.is_data and not node.uploaded]
    # Nodes a chosen file cannot be matched to by name: each takes its file from its own box.
    return render_template("datapack.html", item=item, datapack_id=datapack_id, nodes=nodes, pending=pending,
                           by_box=slot_problems(document), teaching=teaching,
                           form=form, problems=bounded_problems(problems), limits=limits(),
                           stored_problems=stored_shape_problems(document)), status


def stored_shape_problems(document) -> list:
    """What a stored document's shape has that the public schema does not allow, a few lines at most:
    the page still shows it, and says why parts of it are missing or odd."""
    return bounded_problems(schema_problems(document), max_bytes=8 * 1024)


@bp.route("/<datapack_id>")
@login_required
def show(datapack_id: str):
    """The datapack's page; for the example opened again (``?example=again``) with the calls shown, the
    calls panel too, rebuilt from what repovizz2 holds (services/example_calls.py)."""
    if request.args.get("example") == "again" and current_app.config["SHOW_API_CALLS"]:
        item, calls, names, refs = example_calls(repovizz2(), datapack_id)
        return _page(datapack_id, item, PendingFilesForm(), teaching={"calls": calls, "names": names, "refs": refs})
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
    remember(datapack_id, document, sizes_of(plan))
    _, error = upload_files(client, datapack_id, plan, _username())
    result = recorded_outcome(client, datapack_id, document, sizes_of(plan), error, earlier=recall(datapack_id))
    return render_template("result.html", outcome=result), 502 if error else 200


@bp.route("/<datapack_id>/result", methods=["POST"])
@login_required
def result(datapack_id: str):
    """The result page after the browser sent the files itself.

    The browser posts back the document as it chose it (`document`; empty after a resume, when it
    only chose files) and the sizes it sent (`sizes`, a JSON object link → bytes); everything else is
    read from repovizz2, and what an earlier upload sent from what this session noted of it. When the
    calls to repovizz2 are shown, it also posts those its own requests made (`api_calls`): they are
    checked, shortened and shown as reported by the browser, before the calls of this request.
    """
    form = ConfirmForm()
    if not form.validate_on_submit():
        return redirect(url_for("datapack.show", datapack_id=datapack_id))
    try:
        original = strict_json(request.form["document"]) if request.form.get("document") else None
        sizes = strict_json(request.form.get("sizes") or "{}")
    except JSONRefused:
        return redirect(url_for("datapack.show", datapack_id=datapack_id))
    if not isinstance(original, (dict, type(None))) or not isinstance(sizes, dict):
        return redirect(url_for("datapack.show", datapack_id=datapack_id))
    sizes = {str(link): size for link, size in sizes.items() if isinstance(size, int)}
    client = repovizz2()
    reported = []
    if current_app.config["SHOW_API_CALLS"]:
        client.record_calls()
        reported = api_calls.from_browser(request.form.get("api_calls"), api_calls.signing_key(current_app.secret_key))
    result = recorded_outcome(client, datapack_id, original, sizes, earlier=recall(datapack_id))
    result.calls = reported + result.calls
    return render_template("result.html", outcome=result)


@bp.route("/<datapack_id>/document.json")
@login_required
def document(datapack_id: str):
    item = repovizz2().datapack(datapack_id)
    body = to_json_text(item.get("structure"), indent=2)  # strict JSON whatever is stored
    filename = safe_filename(f"{readable_copy(item.get('name')) or datapack_id}.json")
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
    byte_range = request.headers.get("Range", "")
    upstream = client.open_asset(datapack_id, file_id, byte_range if _BYTE_RANGES.fullmatch(byte_range) else None)
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
    content_type, inline = served_type(mime, request.args.get("inline") == "1")

    def chunks():
        try:
            for chunk in upstream.iter_content(CHUNK_SIZE):
                if chunk:
                    yield chunk
        finally:
            upstream.close()

    response = Response(chunks(), status=upstream.status_code if upstream.status_code == 206 else 200,
                        content_type=content_type, direct_passthrough=True)
    response.call_on_close(upstream.close)
    length = upstream.headers.get("Content-Length")
    if length and length.isdigit() and not upstream.headers.get("Content-Encoding"):
        response.headers["Content-Length"] = length
    # Seeking a video needs ranges: say what repovizz2 said (a 200 to a range is passed on as it is).
    for header in ("Content-Range", "Accept-Ranges"):
        if upstream.headers.get(header) and (header != "Content-Range" or response.status_code == 206):
            response.headers[header] = upstream.headers[header]
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
    """Store an edited document. The edit itself checked what it changed; the rest is what repovizz2
    already holds, and is not judged again by the portal's stricter rules for new datapacks."""
    client.update_datapack(datapack_id, structure=document)


@bp.route("/<datapack_id>/rename", methods=["POST"])
@login_required
def rename(datapack_id: str):
    form = RenameForm()
    _checked_form(datapack_id, form)
    new = " ".join(form.name.data.split())
    reason = control_character_reason(new)
    if reason:
        raise _Refused(datapack_id, f"Nothing was renamed: the new name {reason}.")
    client = repovizz2()
    item = client.datapack(datapack_id)
    old = item.get("name", "")
    if new == old:
        flash(f'The datapack is already called "{new}".', "info")
        return _back(datapack_id)
    client.update_datapack(datapack_id, name=new)  # 409 (NameTaken) when you have one of that name
    document = item.get("structure")
    if isinstance(document, dict) and isinstance(document.get("info"), dict) and document["info"].get("name") != new:
        client.update_datapack(datapack_id, structure=set_info(document, name=new))
    flash(f'Renamed "{old}" to "{new}".', "ok")
    return _back(datapack_id)


def _with_datatype(document: dict, place: str, current, chosen: str) -> dict:
    """With the data node's datatype as chosen: one the portal knows, or none ("") to remove it. The
    node's own type, as stored, chosen again changes nothing (even one the portal does not know)."""
    if chosen == current:
        return document
    if chosen and chosen not in {datatype_id for datatype_id, _ in current_app.extensions["datatypes"].choices()}:
        raise EditError(f"{chosen[:80]!r} is not a datatype the portal knows")
    return set_node_type(document, place, chosen)


@bp.route("/<datapack_id>/nodes/edit", methods=["POST"])
@login_required
def edit_node(datapack_id: str):
    form = NodeForm()
    client, document = _fetch(datapack_id, form)
    place = form.place.data
    with _or_nothing_was("changed", datapack_id):
        node = _expected_node(document, place, form.expect.data)
        edited = set_node_fields(document, place, name=" ".join(form.name.data.split()),
                                 text=(form.text.data or "").strip())
        if form.datatype.raw_data and node.get("class") == "data":
            edited = _with_datatype(edited, place, node.get("type"), form.datatype.data or "")
        _save(client, datapack_id, edited)
    flash(f"Saved the {describe(node_at(edited, place))} at {place}.", "ok")
    return _back(datapack_id, place)


@bp.route("/<datapack_id>/nodes/remove", methods=["GET"])
@login_required
def confirm_remove(datapack_id: str):
    """The step before removing (the form of a node without JavaScript): what goes, and that it is for good."""
    place, expect = request.args.get("place", ""), request.args.get("expect", "")
    item = repovizz2().datapack(datapack_id)
    with _or_nothing_was("removed", datapack_id):
        node = _expected_node(item.get("structure") or {}, place, expect)
    return render_template("confirm_remove.html", item=item, datapack_id=datapack_id, node=node, place=place,
                           expect=expect, what=removal_summary(node))


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


@bp.route("/<datapack_id>/nodes/send", methods=["POST"])
@login_required
def send_node_file(datapack_id: str):
    """The file for one pending data node, chosen on its box: it goes to that node whatever its link says."""
    form = NodeFileForm()
    _checked_form(datapack_id, form)
    place = form.place.data
    storage = form.file.data
    with _or_nothing_was("sent", datapack_id):
        asset = _checked_asset(storage)
        asset.mime = guess_mime(asset.path, storage.mimetype or "")
        _, ref = send_to_node(repovizz2(), datapack_id, place, asset, expect=form.expect.data, user=_username())
    flash(f"Sent {asset.path} ({human_size(asset.size)}) to the node at {place}"
          + (f": it is now {ref}." if ref else "."), "ok")
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
    if shares_link(document, place):
        _replace_shared(client, datapack_id, document, place, asset, mime)
    else:
        with asset.open() as source:
            new_link = send_file(client, datapack_id, node["link"], source, asset.size, mime, _username())
        _update_mime(client, datapack_id, place, new_link, mime)
    flash(f'Replaced the file of "{node.get("name", "")}" with {asset.path} ({human_size(asset.size)}).', "ok")
    return _back(datapack_id, place)


def _replace_shared(client, datapack_id: str, document: dict, place: str, asset, mime: str) -> None:
    """Replace the file of a node whose ``repovizz:<id>`` another node shares (identical files get one id).

    An upload to that link would rewrite the first node that has it, which may be the other one. So the
    chosen node first gets a pending link of its own (and the new file's type), then the file goes to that
    link. The shared bytes stay: the other node still points at them. Should the upload fail, the node
    is pointed back at the shared file.
    """
    old = node_at(document, place)
    link = free_link(document, asset.path)
    edited = set_node_link(document, place, link)
    if mime and mime != "application/octet-stream":
        edited = set_node_mime(edited, place, mime)
    with _or_nothing_was("replaced", datapack_id):
        _save(client, datapack_id, edited)
    try:
        with asset.open() as source:
            send_file(client, datapack_id, link, source, asset.size, mime, _username())
    except BaseException:
        _point_back(client, datapack_id, place, link, old)
        raise


def _point_back(client, datapack_id: str, place: str, link: str, old: dict) -> None:
    """After a failed upload to the node's own pending `link`: give it back the node it was (best effort)."""
    try:
        document = client.datapack(datapack_id).get("structure") or {}
        if node_at(document, place).get("link") != link:
            return
        client.update_datapack(datapack_id, structure=put_node(document, place, old))
    except (Repovizz2Error, EditError):
        pass  # the node stays pending, waiting for its file on the datapack page


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
    client.update_datapack(datapack_id, structure=set_node_mime(document, place, mime))
