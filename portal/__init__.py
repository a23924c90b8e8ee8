"""The repovizz2 portal: log in to repovizz2 and upload datapacks from a browser."""
from __future__ import annotations

import os

from dotenv import load_dotenv
from flask import Flask
from flask_session import Session
from flask_wtf.csrf import CSRFProtect

from .config import MIB, require_secrets, settings_from_env
from .uploads import human_size

csrf = CSRFProtect()


def create_app(test_config: dict | None = None) -> Flask:
    """Build the portal. Without `test_config`, settings come from ``PORTAL_*`` variables (and ``.env``)."""
    app = Flask(__name__)
    if test_config is None:
        load_dotenv(os.path.join(os.getcwd(), ".env"))
        app.config.update(settings_from_env(os.environ))
        require_secrets(app.config)
    else:
        app.config.update(settings_from_env({}))
        app.config.update(test_config)

    _configure_sessions(app)
    app.config.setdefault("MAX_CONTENT_LENGTH", app.config["MAX_FORM_MB"] * MIB)
    app.config["MAX_FORM_PARTS"] = app.config["MAX_FILES"] + 50
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)

    csrf.init_app(app)
    Session(app)

    from . import api, auth, datapacks, errors, health, main, upload

    auth.init_app(app)
    app.register_blueprint(main.bp)
    app.register_blueprint(upload.bp)
    app.register_blueprint(datapacks.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(health.bp)
    errors.init_app(app)
    app.after_request(security_headers)
    app.add_template_filter(human_size, "filesize")
    return app


def security_headers(response):
    """No inline script, no framing, no sniffing, no referrer (the OAuth callback URL carries a code)."""
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response


def _configure_sessions(app: Flask) -> None:
    """Login sessions live on the server (files by default, Redis to share them between hosts)."""
    app.config.setdefault("SESSION_COOKIE_NAME", "portal_session")
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("SESSION_PERMANENT", False)
    if app.config.get("SESSION_TYPE"):
        return
    if app.config.get("REDIS_URL"):
        import redis

        app.config["SESSION_TYPE"] = "redis"
        app.config["SESSION_REDIS"] = redis.Redis.from_url(app.config["REDIS_URL"])
    else:
        from cachelib.file import FileSystemCache

        app.config["SESSION_TYPE"] = "cachelib"
        app.config["SESSION_CACHELIB"] = FileSystemCache(app.config["SESSION_DIR"], threshold=10000)
