"""A datapack's page and everything under ``/datapacks/<id>``: the tree as repovizz2 has it now,
finishing its pending files, the result page, ``document.json``, a stored file streamed back, and
the edits (rename, edit a node, add a node with its file, replace a file, remove a node). What each
asks of repovizz2 is the datapack service's (portal/services/datapacks.py)."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm

from ..rules import api_calls
from ..rules.assets import human_size
from ..rules.datapack_tree import walk_nodes
from ..rules.errors import NameTaken
from ..rules.media_types import content_disposition, safe_filename
from ..rules.problems import DatapackInvalid, bounded_problems
from ..rules.repovizz2_rules import schema_problems
from ..rules.strict_json import JSONRefused, readable_copy, strict_json, to_json_text
from ..rules.timeline import timeline_of
from ..rules.tree_edits import describe, removal_summary
from ..services import datapacks
from ..services.datapacks import EditRefused
from ..services.downloads import stored_file
from ..services.login import current_login
from ..services.node_files import slot_problems
from ..services.request_files import asset_from_storage, chosen_assets, limits
from ..web.access import login_required
from ..web.security import is_safe_path_segment
from ..web.forms import AddNodeForm, ConfirmForm, NodeFileForm, NodeForm, PendingFilesForm, RemoveForm, RenameForm, \
    ReplaceForm

bp = Blueprint("datapack", __name__, url_prefix="/datapacks")

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
        item, calls, names, refs = datapacks.example_again(current_login(), datapack_id)
        return _page(datapack_id, item, PendingFilesForm(), teaching={"calls": calls, "names": names, "refs": refs})
    item = datapacks.datapack(current_login(), datapack_id)
    return _page(datapack_id, item, PendingFilesForm())


@bp.route("/<datapack_id>/timeline")
@login_required
def timeline(datapack_id: str):
    """Every time-based file of the datapack on one time axis: players, waveforms, streams, events."""
    item = readable_copy(datapacks.datapack(current_login(), datapack_id))
    found = timeline_of(item.get("structure") or {}, current_app.extensions["datatypes"].find)
    tracks = [track for track in found.tracks if is_safe_path_segment(track.file_id)]
    return render_template("timeline.html", item=item, datapack_id=datapack_id, tracks=tracks,
                           left_out=found.left_out + len(found.tracks) - len(tracks))


@bp.route("/<datapack_id>", methods=["POST"])
@login_required
def upload_pending(datapack_id: str):
    """Finish an interrupted upload: only the links repovizz2 still lists as pending are sent."""
    login = current_login()
    item = datapacks.datapack(login, datapack_id, show_calls=current_app.config["SHOW_API_CALLS"])
    form = PendingFilesForm()
    if not form.validate_on_submit():
        return _page(datapack_id, item, form, ["the form had expired: choose the files again"], 400)
    assets = chosen_assets("files", "folder")
    if not assets:
        return _page(datapack_id, item, form, ["choose the files still to upload, or the whole folder"], 422)
    try:
        result = datapacks.resume(login, datapack_id, item.get("structure") or {}, assets)
    except DatapackInvalid as invalid:
        return _page(datapack_id, item, form, invalid.problems, 422)
    return render_template("result.html", outcome=result), 502 if result.error else 200


@bp.route("/<datapack_id>/result", methods=["POST"])
@login_required
def result(datapack_id: str):
    """The result page after the browser sent the files itself.

    The browser posts back the document as it chose it (`document`; empty after a resume, when it
    only chose files), the sizes it sent (`sizes`, a JSON object link → bytes), the chosen files no
    data node refers to (`left_out`) and whether the user stopped it (`cancelled`); everything else is
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
    show_calls = current_app.config["SHOW_API_CALLS"]
    reported = api_calls.from_browser(request.form.get("api_calls"), api_calls.signing_key(current_app.secret_key)) if show_calls else []
    result = datapacks.outcome(current_login(), datapack_id, original, sizes, reported, show_calls=show_calls)
    result.left_out = _left_out(request.form.get("left_out"))
    return render_template("result.html", outcome=result, cancelled=bool(request.form.get("cancelled")))


def _left_out(unsafe_text: str | None) -> list[str]:
    """The paths the browser says it left out (`left_out`, a JSON list of text), as many as one
    datapack may have files and each of a sensible length; anything else is taken as none."""
    try:
        paths = strict_json(unsafe_text) if unsafe_text else []
    except JSONRefused:
        return []
    if not isinstance(paths, list):
        return []
    return [path[:500] for path in paths if isinstance(path, str)][:limits().max_files]


@bp.route("/<datapack_id>/document.json")
@login_required
def document(datapack_id: str):
    item = datapacks.datapack(current_login(), datapack_id)
    body = to_json_text(item.get("structure"), indent=2)  # strict JSON whatever is stored
    filename = safe_filename(f"{readable_copy(item.get('name')) or datapack_id}.json")
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": content_disposition("attachment", filename)})


# --- A stored file, streamed back -------------------------------------------------------------------

@bp.route("/<datapack_id>/content/<file_id>")
@login_required
def content(datapack_id: str, file_id: str):
    """One stored file, streamed chunk by chunk from repovizz2 (constant memory)."""
    return stored_file(current_login(), datapack_id, file_id, request.headers.get("Range", ""),
                       inline=request.args.get("inline") == "1")


