"""A datapack's page: its tree as repovizz2 has it now, and a form to send the files still pending."""
from __future__ import annotations

import json

from flask import Blueprint, Response, redirect, render_template, request, session, url_for

from .auth import login_required, repovizz2
from .datapack import DatapackInvalid, walk_nodes
from .edit import content_disposition, safe_filename
from .forms import ConfirmForm, PendingFilesForm
from .upload import asset_from_storage, chosen_files, limits
from .uploads import outcome, plan_upload, sizes_of, upload_files

bp = Blueprint("datapacks", __name__, url_prefix="/datapacks")


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
    item = client.datapack(datapack_id)
    form = PendingFilesForm()
    if not form.validate_on_submit():
        return _page(datapack_id, item, form, ["the form had expired: choose the files again"], 400)
    assets = [asset_from_storage(storage) for storage in chosen_files(form.files, form.folder)]
    if not assets:
        return _page(datapack_id, item, form, ["choose the files still to upload, or the whole folder"], 422)
    document = item.get("structure") or {}
    try:
        plan = plan_upload(document, assets, limits(), resume=True)
    except DatapackInvalid as invalid:
        return _page(datapack_id, item, form, invalid.problems, 422)
    _, error = upload_files(client, datapack_id, plan, session["user"]["username"])
    result = outcome(client, datapack_id, document, sizes_of(plan), error)
    return render_template("result.html", outcome=result), 502 if error else 200


@bp.route("/<datapack_id>/result", methods=["POST"])
@login_required
def result(datapack_id: str):
    """The result page after the browser sent the files itself.

    The browser posts back the document as it chose it (`document`) and the sizes it sent
    (`sizes`, a JSON object link → bytes); everything else is read from repovizz2.
    """
    form = ConfirmForm()
    if not form.validate_on_submit():
        return redirect(url_for("datapacks.show", datapack_id=datapack_id))
    try:
        original = json.loads(request.form.get("document", ""))
        sizes = json.loads(request.form.get("sizes") or "{}")
    except (ValueError, RecursionError):
        return redirect(url_for("datapacks.show", datapack_id=datapack_id))
    if not isinstance(original, dict) or not isinstance(sizes, dict):
        return redirect(url_for("datapacks.show", datapack_id=datapack_id))
    sizes = {str(link): size for link, size in sizes.items() if isinstance(size, int)}
    return render_template("result.html", outcome=outcome(repovizz2(), datapack_id, original, sizes))


@bp.route("/<datapack_id>/document.json")
@login_required
def document(datapack_id: str):
    item = repovizz2().datapack(datapack_id)
    body = json.dumps(item.get("structure"), indent=2, ensure_ascii=False)
    filename = safe_filename(f"{item.get('name') or datapack_id}.json")
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": content_disposition("attachment", filename)})
