"""The login: one request's repovizz2 token, a browser session's or a script's bearer token, and the
whole life of that token. Nothing else in the portal reads or writes it.

A browser's login is made here from the OAuth callback's token, its token renewed before it expires
(and the renewal saved at once), a token a parallel request renewed adopted, the login forgotten
when repovizz2 refuses its token for good, ended SESSION_HOURS after it was made, and its tokens
revoked on logout. A script's bearer token is sent as it is: never renewed, saved or revoked.
Every operation on repovizz2 takes a `Login`; `current_login()` gives this request's. The Authlib
registration and the pooled connections to repovizz2 live here too.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Mapping

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from flask import current_app, g, request, session
from requests.adapters import HTTPAdapter

from ..rules.errors import NotAuthorized, Repovizz2Error, ServerError, TimedOut, Unreachable
from .repovizz2_client import MAX_ANSWER_BYTES, AnswerTooLarge, Repovizz2Client, bound_answers

log = logging.getLogger(__name__)


def init_app(app) -> None:
    """Register repovizz2 as this app's OAuth provider and open its pool of connections."""
    base = app.config["REPOVIZZ2_URL"]
    app.extensions["repovizz2_oauth"].register(
        "repovizz2",
        client_id=app.config["CLIENT_ID"],
        client_secret=app.config["CLIENT_SECRET"],
        authorize_url=f"{base}/oauth/authorize",
        access_token_url=f"{base}/oauth/token",
        api_base_url=base,
        client_kwargs={
            "scope": "basic",
            "code_challenge_method": "S256",
            "default_timeout": _timeout(app.config),
        },
        compliance_fix=bound_answers,  # Authlib's hook on each session it makes: the code exchange reads bounded
        overwrite=True,
    )
    # One pool of keep-alive connections to repovizz2 per worker process, shared by all users
    # (and by the threads that fetch the home page's datapacks: at least as many as one page uses).
    app.extensions["repovizz2_adapter"] = HTTPAdapter(pool_connections=4,
                                                      pool_maxsize=max(32, app.config.get("HOME_FETCHES", 0)))
    # The proxies and CA bundle the environment sets for repovizz2 (HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE…),
    # read once: requests would otherwise read and match the whole environment again on every call.
    with requests.Session() as probe:
        app.extensions["repovizz2_environment"] = probe.merge_environment_settings(base, {}, None, None, None)


def _timeout(config) -> tuple[float, float]:
    return (config["CONNECT_TIMEOUT"], config["READ_TIMEOUT"])


def provider():
    """This app's registered repovizz2 OAuth client (Authlib), for the login flow."""
    return current_app.extensions["repovizz2_oauth"].repovizz2


def exchange_code() -> dict:
    """The token for the code repovizz2 sent to the callback (Authlib checks the state and PKCE). An
    OAuthError (repovizz2 refused the code) is the caller's to show; an exchange that failed on the
    way is the project's own error, as for any other call."""
    client = provider()
    try:
        return client.authorize_access_token()
    except AnswerTooLarge as exc:
        raise ServerError(f"repovizz2 answered the login with more than {MAX_ANSWER_BYTES // (1024 * 1024)} MB") \
            from exc
    except requests.Timeout as exc:
        raise TimedOut("repovizz2 did not answer the login in time; log in again") from exc
    except requests.ConnectionError as exc:
        raise Unreachable(f"could not connect to repovizz2 at {client.access_token_url}") from exc
    except requests.RequestException as exc:
        raise ServerError(f"the login's exchange with repovizz2 failed ({type(exc).__name__})") from exc


def bearer_token() -> str | None:
    """A repovizz2 access token sent by a script in ``Authorization: Bearer …`` (no session, no cookie)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


# The session's keys of a browser login: the token, who it is, and when the login was made.
TOKEN, USER, LOGIN_AT = "token", "user", "login_at"


def _save_renewed_token(token, refresh_token=None, access_token=None):
    """Store the renewed token now, not when this request ends (a long upload may be just starting):
    the old refresh token is spent, and the user's parallel requests take the new one from the store."""
    session[TOKEN] = dict(token)
    current_app.session_interface.save_session(current_app, session, current_app.response_class())


def _stored_token() -> dict | None:
    """The token as the session store holds it now, which a parallel request may have renewed."""
    fresh = current_app.session_interface.open_session(current_app, request)
    token = fresh.get(TOKEN) if fresh is not None else None
    if token:
        session[TOKEN] = token
    return token


