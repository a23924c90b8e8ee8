"""`repovizz2-portal`: serve the portal with gunicorn, or check its settings and its way to repovizz2.

    repovizz2-portal serve [--bind 127.0.0.1:5000] [--workers 2] [--threads 16] …
    repovizz2-portal check
    repovizz2-portal --version

Settings come from ``PORTAL_*`` variables (and a ``.env`` file in the working directory), as for
``gunicorn wsgi:app``; see docs/configuration.md.
"""
from __future__ import annotations

import argparse
import os
import sys
from importlib import metadata
from pathlib import Path
from typing import Callable, Sequence
from urllib.parse import urlsplit

from dotenv import load_dotenv

from . import create_app, load_datatypes, site_folder
from .rules.config import ConfigError, require_secrets, settings_from_env
from .rules.datatype_catalog import BUILT_IN_DIR, load_catalog
from .services.repovizz2_client import Repovizz2Error, probe_api, probe_client

DISTRIBUTION = "repovizz2-portal"
CHECK_READ_TIMEOUT = 15.0  # seconds: the check's calls are small; a slower answer is itself worth knowing

# gunicorn as docs/deploy.md runs it: gthread workers keep their heartbeat while a thread streams an upload.
SERVE_DEFAULTS = {"bind": "127.0.0.1:5000", "workers": 2, "threads": 16, "timeout": 120, "graceful_timeout": 120,
                  "log_level": "info", "access_logfile": None}


def version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="repovizz2-portal", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the portal under gunicorn (gthread workers)",
                                description="Run the portal under gunicorn with gthread workers; put nginx in "
                                            "front of it in production (docs/deploy.md).")
    serve.add_argument("--bind", default=SERVE_DEFAULTS["bind"], metavar="HOST:PORT",
                       help="address to listen on (default %(default)s; unix:PATH for a socket)")
    serve.add_argument("--workers", type=positive_int, default=SERVE_DEFAULTS["workers"],
                       help="worker processes (default %(default)s)")
    serve.add_argument("--threads", type=positive_int, default=SERVE_DEFAULTS["threads"],
                       help="threads per worker: each request in flight, an upload included, holds one "
                            "(default %(default)s)")
    serve.add_argument("--timeout", type=positive_int, default=SERVE_DEFAULTS["timeout"],
                       help="seconds a worker may miss its heartbeat before it is restarted (default %(default)s)")
    serve.add_argument("--graceful-timeout", type=positive_int, default=SERVE_DEFAULTS["graceful_timeout"],
                       help="seconds a stopping worker has to finish its requests (default %(default)s)")
    serve.add_argument("--log-level", default=SERVE_DEFAULTS["log_level"],
                       choices=["debug", "info", "warning", "error", "critical"], help="default %(default)s")
    serve.add_argument("--access-logfile", default=SERVE_DEFAULTS["access_logfile"], metavar="PATH",
                       help="where gunicorn writes one line per request ('-' for stderr; default: none)")
    serve.set_defaults(run=run_serve)

    check = commands.add_parser("check", help="check the settings, the datatypes and the way to repovizz2",
                                description="Read the settings and the datatypes folder, and ask repovizz2 "
                                            "whether its API is where PORTAL_REPOVIZZ2_URL says and whether it "
                                            "accepts PORTAL_CLIENT_ID and PORTAL_CLIENT_SECRET. Exit status 0 "
                                            "when all is well, 1 when something is wrong.")
    check.set_defaults(run=run_check)

    arguments = parser.parse_args(argv)
    load_dotenv(os.path.join(os.getcwd(), ".env"))
    return arguments.run(arguments)


