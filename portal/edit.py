"""Beyond the upload form: build a datapack from files, fetch its files back, and edit it.

- ``/build``: choose files or a folder; the portal proposes the document (portal/builder.py), you
  edit it, then upload it through the usual checks (`plan_upload`, `create_and_upload`) or download it.
- ``GET /datapacks/<id>/content/<file id>``: a stored file, streamed through from repovizz2.
- ``POST /datapacks/<id>/…``: rename, edit a node, add a node with its file, replace a file, remove
  a node. Each is one form, answered with a message and a redirect back to the datapack page.
"""
from __future__ import annotations

import hashlib
import json
import mimetypes
import posixpath
import re
import unicodedata
from contextlib import contextmanager
from urllib.parse import quote

from flask import (Blueprint, Response, abort, flash, redirect, render_template, request, session,
                   url_for)
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.exceptions import BadRequest
from werkzeug.http import parse_options_header
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from .archive import is_ignored
from .auth import login_required, repovizz2
from .builder import Proposal, apply_action, apply_edits, guess_mime, propose, readable_name
from .datapack import (UPLOADED_PREFIX, DatapackInvalid, TreeNode, document_problems, is_uploaded, link_problems,
                       match_links_to_files, normalize_path, reference_id, walk_data_nodes, walk_nodes)
from .edits import (EditError, add_node, container_places, data_node, describe, node_at, remove_node, set_info,
                    set_node_fields, set_node_mime)
from .repovizz import Repovizz2Error
from .upload import asset_from_storage, chosen_files, limits
from .uploads import create_and_upload, human_size, plan_upload, upload_files

bp = Blueprint("edit", __name__)

CHUNK_SIZE = 64 * 1024
CHART_TYPES = {"application/json", "text/json", "text/csv", "application/csv", "text/tab-separated-values"}
CHART_EXTENSIONS = {".json", ".csv", ".tsv"}
# What a browser may show in place (anything else is always a download): any audio or video type,
# and these types exactly.
INLINE_SAFE_KINDS = ("audio/", "video/")
INLINE_SAFE = {"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp",
               "text/plain", "text/csv", "application/json", "text/json", "text/tab-separated-values"}
# A stored file shown in a tab must not run anything, even if its type says HTML.
CONTENT_CSP = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox"


# --- Helpers for templates -------------------------------------------------------------------------

def base_mime(mime: str) -> str:
    return mime.split(";")[0].strip().lower() if isinstance(mime, str) else ""


_MIME = re.compile(r"[A-Za-z0-9][\w!#$&^.+-]*/[A-Za-z0-9][\w!#$&^.+-]*(?:\s*;[ -~]*)?", re.ASCII)


def header_mime(*candidates) -> str:
    """The first candidate that is a well-formed MIME type (fit for a Content-Type header), else
    ``application/octet-stream``: a document may say anything, even with a newline in it."""
    return next((mime.strip() for mime in candidates if isinstance(mime, str) and _MIME.fullmatch(mime.strip())),
                "application/octet-stream")


@bp.app_template_global()
def preview_kind(mime: str, name: str = "") -> str:
    """How a file can be looked at: "audio", "video", "image", "chart" (JSON/CSV numbers) or ""."""
    base = base_mime(mime)
    if base.startswith("audio/"):
        return "audio"
    if base.startswith("video/"):
        return "video"
    if base.startswith("image/") and base != "image/svg+xml":
        return "image"
    if base in CHART_TYPES:
        return "chart"
    if not base or base in ("application/octet-stream", "text/plain"):
        if posixpath.splitext(name or "")[1].lower() in CHART_EXTENSIONS:
            return "chart"
    return ""


@bp.app_template_global()
def node_fingerprint(node: dict) -> str:
    """What an edit form expects to find at its place: the link of a data node or the name of a
    container, and a digest of the whole node (its name, its text, everything inside a container).
    If the datapack changed in between (another tab), the edit is refused rather than made on another
    node, over the other tab's change, or to nodes the form never showed."""
    if node.get("class") == "data":
        label = "data:" + str(node.get("link", ""))
    else:
        label = "container:" + str(node.get("name", ""))
    whole = json.dumps(node, sort_keys=True, separators=(",", ":"))  # ASCII: lone surrogates are escaped
    return f"{label}#{hashlib.sha256(whole.encode()).hexdigest()[:16]}"


@bp.app_template_global()
def node_mime(node: dict) -> str:
    mime = TreeNode("", 0, node).mime if isinstance(node, dict) else ""
    return mime if isinstance(mime, str) else ""


@bp.app_template_global()
def edit_containers(document: dict) -> list[tuple[str, str]]:
    return container_places(document) if isinstance(document, dict) else []


@bp.app_template_global()
def file_reference(link: str) -> str:
    return reference_id(link)


# --- Downloading a stored file -------------------------------------------------------------------

