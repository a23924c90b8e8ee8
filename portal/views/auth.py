"""Login with repovizz2 (OAuth2 authorization code + PKCE, run by Authlib) and logout."""
from __future__ import annotations

from authlib.integrations.base_client import OAuthError
from flask import Blueprint, current_app, redirect, render_template, request, session, url_for

from ..access import login_url, safe_next
from ..repovizz2_client import Repovizz2Error
from ..tokens import forget_client, provider, repovizz2

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.route("/login")
def login():
    """Start the authorization-code flow; Authlib keeps state and the PKCE verifier in the session."""
    session["after_login"] = safe_next(request.args.get("next"))
    return provider().authorize_redirect(url_for("auth.callback", _external=True))


@bp.route("/callback")
def callback():
    if request.args.get("error"):
        return _login_failed(request.args["error"], request.args.get("error_description"))
    try:
        token = provider().authorize_access_token()
    except OAuthError as exc:
        return _login_failed(exc.error, exc.description)
    current_app.session_interface.regenerate(session)  # a session id planted before login is worthless after it
    session["token"] = dict(token)
    forget_client()
    try:
        user = repovizz2().user()
    except Repovizz2Error:
        session.pop("token", None)
        raise
    session["user"] = {"id": user["id"], "username": user["username"]}
    return redirect(safe_next(session.pop("after_login", None)))


def _login_failed(error: str, description: str | None):
    """Explain the failure; a login already in place stays (anyone can link to the callback with an error)."""
    denied = error == "access_denied"
    return (
        render_template(
            "login_failed.html",
            denied=denied,
            error=error,
            description=description,
            retry=login_url(session.get("after_login")),
        ),
        403 if denied else 400,
    )


@bp.route("/logout", methods=["POST"])
def logout():
    session.clear()
    return redirect(url_for("home.home"))
