"""Login with repovizz2 (OAuth2 authorization code + PKCE, run by Authlib) and logout."""
from __future__ import annotations

from datetime import datetime, timezone

from authlib.integrations.base_client import OAuthError
from flask import Blueprint, current_app, g, redirect, render_template, request, url_for

from ..services.login import exchange_code, log_in, log_out, provider
from ..services.login_state import login_next
from ..web.access import current_user, login_url, safe_next
from ..web.extensions import csrf

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.route("/login")
def login():
    """Start the authorization-code flow; its state and PKCE verifier, and the page to go back to,
    live in a short-lived signed cookie (services/login_state.py): nothing is stored on the server.

    ``prompt=login`` asks repovizz2 to show its login page even when this browser is still logged in
    there: on a shared computer the next person must not land in the previous one's account."""
    g.login_next = safe_next(request.args.get("next"))
    return provider().authorize_redirect(url_for("auth.callback", _external=True), prompt="login")


@bp.route("/callback")
def callback():
    if request.args.get("error"):
        return _login_failed(request.args["error"], request.args.get("error_description"))
    g.login_back_to = login_next(request.args.get("state"))
    try:
        token = exchange_code()
    except OAuthError as exc:
        return _login_failed(exc.error, exc.description)
    log_in(token)
    return redirect(safe_next(g.get("login_back_to")))


def _login_failed(error: str, description: str | None):
    """Explain the failure; a login already in place stays (anyone can link to the callback with an error)."""
    denied = error == "access_denied"
    return (
        render_template(
            "login_failed.html",
            denied=denied,
            error=error,
            description=description,
            retry=login_url(login_next(request.args.get("state"))),
        ),
        403 if denied else 400,
    )


@bp.route("/logout", methods=["POST"])
@csrf.exempt  # checked below, once there is a login to end (a stale page's form must still get an answer)
def logout():
    """Revoke the login's tokens at repovizz2, end the session here, and say what still holds."""
    was_logged_in = current_user() is not None
    if was_logged_in and current_app.config.get("WTF_CSRF_ENABLED", True):
        csrf.protect()  # another site must not log the user out
    username, revocation = log_out()
    return render_template(
        "logged_out.html",
        was_logged_in=was_logged_in,
        username=username,
        revocation=revocation,
        token_ends=_clock(revocation.expires_at),
        repovizz2_logout_url=current_app.config["REPOVIZZ2_LOGOUT_URL"],
    )


def _clock(timestamp: float | None) -> str:
    if timestamp is None:
        return ""
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%H:%M UTC on %d %B %Y")
