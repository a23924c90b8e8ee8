"""The upload page: validate everything first, then create the datapack and send its files."""
from __future__ import annotations

import io
import os
import zipfile

from flask import Blueprint, current_app, redirect, render_template, request, send_file, session, url_for

from ..rules.assets import Asset, find_document, is_ignored
from ..rules.config import MIB
from ..rules.datapack_rules import DatapackInvalid, load_document, normalize_path, parse_document
from ..rules.zip_archive import zip_assets
from ..services.repovizz2_client import NameTaken
from ..services.request_files import chosen_assets, limits
from ..services.sent_files import remember
from ..services.tokens import repovizz2
from ..services.upload_pipeline import create_and_upload, plan_upload, sizes_of
from ..web.access import login_required
from ..web.forms import UploadForm

bp = Blueprint("upload", __name__)
EXAMPLE_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "example")
EXAMPLE_COPIES = 20


def read_submission(form: UploadForm) -> tuple[dict, list[Asset]]:
    """The document and the assets from the form, or DatapackInvalid with every problem found."""
    config = current_app.config
    max_json = config["MAX_JSON_KB"] * 1024
    archive = form.archive.data
    if archive and archive.filename:
        assets = zip_assets(archive.stream, max_files=config["MAX_FILES"],
                            max_total_bytes=config["MAX_FORM_MB"] * MIB)
        document_asset, document = find_document(assets, max_json)
        return document, [asset for asset in assets if asset is not document_asset]

    assets = [asset for asset in chosen_assets("files", "folder") if not is_ignored(asset.path)]
    storage = form.document.data
    if storage and storage.filename:
        text = storage.stream.read(max_json + 1)
        if len(text) > max_json:
            raise DatapackInvalid([f"document: is larger than {config['MAX_JSON_KB']} KB"])
        document = load_document(text)
        name = normalize_path(storage.filename).rsplit("/", 1)[-1]
        assets = [asset for asset in assets if asset.path.rsplit("/", 1)[-1] != name]
        return document, assets
    if not assets:
        raise DatapackInvalid(["choose a datapack document (.json) and its files, or one .zip"])
    document_asset, document = find_document(assets, max_json)
    return document, [asset for asset in assets if asset is not document_asset]


def example_assets() -> tuple[dict, list[Asset]]:
    """The example datapack the project ships, as if the user had chosen its folder."""
    with open(os.path.join(EXAMPLE_DIR, "datapack.json"), "rb") as handle:
        document = parse_document(handle.read())
    assets = []
    for root, _, names in os.walk(EXAMPLE_DIR):
        for name in sorted(names):
            full = os.path.join(root, name)
            relative = os.path.relpath(full, EXAMPLE_DIR).replace(os.sep, "/")
            if relative != "datapack.json":
                assets.append(Asset(relative, os.path.getsize(full), (lambda full=full: open(full, "rb"))))
    return document, assets


def _upload(document: dict, assets: list[Asset], form: UploadForm):
    try:
        plan = plan_upload(document, assets, limits())
    except DatapackInvalid as invalid:
        return render_template("upload.html", form=form, problems=invalid.problems, limits=limits()), 422
    result = create_and_upload(repovizz2(), session["user"], document, plan,
                               created=lambda datapack_id: remember(datapack_id, document, sizes_of(plan)),
                               show_calls=current_app.config["SHOW_API_CALLS"])
    status = 502 if result.error else 200
    return render_template("result.html", outcome=result), status


@bp.route("/upload", methods=["GET", "POST"])
@login_required
def upload():
    form = UploadForm()
    if not form.validate_on_submit():
        return render_template("upload.html", form=form, problems=_form_errors(form), limits=limits())
    try:
        document, assets = read_submission(form)
    except DatapackInvalid as invalid:
        return render_template("upload.html", form=form, problems=invalid.problems, limits=limits()), 422
    rename(document, form.name.data)
    return _upload(document, assets, form)


def rename(document: dict, name: str | None) -> None:
    """Upload under another name: the form's name, when given, stands for the document's ``info.name``."""
    name = " ".join((name or "").split())
    if name and isinstance(document, dict) and isinstance(document.get("info"), dict):
        document["info"]["name"] = name


def _form_errors(form: UploadForm) -> list[str]:
    return [message for messages in form.errors.values() for message in messages]


@bp.route("/upload/example", methods=["POST"])
@login_required
def upload_example():
    """Upload the example; when the user already has it, open that one instead.

    With ``copy`` in the form ("make another copy"), each press makes a datapack of its own:
    "Portal example (2)", (3)…
    """
    form = UploadForm()
    if not form.validate_on_submit():
        return render_template("upload.html", form=form, problems=_form_errors(form), limits=limits()), 400
    document, assets = example_assets()
    name = document["info"]["name"]
    if not request.form.get("copy"):
        try:
            return _upload(document, assets, form)
        except NameTaken as taken:  # nothing was created: the refused create named the one there is
            if not taken.existing_id:
                raise
            return redirect(url_for("datapack.show", datapack_id=taken.existing_id, example="again"), 303)
    for copy in range(2, EXAMPLE_COPIES + 2):
        document["info"]["name"] = f"{name} ({copy})"
        try:
            return _upload(document, assets, form)
        except NameTaken:
            # Nothing was created by the refused attempt, so trying the next name is safe.
            continue
    raise NameTaken(f"You already have {EXAMPLE_COPIES} copies of the example: remove or rename some first")


@bp.route("/example.zip")
def example_zip():
    """The example datapack as one .zip, to look at or to upload by hand."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for root, _, names in os.walk(EXAMPLE_DIR):
            for name in sorted(names):
                full = os.path.join(root, name)
                archive.write(full, "example/" + os.path.relpath(full, EXAMPLE_DIR).replace(os.sep, "/"))
    buffer.seek(0)
    return send_file(buffer, mimetype="application/zip", as_attachment=True, download_name="repovizz2-example.zip")