def extension_for(mime: str) -> str:
    base = base_mime(mime)
    preferred = {"audio/wav": ".wav", "audio/x-wav": ".wav", "audio/mpeg": ".mp3", "text/plain": ".txt",
                 "image/jpeg": ".jpg", "application/json": ".json", "text/csv": ".csv"}
    return preferred.get(base) or (mimetypes.guess_extension(base) if base else None) or ""


def safe_filename(name: str) -> str:
    """A file name for Content-Disposition: no folders, no control characters, no quotes."""
    name = posixpath.basename((name or "").replace("\\", "/"))
    name = "".join(ch for ch in name if ord(ch) >= 32 and ch not in '"').strip().strip(".")
    return name[:200]


def download_name(node_name: str, mime: str, original: str = "") -> str:
    """The original file name when repovizz2 tells it, else the node's name plus an extension from its type."""
    original = safe_filename(original)
    if original:
        return original
    base = safe_filename(node_name) or "file"
    extension = extension_for(mime)
    return base if not extension or base.lower().endswith(extension) else base + extension


def content_disposition(kind: str, filename: str) -> str:
    fallback = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    fallback = re.sub(r"[^A-Za-z0-9 ._()+-]", "_", fallback).strip() or "file"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _upstream_filename(headers) -> str:
    value = headers.get("Content-Disposition")
    if not value:
        return ""
    _, options = parse_options_header(value)
    return options.get("filename") or ""


@bp.route("/datapacks/<datapack_id>/content/<file_id>")
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


def _stream(upstream, mime: str, node_name: str) -> Response:
    name = download_name(node_name, mime, _upstream_filename(upstream.headers))
    base = base_mime(mime)
    inline = request.args.get("inline") == "1" and (base.startswith(INLINE_SAFE_KINDS) or base in INLINE_SAFE)

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


# --- Editing a datapack ----------------------------------------------------------------------------

class RenameForm(FlaskForm):
    name = StringField("New name", validators=[DataRequired(), Length(max=200)])


class NodeForm(FlaskForm):
    place = HiddenField(validators=[DataRequired()])
    expect = HiddenField()
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    text = TextAreaField("Text", validators=[Length(max=10000)])


class RemoveForm(FlaskForm):
    place = HiddenField(validators=[DataRequired()])
    expect = HiddenField()


class ReplaceForm(FlaskForm):
    place = HiddenField(validators=[DataRequired()])
    expect = HiddenField()
    file = FileField("New file", validators=[FileRequired()])


class AddNodeForm(FlaskForm):
    file = FileField("File", validators=[FileRequired()])
    name = StringField("Name (default: from the file name)", validators=[Length(max=200)])
    text = TextAreaField("Text", validators=[Length(max=10000)])
    parent = HiddenField()


def _back(datapack_id: str, place: str = ""):
    anchor = f"#node-{place}" if place else ""
    return redirect(url_for("datapacks.show", datapack_id=datapack_id) + anchor)


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


@bp.route("/datapacks/<datapack_id>/rename", methods=["POST"])
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
    try:
        client.update_datapack(datapack_id, name=new)  # 409 (NameTaken) when you have one of that name
    except Repovizz2Error as error:
        error.datapack_id = datapack_id  # the error page offers the way back to this datapack
        raise
    document = item.get("structure")
    if isinstance(document, dict) and isinstance(document.get("info"), dict) and document["info"].get("name") != new:
        renamed = set_info(document, name=new)
        if not document_problems(renamed):
            client.update_datapack(datapack_id, structure=renamed)
    flash(f'Renamed "{old}" to "{new}".', "ok")
    return _back(datapack_id)


@bp.route("/datapacks/<datapack_id>/nodes/edit", methods=["POST"])
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


@bp.route("/datapacks/<datapack_id>/nodes/remove", methods=["POST"])
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
    if asset.size == 0:
        raise EditError(f"the file {asset.path!r} is empty")
    if asset.size > limits().max_asset_bytes:
        raise EditError(f"the file {asset.path!r} is {human_size(asset.size)}; the limit is "
                        f"{human_size(limits().max_asset_bytes)} per file")
    return asset


@bp.route("/datapacks/<datapack_id>/nodes/add", methods=["POST"])
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


@bp.route("/datapacks/<datapack_id>/nodes/replace", methods=["POST"])
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
    old_link = node["link"]
    try:
        with asset.open() as source:
            new_link = client.upload_asset(datapack_id, old_link, source, asset.size, mime)
    except Repovizz2Error as error:
        error.datapack_id = datapack_id
        raise
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


# --- The builder -----------------------------------------------------------------------------------

def _username() -> str:
    return (session.get("user") or {}).get("username", "")


