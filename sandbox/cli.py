"""`python -m sandbox serve | add-user | add-client | issue-token`."""
from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from contextlib import closing
from urllib.parse import urlsplit

from werkzeug.serving import make_server

from . import create_app, models
from .config import DEFAULTS, VARIANTS, check_login_hint, database_path, default_data_dir, parse_origins, \
    prepare_data_dir, settings_from_env
from .db import connect, init_db


class CommandError(Exception):
    """A mistake in what was asked for: printed as one line, exit status 1."""


def open_db(data_dir: str) -> sqlite3.Connection:
    path = database_path(prepare_data_dir(data_dir))
    init_db(path)
    return connect(path)


def add_user(data_dir: str, username: str, password: str, email: str = "", exist_ok: bool = False,
             ids: str = DEFAULTS["IDS"], password_method: str = "scrypt") -> dict:
    """Returns `{"id", "username"}`, the id as a server started with the same `ids` shows it."""
    with closing(open_db(data_dir)) as db:
        try:
            user = models.create_user(db, username, password, email, password_method)
        except models.UserExists as error:
            if not exist_ok:
                raise CommandError(f"{error} (pass --exist-ok to accept that)") from None
            user = models.user_by_name(db, username)
    return {"id": user.public_id(ids), "username": user.username}


def add_client(data_dir: str, name: str, redirect_uris: list[str]) -> dict:
    for uri in redirect_uris:
        parts = urlsplit(uri)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
            raise CommandError(f"redirect URI {uri!r} must be an absolute http(s) URL without a #fragment")
    with closing(open_db(data_dir)) as db:
        client = models.create_client(db, name, redirect_uris)
    return {"client_id": client.client_id, "client_secret": client.client_secret}


def issue_token(data_dir: str, username: str, expires_in: int) -> str:
    with closing(open_db(data_dir)) as db:
        user = models.user_by_name(db, username)
        if user is None:
            raise CommandError(f"no user {username!r} (add it with: python -m sandbox add-user {username} ...)")
        return models.issue_token(db, user.id, expires_in)


