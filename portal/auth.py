"""Login with repovizz2 (OAuth2 authorization code + PKCE) and the per-request API client."""
from __future__ import annotations

import functools
from urllib.parse import urlsplit

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from authlib.integrations.requests_client import OAuth2Session
from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for
from requests.adapters import HTTPAdapter

from .repovizz import Repovizz2Client, Repovizz2Error

bp = Blueprint("auth", __name__, url_prefix="/auth")


def init_app(app) -> None:
    base = app.config["REPOVIZZ2_URL"]
    oauth = OAuth(app)  # one registry per app: apps in one process may talk to different repovizz2s
    app.extensions["repovizz2_oauth"] = oauth
    oauth.register(
        "repovizz2",
        client_id=app.config["CLIENT_ID"],
        client_secret=app.config["CLIENT_SECRET"],
        authorize_url=f"{base}/oauth/authorize",
        access_token_url=f"{base}/oauth/token",
        api_base_url=base,
        client_kwargs={
            "scope": "basic",
            "code_challenge_method": "S256",
            "default_timeout": (app.config["CONNECT_TIMEOUT"], app.config["READ_TIMEOUT"]),
        },
        overwrite=True,
    )
    # One pool of keep-alive connections to repovizz2 per worker process, shared by all users.
    app.extensions["repovizz2_adapter"] = HTTPAdapter(pool_connections=4, pool_maxsize=32)
    # The proxies and CA bundle the environment sets for repovizz2 (HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE…),
    # read once: requests would otherwise read and match the whole environment again on every call.
    with requests.Session() as probe:
        app.extensions["repovizz2_environment"] = probe.merge_environment_settings(base, {}, None, None, None)
    app.register_blueprint(bp)


def provider():
    """This app's registered repovizz2 OAuth client (Authlib)."""
    return current_app.extensions["repovizz2_oauth"].repovizz2


def safe_next(unsafe_next: str | None, default: str = "/") -> str:
    """`unsafe_next` if it is a path on this site, else `default` (never an open redirect)."""
    if not unsafe_next or not isinstance(unsafe_next, str):
        return default
    if any(ord(ch) < 32 or ch == "\\" for ch in unsafe_next):
        return default
    parts = urlsplit(unsafe_next)
    if parts.scheme or parts.netloc or not unsafe_next.startswith("/") or unsafe_next.startswith("//"):
        return default
    return unsafe_next


def current_user() -> dict | None:
    return session.get("user") if session.get("token") else None


def login_url(next_path: str | None = None) -> str:
    return url_for("auth.login", next=safe_next(next_path, None) or None)


def this_page() -> str:
    """The path of the current page as the browser sees it (with the sub-path the portal is served at)."""
    return request.script_root + request.full_path.rstrip("?")


def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if current_user() is None:
            return redirect(login_url(this_page()))
        return view(*args, **kwargs)

    return wrapped


def _save_refreshed_token(token, refresh_token=None, access_token=None):
    """Store the renewed token now, not when this request ends (a long upload may be just starting):
    the old refresh token is spent, and the user's parallel requests take the new one from the store."""
    session["token"] = dict(token)
    current_app.session_interface.save_session(current_app, session, current_app.response_class())


def bearer_token() -> str | None:
    """A repovizz2 access token sent by a script in ``Authorization: Bearer …`` (no session, no cookie)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _stored_token() -> dict | None:
    """The token as the session store holds it now, which a parallel request may have renewed."""
    fresh = current_app.session_interface.open_session(current_app, request)
    token = fresh.get("token") if fresh is not None else None
    if token:
        session["token"] = token
    return token


def repovizz2() -> Repovizz2Client:
    """The API client for the logged-in user, on this worker's pooled connections."""
    if "repovizz2" not in g:
        config = current_app.config
        script_token = g.get("script_token")
        http = OAuth2Session(
            client_id=config["CLIENT_ID"],
            client_secret=config["CLIENT_SECRET"],
            token={"access_token": script_token, "token_type": "Bearer"} if script_token else session.get("token"),
            token_endpoint=f"{config['REPOVIZZ2_URL']}/oauth/token",
            update_token=None if script_token else _save_refreshed_token,
            leeway=config["TOKEN_LEEWAY"],
            default_timeout=(config["CONNECT_TIMEOUT"], config["READ_TIMEOUT"]),
        )
        environment = current_app.extensions["repovizz2_environment"]
        http.trust_env = False
        http.proxies, http.verify = dict(environment["proxies"]), environment["verify"]
        adapter = current_app.extensions["repovizz2_adapter"]
        http.mount("http://", adapter)
        http.mount("https://", adapter)
        timeout = (config["CONNECT_TIMEOUT"], config["READ_TIMEOUT"])
        g.repovizz2 = Repovizz2Client(http, config["REPOVIZZ2_URL"], timeout,
                                      stored_token=None if script_token else _stored_token)
    return g.repovizz2


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
    g.pop("repovizz2", None)
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
    return redirect(url_for("main.home"))