def positive_int(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {raw!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, not {raw!r}")
    return value


def run_serve(arguments: argparse.Namespace) -> int:
    from gunicorn.app.base import BaseApplication

    try:
        create_app()  # the same start the workers make: a setting that stops it is told here, once, plainly
    except ConfigError as problem:
        print(f"repovizz2-portal: {problem}", file=sys.stderr)
        return 2
    options = {"bind": [arguments.bind], "worker_class": "gthread", "workers": arguments.workers,
               "threads": arguments.threads, "timeout": arguments.timeout,
               "graceful_timeout": arguments.graceful_timeout, "loglevel": arguments.log_level,
               "accesslog": arguments.access_logfile, "proc_name": DISTRIBUTION}

    class PortalServer(BaseApplication):
        def load_config(self):
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            return create_app()

    PortalServer().run()
    return 0


class Report:
    """The check's lines: each one ok or a problem, printed as it is found."""

    def __init__(self, out=sys.stdout):
        self.out = out
        self.problems = 0

    def ok(self, topic: str, message: str) -> None:
        print(f"ok       {topic}: {message}", file=self.out, flush=True)

    def problem(self, topic: str, message: str) -> None:
        self.problems += 1
        print(f"PROBLEM  {topic}: {message}", file=self.out, flush=True)

    def skipped(self, topic: str, reason: str) -> None:
        print(f"skipped  {topic}: {reason}", file=self.out, flush=True)


def run_check(arguments: argparse.Namespace, env=None, out=None) -> int:
    report = Report(out or sys.stdout)
    check(report, os.environ if env is None else env)
    if report.problems:
        print(f"{report.problems} problem{'s' if report.problems > 1 else ''} found.", file=report.out)
        return 1
    print("All is well.", file=report.out)
    return 0


def check(report: Report, env) -> None:
    """Every check, in the order a start needs them: settings, installed files, datatypes, repovizz2."""
    try:
        settings = settings_from_env(env)
    except ConfigError as problem:
        report.problem("settings", str(problem))
        report.skipped("repovizz2", "the settings above must be fixed first")
        return
    try:
        require_secrets(settings)
        report.ok("settings", "PORTAL_SECRET_KEY, PORTAL_CLIENT_ID and PORTAL_CLIENT_SECRET are set")
    except ConfigError as problem:
        report.problem("settings", str(problem))

    attempt(report, "pages", lambda: "templates in {}, static files in {}".format(
        site_folder("templates"), site_folder("static")))
    attempt(report, "datatypes", lambda: datatypes_summary(settings["DATATYPES_DIR"]))
    attempt(report, "sessions", lambda: sessions_summary(settings))

    base = settings["REPOVIZZ2_URL"]
    if not base.startswith(("http://", "https://")):
        report.problem("repovizz2", f"PORTAL_REPOVIZZ2_URL must be an http:// or https:// address, not {base!r}")
        return
    timeout = (settings["CONNECT_TIMEOUT"], CHECK_READ_TIMEOUT)
    try:
        wrong = probe_api(base, timeout)
    except Repovizz2Error as failure:
        report.problem("repovizz2 API", f"{failure.message}: is PORTAL_REPOVIZZ2_URL ({base}) right, and "
                                        "repovizz2 up?")
        report.skipped("repovizz2 OAuth", "repovizz2 cannot be reached")
        return
    if wrong:
        report.problem("repovizz2 API", f"{wrong}: PORTAL_REPOVIZZ2_URL ({base}) is not repovizz2's address "
                                        "(it is the address the API's /api/v1.0 and /oauth/ hang from)")
        report.skipped("repovizz2 OAuth", "PORTAL_REPOVIZZ2_URL must be fixed first")
        return
    report.ok("repovizz2 API", f"{base}/api/v1.0 answers as repovizz2 does")

    if not (settings["CLIENT_ID"] and settings["CLIENT_SECRET"]):
        report.skipped("repovizz2 OAuth", "PORTAL_CLIENT_ID and PORTAL_CLIENT_SECRET must be set first")
        return
    try:
        error = probe_client(base, settings["CLIENT_ID"], settings["CLIENT_SECRET"], timeout)
    except Repovizz2Error as failure:
        report.problem("repovizz2 OAuth", f"{failure.message}: is PORTAL_REPOVIZZ2_URL ({base}) right?")
        return
    if error == "invalid_grant":
        report.ok("repovizz2 OAuth", f"{base}/oauth/token accepts PORTAL_CLIENT_ID and PORTAL_CLIENT_SECRET")
    elif error == "invalid_client":
        report.problem("repovizz2 OAuth", f"{base}/oauth/token refuses the portal's client (invalid_client): "
                                          "PORTAL_CLIENT_SECRET is wrong, or PORTAL_CLIENT_ID names no client "
                                          "there. Use the id and secret repovizz2 gave when the portal was "
                                          "registered")
    elif error == "unauthorized_client":
        report.problem("repovizz2 OAuth", f"{base}/oauth/token knows the portal's client but does not let it use "
                                          "the authorization-code grant (unauthorized_client): register it as "
                                          "a web application")
    else:
        report.problem("repovizz2 OAuth", f"{base}/oauth/token answered {error!r} to a code it never issued, "
                                          "where repovizz2 answers 'invalid_grant' (client accepted) or "
                                          "'invalid_client' (refused): the client could not be checked")


def attempt(report: Report, topic: str, find: Callable[[], str]) -> None:
    try:
        report.ok(topic, find())
    except ConfigError as problem:
        report.problem(topic, str(problem))


def sessions_summary(settings: dict) -> str:
    """Where logins will be kept, and whether the portal can keep them there."""
    if settings["REDIS_URL"]:
        return redis_summary(settings["REDIS_URL"], settings["CONNECT_TIMEOUT"])
    folder = Path(settings["SESSION_DIR"]).resolve()
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(f"PORTAL_SESSION_DIR: {folder} cannot be made: {existing} is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"PORTAL_SESSION_DIR: {folder} cannot be written by this user ({existing} is not writable)")
    return f"in files under {folder}" + ("" if existing == folder else " (made at the first login)")


def redis_summary(url: str, timeout: float) -> str:
    parts = urlsplit(url)
    shown = f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}{parts.path}"
    try:
        import redis
    except ImportError:
        raise ConfigError("PORTAL_REDIS_URL is set but the redis package is not installed: "
                          "pip install 'repovizz2-portal[redis]'") from None
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout) as connection:
            connection.ping()
    except (redis.RedisError, ValueError) as failure:
        raise ConfigError(f"PORTAL_REDIS_URL: {shown} cannot be reached ({failure})") from None
    return f"in Redis at {shown}"


def datatypes_summary(lab_folder: str) -> str:
    catalog = load_datatypes(lab_folder)
    built_in = len(load_catalog(BUILT_IN_DIR).by_id)
    own = len(catalog.by_id) - built_in
    if not lab_folder:
        return f"{built_in} public examples (PORTAL_DATATYPES_DIR is not set: no datatypes of the lab's own)"
    return f"{built_in} public examples and {own} of the lab's own from {lab_folder}"


if __name__ == "__main__":
    sys.exit(main())
