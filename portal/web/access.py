"""Who is logged in, for how long, and where a login goes back to: `login_required`, the login's
lifetime, `safe_next` for untrusted return paths."""
from __future__ import annotations

import functools
import time
from urllib.parse import urlsplit

from flask import current_app, redirect, request, session, url_for


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


def start_login(user: dict) -> None:
    """Complete the login whose token is in the session: who it is, stamped with when it was made."""
    session["user"] = user
    session["login_at"] = int(time.time())


def end_expired_login() -> None:
    """Before every request: a login ends SESSION_HOURS after it was made, however busy it was (the
    store's own expiry counts from the session's last write, which every renewed token pushes on).
    A session without the stamp (made before this rule) is left to the store's expiry: stamping it
    here would write every such session once more."""
    made = session.get("login_at") if session.get("token") else None
    if isinstance(made, (int, float)) and time.time() - made > current_app.config["SESSION_HOURS"] * 3600:
        session.clear()


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
