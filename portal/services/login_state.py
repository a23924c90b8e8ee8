"""The state of a login not yet finished, kept in a short-lived signed cookie instead of the session.

Authlib's Flask client keeps each login's OAuth state and PKCE verifier in the session, so every click
on "Log in" would store a session on the server, for anyone, however often. Here they live in a cookie
signed with the app's secret key (`LOGIN_COOKIE`, for /auth/ only, LOGIN_STATE_SECONDS long): nothing
is stored on the server until a login finishes. The cookie keeps the newest LOGIN_STATES_KEPT logins
(started in other tabs), each with the page to go back to afterwards.
"""
from __future__ import annotations

import time

from authlib.integrations.flask_client import OAuth
from authlib.integrations.flask_client.integration import FlaskIntegration
from flask import current_app, g, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

LOGIN_COOKIE = "portal_login"
LOGIN_STATE_SECONDS = 600
LOGIN_STATES_KEPT = 3


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="portal login state")


def _states() -> dict:
    """The logins under way, as this request's cookie (or an earlier change in this request) has them."""
    if "login_states" not in g:
        states = {}
        raw = request.cookies.get(LOGIN_COOKIE)
        if raw:
            try:
                loaded = _serializer().loads(raw, max_age=LOGIN_STATE_SECONDS)
            except BadSignature:
                loaded = None
            if isinstance(loaded, dict):
                states = {key: value for key, value in loaded.items()
                          if isinstance(key, str) and isinstance(value, dict) and isinstance(value.get("data"), dict)}
        g.login_states = states
    return g.login_states


def _changed(states: dict) -> None:
    g.login_states = states
    g.login_states_changed = True


class CookieStateIntegration(FlaskIntegration):
    """Authlib's Flask integration with the state data in the signed cookie (`session` is not touched)."""

    def set_state_data(self, session, state, data):
        states = dict(_states())
        states[state] = {"data": data, "next": g.get("login_next") or "/", "at": time.time()}
        newest = sorted(states.items(), key=lambda item: item[1].get("at", 0))[-LOGIN_STATES_KEPT:]
        _changed(dict(newest))

    def get_state_data(self, session, state):
        entry = _states().get(state) if isinstance(state, str) else None
        return entry["data"] if entry else None

    def clear_state_data(self, session, state):
        states = dict(_states())
        if states.pop(state, None) is not None:
            _changed(states)


class CookieStateOAuth(OAuth):
    framework_integration_cls = CookieStateIntegration


def login_next(state) -> str | None:
    """The page the login with this `state` started from (to go back to afterwards), if it is under way."""
    entry = _states().get(state) if isinstance(state, str) else None
    return entry.get("next") if entry else None


def save_login_states(response):
    """After the request: write the cookie when the logins under way changed (or delete it when none is left)."""
    if g.get("login_states_changed"):
        path = (request.script_root or "") + "/auth/"
        states = g.login_states
        if states:
            response.set_cookie(LOGIN_COOKIE, _serializer().dumps(states), max_age=LOGIN_STATE_SECONDS, path=path,
                                httponly=True, samesite="Lax")
        else:
            response.delete_cookie(LOGIN_COOKIE, path=path, httponly=True, samesite="Lax")
    return response