def serve(host: str, port: int, settings: dict) -> None:
    """Run the server; `settings` are create_app's (DATA_DIR, TOKEN_EXPIRES_IN, LATENCY_MS, the variants…)."""
    app = create_app(settings)
    app.extensions["sandbox_files"].clean_tmp()
    server = make_server(host, port, app, threaded=True)
    variants = ", ".join(f"{name.lower().replace('_', '-')} {app.config[name]}" for name in VARIANTS)
    framing = ", ".join(app.config["ALLOW_FRAMING_FROM"]) or "nobody"
    print(f"repovizz2 sandbox on http://{host}:{server.port} (data dir {app.config['DATA_DIR']}; {variants};"
          f" pages may be framed by {framing})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def origins(value: str) -> list[str]:
    try:
        return parse_origins([value])
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def login_hint(value: str) -> str:
    try:
        return check_login_hint(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def build_parser() -> argparse.ArgumentParser:
    try:
        env = settings_from_env()
    except ValueError as error:
        raise CommandError(f"in the SANDBOX_* environment: {error}") from None
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="A local repovizz2 for the portal.")
    commands = parser.add_subparsers(dest="command", required=True)

    def with_data_dir(command: argparse.ArgumentParser) -> argparse.ArgumentParser:
        command.add_argument("--data-dir", default=default_data_dir(),
                             help="database and files (default: $SANDBOX_DATA_DIR or ./instance/sandbox)")
        return command

    serve_command = with_data_dir(commands.add_parser("serve", help="run the sandbox server"))
    serve_command.add_argument("--host", default="127.0.0.1")
    serve_command.add_argument("--port", type=int, default=8080)
    serve_command.add_argument("--token-expires-in", type=int, default=env["TOKEN_EXPIRES_IN"], metavar="S",
                               help="access-token lifetime in seconds (default: $SANDBOX_TOKEN_EXPIRES_IN or 3600)")
    serve_command.add_argument("--latency-ms", type=int, default=env["LATENCY_MS"], metavar="N",
                               help="delay every answer by N ms (default: $SANDBOX_LATENCY_MS or 0)")
    serve_command.add_argument("--ids", choices=VARIANTS["IDS"], default=env["IDS"],
                               help="user and owner ids as integers (as the public notebooks show) or UUID strings"
                                    " (default: $SANDBOX_IDS or integer)")
    serve_command.add_argument("--upload-answer", choices=VARIANTS["UPLOAD_ANSWER"], default=env["UPLOAD_ANSWER"],
                               help='an upload answers {"id": …} or only {"result": "OK"}'
                                    " (default: $SANDBOX_UPLOAD_ANSWER or id)")
    serve_command.add_argument("--file-ids", choices=VARIANTS["FILE_IDS"], default=env["FILE_IDS"],
                               help="file ids fresh and random, or derived from the bytes (same bytes, same id)"
                                    " (default: $SANDBOX_FILE_IDS or random)")
    serve_command.add_argument("--unauthorized", choices=VARIANTS["UNAUTHORIZED"], default=env["UNAUTHORIZED"],
                               help="the 401 body as the API documentation gives it, or RFC 6750's"
                                    " (default: $SANDBOX_UNAUTHORIZED or documented)")
    serve_command.add_argument("--allow-framing-from", type=origins, action="append", metavar="ORIGIN",
                               help="let pages of ORIGIN (e.g. a Jupyter server, http://localhost:8888) show the"
                                    " login and consent pages in a frame; repeat or separate with commas"
                                    " (default: $SANDBOX_ALLOW_FRAMING_FROM or nobody)")
    serve_command.add_argument("--login-hint", type=login_hint, default=env["LOGIN_HINT"], metavar="TEXT",
                               help='a line the login page shows above the form, e.g. the demo\'s login "demo / demo"'
                                    " (default: $SANDBOX_LOGIN_HINT or none, as the real server)")

    user_command = with_data_dir(commands.add_parser("add-user", help="add a user who can log in"))
    user_command.add_argument("name")
    user_command.add_argument("--password", required=True)
    user_command.add_argument("--email", default="")
    user_command.add_argument("--exist-ok", action="store_true",
                              help="succeed (changing nothing) when the user already exists")
    user_command.add_argument("--ids", choices=VARIANTS["IDS"], default=env["IDS"],
                              help="print the id as a server with this --ids shows it (default: $SANDBOX_IDS or integer)")

    client_command = with_data_dir(commands.add_parser("add-client", help="register an OAuth2 client"))
    client_command.add_argument("--name", required=True)
    client_command.add_argument("--redirect-uri", action="append", required=True, dest="redirect_uris",
                                metavar="URI", help="an allowed redirect URI (repeat for several)")

    token_command = with_data_dir(commands.add_parser("issue-token", help="print a fresh access token for a user"))
    token_command.add_argument("name")
    token_command.add_argument("--expires-in", type=int, default=env["TOKEN_EXPIRES_IN"], metavar="S")
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command == "serve":
            framing = [origin for group in args.allow_framing_from for origin in group] \
                if args.allow_framing_from is not None else settings_from_env()["ALLOW_FRAMING_FROM"]
            serve(args.host, args.port, {
                "DATA_DIR": args.data_dir, "TOKEN_EXPIRES_IN": args.token_expires_in, "LATENCY_MS": args.latency_ms,
                "IDS": args.ids, "UPLOAD_ANSWER": args.upload_answer, "FILE_IDS": args.file_ids,
                "UNAUTHORIZED": args.unauthorized, "ALLOW_FRAMING_FROM": framing,
                "LOGIN_HINT": args.login_hint,
            })
        elif args.command == "add-user":
            print(json.dumps(add_user(args.data_dir, args.name, args.password, args.email, args.exist_ok, args.ids)))
        elif args.command == "add-client":
            print(json.dumps(add_client(args.data_dir, args.name, args.redirect_uris)))
        elif args.command == "issue-token":
            print(issue_token(args.data_dir, args.name, args.expires_in))
    except CommandError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0
