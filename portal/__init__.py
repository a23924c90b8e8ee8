"""The repovizz2 portal: log in to repovizz2 and upload datapacks from a browser."""
from __future__ import annotations

import logging
import os
from pathlib import Path

from dotenv import load_dotenv
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from .rules.config import MIB, ConfigError, require_secrets, settings_from_env, with_derived_urls
from .rules.datatype_catalog import BUILT_IN_DIR, DatatypeInvalid, load_catalog
from .services import script_logins, tokens
from .services.body_timeout import BodyReadTimeoutMiddleware
from .views import register_views
from .web import error_pages, template_helpers
from .web.access import end_expired_login
from .web.extensions import init_extensions
from .web.security import PathSegment, PortalRequest, SecureCookiesOverHttps, close_after_unread_body, \
    limit_request_body, refuse_anonymous_bodies, security_headers

PACKAGE_DIR = Path(__file__).resolve().parent
CHECKOUT_DIR = PACKAGE_DIR.parent


def site_folder(name: str) -> str:
    """``templates`` or ``static``: inside the installed package (a wheel carries them there), else
    beside the package at the top of a checkout (an editable install, the demo, the tests)."""
    installed = PACKAGE_DIR / name
    if installed.is_dir():
        return str(installed)
    checkout = CHECKOUT_DIR / name
    if checkout.is_dir() and (CHECKOUT_DIR / "pyproject.toml").is_file():
        return str(checkout)
    raise ConfigError(f"the portal's {name}/ folder is missing: not in the installed package ({installed}) nor in "
                      f"a checkout beside it ({checkout}). Reinstall the portal from a wheel built with "
                      f"`pip wheel .` in a full checkout")


def create_app(test_config: dict | None = None) -> Flask:
    """Build the portal. Without `test_config`, settings come from ``PORTAL_*`` variables (and ``.env``)."""
    app = Flask(__name__, template_folder=site_folder("templates"), static_folder=site_folder("static"))
    app.request_class = PortalRequest
    # Every <name> in a route is one path segment, also when the value came from repovizz2.
    app.url_map.converters["default"] = app.url_map.converters["string"] = PathSegment
    # A document keeps its keys in the order it has them (info before children), in answers and pages.
    app.json.sort_keys = False
    app.jinja_env.policies["json.dumps_kwargs"] = {"sort_keys": False}
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
    app.config.update(with_derived_urls(app.config))

    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_FORM_MB"] * MIB
    app.config["MAX_FORM_PARTS"] = app.config["MAX_FILES"] + 50
    # A form field may carry a whole document, escaped: percent-encoding can triple it.
    app.config["MAX_FORM_MEMORY_SIZE"] = 4 * app.config["MAX_JSON_KB"] * 1024

    app.extensions["datatypes"] = load_datatypes(app.config["DATATYPES_DIR"])

    # Before the CSRF check, which reads the form: an ended login counts as none, a body is capped,
    # and an anonymous body is refused unread.
    app.before_request(end_expired_login)
    app.before_request(limit_request_body)
    app.before_request(refuse_anonymous_bodies)
    init_extensions(app)
    tokens.init_app(app)
    script_logins.init_app(app)
    register_views(app)
    error_pages.init_app(app)
    template_helpers.init_app(app)
    app.after_request(security_headers)
    app.after_request(close_after_unread_body)
    app.wsgi_app = SecureCookiesOverHttps(app.wsgi_app)
    app.wsgi_app = BodyReadTimeoutMiddleware(app.wsgi_app, app.config["BODY_READ_TIMEOUT"])
    if app.config["BEHIND_PROXY"]:
        # Trust one proxy's X-Forwarded-For/-Proto/-Host/-Prefix, e.g. nginx serving the portal at /portal/.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_prefix=1)
    return app


def load_datatypes(lab_folder: str):
    """The public example datatypes the package carries and the lab's own (PORTAL_DATATYPES_DIR); a
    missing or bad folder or file stops the start, naming it and whose it is."""
    try:
        catalog = load_catalog(BUILT_IN_DIR)
    except DatatypeInvalid as invalid:
        raise ConfigError(f"the portal's own datatypes, part of its install, cannot be read ({invalid}): "
                          "reinstall the portal") from None
    if lab_folder:
        try:
            catalog = load_catalog(BUILT_IN_DIR, lab_folder)
        except DatatypeInvalid as invalid:
            raise ConfigError(f"PORTAL_DATATYPES_DIR: {invalid}") from None
    for note in catalog.notes:
        logging.getLogger(__name__).warning("%s", note)
    return catalog
