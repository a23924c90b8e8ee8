"""HTTP-level protections applied to every response and request: body caps, security headers,
Secure cookies over https."""
from __future__ import annotations

from flask import current_app, request

from .config import MIB


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
