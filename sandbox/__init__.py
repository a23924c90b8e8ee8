"""A local, faithful repovizz2: OAuth2 provider, datapack API and file storage, for the demo and the tests."""
from __future__ import annotations

import time

from flask import Flask, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from . import api, auth_pages, oauth
from .config import check_settings, database_path, load_secret_key, prepare_data_dir, settings_from_env
from .db import close_db, init_db
from .storage import FileStore

FORM_FIELD_LIMIT = 64 * 1024


def create_app(config: dict | None = None) -> Flask:
    """Build the sandbox. `config` overrides the ``SANDBOX_*`` environment (keys DATA_DIR, TOKEN_EXPIRES_IN,
    LATENCY_MS, the variants IDS, UPLOAD_ANSWER, FILE_IDS, UNAUTHORIZED (see config.VARIANTS),
    ALLOW_FRAMING_FROM (a list of origins), LOGIN_HINT (a line for the login page), and any Flask setting)."""
    settings = settings_from_env()
    settings.update(config or {})
    check_settings(settings)
    data_dir = prepare_data_dir(settings["DATA_DIR"])

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=load_secret_key(data_dir),
        SESSION_COOKIE_NAME="repovizz2_sandbox_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=None,
        MAX_FORM_MEMORY_SIZE=FORM_FIELD_LIMIT,
        DRAIN_LIMIT=16 * 1024 * 1024,
    )
    app.config.update(settings)
    app.config.update(DATA_DIR=data_dir, DATABASE=database_path(data_dir))
    app.json.sort_keys = False

    init_db(app.config["DATABASE"])
    file_ids = app.config["FILE_IDS"]
    salt = load_secret_key(data_dir, "file_id_salt") if file_ids == "content" else None
    app.extensions["sandbox_files"] = FileStore(data_dir, file_ids, salt)
    app.teardown_appcontext(close_db)
    oauth.init_app(app)
    app.register_blueprint(auth_pages.bp)
    app.register_blueprint(api.bp)
    _add_health_and_latency(app)
    app.register_error_handler(HTTPException, _json_errors_under_api)
    app.after_request(_drain_unread_body)
    return app


def _add_health_and_latency(app: Flask) -> None:
    @app.get("/healthz")
    def healthz():
        return jsonify({"status": "ok"})

    latency = int(app.config.get("LATENCY_MS") or 0) / 1000
    if latency > 0:
        app.before_request(lambda: time.sleep(latency))


def _json_errors_under_api(error: HTTPException):
    """API errors are `{"error": message}`, with the error's own headers (a 416's `Content-Range`, a 405's
    `Allow`); pages keep Werkzeug's HTML errors."""
    if error.response is not None or not request.path.startswith("/api/"):
        return error
    response = jsonify({"error": error.description})
    response.status_code = error.code or 500
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _drain_unread_body(response):
    """Read what the client sent but the view did not (up to DRAIN_LIMIT), so the client gets to see the answer.

    The dev server closes the connection after each answer; closing with unread bytes resets it, and the
    client may then see a reset instead of the 401/403/404.
    """
    length = request.content_length
    exhaust = getattr(request.stream, "exhaust", None)
    if length and exhaust and length <= current_app.config["DRAIN_LIMIT"]:
        try:
            exhaust()
        except (HTTPException, OSError):
            pass
    return response
