"""The Flask extensions, set up in one place: CSRF protection, server-side sessions, the OAuth registry."""
from __future__ import annotations

import time
from datetime import timedelta

from cachelib.file import FileSystemCache
from flask import Flask
from flask_session import Session
from flask_wtf.csrf import CSRFProtect

from ..rules.config import ConfigError
from ..services.login_state import CookieStateOAuth, save_login_states

csrf = CSRFProtect()

# A login that was started (its OAuth state and PKCE verifier stored) but never finished is kept as long
# as Authlib keeps that state valid, not for a whole session lifetime.
LOGIN_IN_PROGRESS_SECONDS = 3600
# How often (per worker process, at most) the file store looks for expired sessions to delete.
SWEEP_SECONDS = 600


def init_extensions(app: Flask) -> None:
    _configure_sessions(app)
    csrf.init_app(app)
    Session(app)
    # One OAuth registry per app: apps in one process may talk to different repovizz2s. A login under
    # way lives in a signed cookie, not in the session (services/login_state.py).
    app.extensions["repovizz2_oauth"] = CookieStateOAuth(app)
    app.after_request(save_login_states)


class SessionFiles(FileSystemCache):
    """The default session store: one file per session, which only expiry removes.

    cachelib's `threshold` would evict sessions *before* their time once the folder holds that many
    files: first the expired ones, then the oldest by expiry date, whoever they belong to, so with a
    threshold a burst of new sessions would log real users out. Here the threshold is 0 (cachelib never counts nor evicts)
    and a sweep deletes expired files only, at most every SWEEP_SECONDS per process; a session that
    holds no login (a login in progress) expires after LOGIN_IN_PROGRESS_SECONDS, so unfinished logins
    cannot pile up for a whole session lifetime. Disk use is bounded by time, never paid for by a login.
    """

    def __init__(self, cache_dir: str, **kwargs):
        super().__init__(cache_dir, threshold=0, **kwargs)
        self._next_sweep = 0.0

    def set(self, key, value, timeout=None, mgmt_element=False):
        if isinstance(value, dict) and not value.get("token") and not mgmt_element:
            lifetime = self._normalize_lifetime(timeout)
            timeout = min(lifetime, LOGIN_IN_PROGRESS_SECONDS) if lifetime else LOGIN_IN_PROGRESS_SECONDS
        return super().set(key, value, timeout=timeout, mgmt_element=mgmt_element)

    @staticmethod
    def _normalize_lifetime(timeout) -> int:
        if isinstance(timeout, timedelta):
            return int(timeout.total_seconds())
        return int(timeout or 0)

    def _prune(self) -> None:
        """Called by `set` before each write: delete expired sessions now and then, never a live one."""
        now = time.time()
        if now < self._next_sweep:
            return
        self._next_sweep = now + SWEEP_SECONDS
        self._remove_expired(now)


def _configure_sessions(app: Flask) -> None:
    """Login sessions live on the server (files by default, Redis to share them between hosts).

    A stored session lasts SESSION_HOURS from its last write (the store deletes it then), and a login
    ends SESSION_HOURS after it was made (`access.end_expired_login`). A page view that stores nothing
    writes nothing: the store is not touched again just to push the expiry further."""
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=app.config["SESSION_HOURS"])
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False
    if app.config.get("SESSION_TYPE"):
        return
    if app.config.get("REDIS_URL"):
        try:
            import redis  # the optional extra
        except ImportError:
            raise ConfigError("PORTAL_REDIS_URL is set but the redis package is not installed: "
                              "pip install 'repovizz2-portal[redis]'") from None

        app.config["SESSION_TYPE"] = "redis"
        app.config["SESSION_REDIS"] = redis.Redis.from_url(app.config["REDIS_URL"])
    else:
        app.config["SESSION_TYPE"] = "cachelib"
        app.config["SESSION_CACHELIB"] = SessionFiles(app.config["SESSION_DIR"])
