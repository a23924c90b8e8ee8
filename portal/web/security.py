"""HTTP-level protections applied to every response and request: body caps, no body read for an
anonymous visitor, a form body that is not well-formed said so, URL segments that stay segments,
security and cache headers, Secure cookies over https."""
from __future__ import annotations

from flask import Request, current_app, g, request
from werkzeug.exceptions import BadRequest, HTTPException, RequestEntityTooLarge
from werkzeug.formparser import FormDataParser
from werkzeug.routing import UnicodeConverter, ValidationError

from ..rules.config import MIB
from ..services.body_timeout import discard_unread_body
from ..services.script_logins import script_user
from ..services.tokens import bearer_token
from .access import current_user
from .error_pages import not_logged_in

# Methods that carry no body a view reads, and so need no login to be received.
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# Endpoints an anonymous visitor may send a body to, and how large it may be: a logout form
# (a stale page after the login ended) is a CSRF token and nothing else.
ANONYMOUS_BODY_ENDPOINTS = {"auth.logout"}
LOGIN_FORM_BYTES = 8 * 1024


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


def refuse_anonymous_bodies():
    """Answer a body sent without a login before anything reads it.

    Registered before the CSRF check, which reads ``request.form`` and so would parse (and spool to
    disk) a whole multipart body just to find that its token is missing. Only the session cookie and
    the headers are looked at here: an anonymous POST or PUT to a page that needs a login is refused
    with 401 and its body is never read. A script's bearer token to the API is checked with repovizz2
    here, and refused the same way when repovizz2 does not accept it."""
    if request.method in SAFE_METHODS or request.endpoint is None:
        return None
    token = bearer_token() if request.blueprint == "api" else None
    if token:
        limit = request.max_content_length
        if limit is not None and (request.content_length or 0) > limit:
            raise RequestEntityTooLarge()  # a limit before any work, a call to repovizz2 included
        # Checked with repovizz2 first: a token it does not accept is answered 401 (NotAuthorized,
        # error_pages) before the document is looked at or the body read.
        g.body_refused_unread = True
        g.script_user = script_user(token)
        g.body_refused_unread = False
        return None
    if current_user() is not None:
        return None
    if request.endpoint in ANONYMOUS_BODY_ENDPOINTS:
        if (request.content_length or 0) > LOGIN_FORM_BYTES:
            raise RequestEntityTooLarge()
        request.max_content_length = LOGIN_FORM_BYTES
        return None
    g.body_refused_unread = True
    return not_logged_in()


def close_after_unread_body(response):
    """A body refused unread is not drained for long: see `body_timeout.discard_unread_body`."""
    if g.get("body_refused_unread") and request.content_length:
        response.call_on_close(lambda environ=request.environ: discard_unread_body(environ))
    return response


class MalformedBody(BadRequest):
    """A form body that could not be parsed (e.g. multipart with a missing or broken boundary)."""

    title = "What was sent could not be read"
    advice = ("Nothing was saved. Reload the page and send the form again; if this keeps happening, "
              "something between your browser and the portal (a proxy, an extension) changes uploads.")


class _StrictFormParser(FormDataParser):
    """Werkzeug's form parser, which would answer a broken multipart body with an empty form (and
    so the user with "Form expired"); here it says what is wrong."""

    def parse(self, stream, mimetype, content_length, options=None):
        self.silent = False
        try:
            return super().parse(stream, mimetype, content_length, options)
        except ValueError as error:
            raise MalformedBody(f"The form's body is not well-formed {mimetype}: {error}.") from None


class PortalRequest(Request):
    form_data_parser_class = _StrictFormParser


class UnsafePathSegment(HTTPException):
    code = 502
    title = "An id repovizz2 gave cannot be linked to"
    description = ("repovizz2 answered with an id that cannot be part of an address (it is empty, "
                   "'.' or '..'): the page cannot link to it.")


class PathSegment(UnicodeConverter):
    """The default converter of every ``<name>`` in a route. Building a URL quotes every reserved
    character, "/" and "\\" included, so a value that came from repovizz2 (a datapack or file id)
    stays one segment of the path; "." and "..", which a browser resolves even percent-encoded,
    cannot be made into a segment at all, nor matched from a request's path (a raw ``/datapacks/..``
    would otherwise reach repovizz2 as a ``..`` in its own API's path)."""

    def to_python(self, value: str) -> str:
        if value in (".", ".."):
            raise ValidationError()
        return value

    def to_url(self, value) -> str:
        text = str(value)
        if text in ("", ".", ".."):
            raise UnsafePathSegment()
        return super().to_url(text).replace("/", "%2F")


def is_safe_path_segment(value) -> bool:
    """Whether `value` can be put into a URL path as one segment (see `PathSegment`)."""
    return isinstance(value, str) and value not in ("", ".", "..") and not any(
        ch in "/\\" or ord(ch) < 32 or ord(ch) == 127 for ch in value)


def security_headers(response):
    """No inline script, no framing, no sniffing, no referrer to other sites (the OAuth callback URL carries a
    code). Same-site requests keep theirs: over https, the CSRF check refuses a form posted without one."""
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.endpoint != "static":
        # Pages, documents and API answers are one user's: no copy in a shared cache or the browser's
        # history store. (A stored file sets its own "private, max-age": a file id never changes.)
        response.headers.setdefault("Cache-Control", "no-store")
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