def _build_page(proposal: Proposal | None = None, problems=(), status: int = 200, step: str = "edit"):
    document = proposal.document if proposal else None
    nodes = list(walk_nodes(document)) if document else []
    return render_template("build.html", document=document, folder=proposal.folder if proposal else "",
                           skipped=proposal.skipped if proposal else [], nodes=nodes, problems=list(problems),
                           step=step if document else "choose", limits=limits(), username=_username()), status


def _chosen_paths() -> list[tuple[str, str]]:
    """(path, type) of what step 1 chose: described by the script (``files_json``), or the files themselves."""
    described = request.form.get("files_json")
    if described:
        try:
            items = json.loads(described)
        except ValueError:
            raise BadRequest("The list of files was not readable: choose them again.") from None
        if not isinstance(items, list):
            raise BadRequest("The list of files was not readable: choose them again.")
        return [(str(item.get("path", "")), str(item.get("type", "") or "")) for item in items
                if isinstance(item, dict)]
    return [(storage.filename or "", storage.mimetype or "") for storage in
            chosen_files(_FileList("files"), _FileList("folder"))]


class _FileList:
    """Adapts ``request.files`` to what `chosen_files` expects (a field with ``.data``)."""

    def __init__(self, name: str):
        self.data = request.files.getlist(name)


def _info_fields() -> dict:
    return {key: request.form.get(f"info-{key}", "") for key in ("name", "author", "description", "keywords")}


def _draft() -> Proposal:
    """The document as the edit form carries it (hidden ``document``), with the visible fields applied."""
    try:
        document = json.loads(request.form.get("document", ""))
    except ValueError:
        document = None
    if (not isinstance(document, dict) or not isinstance(document.get("children"), list)
            or not isinstance(document.get("info"), dict)):
        raise BadRequest("The draft datapack was damaged on its way: start again from the files.")
    return Proposal(apply_edits(document, request.form), request.form.get("folder", ""))


def _draft_problems(document: dict) -> list[str]:
    return document_problems(document) + link_problems(document)


@bp.route("/build")
@login_required
def build():
    return _build_page()


@bp.route("/build", methods=["POST"])
@login_required
def build_step():
    """Step 1 (propose from the chosen files) or an edit of the draft (apply, move, drop, get ready)."""
    if request.form.get("step") != "edit":
        paths = _chosen_paths()
        proposal = propose(paths, _info_fields(), default_author=_username())
        problems = []
        if not proposal.document["children"]:
            problems.append("choose some files or a folder: none could be used")
        elif len(paths) > limits().max_files:
            problems.append(f"{len(paths)} files were chosen; the limit is {limits().max_files} per datapack")
        if problems:
            return _build_page(None, problems, 422)
        return _build_page(proposal)
    proposal = _draft()
    action = request.form.get("action", "")
    proposal.document, _ = apply_action(proposal.document, action)
    problems = _draft_problems(proposal.document)
    if action == "ready" and not problems:
        return _build_page(proposal, step="ready")
    return _build_page(proposal, problems, 422 if problems else 200)


@bp.route("/build/document.json", methods=["POST"])
@login_required
def build_document():
    """The edited document as a download (or, for the script, as JSON to upload)."""
    proposal = _draft()
    problems = _draft_problems(proposal.document)
    if problems:
        if request.accept_mimetypes.best == "application/json":
            return {"error": "The datapack has problems", "problems": problems}, 422
        return _build_page(proposal, problems, 422)
    body = json.dumps(proposal.document, indent=2, ensure_ascii=False)
    filename = f"{proposal.document['info']['name'] or 'datapack'}.json"
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": content_disposition("attachment", safe_filename(filename))})


@bp.route("/build/upload", methods=["POST"])
@login_required
def build_upload():
    """Without the script: the edited document plus the files chosen again, through the usual upload path."""
    proposal = _draft()
    document, folder = proposal.document, proposal.folder
    problems = _draft_problems(document)
    if problems:
        return _build_page(proposal, problems, 422, step="ready")
    assets = [asset_from_storage(storage) for storage in chosen_files(_FileList("files"), _FileList("folder"))]
    assets = [asset for asset in assets if not is_ignored(asset.path)]
    if folder and assets and all(asset.path.startswith(folder + "/") for asset in assets):
        for asset in assets:
            asset.path = asset.path[len(folder) + 1:]
    if not assets:
        return _build_page(proposal, ["choose the files (or the folder) again to upload them"], 422, step="ready")
    # Files whose node was dropped are left behind; everything else goes through the usual checks.
    links = [node.link for node in walk_data_nodes(document)]
    unreferenced = set(match_links_to_files(links, [asset.path for asset in assets]).unreferenced)
    assets = [asset for asset in assets if normalize_path(asset.path) not in unreferenced]
    try:
        plan = plan_upload(document, assets, limits())
    except DatapackInvalid as invalid:
        return _build_page(proposal, invalid.problems, 422, step="ready")
    result = create_and_upload(repovizz2(), session["user"], document, plan)
    return render_template("result.html", outcome=result), 502 if result.error else 200

