"""``/build``: choose files or a folder, the portal proposes the document (portal/document_builder.py),
you edit it, then upload it through the usual checks or download it."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request, session
from werkzeug.exceptions import BadRequest

from ..rules.assets import document_paths, is_ignored
from ..rules.datapack_rules import MAX_DEPTH, DatapackInvalid, JSONRefused, bounded_problems, nesting_problem, \
    strict_json, to_json_text, \
    tree_depth, upload_problems, walk_nodes
from ..rules.document_builder import Proposal, apply_action, apply_edits, propose
from ..rules.media_types import content_disposition, safe_filename
from ..services.request_files import asset_from_storage, chosen_assets, chosen_files, limits, stream_channels
from ..services.tokens import repovizz2
from ..services.upload_pipeline import create_and_upload, plan_upload
from ..web.access import login_required

bp = Blueprint("build", __name__)
MAX_CHANNELS = 10_000  # more than any stream has: a carried count beyond it is not one


def _username() -> str:
    return (session.get("user") or {}).get("username", "")


def _build_page(proposal: Proposal | None = None, problems=(), status: int = 200, step: str = "edit"):
    document = proposal.document if proposal else None
    nodes = list(walk_nodes(document)) if document else []
    return render_template("build.html", document=document, folder=proposal.folder if proposal else "",
                           channels=proposal.channels if proposal else {},
                           skipped=proposal.skipped if proposal else [], nodes=nodes, problems=bounded_problems(problems),
                           step=step if document else "choose", limits=limits(), username=_username()), status


def _chosen_paths() -> tuple[list[tuple[str, str]], set[str], dict[str, int]]:
    """(path, type) of what step 1 chose, the paths of the datapack documents among them and the channels
    of its numeric streams: described by the script (``files_json``, a document marked ``"document": true``;
    the script counts channels itself), or the files themselves."""
    described = request.form.get("files_json")
    if described:
        try:
            items = strict_json(described)
        except JSONRefused as refused:
            raise BadRequest(f"The list of files was not readable (it {refused.reason}): choose them again.") from None
        if not isinstance(items, list):
            raise BadRequest("The list of files was not readable: choose them again.")
        if len(items) > limits().max_files:
            raise TooManyFiles(len(items))  # counted only: nothing else is done with them
        items = [item for item in items if isinstance(item, dict)]
        return ([(str(item.get("path", "")), str(item.get("type", "") or "")) for item in items],
                {str(item.get("path", "")) for item in items if item.get("document") is True}, {})
    storages = chosen_files("files", "folder")
    if len(storages) > limits().max_files:
        raise TooManyFiles(len(storages))
    assets = [asset_from_storage(storage) for storage in storages]
    documents = document_paths(assets, current_app.config["MAX_JSON_KB"] * 1024)
    return [(storage.filename or "", storage.mimetype or "") for storage in storages], documents, stream_channels(assets)


class TooManyFiles(Exception):
    """More files were chosen than a datapack may have: refused before anything is proposed."""

    def __init__(self, count: int):
        super().__init__(f"{count} files were chosen; the limit is {limits().max_files} per datapack")


def _info_fields() -> dict:
    return {key: request.form.get(f"info-{key}", "") for key in ("name", "author", "description", "keywords")}


def _draft() -> Proposal:
    """The document as the edit form carries it (hidden ``document``), with the visible fields applied."""
    try:
        document = strict_json(request.form.get("document", ""))
    except JSONRefused as refused:
        raise BadRequest(f"The draft datapack {refused.reason}: start again from the files.") from None
    if (not isinstance(document, dict) or not isinstance(document.get("children"), list)
            or not isinstance(document.get("info"), dict)):
        raise BadRequest("The draft datapack was damaged on its way: start again from the files.")
    # The portal's limits, before the draft is edited or drawn: a tree deeper than a datapack may be,
    # or JSON nested deeper than the portal takes, is refused here with its reason.
    if tree_depth(document) > MAX_DEPTH:
        raise BadRequest(f"The draft datapack is nested more than {MAX_DEPTH} levels deep; the portal builds "
                         f"datapacks of at most {MAX_DEPTH} levels: start again from the files.")
    too_deep = nesting_problem(document)
    if too_deep:
        raise BadRequest(f"The draft datapack {too_deep.message}: start again from the files.")
    known = [datatype_id for datatype_id, _ in current_app.extensions["datatypes"].choices()]
    return Proposal(apply_edits(document, request.form, known), request.form.get("folder", ""),
                    channels=_carried_channels())


def _carried_channels() -> dict[str, int]:
    """The channels counted at step 1 (hidden ``channels``: link -> count), for the suggestions; a
    damaged value only loses them."""
    try:
        carried = strict_json(request.form.get("channels") or "{}")
    except JSONRefused:
        return {}
    if not isinstance(carried, dict):
        return {}
    return {link: count for link, count in carried.items()
            if isinstance(count, int) and not isinstance(count, bool) and 0 < count <= MAX_CHANNELS}


def _draft_problems(document: dict) -> list:
    return upload_problems(document)


@bp.route("/build")
@login_required
def build():
    return _build_page()


@bp.route("/build", methods=["POST"])
@login_required
def build_step():
    """Step 1 (propose from the chosen files) or an edit of the draft (apply, move, drop, get ready)."""
    if request.form.get("step") != "edit":
        try:
            paths, documents, channels = _chosen_paths()
        except TooManyFiles as too_many:
            return _build_page(None, [str(too_many)], 413)
        proposal = propose(paths, _info_fields(), default_author=_username(), documents=documents, channels=channels)
        problems = [problem for problem in upload_problems(proposal.document) if problem.place.startswith("info")]
        if not proposal.document["children"]:
            problems.append("choose some files or a folder: none could be used")
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
            return {"error": "The datapack has problems", "problems": bounded_problems(problems)}, 422
        return _build_page(proposal, problems, 422)
    body = to_json_text(proposal.document, indent=2)
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
    assets = [asset for asset in chosen_assets("files", "folder") if not is_ignored(asset.path)]
    if folder and assets and all(asset.path.startswith(folder + "/") for asset in assets):
        for asset in assets:
            asset.path = asset.path[len(folder) + 1:]
    if not assets:
        return _build_page(proposal, ["choose the files (or the folder) again to upload them"], 422, step="ready")
    # Files whose node was dropped are left out by the plan (and listed on the result page).
    try:
        plan = plan_upload(document, assets, limits())
    except DatapackInvalid as invalid:
        return _build_page(proposal, invalid.problems, 422, step="ready")
    result = create_and_upload(repovizz2(), session["user"], document, plan,
                               show_calls=current_app.config["SHOW_API_CALLS"])
    return render_template("result.html", outcome=result), 502 if result.error else 200

