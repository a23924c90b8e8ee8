"""The pages a person sees: log in, consent to a client, the code page; plus the token endpoint."""
from __future__ import annotations

import secrets
from urllib.parse import urlencode, urlsplit

from authlib.oauth2 import OAuth2Error
from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for

from . import models
from .db import get_db
from .oauth import authorization_server

bp = Blueprint("auth_pages", __name__)


def csrf_token() -> str:
    """The session's anti-forgery token, put in a hidden field of every form."""
    if "csrf_token" not in session:
        session["csrf_token"] = secrets.token_urlsafe(32)
    return session["csrf_token"]


def check_csrf() -> None:
    sent = request.form.get("csrf_token", "")
    expected = session.get("csrf_token", "")
    if not expected or not secrets.compare_digest(sent.encode(), expected.encode()):
        abort(400, "The form was stale or not sent by this site: reload the page and try again.")


@bp.app_context_processor
def template_helpers():
    return {"csrf_token": csrf_token, "logged_in_user": logged_in_user}


@bp.after_request
def limit_framing(response):
    """The pages must not be framed by another site (clickjacking on the consent page), unless the sandbox
    was started with `--allow-framing-from ORIGIN` (a Jupyter notebook showing the login in an IFrame): then
    the sandbox itself and those origins may frame them."""
    allowed = current_app.config["ALLOW_FRAMING_FROM"]
    if allowed:
        response.headers["Content-Security-Policy"] = "frame-ancestors 'self' " + " ".join(allowed)
    else:
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
    response.headers["Cache-Control"] = "no-store"
    return response


def logged_in_user() -> models.User | None:
    user_id = session.get("user_id")
    return models.user_by_id(get_db(), user_id) if user_id else None


def local_path(target: str | None) -> str | None:
    """`target` if it is a path on this site (no scheme, no host, not `//…` or `/\\…`), else None."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(char) < 32 for char in target):
        return None
    return target


@bp.get("/")
def index():
    return render_template("index.html")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form. Shown even to someone logged in (they may log in again, as someone else)."""
    next_path = local_path(request.values.get("next")) or url_for("auth_pages.index")
    error = None
    if request.method == "POST":
        check_csrf()
        user = models.user_by_name(get_db(), request.form.get("username", ""))
        if user is not None and user.check_password(request.form.get("password", "")):
            session.clear()
            session["user_id"] = user.id
            return redirect(next_path)
        error = "Invalid username or password."
    return render_template("login.html", next_path=next_path, error=error)


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    """GET: a page with a "Log out" button (a form, so another site cannot log people out with a link).
    POST: end the sandbox's login session, then go to `next` if it is a path on this site, else to `/`.

    This ends the person's session with the sandbox only; tokens already given to clients stay valid until
    they expire or the client revokes them (`POST /oauth/revoke`)."""
    next_path = local_path(request.values.get("next")) or url_for("auth_pages.index")
    if request.method == "GET":
        return render_template("logout.html", next_path=next_path)
    check_csrf()
    session.clear()
    return redirect(next_path)


def _without_prompt(path: str, args) -> str:
    """`path` with the request's query minus `prompt`: where to continue after the login `prompt=login` asked for."""
    query = [(key, value) for key, value in args.items(multi=True) if key != "prompt"]
    return f"{path}?{urlencode(query)}" if query else path


@bp.route("/oauth/authorize", methods=["GET", "POST"])
def authorize():
    """Log in first (when nobody is, or when the client asked `prompt=login`), then the consent page."""
    user = logged_in_user()
    asks_for_login = request.method == "GET" and "login" in request.args.get("prompt", "").split()
    if user is None or asks_for_login:
        return redirect(url_for("auth_pages.login", next=_without_prompt(request.path, request.args)))
    server = authorization_server()
    try:
        grant = server.get_consent_grant(end_user=user)
    except OAuth2Error as error:
        return refused(server, error)
    if request.method == "GET":
        return render_template("consent.html", client=grant.client, scope=grant.request.scope, user=user)
    check_csrf()
    granted = request.form.get("confirm") == "yes"
    return server.create_authorization_response(grant_user=user if granted else None, grant=grant)


def refused(server, error: OAuth2Error):
    """Send the error back to the client when its redirect URI is known good, else show it here."""
    if error.redirect_uri:
        return server.handle_error_response(None, error)
    return render_template("oauth_error.html", error=error), error.status_code


@bp.post("/oauth/token")
def issue_token():
    return authorization_server().create_token_response()


@bp.post("/oauth/revoke")
def revoke_token():
    """RFC 7009: the client (authenticated as at the token endpoint) revokes an access or refresh token."""
    return authorization_server().create_endpoint_response("revocation")


@bp.get("/oauth/show_token")
def show_token():
    """The redirect target for clients without a web server: shows the code and the whole URL it came in on
    (the public Python client's `finish_auth` takes that URL, pasted)."""
    return render_template(
        "show_token.html",
        redirect_url=request.url,
        code=request.args.get("code"),
        state=request.args.get("state"),
        error=request.args.get("error"),
        error_description=request.args.get("error_description"),
    )
