"""Who is logged in and where a login goes back to: `login_required`, `safe_next` for untrusted return
paths. The login itself (its token, its user, its lifetime) is `services/login.py`'s."""
from __future__ import annotations

import functools
from urllib.parse import urlsplit

from flask import redirect, request, url_for

from ..services.login import session_user


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
    """Who is logged in in this browser (``{"id", "username"}``), or None."""
    return session_user()


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
