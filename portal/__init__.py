"""The repovizz2 portal: log in to repovizz2 and upload datapacks from a browser."""
from __future__ import annotations

import json
import logging
import os

from dotenv import load_dotenv
from flask import Flask, current_app, request
from flask_session import Session
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from .body_timeout import BodyReadTimeoutMiddleware
from .config import MIB, require_secrets, settings_from_env
from .uploads import human_size

csrf = CSRFProtect()
# templates/ and static/ sit beside the package, at the top of the checkout the portal runs from.
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(test_config: dict | None = None) -> Flask:
    """Build the portal. Without `test_config`, settings come from ``PORTAL_*`` variables (and ``.env``)."""
    app = Flask(__name__, template_folder=os.path.join(PROJECT_ROOT, "templates"),
                static_folder=os.path.join(PROJECT_ROOT, "static"))
    app.config.update(
        SESSION_COOKIE_NAME="portal_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_PERMANENT=False,
        WTF_CSRF_TIME_LIMIT=None,
    )
    if test_config is None:
        load_dotenv(os.path.join(os.getcwd(), ".env"))
        app.config.update(settings_from_env(os.environ))
        require_secrets(app.config)
        if not logging.getLogger().handlers:
            logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    else:
        app.config.update(settings_from_env({}))
        app.config.update(test_config)

    _configure_sessions(app)
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_FORM_MB"] * MIB
    app.config["MAX_FORM_PARTS"] = app.config["MAX_FILES"] + 50
    # A form field may carry a whole document, escaped: percent-encoding can triple it.
    app.config["MAX_FORM_MEMORY_SIZE"] = 4 * app.config["MAX_JSON_KB"] * 1024

    app.before_request(limit_request_body)  # before the CSRF check, which reads the form
    csrf.init_app(app)
    Session(app)

    from . import api, auth, datapacks, errors, health, main, upload
    from . import edit

    auth.init_app(app)
    app.register_blueprint(main.bp)
    app.register_blueprint(upload.bp)
    app.register_blueprint(datapacks.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(edit.bp)
    errors.init_app(app)
    app.after_request(security_headers)
    app.wsgi_app = SecureCookiesOverHttps(app.wsgi_app)
    app.wsgi_app = BodyReadTimeoutMiddleware(app.wsgi_app, app.config["BODY_READ_TIMEOUT"])
    if app.config["BEHIND_PROXY"]:
        # Trust one proxy's X-Forwarded-For/-Proto/-Host/-Prefix, e.g. nginx serving the portal at /portal/.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_prefix=1)
    app.add_template_filter(human_size, "filesize")
    app.add_template_filter(lambda value: json.dumps(value, indent=2, ensure_ascii=False), "pretty_json")
    return app


def limit_request_body():
    """Cap each body at what its kind may need: MAX_FORM_MB is for multipart forms, whose files Werkzeug
    spools to disk; JSON and urlencoded bodies are read whole into memory (even by the CSRF check, before
    any login), and a file PUT to the API streams through under the per-file limit."""
    config = current_app.config
    if request.endpoint == "api.put_asset":
        request.max_content_length = config["MAX_ASSET_MB"] * MIB
    elif request.mimetype != "multipart/form-data":
        # A document and, for the API, one short entry per file.
        request.max_content_length = config["MAX_FORM_MEMORY_SIZE"] + config["MAX_FILES"] * 2048


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


class SecureCookiesOverHttps:
    """WSGI middleware: mark every cookie Secure when the request came over https (directly or via the proxy).

    Flask-Session sets its cookie after the app's own response hooks, so this sits around the app.
    """

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("wsgi.url_scheme") != "https":
            return self.wsgi_app(environ, start_response)

        def secure_start_response(status, headers, exc_info=None):
            headers = [(name, value + "; Secure" if name.lower() == "set-cookie" and "; Secure" not in value else value)
                       for name, value in headers]
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, secure_start_response)


def _configure_sessions(app: Flask) -> None:
    """Login sessions live on the server (files by default, Redis to share them between hosts)."""
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