# --- Edits ---------------------------------------------------------------------------------------------

def _back(datapack_id: str, place: str = ""):
    anchor = f"#node-{place}" if place else ""
    return redirect(url_for("datapack.show", datapack_id=datapack_id) + anchor)


@bp.errorhandler(EditRefused)
def _refused(refusal: EditRefused):
    """An edit that was not made: its message, and the way back to the datapack."""
    flash(refusal.message, "error")
    return _back(request.view_args["datapack_id"])


def _form_problem(form: FlaskForm) -> str:
    messages = [f"{getattr(form, key).label.text}: {message}" if hasattr(form, key) else message
                for key, errors in form.errors.items() for message in errors]
    return "Nothing was changed: " + "; ".join(messages)


def _checked_form(form: FlaskForm) -> None:
    if not form.validate_on_submit():
        raise EditRefused(_form_problem(form))


@bp.route("/<datapack_id>/rename", methods=["POST"])
@login_required
def rename(datapack_id: str):
    form = RenameForm()
    _checked_form(form)
    try:
        renamed = datapacks.rename(current_login(), datapack_id, form.name.data)
    except NameTaken as taken:
        return render_template("name_taken.html", error=taken, renaming=True, pending=taken.existing_pending,
                               form=None, limits=limits()), 409
    if not renamed.changed:
        flash(f'The datapack is already called "{renamed.new}".', "info")
    else:
        flash(f'Renamed "{renamed.old}" to "{renamed.new}".', "ok")
    return _back(datapack_id)


@bp.route("/<datapack_id>/nodes/edit", methods=["POST"])
@login_required
def edit_node(datapack_id: str):
    form = NodeForm()
    _checked_form(form)
    place = form.place.data
    known = {datatype_id for datatype_id, _ in current_app.extensions["datatypes"].choices()}
    node = datapacks.edit_node(current_login(), datapack_id, place, form.expect.data, name=form.name.data,
                               text=form.text.data or "",
                               datatype=(form.datatype.data or "") if form.datatype.raw_data else None,
                               known_datatypes=known)
    flash(f"Saved the {describe(node)} at {place}.", "ok")
    if request.form.get("back") == "timeline":  # the datatype picker of a timeline track
        return redirect(url_for("datapack.timeline", datapack_id=datapack_id) + f"#track-{place}")
    return _back(datapack_id, place)


@bp.route("/<datapack_id>/nodes/remove", methods=["GET"])
@login_required
def confirm_remove(datapack_id: str):
    """The step before removing (the form of a node without JavaScript): what goes, and that it is for good."""
    place, expect = request.args.get("place", ""), request.args.get("expect", "")
    item, node = datapacks.node_to_remove(current_login(), datapack_id, place, expect)
    return render_template("confirm_remove.html", item=item, datapack_id=datapack_id, node=node, place=place,
                           expect=expect, what=removal_summary(node))


@bp.route("/<datapack_id>/nodes/remove", methods=["POST"])
@login_required
def remove(datapack_id: str):
    form = RemoveForm()
    _checked_form(form)
    place = form.place.data
    node = datapacks.remove(current_login(), datapack_id, place, form.expect.data)
    flash(f"Removed the {describe(node)} (it was at {place}).", "ok")
    return _back(datapack_id)


@bp.route("/<datapack_id>/nodes/add", methods=["POST"])
@login_required
def add(datapack_id: str):
    """Append a data node whose link is the file's name, save the structure, then upload the file to it."""
    form = AddNodeForm()
    _checked_form(form)
    added = datapacks.add(current_login(), datapack_id, asset_from_storage(form.file.data), name=form.name.data or "",
                          text=form.text.data or "", parent=form.parent.data or "")
    flash(f'Added the data node "{added.name}" at {added.place} and uploaded {added.link} '
          f'({human_size(added.size)}).', "ok")
    return _back(datapack_id, added.place)


@bp.route("/<datapack_id>/nodes/send", methods=["POST"])
@login_required
def send_node_file(datapack_id: str):
    """The file for one pending data node, chosen on its box: it goes to that node whatever its link says."""
    form = NodeFileForm()
    _checked_form(form)
    place = form.place.data
    asset = asset_from_storage(form.file.data)
    ref = datapacks.send_chosen_to_node(current_login(), datapack_id, place, form.expect.data, asset)
    flash(f"Sent {asset.path} ({human_size(asset.size)}) to the node at {place}"
          + (f": it is now {ref}." if ref else "."), "ok")
    return _back(datapack_id, place)


@bp.route("/<datapack_id>/nodes/replace", methods=["POST"])
@login_required
def replace(datapack_id: str):
    """Send a new file to the node's current link (``repovizz:<id>``): repovizz2 replaces the file."""
    form = ReplaceForm()
    _checked_form(form)
    asset = asset_from_storage(form.file.data)
    node = datapacks.replace(current_login(), datapack_id, form.place.data, form.expect.data, asset)
    flash(f'Replaced the file of "{node.get("name", "")}" with {asset.path} ({human_size(asset.size)}).', "ok")
    return _back(datapack_id, form.place.data)