class TokenSession(OAuth2Session):
    """A requests session that signs calls with the user's token and keeps the token alive.

    Authlib renews an expiring token before each call (`update_token` stores it at once). On top:
    when that renewal is refused because a parallel request of the same user already spent the
    refresh token, take the token it stored; and when repovizz2 answers 401 (it may end a token
    before its announced expiry), renew once and send again, if the body can be sent again. When
    repovizz2 refuses the token for good, `refused` is called (the login forgets it).
    """

    def __init__(self, *args, stored_token=None, refused=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.stored_token = stored_token
        self.refused = refused

    def request(self, method, url, withhold_token=False, auth=None, **kwargs):
        if withhold_token:  # the token endpoint itself
            return super().request(method, url, withhold_token=True, auth=auth, **kwargs)
        try:
            try:
                response = super().request(method, url, auth=auth, **kwargs)
            except OAuthError:
                if not self._adopt_stored_token():
                    raise
                response = super().request(method, url, auth=auth, **kwargs)
            if response.status_code == 401 and replayable(kwargs.get("data")) and self._can_renew():
                response.close()
                self.refresh_token()
                response = super().request(method, url, auth=auth, **kwargs)
        except OAuthError:
            self._refused()
            raise
        if response.status_code == 401:
            self._refused()
        return response

    def _refused(self) -> None:
        if self.refused is not None:
            self.refused()

    def _adopt_stored_token(self) -> bool:
        stored = self.stored_token() if self.stored_token else None
        current = self.token or {}
        if not stored or stored.get("access_token") == current.get("access_token"):
            return False
        self.token = stored
        return not self.token.is_expired()

    def _can_renew(self) -> bool:
        return bool(self.token and self.token.get("refresh_token") and self.update_token)

    def active_access_token(self) -> str:
        """The access token, renewed first if it expires within the leeway (or a parallel request's, adopted)."""
        if not self.token or not self.token.get("access_token"):
            raise NotAuthorized("not logged in to repovizz2")
        try:
            self.ensure_active_token(self.token)
        except OAuthError as exc:
            if not self._adopt_stored_token():
                self._refused()
                raise NotAuthorized(f"repovizz2 refused to renew the login ({exc.error})") from exc
        return self.token["access_token"]

    def renew(self) -> None:
        """Renew the token now, however long it was meant to live: repovizz2 refused it (a 401)."""
        if not self._can_renew():
            self._refused()
            raise NotAuthorized("repovizz2 refused the login and it cannot be renewed")
        try:
            self.refresh_token()
        except OAuthError as exc:
            if not self._adopt_stored_token():
                self._refused()
                raise NotAuthorized(f"repovizz2 refused to renew the login ({exc.error})") from exc


def replayable(body) -> bool:
    """A body can be sent again after a renewal unless it streams from a one-way source."""
    rewind = getattr(body, "rewind", None)
    return rewind() if rewind is not None else True


class WorkerClients:
    """Makes repovizz2 clients for threads that work for one request without its Flask context.

    Built in the request thread by `Login.worker_clients()`, it holds plain values only: the access token,
    the base URL, the timeouts and this process's pooled adapter. Each call gives a new client (a
    requests session is not shared between threads) that sends the token as it is and never renews
    it, and touches neither `flask.session` nor `g`: a 401 comes back as NotAuthorized, for the
    request thread to renew the token (`Login.renew()`) and ask again.
    """

    def __init__(self, access_token: str, base_url: str, timeout: tuple[float, float], adapter: HTTPAdapter,
                 environment: dict):
        self.access_token = access_token
        self.base_url = base_url
        self.timeout = timeout
        self.adapter = adapter
        self.environment = environment

    def __call__(self) -> Repovizz2Client:
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {self.access_token}"
        _connect(http, self.adapter, self.environment)
        return Repovizz2Client(http, self.base_url, self.timeout)


class Login:
    """One request's login to repovizz2: the browser session's token, or a script's bearer token
    (`script_token`). It gives the client that signs calls with the token, and owns the token's life."""

    def __init__(self, script_token: str | None = None):
        self.script_token = script_token
        self._client: Repovizz2Client | None = None
        self._script_user: dict | None = None

    @property
    def is_script(self) -> bool:
        return self.script_token is not None

    @property
    def has_token(self) -> bool:
        return self.is_script or bool(session.get(TOKEN))

    @property
    def user(self) -> dict | None:
        """Who is logged in in this browser (``{"id", "username"}``); None without a login, and for a script."""
        return None if self.is_script else session_user()

    def owner(self) -> dict:
        """Whom a new datapack belongs to: the session's user, or for a script whom repovizz2 says the token is."""
        if not self.is_script:
            return session[USER]
        if self._script_user is None:
            accepted = current_app.extensions["accepted_tokens"]
            self._script_user = accepted.get(self.script_token)
            if self._script_user is None:
                self._script_user = self.client().user()  # NotAuthorized when repovizz2 refuses the token
                accepted.add(self.script_token, self._script_user)
        return self._script_user

    @property
    def username(self) -> str:
        """Who sends, for the log lines ("script" for a bearer token; never the token)."""
        if self.is_script:
            return "script"
        return (session.get(USER) or {}).get("username") or ""

    def client(self) -> Repovizz2Client:
        """The API client of this login, on this worker's pooled connections."""
        if self._client is None:
            config = current_app.config
            script = self.is_script
            http = TokenSession(
                client_id=config["CLIENT_ID"],
                client_secret=config["CLIENT_SECRET"],
                token={"access_token": self.script_token, "token_type": "Bearer"} if script else session.get(TOKEN),
                token_endpoint=f"{config['REPOVIZZ2_URL']}/oauth/token",
                update_token=None if script else _save_renewed_token,
                stored_token=None if script else _stored_token,
                refused=None if script else self.forget,
                leeway=config["TOKEN_LEEWAY"],
                default_timeout=_timeout(config),
            )
            _mount_pool(http)
            self._client = Repovizz2Client(http, config["REPOVIZZ2_URL"], _timeout(config))
        return self._client

    def worker_clients(self) -> WorkerClients:
        """Clients for worker threads, as this login. In the request thread: a token about to expire is
        renewed here first, once, where the renewal can be stored."""
        config = current_app.config
        token = self.script_token or self.client().http.active_access_token()
        return WorkerClients(token, config["REPOVIZZ2_URL"], _timeout(config),
                             current_app.extensions["repovizz2_adapter"], current_app.extensions["repovizz2_environment"])

    def renew(self) -> None:
        """Renew the token now (repovizz2 refused it to a worker); NotAuthorized if it cannot be."""
        if self.is_script:
            raise NotAuthorized("repovizz2 refused the access token")
        self.client().http.renew()

    def forget(self) -> None:
        """repovizz2 refused the token for good: this browser is no longer logged in."""
        if not self.is_script:
            session.pop(TOKEN, None)
            session.pop(USER, None)


def current_login() -> Login:
    """This request's login: a script's, once `script_login` took its token; else the browser session's."""
    if "login" not in g:
        g.login = Login()
    return g.login


def script_login(token: str) -> Login:
    """From now on in this request, the login of a script that sent ``Authorization: Bearer <token>``."""
    if g.get("login") is None or g.login.script_token != token:
        g.login = Login(script_token=token)
    return g.login


def session_user() -> dict | None:
    """Who is logged in in this browser session, or None."""
    return session.get(USER) if session.get(TOKEN) else None


def holds_login(stored: Mapping) -> bool:
    """Whether a stored session holds a login (a session store sets its lifetime by it)."""
    return bool(stored.get(TOKEN))


def log_in(token: dict) -> Login:
    """Make the browser's login from the token the OAuth callback received: a new session id (one
    planted before the login is worthless after it), the token, and who it is, asked of repovizz2
    with it and stamped with when the login was made. A refused or failed ask leaves no token."""
    current_app.session_interface.regenerate(session)
    session[TOKEN] = dict(token)
    login = Login()
    g.login = login
    try:
        user = login.client().user()
    except Repovizz2Error:
        session.pop(TOKEN, None)
        raise
    session[USER] = {"id": user["id"], "username": user["username"]}
    session[LOGIN_AT] = int(time.time())
    return login


def end_expired_login() -> None:
    """Before every request: a login ends SESSION_HOURS after it was made, however busy it was (the
    store's own expiry counts from the session's last write, which every renewed token pushes on).
    A session without the stamp (made before this rule) is left to the store's expiry: stamping it
    here would write every such session once more."""
    made = session.get(LOGIN_AT) if session.get(TOKEN) else None
    if isinstance(made, (int, float)) and time.time() - made > current_app.config["SESSION_HOURS"] * 3600:
        session.clear()


def log_out() -> tuple[str | None, Revocation]:
    """End the browser's login: revoke its tokens at repovizz2, then clear the session (the stored
    session is deleted, and the cookie with it). Answers who it was, and what became of the tokens."""
    token = session.get(TOKEN) if session_user() is not None else None
    revocation = revoke(token)
    username = (session.get(USER) or {}).get("username")
    if session:
        session.clear()
    return username, revocation


def anonymous_client(timeout: tuple[float, float] = (2, 3)) -> Repovizz2Client:
    """A client that sends no token, on the same pooled connections."""
    http = requests.Session()
    _mount_pool(http)
    return Repovizz2Client(http, current_app.config["REPOVIZZ2_URL"], timeout)


def repovizz2_answers() -> bool:
    """Whether repovizz2 answers at all (any HTTP status), asked without a token (for /healthz)."""
    return anonymous_client().reachable()


def _mount_pool(http: requests.Session) -> None:
    _connect(http, current_app.extensions["repovizz2_adapter"], current_app.extensions["repovizz2_environment"])


def _connect(http: requests.Session, adapter: HTTPAdapter, environment: dict) -> None:
    """This process's pooled connections to repovizz2, the proxies and CA bundle read at start, and every
    answer read bounded (`bound_answers`)."""
    http.mount("http://", adapter)
    http.mount("https://", adapter)
    http.trust_env = False
    http.proxies, http.verify = dict(environment["proxies"]), environment["verify"]
    bound_answers(http)


# --- Login and logout -----------------------------------------------------------------------------------

@dataclass
class Revocation:
    """What became of the login's tokens at repovizz2 on logout."""

    outcome: str  # "revoked", "unsupported" (repovizz2 offers no revocation), "failed" or "none" (no token)
    detail: str = ""
    expires_at: float | None = None  # when the access token ends by itself, if it was not revoked


def revoke(token: dict | None) -> Revocation:
    """Ask repovizz2 to revoke the login's tokens (RFC 7009: the refresh token first, so that no new
    access token can come of it, then the access token), authenticated as the portal's client.

    Never raises: whatever repovizz2 answers, the caller still ends the local session."""
    if not token or not (token.get("access_token") or token.get("refresh_token")):
        return Revocation("none")
    config = current_app.config
    expires_at = token.get("expires_at") if isinstance(token.get("expires_at"), (int, float)) else None
    http = OAuth2Session(client_id=config["CLIENT_ID"], client_secret=config["CLIENT_SECRET"],
                         revocation_endpoint_auth_method="client_secret_basic")
    _mount_pool(http)
    timeout = (config["CONNECT_TIMEOUT"], min(config["READ_TIMEOUT"], 10.0))
    try:
        for kind in ("refresh_token", "access_token"):
            value = token.get(kind)
            if not value:
                continue
            try:
                answer = http.revoke_token(config["REVOKE_URL"], token=value, token_type_hint=kind, timeout=timeout)
            except requests.RequestException as error:
                log.warning("logout: token revocation at %s failed: %s", config["REVOKE_URL"], type(error).__name__)
                return Revocation("failed", "repovizz2 did not answer", expires_at)
            outcome = _revocation_outcome(answer)
            answer.close()
            if outcome is not None:
                log.warning("logout: token revocation at %s: HTTP %s", config["REVOKE_URL"], answer.status_code)
                return Revocation(*outcome, expires_at)
    finally:
        http.close()
    return Revocation("revoked")


def _revocation_outcome(answer) -> tuple[str, str] | None:
    """None when repovizz2 revoked the token (or did not know it: RFC 7009 answers 200 to both)."""
    if answer.status_code == 200:
        return None
    if answer.status_code in (404, 405, 501):
        return "unsupported", "repovizz2 offers no way to revoke a token"
    try:
        error = answer.json().get("error")
    except (ValueError, AttributeError):
        error = None
    if error == "unsupported_token_type":
        return "unsupported", "repovizz2 does not revoke this kind of token"
    if answer.status_code == 503:
        return "failed", "repovizz2 was unavailable"
    return "failed", f"repovizz2 answered HTTP {answer.status_code}" + (f" ({error})" if isinstance(error, str) else "")
