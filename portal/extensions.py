"""The Flask extensions, set up in one place: CSRF protection, server-side sessions, the OAuth registry."""
from __future__ import annotations

from authlib.integrations.flask_client import OAuth
from flask import Flask
from flask_session import Session
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()


def init_extensions(app: Flask) -> None:
    _configure_sessions(app)
    csrf.init_app(app)
    Session(app)
    # One OAuth registry per app: apps in one process may talk to different repovizz2s.
    app.extensions["repovizz2_oauth"] = OAuth(app)


def _configure_sessions(app: Flask) -> None:
    """Login sessions live on the server (files by default, Redis to share them between hosts)."""
    if app.config.get("SESSION_TYPE"):
        return
    if app.config.get("REDIS_URL"):
        import redis  # the optional extra: pip install '.[redis]'

        app.config["SESSION_TYPE"] = "redis"
        app.config["SESSION_REDIS"] = redis.Redis.from_url(app.config["REDIS_URL"])
    else:
        from cachelib.file import FileSystemCache

        app.config["SESSION_TYPE"] = "cachelib"
        app.config["SESSION_CACHELIB"] = FileSystemCache(app.config["SESSION_DIR"], threshold=10000)
