"""One place that turns failures into the page (or JSON) the user sees."""
from __future__ import annotations

from flask import current_app, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ..rules.datapack_rules import walk_data_nodes
from ..services.datapack_summaries import listed_ids, page_of_summaries
from ..services.repovizz2_client import NameTaken, NotAuthorized, Repovizz2Error, ServerError, TimedOut, Unreachable
from ..services.request_files import limits
from ..services.tokens import repovizz2
from ..services.upload_pipeline import next_name
from .access import login_url, this_page
from .forms import UploadForm

ADVICE = {
    "Forbidden": "Check the address: you can only open your own datapacks.",
    "NotFound": "It may have been removed, or the address is wrong. Your datapacks are listed on the home page.",
    "Rejected": "Correct the document as the message says and upload it again.",
    "ServerError": "Nothing more was sent. Try again in a moment; what was uploaded before stays uploaded.",
    "Unreachable": "repovizz2 may be down or the network interrupted. Try again in a moment.",
    "TimedOut": "repovizz2 may be busy. Try again: files already uploaded are not sent again.",
}


def _status_for(error: Repovizz2Error) -> int:
    if isinstance(error, TimedOut):
        return 504
    if isinstance(error, Unreachable):
        return 503
    if isinstance(error, ServerError) or not error.status:
        return 502
    return error.status


def wants_json() -> bool:
    return (request.method == "PUT" or request.blueprint == "api"
            or request.accept_mimetypes.best == "application/json")


def handle_repovizz2_error(error: Repovizz2Error):
    if isinstance(error, NotAuthorized):
        session.pop("token", None)
        session.pop("user", None)
        back = this_page() if request.method == "GET" else (
            url_for("datapack.show", datapack_id=error.datapack_id) if error.datapack_id else None)
        if wants_json():
            return {"error": "Your repovizz2 login has expired: log in again.", "login": login_url(back)}, 401
        return redirect(login_url(back))
    status = _status_for(error)
    if isinstance(error, NameTaken):
        return _name_taken(error, status)
    if wants_json():
        return {"error": error.message, "title": error.title, "datapack_id": error.datapack_id}, status
    return render_template("error.html", title=error.title, message=error.message,
                           advice=ADVICE.get(type(error).__name__), error=error), status


def _pending_files(datapack_id: str | None) -> int | None:
    """How many files the datapack still waits for; None when that cannot be told."""
    if not datapack_id:
        return None
    try:
        item = repovizz2().datapack(datapack_id)
    except Repovizz2Error:
        return None
    return sum(1 for node in walk_data_nodes(item["structure"]) if not node.uploaded)


NAME_LOOKUPS = 50  # the user's last-listed datapacks whose names a suggested name must not take


def _free_name(name: str) -> str:
    """The next numbered name ("… (2)", "… (3)", …) that none of the user's last-listed datapacks has."""
    try:
        taken = {line.get("name") for line in page_of_summaries(listed_ids(repovizz2().user())[-NAME_LOOKUPS:])}
    except Repovizz2Error:
        taken = set()  # the suggestion is only a suggestion: a taken one meets the same page again
    suggested = next_name(name)
    while suggested in taken:
        suggested = next_name(suggested)
    return suggested


def _name_taken(error: NameTaken, status: int):
    """The name is taken: say which datapack has it (and whether it waits for files), offer another name."""
    pending = _pending_files(error.existing_id)
    suggested = _free_name(error.name) if error.name else ""
    if wants_json():
        return {"error": error.message, "title": error.title, "datapack_id": error.datapack_id,
                "existing_id": error.existing_id, "existing_pending": pending, "suggested_name": suggested}, status
    form = None
    if request.endpoint == "upload.upload":  # the upload form again, under the offered name
        form = UploadForm(formdata=None)
        form.name.data = suggested
    return render_template("name_taken.html", error=error, renaming=request.endpoint == "datapack.rename",
                           pending=pending, form=form, limits=limits()), status


def handle_csrf_error(error: CSRFError):
    message = "The form had expired or did not come from this site. Reload the page and send it again."
    if wants_json():
        return {"error": message}, 400
    return render_template("error.html", title="Form expired", message=message, advice=None), 400


def handle_too_large(error: RequestEntityTooLarge):
    message = "What was sent is larger than this portal accepts in one request (or has too many files)."
    if wants_json():
        return {"error": message}, 413
    return render_template("error.html", title="Upload too large", message=message,
                           advice="Send fewer or smaller files at once; see the limits on the upload page."), 413


def handle_too_deep(error: RecursionError):
    """The last line of defence for a tree nested deeper than a walk of it can go (a document stored
    at repovizz2 by some other client): a page that says so, not a 500."""
    message = ("This datapack's document is nested too deeply for the portal to show or change it "
               "(Python's recursion limit was reached).")
    if wants_json():
        return {"error": message}, 502
    return render_template("error.html", title="Nested too deeply to show", message=message,
                           advice="Nothing was changed. repovizz2 still has the datapack as it was."), 502


def handle_http_error(error: HTTPException):
    if wants_json():
        return {"error": error.description}, error.code
    title = getattr(error, "title", None) or f"{error.code} {error.name}"
    return render_template("error.html", title=title, message=error.description,
                           advice=getattr(error, "advice", None)), error.code


def _page_to_return_to() -> str | None:
    """Where a login should lead back to after a refused POST: the page at the same address, or the
    datapack the form was about."""
    try:
        endpoint, values = current_app.create_url_adapter(request).match(request.path, method="GET")
        return url_for(endpoint, **values)
    except HTTPException:
        pass
    datapack_id = (request.view_args or {}).get("datapack_id")
    return url_for("datapack.show", datapack_id=datapack_id) if datapack_id else None


def not_logged_in():
    """The answer to a body sent without a login (read by nobody: see security.refuse_anonymous_bodies)."""
    login = login_url(_page_to_return_to())
    if wants_json():
        return {"error": "Log in with repovizz2 first.", "login": login}, 401
    return render_template(
        "error.html", title="Log in first",
        message="You are not logged in to the portal (or your login has ended), so what you sent was not "
                "read and nothing was changed.",
        advice="Log in with repovizz2, then send it again.", login=login), 401


def init_app(app) -> None:
    app.register_error_handler(Repovizz2Error, handle_repovizz2_error)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(RequestEntityTooLarge, handle_too_large)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(RecursionError, handle_too_deep)
